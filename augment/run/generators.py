"""Trained generators kept on disk and read back: the generator engine
(:mod:`augment.gantk.generator.training`) meets the folder format (:mod:`augment.io.saved_generator`),
which stores a configuration record and arrays and knows nothing of the network."""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

import jax
import numpy as np

from augment.errors import AugmentError
from augment.gantk.generator.config import GeneratorConfig
from augment.gantk.generator.training import TrainedGenerator, parameter_layout
from augment.gantk.modes import ClassResult
from augment.gantk.resolution import at_size
from augment.io.atomic import Target
from augment.io.saved_generator import ClassParameters, read_generator_folder, write_generator_folder

# saved before generators could train on an augmented real set, on a decaying learning rate or
# coarse to fine, or before synth polished their samples: they did none of these
_SAVED_BEFORE = {
    "augment_real_to": 0,
    "learning_rate_schedule": "constant",
    "coarse_size": 0,
    "polish_steps": 0,
}


class SavedGenerators(NamedTuple):
    """What :func:`load_generators` read: {class: generator}, the manifest, and its sha256."""

    generators: dict[str, TrainedGenerator]
    manifest: dict
    manifest_sha256: str


def saved_config(record: dict[str, Any], image_size: int) -> GeneratorConfig:
    """The configuration a saved generator's manifest records (older files' missing fields filled
    with what they trained with; fields that depend on the working size resolved for its own)."""
    return at_size(GeneratorConfig.from_dict({**_SAVED_BEFORE, **record}), image_size)


def _leaf_shapes(image_shape: tuple[int, int, int], record: dict[str, Any]) -> list[tuple[int, ...]]:
    template, _ = parameter_layout(image_shape, saved_config(record, image_shape[0]))
    return [tuple(leaf.shape) for leaf in template]


def save_generators(
    path: Path,
    generators: dict[str, TrainedGenerator],
    provenance: dict,
    overwrite: bool = False,
    at: Target | None = None,
) -> str:
    """Write one generator per class (all of one image shape and configuration) to the folder
    ``path`` (:func:`~augment.io.saved_generator.write_generator_folder`); returns the sha256 of
    its ``generator.json``."""
    if not generators:
        raise AugmentError("there is no generator to save")
    first = next(iter(generators.values()))
    if any(g.image_shape != first.image_shape or g.config != first.config for g in generators.values()):
        raise AugmentError("all generators saved together must share image shape and configuration")
    classes = {
        name: ClassParameters(
            [np.asarray(leaf) for leaf in jax.tree_util.tree_leaves(g.params)],
            float(g.loss_history[-1]) if len(g.loss_history) else None,
        )
        for name, g in generators.items()
    }
    return write_generator_folder(
        path, first.image_shape, first.config.to_dict(), classes, provenance, overwrite, at
    )


def load_generators(path: Path) -> SavedGenerators:
    """Read a folder written by :func:`save_generators` (or by ``augment synth --save-generator``).

    Raises AugmentError naming the problem for a missing, foreign, newer, damaged or mismatched file.
    """
    stored = read_generator_folder(Path(path), _leaf_shapes)
    config = saved_config(stored.config, stored.image_shape[0])
    _, treedef = parameter_layout(stored.image_shape, config)
    generators = {
        name: TrainedGenerator(
            jax.tree_util.tree_unflatten(treedef, leaves), stored.image_shape, config, np.zeros(0, np.float32)
        )
        for name, leaves in stored.parameters.items()
    }
    return SavedGenerators(generators, stored.manifest, stored.manifest_sha256)


def save_run_generators(
    at: Target,
    config: Any,
    image_shape: tuple[int, int, int],
    class_names: tuple[str, ...],
    classes: list[ClassResult],
    provenance: dict[str, Any],
) -> dict[str, Any]:
    """Keep a run's generators (a mode that ``trains_model``: each class result's ``model`` is its
    parameter arrays) at ``at.path``, checked before the run and published only if it is still as
    it was then; returns what the output's provenance records of them."""
    trained = {
        name: ClassParameters(result.model or [], float(history[-1]) if len(history) else None)
        for name, result, history in zip(
            class_names, classes, (r.loss_history[0] for r in classes), strict=True
        )
    }
    sha256 = write_generator_folder(at.path, image_shape, config.to_dict(), trained, provenance, at=at)
    return {"path": str(Path(at.path).resolve()), "manifest_sha256": sha256}
