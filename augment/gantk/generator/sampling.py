"""Sampling a trained generator (:mod:`augment.gantk.generator.training`): images from noise in batches
that fit the processor's caches, and the samples ``augment synth --mode generator`` writes, with
the discriminator's realness and the novelty floor kept by drawing other samples instead of
nearer ones (docs/design.md, "Copy guards")."""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from augment.errors import AugmentError
from augment.gantk.channels import is_grey, keep_grey
from augment.gantk.generator.config import sized
from augment.gantk.generator.network import generator_network, sampling_batch
from augment.gantk.generator.training import TrainedGenerator, compiled_generator
from augment.measures.quality import nearest_real

Array = jax.Array


def _check_count(n: int) -> None:
    if n < 1:
        raise AugmentError(f"the number of images must be at least 1, got {n}")


def sample(generator: TrainedGenerator, n: int, key: Array, batch: int | None = None) -> np.ndarray:
    """(n, S, S, C) float32 images in (0, 1) from ``n`` noise vectors drawn with ``key``.

    The network runs on whole batches of ``batch`` rows (by default :func:`sampling_batch` for the
    platform of the default device; the last one padded with zero noise and cut), so a request of
    any size compiles it once; fewer than ``batch`` images run as one batch. The images do not
    depend on ``batch`` beyond float rounding.
    """
    _check_count(n)
    size, _, channels = generator.image_shape
    if batch is None:
        batch = sampling_batch(size, channels, generator.config.base_channels, _default_platform())
    if batch < 1:
        raise AugmentError(f"the sampling batch must be at least 1, got {batch}")
    apply = _sampler(size, channels, generator.config.base_channels)
    z = jax.random.normal(key, (n, generator.config.z_dim))
    if n > batch:
        z = jnp.pad(z, ((0, -n % batch), (0, 0)))
    rows = min(n, batch)
    # every batch is dispatched before the first is read back, so the next one computes meanwhile
    images = [apply(generator.params, z[i : i + rows]) for i in range(0, len(z), rows)]
    return np.concatenate([np.asarray(batch_images) for batch_images in images])[:n]


def _default_platform() -> str:
    """The platform a new array lands on here (``jax.default_device``'s, when one is set)."""
    return next(iter(jnp.zeros(()).devices())).platform


@functools.lru_cache(maxsize=8)
def _sampler(size: int, channels: int, base_channels: int) -> Callable[..., jax.Array]:
    return jax.jit(generator_network(size, channels, base_channels)[1])


NOVELTY_ROUNDS = 8  # pools of samples drawn, at most, to find enough that keep the novelty floor


def far_enough_pools(
    draw: Callable[[Array], np.ndarray], real_pixels: np.ndarray, floor_distance: float, key: Array
) -> tuple[np.ndarray, int]:
    """As many images as one pool, keeping the novelty floor where the pools allow.

    ``draw(key)`` makes one pool (m, S, S, C); round 0 draws with ``key``, round ``r`` with
    ``fold_in(key, r)``, up to :data:`NOVELTY_ROUNDS` rounds, until m images are at least ``floor_distance``
    (RMS) from every image of ``real_pixels`` (r, S, S, C). Returns those m images in the order
    drawn, the farthest of the nearer ones filling any gap, and how many are far enough.
    """
    kept: list[np.ndarray] = []
    near: list[tuple[np.ndarray, np.ndarray]] = []
    size = 0
    for round_ in range(NOVELTY_ROUNDS):
        pool = draw(key if round_ == 0 else jax.random.fold_in(key, round_))
        size = len(pool)
        distance = nearest_real(pool, real_pixels)[1]
        kept.append(pool[distance >= floor_distance])
        near.append((pool[distance < floor_distance], distance[distance < floor_distance]))
        if sum(len(k) for k in kept) >= size:
            break
    far_enough = np.concatenate(kept)[:size]
    closest_last = np.concatenate([p for p, _ in near])[np.argsort(-np.concatenate([d for _, d in near]))]
    return np.concatenate([far_enough, closest_last[: size - len(far_enough)]]), len(far_enough)


class Generated(NamedTuple):
    """What :func:`generate` made: images (n, S, S, C) float32 in (0, 1), realness (n,) float32,
    and ``too_close``, how many of the images are nearer a real image than the floor asked."""

    images: np.ndarray
    realness: np.ndarray
    too_close: int


Refine = Callable[[np.ndarray, int], np.ndarray]
"""``refine(samples, n)``: (m, S, S, C) samples drawn, m >= n -> (n, S, S, C) the first n refined."""


def generate(
    generator: TrainedGenerator,
    n: int,
    real_images,
    key: Array,
    floor_distance: float | None = None,
    refine: Refine | None = None,
) -> Generated:
    """``n`` samples and their realness, as ``augment synth --mode generator`` writes them.

    Realness is the discriminator's "real" prediction for each image when it is trained, as in
    training, on one generator batch (``config.batch_size`` images) against a real batch of the
    class. A class whose real images are grey in a colour run gets grey samples (every pixel the
    mean of its channels, :mod:`augment.gantk.channels`). The samples are drawn in whole batches:
    without ``floor_distance``, the images are the first ``n`` rows of ``sample(generator, n rounded up to
    whole batches, key')`` (``key'`` the first half of ``jax.random.split(key)``).

    With ``floor_distance``, a sample whose RMS distance to its nearest image of ``real_images`` is below
    it is left out and others are drawn in its place: up to :data:`NOVELTY_ROUNDS` pools of that
    many samples, the first from ``key'``, round ``r`` from ``fold_in(key', r)``, keeping the far
    enough ones in order. Should the pools not hold enough, the farthest of the rest fill the gap
    and are counted in ``too_close``.

    With ``refine``, the first ``n`` samples are refined before they are scored (the polish,
    :mod:`augment.gantk.modes.polish`, which composes this with direct mode).

    Args:
      generator: a trained generator.
      n: the number of images wanted.
      real_images: (r, S, S, C) the real images of its class, in [0, 1].
      key: a JAX PRNG key.
      floor_distance: the smallest RMS distance to a real image a sample may have, or None.
      refine: what to do to the samples before they are scored (None: nothing).
    """
    _check_count(n)
    config = generator.config
    real = jnp.asarray(real_images, jnp.float32)
    compiled = compiled_generator(dataclasses.replace(config, steps=1), generator.image_shape)
    batch = sized(config.batch_size, "batch_size")
    batches = math.ceil(n / batch)
    pool_size = batches * batch
    sample_key, score_key = jax.random.split(key)
    grey = is_grey(np.asarray(real))

    def draw(pool_key: Array) -> np.ndarray:
        images = sample(generator, pool_size, pool_key)
        return np.asarray(keep_grey(images, True)) if grey else images

    if floor_distance is None:
        images, too_close = draw(sample_key), 0
    else:
        images, far = far_enough_pools(draw, np.asarray(real), floor_distance, sample_key)
        too_close = max(0, n - far)
    if refine is not None:
        images = np.concatenate([refine(images, n), images[n:]])  # whole batches to score
    gram = compiled.gram(real)
    scores = [
        np.asarray(compiled.realness(images[b * batch : (b + 1) * batch], real, gram, k))
        for b, k in enumerate(jax.random.split(score_key, batches))
    ]
    return Generated(images[:n], np.concatenate(scores)[:n].astype(np.float32), too_close)
