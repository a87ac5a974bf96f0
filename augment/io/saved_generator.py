"""Trained generators on disk: a folder a lab can keep and draw more images from later.

Layout (format ``augment.generator``, version :data:`GENERATOR_FORMAT_VERSION`)::

    GEN/
      generator.json      format, version, image shape, GeneratorConfig, classes, provenance
      class-<k>.npz       the parameters of class k's generator: arrays leaf_0 ... leaf_{L-1}
                          in jax.tree_util order of the network built from the config

``generator.json`` lists, per class, its name, weight file and that file's sha256, so a damaged or
swapped file is caught on loading. The folder is written under a temporary name and renamed.

This module knows arrays and JSON, not the network: the configuration is a JSON record and the
parameters a list of arrays per class, and the reader is told which shapes to expect
(``leaf_shapes``). :mod:`augment.run.generators` turns them into trained generators and back.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from augment.errors import AugmentError
from augment.io.atomic import Target, check_replaceable, marked_folder, publish, remove, temporary_path
from augment.io.strict_json import dumps as strict_dumps
from augment.io.untrusted import check_schema, file_inside, read_limited, safe_name

GENERATOR_FORMAT = "augment.generator"
GENERATOR_FORMAT_VERSION = "1.0"
MANIFEST = "generator.json"


MAX_WEIGHT_BYTES = 2**31  # a weight file larger than this is refused before it is read
_MANIFEST_SCHEMA = {
    "image_shape": [int],
    "config": dict,
    "classes": [{"name": str, "file": str, "sha256": str}],
    "provenance": dict,
}


class StoredGenerators(NamedTuple):
    """What :func:`read_generator_folder` read: the image shape (S, S, C), the configuration's
    JSON record, {class: its parameter arrays in order}, the manifest, and the manifest's sha256."""

    image_shape: tuple[int, int, int]
    config: dict[str, Any]
    parameters: dict[str, list[np.ndarray]]
    manifest: dict
    manifest_sha256: str


class ClassParameters(NamedTuple):
    """One class's generator as :func:`write_generator_folder` stores it: its parameter arrays
    in order, and its last training loss (None when unknown)."""

    arrays: Sequence[np.ndarray]
    final_loss: float | None


LeafShapes = Callable[[tuple[int, int, int], dict[str, Any]], list[tuple[int, ...]]]
"""``leaf_shapes(image_shape, config)``: the shapes of the parameter arrays a generator of that
configuration has, in order; KeyError, TypeError or ValueError for a configuration it cannot take."""


def is_saved_generator(path: Path) -> bool:
    """A folder (not a link) holding a ``generator.json`` of this format."""
    return marked_folder(path, MANIFEST, GENERATOR_FORMAT)


def check_generator_target(path: Path, overwrite: bool) -> Target:
    """Refuse, before any work, a generator folder that cannot or must not be written; return the
    target as it is now, for :func:`save_generators` to check again when publishing."""
    return check_replaceable(path, overwrite, is_saved_generator)


def write_generator_folder(
    path: Path,
    image_shape: tuple[int, int, int],
    config: dict[str, Any],
    classes: dict[str, ClassParameters],
    provenance: dict,
    overwrite: bool = False,
    at: Target | None = None,
) -> str:
    """Write one generator per class (all of one image shape and configuration) to the folder ``path``.

    ``at``: the target as checked before the work (:func:`check_generator_target`); None checks
    it now. Returns the sha256 of the written ``generator.json`` (which lists each weight file's
    sha256, so it identifies the whole generator).
    """
    path = Path(path)
    if at is None:
        at = check_generator_target(path, overwrite)
    if not classes:
        raise AugmentError("there is no generator to save")
    temporary = temporary_path(path)
    remove(temporary)
    try:
        temporary.mkdir()
        listed = []
        for k, (name, parameters) in enumerate(classes.items()):
            buffer = io.BytesIO()
            np.savez(buffer, **{f"leaf_{i}": np.asarray(a) for i, a in enumerate(parameters.arrays)})  # type: ignore[arg-type]
            data = buffer.getvalue()
            (temporary / f"class-{k}.npz").write_bytes(data)
            listed.append({
                "name": name, "file": f"class-{k}.npz", "sha256": hashlib.sha256(data).hexdigest(),
                "final_loss": parameters.final_loss,
            })  # fmt: skip
        manifest = {
            "format": GENERATOR_FORMAT,
            "format_version": GENERATOR_FORMAT_VERSION,
            "image_shape": list(image_shape),
            "config": config,
            "classes": listed,
            "provenance": provenance,
        }
        text = strict_dumps(manifest, indent=1).encode()
        (temporary / MANIFEST).write_bytes(text)
        publish(temporary, at, is_saved_generator)
    except OSError as error:
        raise AugmentError(f"cannot write {path}: {error.strerror or error}") from None
    finally:
        remove(temporary)
    return hashlib.sha256(text).hexdigest()


def read_generator_folder(path: Path, leaf_shapes: LeafShapes) -> StoredGenerators:
    """Read a folder written by :func:`write_generator_folder`, every class's arrays checked
    against ``leaf_shapes`` of its image shape and configuration.

    Raises AugmentError naming the problem for a missing, foreign, newer, damaged or mismatched file.
    """
    path = Path(path)
    source = path / MANIFEST
    if not path.is_dir() or not source.exists():
        raise AugmentError(f"{path} is not a saved generator (no {MANIFEST})")
    text = read_limited(source)
    try:
        manifest = json.loads(text)
    except ValueError as error:
        raise AugmentError(f"cannot read {source}: {error}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != GENERATOR_FORMAT:
        raise AugmentError(f"{path} is not a saved augment generator")
    version = str(manifest.get("format_version"))
    if version.split(".")[0] != GENERATOR_FORMAT_VERSION.split(".")[0]:
        raise AugmentError(
            f"{path} has generator format version {version}; this augment reads "
            f"{GENERATOR_FORMAT_VERSION.split('.')[0]}.x"
        )
    check_schema(manifest, _MANIFEST_SCHEMA, source)
    shape = manifest["image_shape"]
    if len(shape) != 3 or not 1 <= shape[0] <= 4096 or shape[0] != shape[1] or shape[2] not in (1, 3):
        raise AugmentError(f"{source} is damaged or not augment's: image_shape {shape} is not (S, S, 1|3)")
    image_shape = (shape[0], shape[1], shape[2])
    names = [safe_name(entry["name"], "a class name", source) for entry in manifest["classes"]]
    if len(set(names)) != len(names):
        raise AugmentError(f"{source} is damaged or not augment's: a class is listed twice")
    try:
        template = leaf_shapes(image_shape, manifest["config"])
    except (KeyError, TypeError, ValueError) as error:
        raise AugmentError(f"{source} is damaged or not augment's: its config ({error})") from None
    parameters = {}
    for name, entry in zip(names, manifest["classes"], strict=True):
        file = file_inside(path, entry["file"], "a weight file", source)
        data = read_limited(file, MAX_WEIGHT_BYTES)
        if hashlib.sha256(data).hexdigest() != entry["sha256"]:
            raise AugmentError(f"{file} is damaged or was replaced (sha256 differs)")
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
                leaves = [np.asarray(arrays[f"leaf_{i}"]) for i in range(len(template))]
                stored = len(arrays.files)
        except (KeyError, ValueError, OSError, zipfile.BadZipFile) as error:
            raise AugmentError(f"cannot read {file}: {error}") from None
        # more arrays than the network has leaves is another network's file, not a spare
        if stored != len(template) or any(
            leaf.shape != tuple(shape) or leaf.dtype.kind != "f"
            for leaf, shape in zip(leaves, template, strict=True)
        ):
            raise AugmentError(f"{file} does not fit the generator its manifest describes")
        parameters[name] = leaves
    if not parameters:
        raise AugmentError(f"{path / MANIFEST} lists no class")
    return StoredGenerators(
        image_shape, manifest["config"], parameters, manifest, hashlib.sha256(text).hexdigest()
    )
