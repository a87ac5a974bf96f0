"""Levels of growing size, shared by both modes' coarse-to-fine training: which sizes, what a
step of each costs, and resizing images between them (:mod:`augment.gantk.direct.multiscale`,
:func:`augment.gantk.generator.training.train_generator`)."""

from __future__ import annotations

import math

import jax
import numpy as np

LEVEL_STREAM = 0x6C766C  # fold_in constant: level k > 0 uses fold_in(key, LEVEL_STREAM + k)


def level_sizes(image_size: int, coarse_size: int, min_size: int) -> list[int]:
    """The sizes of the levels, coarsest first, ending at ``image_size``.

    ``image_size`` is halved (rounding up) while it is above ``coarse_size`` and the half is at
    least ``min_size``; ``coarse_size=0`` gives one level.
    """
    sizes = [image_size]
    while coarse_size and sizes[0] > coarse_size and math.ceil(sizes[0] / 2) >= min_size:
        sizes.insert(0, math.ceil(sizes[0] / 2))
    return sizes


def level_weights(levels: list[tuple[int, int]]) -> list[int]:
    """What a step of each level costs in steps of the coarsest (its pixels over the coarsest's,
    rounded): progress and time estimates count work in these units."""
    return [max(1, round((size / levels[0][0]) ** 2)) for size, _ in levels]


def level_work(levels: list[tuple[int, int]], upto: int | None = None) -> int:
    """The work of the first ``upto`` levels (all of them by default) in steps of the coarsest:
    their steps times their :func:`level_weights`."""
    count = len(levels) if upto is None else upto
    weights = level_weights(levels)
    return sum(steps * w for (_, steps), w in zip(levels[:count], weights[:count], strict=True))


def resize(images: np.ndarray, size: int) -> np.ndarray:
    """(n, s, s, C) -> (n, size, size, C) float32 in [0, 1]: linear, antialiased when shrinking."""
    images = np.asarray(images, np.float32)
    if images.shape[1] == size:
        return images
    shape = (images.shape[0], size, size, images.shape[-1])
    return np.clip(np.asarray(jax.image.resize(images, shape, "linear", antialias=True)), 0.0, 1.0)
