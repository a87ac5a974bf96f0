"""The polish of generator samples: generator mode draws its samples (:mod:`augment.gantk.generator`),
then direct mode (:mod:`augment.gantk.direct`) takes steps from them against the real images of
their class, and the samples are scored. The two engines do not call each other: the composition
lives here, beside the mode that uses it (:mod:`augment.gantk.modes.generator`).

The polish runs with the run's discriminator (architecture, loss, precision) but direct mode's
``diag_reg`` and real batch, the settings it was measured with (docs/design.md, "The polish of
generator samples"; :func:`polish_config`), in problems of ``polish_batch_size`` samples (direct
mode's batch, which the memory plan lowers with the generator's batch when a step does not fit:
``GeneratorMode.with_batches``); one level, the pixel envelope, and the novelty stop with the
run's floor as the threshold.
"""

from __future__ import annotations

import dataclasses

import jax
import numpy as np

from augment.errors import AugmentError
from augment.gantk.direct import ProgressFn, SynthesisConfig, plan_problems, synthesize
from augment.gantk.generator.config import GeneratorConfig, sized
from augment.gantk.generator.sampling import Generated, generate
from augment.gantk.generator.training import TrainedGenerator
from augment.measures.quality import leave_one_out_threshold, nearest_real

Array = jax.Array
POLISH_STREAM = 1
"""The polish runs with ``fold_in(key, POLISH_STREAM)``; ``generate``'s ``split(key)`` draws and
scores."""


def polish_config(config: GeneratorConfig) -> SynthesisConfig:
    """Direct mode's settings for the polish of a run of ``config`` (resolved, its batches as
    planned): ``polish_steps`` steps of ``polish_batch_size`` samples per problem, and the run's
    discriminator with direct mode's ``diag_reg`` and real batch."""
    direct = SynthesisConfig()
    discriminator = dataclasses.replace(
        config.discriminator,
        diag_reg=direct.discriminator.diag_reg,
        real_batch_size=direct.discriminator.real_batch_size,
    )
    steps = sized(config.polish_steps, "polish_steps")
    return SynthesisConfig(steps=steps, batch_size=config.polish_batch_size, discriminator=discriminator)


def polish(
    samples: np.ndarray,
    n: int,
    real_images,
    steps: int,
    key: Array,
    floor_distance: float | None = None,
    progress: ProgressFn | None = None,
    *,
    settings: SynthesisConfig | None = None,
) -> np.ndarray:
    """The first ``n`` of ``samples`` refined by ``steps`` direct-mode steps each against the real
    images of their class (:func:`~augment.gantk.direct.synthesize` at the samples' size, one
    level, from the samples; a sample that comes nearer a real image than the floor ends as its
    last version beyond it).

    Direct mode starts from its images clipped to the pixel envelope, and a clipped sample may
    already be nearer a real image than the floor: such a sample is returned as drawn, so the
    polish never brings an image within the floor that the sample kept.

    Args:
      samples: (m, S, S, C) generator samples in [0, 1], m >= n; rows past ``n`` fill the last
        problem (direct mode splits its images into equal problems) and are dropped after.
      n: the number of images wanted.
      real_images: (r, S, S, C) the real images of the class, in [0, 1].
      steps: direct-mode steps per sample.
      key: a JAX PRNG key.
      floor_distance: the novelty stop's RMS distance, or None for direct mode's default (the 5th
        percentile of the real images' leave-one-out distances).
      progress: as :func:`~augment.gantk.direct.synthesize`'s.
      settings: direct mode's configuration but for ``steps`` (default: its defaults;
        :func:`polish_config` gives a run's).

    Returns:
      (n, S, S, C) float32 images in [0, 1].
    """
    config = dataclasses.replace(settings or SynthesisConfig(), steps=steps)
    problems, per_problem = plan_problems(n, config.batch_size)
    rows = np.asarray(samples, np.float32)
    if len(rows) < n:
        raise AugmentError(f"{n} polished images need at least {n} samples, got {len(rows)}")
    wanted = problems * per_problem
    start = rows[:wanted] if len(rows) >= wanted else np.concatenate([rows[:n], rows[: wanted - n]])
    real = np.asarray(real_images, np.float32)
    if floor_distance is None:
        floor_distance = leave_one_out_threshold(real)
    polished = synthesize(real, n, config, key, progress, floor_distance=floor_distance, initial=start).images
    if floor_distance is None:  # a single real image: no novelty stop
        return polished
    too_near = nearest_real(polished, real)[1] < floor_distance
    return np.where(too_near[:, None, None, None], rows[:n], polished)


def polished_samples(
    generator: TrainedGenerator,
    n: int,
    real_images,
    key: Array,
    floor_distance: float | None = None,
    progress: ProgressFn | None = None,
) -> Generated:
    """``n`` samples as ``augment synth --mode generator`` writes them: drawn and scored by
    :func:`~augment.gantk.generator.sampling.generate`, and with ``polish_steps`` > 0 (the default
    up to 16 pixels) polished in between (:func:`polish`, with ``fold_in(key, POLISH_STREAM)`` and
    the same floor). ``progress``: the polish's."""
    steps = sized(generator.config.polish_steps, "polish_steps")
    if steps == 0:
        return generate(generator, n, real_images, key, floor_distance)
    polish_key, settings = jax.random.fold_in(key, POLISH_STREAM), polish_config(generator.config)

    def refine(images: np.ndarray, count: int) -> np.ndarray:
        return polish(
            images, count, real_images, steps, polish_key, floor_distance, progress, settings=settings
        )

    return generate(generator, n, real_images, key, floor_distance, refine)


def polish_work(config: GeneratorConfig, count: int) -> int:
    """Direct-mode steps the polish of ``count`` samples takes, over all its problems."""
    steps = sized(config.polish_steps, "polish_steps")
    return plan_problems(count, config.polish_batch_size)[0] * steps if steps else 0


def polish_batch(config: GeneratorConfig) -> int:
    """The synthetic batch of the polish's problems (0 without a polish), for the memory plan."""
    return config.polish_batch_size if config.polish_steps != 0 else 0
