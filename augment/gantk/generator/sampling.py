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
from augment.gantk.direct import ProgressFn, plan_problems, synthesize
from augment.gantk.direct.config import SynthesisConfig
from augment.gantk.generator.config import sized
from augment.gantk.generator.network import generator_network, sampling_batch
from augment.gantk.generator.training import TrainedGenerator, compiled_generator
from augment.quality import leave_one_out_threshold, nearest_real

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
    draw: Callable[[Array], np.ndarray], real_pixels: np.ndarray, floor: float, key: Array
) -> tuple[np.ndarray, int]:
    """As many images as one pool, keeping the novelty floor where the pools allow.

    ``draw(key)`` makes one pool (m, S, S, C); round 0 draws with ``key``, round ``r`` with
    ``fold_in(key, r)``, up to :data:`NOVELTY_ROUNDS` rounds, until m images are at least ``floor``
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
        kept.append(pool[distance >= floor])
        near.append((pool[distance < floor], distance[distance < floor]))
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


def generate(
    generator: TrainedGenerator,
    n: int,
    real_images,
    key: Array,
    floor: float | None = None,
    progress: ProgressFn | None = None,
) -> Generated:
    """``n`` samples and their realness, as ``augment synth --mode generator`` writes them.

    Realness is the discriminator's "real" prediction for each image when it is trained, as in
    training, on one generator batch (``config.batch_size`` images) against a real batch of the
    class. A class whose real images are grey in a colour run gets grey samples (every pixel the
    mean of its channels, :mod:`augment.gantk.channels`). The samples are drawn in whole batches:
    without ``floor``, the images are the first ``n`` rows of ``sample(generator, n rounded up to
    whole batches, key')`` (``key'`` the first half of ``jax.random.split(key)``).

    With ``floor``, a sample whose RMS distance to its nearest image of ``real_images`` is below
    it is left out and others are drawn in its place: up to :data:`NOVELTY_ROUNDS` pools of that
    many samples, the first from ``key'``, round ``r`` from ``fold_in(key', r)``, keeping the far
    enough ones in order. Should the pools not hold enough, the farthest of the rest fill the gap
    and are counted in ``too_close``.

    With ``config.polish_steps`` > 0 (the default up to 16 pixels), the ``n`` samples are then polished
    (:func:`polish`, with ``fold_in(key, POLISH_STREAM)`` and the same floor) before they are
    scored.

    Args:
      generator: a trained generator.
      n: the number of images wanted.
      real_images: (r, S, S, C) the real images of its class, in [0, 1].
      key: a JAX PRNG key.
      floor: the smallest RMS distance to a real image a sample may have, or None.
      progress: the polish's progress (:data:`~augment.gantk.direct.ProgressFn`).
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

    if floor is None:
        images, too_close = draw(sample_key), 0
    else:
        images, far = far_enough_pools(draw, np.asarray(real), floor, sample_key)
        too_close = max(0, n - far)
    polish_steps = sized(config.polish_steps, "polish_steps")
    if polish_steps > 0:
        polish_key = jax.random.fold_in(key, POLISH_STREAM)
        polished = polish(images, n, real, polish_steps, polish_key, floor, progress)
        images = np.concatenate([polished, images[n:]])  # whole batches to score
    gram = compiled.gram(real)
    scores = [
        np.asarray(compiled.realness(images[b * batch : (b + 1) * batch], real, gram, k))
        for b, k in enumerate(jax.random.split(score_key, batches))
    ]
    return Generated(images[:n], np.concatenate(scores)[:n].astype(np.float32), too_close)


POLISH_STREAM = 1
"""``generate`` polishes with ``fold_in(key, POLISH_STREAM)``; ``split(key)`` draws and scores."""


def polish(
    samples: np.ndarray,
    n: int,
    real_images,
    steps: int,
    key: Array,
    floor: float | None = None,
    progress: ProgressFn | None = None,
) -> np.ndarray:
    """The first ``n`` of ``samples`` refined by ``steps`` direct-mode steps each against the real
    images of their class: :func:`~augment.gantk.direct.synthesize` at the samples' size with
    direct mode's settings otherwise (``SynthesisConfig(steps=steps)``, one level, its pixel
    envelope and its novelty stop with ``floor`` as the threshold: a sample that comes nearer a
    real image than the floor ends as its last version beyond it).

    Direct mode starts from its images clipped to the pixel envelope, and a clipped sample may
    already be nearer a real image than the floor: such a sample is returned as drawn, so the
    polish never brings an image within the floor that the sample kept.

    Generator samples start direct mode nearer the class than noise does; 50 steps from them
    gained more on the digits protocol than the samples themselves and than direct mode from
    noise (docs/design.md, "The polish of generator samples").

    Args:
      samples: (m, S, S, C) generator samples in [0, 1], m >= n; rows past ``n`` fill the last
        problem (direct mode splits its images into equal problems) and are dropped after.
      n: the number of images wanted.
      real_images: (r, S, S, C) the real images of the class, in [0, 1].
      steps: direct-mode steps per sample.
      key: a JAX PRNG key.
      floor: the novelty stop's RMS distance, or None for direct mode's default (the 5th
        percentile of the real images' leave-one-out distances).
      progress: as :func:`~augment.gantk.direct.synthesize`'s.

    Returns:
      (n, S, S, C) float32 images in [0, 1].
    """
    config = SynthesisConfig(steps=steps)
    problems, per_problem = plan_problems(n, config.batch_size)
    rows = np.asarray(samples, np.float32)
    if len(rows) < n:
        raise AugmentError(f"{n} polished images need at least {n} samples, got {len(rows)}")
    wanted = problems * per_problem
    start = rows[:wanted] if len(rows) >= wanted else np.concatenate([rows[:n], rows[: wanted - n]])
    real = np.asarray(real_images, np.float32)
    if floor is None:
        floor = leave_one_out_threshold(real)
    polished = synthesize(real, n, config, key, progress, near_copy_threshold=floor, initial=start).images
    if floor is None:  # a single real image: no novelty stop
        return polished
    too_near = nearest_real(polished, real)[1] < floor
    return np.where(too_near[:, None, None, None], rows[:n], polished)
