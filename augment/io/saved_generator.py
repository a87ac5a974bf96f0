"""Trained generators on disk: a folder a lab can keep and draw more images from later.

Layout (format ``augment.generator``, version :data:`GENERATOR_FORMAT_VERSION`)::

    GEN/
      generator.json      format, version, image shape, GeneratorConfig, classes, provenance
      class-<k>.npz       the parameters of class k's generator: arrays leaf_0 ... leaf_{L-1}
                          in jax.tree_util order of the network built from the config

``generator.json`` lists, per class, its name, weight file and that file's sha256, so a damaged or
swapped file is caught on loading. The folder is written under a temporary name and renamed.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path
from typing import NamedTuple

import jax
import numpy as np

from augment.errors import AugmentError
from augment.gantk.generator import GeneratorConfig, TrainedGenerator, parameter_layout
from augment.io.atomic import check_writable_folder, move_into_place, remove, temporary_path

GENERATOR_FORMAT = "augment.generator"
GENERATOR_FORMAT_VERSION = "1.0"
MANIFEST = "generator.json"


class SavedGenerators(NamedTuple):
    """What :func:`load_generators` read: {class: generator}, the manifest, and its sha256."""

    generators: dict[str, TrainedGenerator]
    manifest: dict
    manifest_sha256: str


def check_generator_target(path: Path, overwrite: bool) -> None:
    """Refuse, before any work, a generator folder that cannot or must not be written."""
    path = Path(path)
    if path.exists() or path.is_symlink():
        if not overwrite:
            raise AugmentError(f"{path} already exists; pass `overwrite` to replace it")
        if not (path.is_dir() and (path / MANIFEST).is_file()):
            raise AugmentError(f"{path} is not a saved generator; refusing to replace it")
    check_writable_folder(path)


def save_generators(
    path: Path, generators: dict[str, TrainedGenerator], provenance: dict, overwrite: bool = False
) -> str:
    """Write one generator per class (all of the same shape and config) to the folder ``path``.

    Returns the sha256 of the written ``generator.json`` (which lists each weight file's sha256,
    so it identifies the whole generator).
    """
    path = Path(path)
    check_generator_target(path, overwrite)
    if not generators:
        raise AugmentError("there is no generator to save")
    first = next(iter(generators.values()))
    temporary = temporary_path(path)
    remove(temporary)
    try:
        temporary.mkdir()
        classes = []
        for k, (name, generator) in enumerate(generators.items()):
            if generator.image_shape != first.image_shape or generator.config != first.config:
                raise AugmentError("all generators saved together must share image shape and configuration")
            buffer = io.BytesIO()
            leaves = jax.tree_util.tree_leaves(generator.params)
            np.savez(buffer, **{f"leaf_{i}": np.asarray(leaf) for i, leaf in enumerate(leaves)})  # type: ignore[arg-type]
            data = buffer.getvalue()
            (temporary / f"class-{k}.npz").write_bytes(data)
            classes.append({
                "name": name, "file": f"class-{k}.npz", "sha256": hashlib.sha256(data).hexdigest(),
                "final_loss": float(generator.loss_history[-1]) if len(generator.loss_history) else None,
            })  # fmt: skip
        manifest = {
            "format": GENERATOR_FORMAT,
            "format_version": GENERATOR_FORMAT_VERSION,
            "image_shape": list(first.image_shape),
            "config": first.config.to_dict(),
            "classes": classes,
            "provenance": provenance,
        }
        text = json.dumps(manifest, indent=1).encode()
        (temporary / MANIFEST).write_bytes(text)
        move_into_place(temporary, path)
    except OSError as error:
        raise AugmentError(f"cannot write {path}: {error.strerror or error}") from None
    finally:
        remove(temporary)
    return hashlib.sha256(text).hexdigest()


def load_generators(path: Path) -> SavedGenerators:
    """Read a folder written by :func:`save_generators`.

    Raises AugmentError naming the problem for a missing, foreign, newer, damaged or mismatched file.
    """
    path = Path(path)
    try:
        text = (path / MANIFEST).read_bytes()
        manifest = json.loads(text)
    except (FileNotFoundError, NotADirectoryError):
        raise AugmentError(f"{path} is not a saved generator (no {MANIFEST})") from None
    except (OSError, ValueError) as error:
        raise AugmentError(f"cannot read {path / MANIFEST}: {error}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != GENERATOR_FORMAT:
        raise AugmentError(f"{path} is not a saved augment generator")
    version = str(manifest.get("format_version"))
    if version.split(".")[0] != GENERATOR_FORMAT_VERSION.split(".")[0]:
        raise AugmentError(
            f"{path} has generator format version {version}; this augment reads "
            f"{GENERATOR_FORMAT_VERSION.split('.')[0]}.x"
        )
    try:
        config = GeneratorConfig.from_dict(manifest["config"])
        size, width, channels = (int(d) for d in manifest["image_shape"])
        image_shape = (size, width, channels)
        template, treedef = parameter_layout(image_shape, config)
        generators = {}
        for entry in manifest["classes"]:
            data = (path / entry["file"]).read_bytes()
            if hashlib.sha256(data).hexdigest() != entry["sha256"]:
                raise AugmentError(f"{path / entry['file']} is damaged or was replaced (sha256 differs)")
            with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
                leaves = [arrays[f"leaf_{i}"] for i in range(len(template))]
            if any(leaf.shape != t.shape for leaf, t in zip(leaves, template, strict=True)):
                raise AugmentError(
                    f"{path / entry['file']} does not fit the generator its manifest describes"
                )
            generators[entry["name"]] = TrainedGenerator(
                jax.tree_util.tree_unflatten(treedef, leaves), image_shape, config, np.zeros(0, np.float32)
            )
    except (KeyError, TypeError, ValueError, OSError, zipfile.BadZipFile) as error:
        raise AugmentError(f"cannot read the generator in {path}: {error}") from None
    if not generators:
        raise AugmentError(f"{path / MANIFEST} lists no class")
    return SavedGenerators(generators, manifest, hashlib.sha256(text).hexdigest())
