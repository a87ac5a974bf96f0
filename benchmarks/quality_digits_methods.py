"""The methods the digits benchmark compares (:mod:`quality_digits`): each makes a protocol seed's
extra images from its real images, declared once in :data:`METHODS`."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import jax
import numpy as np
from harness import Methods, Timer
from PIL import Image

from augment.gantk import SynthesisConfig, synthesize
from augment.gantk.generator import GeneratorConfig, sample, train_generator
from augment.gantk.modes import MODES
from augment.gantk.modes.polish import polished_samples
from augment.gantk.resolution import at_size
from augment.measures.quality import leave_one_out_threshold, nearest_real

REAL_PER_CLASS = 5  # real images per class the protocol draws
SYNTHETIC = 200  # extra images a method makes, unless it says otherwise


def classic(real: np.ndarray, labels: np.ndarray, count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Classic augmentation: a random real image rotated by U(-12, 12) degrees and shifted by -1..1 px."""
    rng = np.random.default_rng(seed)
    out, out_labels = [], []
    for _ in range(count):
        i = rng.integers(len(real))
        image = Image.fromarray(real[i, ..., 0].astype(np.float32), mode="F")
        image = image.rotate(rng.uniform(-12, 12), resample=Image.BILINEAR)
        shifted = np.roll(np.asarray(image), tuple(rng.integers(-1, 2, size=2)), axis=(0, 1))
        out.append(np.clip(shifted, 0, 1)[..., None])
        out_labels.append(labels[i])
    return np.stack(out), np.asarray(out_labels)


GA_NTK_SECONDS: dict[int, float] = {}  # seed -> seconds GA-NTK direct (defaults) took: the DCGAN's budget
_MADE: dict[tuple, tuple[np.ndarray, np.ndarray, float]] = {}  # (config, %, seed, count, draw) -> made
DEFAULT = SynthesisConfig()


def ga_ntk(config: SynthesisConfig, percentile: float, draw: int = 0) -> Callable:
    """GA-NTK direct mode per class, the novelty stop's threshold the ``percentile`` of the training
    images' leave-one-out distances (as synth does: its novelty floor).

    Class c's images are made with ``fold_in(PRNGKey(seed), c)``; with ``draw`` > 0, with
    ``fold_in`` of that key and ``draw``: the same real images and settings, another draw of the
    synthetic ones.

    Results are kept, so "GA-NTK direct + classic 200" reuses the defaults' images instead of making
    them again (its seconds are then the defaults' plus classic's)."""

    def make(real, labels, count, seed):
        made_as = (config, percentile, seed, count, draw)
        if made_as not in _MADE:
            per_class = count // 10
            threshold = leave_one_out_threshold(real, percentile)
            keys = [jax.random.fold_in(jax.random.PRNGKey(seed), c) for c in range(10)]
            if draw:
                keys = [jax.random.fold_in(k, draw) for k in keys]
            classes = [real[labels == c] for c in range(10)]
            with Timer() as timer:
                images = [
                    synthesize(r, per_class, config, k, floor_distance=threshold).images
                    for r, k in zip(classes, keys, strict=True)
                ]
            _MADE[made_as] = (np.concatenate(images), np.repeat(np.arange(10), per_class), timer.seconds)
            if config == DEFAULT and percentile == MODES["direct"].novelty_floor and not draw:
                GA_NTK_SECONDS[seed] = timer.seconds
        return _MADE[made_as]

    return make


DCGAN_STEPS: dict[int, int] = {}


def dcgan(real, labels, count, seed):
    """A class-conditional DCGAN trained for as long as GA-NTK direct (defaults) took on this seed."""
    from dcgan import train_dcgan

    if seed not in GA_NTK_SECONDS:
        ga_ntk(DEFAULT, MODES["direct"].novelty_floor)(real, labels, count, seed)
    key = jax.random.PRNGKey(seed)
    sample_fn, steps = train_dcgan(real, labels, 10, GA_NTK_SECONDS[seed], key)
    DCGAN_STEPS[seed] = steps
    wanted = np.repeat(np.arange(10), count // 10)
    return sample_fn(wanted, jax.random.fold_in(key, 1)), wanted


SAMPLING_SECONDS: dict[str, float] = {}  # method -> seconds to sample 1 000 images of one class (last seed)
_TRAINED: dict[tuple, tuple[list, float]] = {}  # (config, seed) -> the 10 generators, seconds


def _noise_scaled(params, scale: float):
    """Generator parameters that map noise z as the given ones map ``scale * z`` (the first layer
    is dense: z @ W + b)."""
    (weights, bias), *rest = params
    return ((scale * weights, bias), *rest)


def ga_ntk_generator(
    config: GeneratorConfig,
    name: str,
    percentile: float,
    draw: int = 0,
    noise_std: float = 1.0,
    nearest_of: int = 1,
    polish: bool = True,
) -> Callable:
    """One generator per class, its samples drawn as synth draws them (``polished_samples`` with the
    novelty floor at ``percentile`` of the training images' leave-one-out distances). With ``draw`` > 0,
    class c's samples are drawn with ``fold_in(fold_in(key, 100 + c), draw)`` instead of
    ``fold_in(key, 100 + c)``: the same generators, another draw of their samples. With
    ``noise_std``, the samples come from noise of that standard deviation instead of N(0, 1).
    With ``nearest_of`` > 1, ``nearest_of`` times as many samples are drawn (keeping the floor) and
    novelty stop leaves its images. With ``polish`` False, the samples are not polished
    (``polish_steps`` 0: the samples themselves, as ``generate`` drew them before the polish).
    Trained generators are kept, so methods that differ only in how they sample (the draw, the
    noise, the selection, the polish) share one training: ``polish_steps`` does not change it."""

    def make(real, labels, count, seed):
        per_class = count // 10
        key = jax.random.PRNGKey(seed)
        trains_as = dataclasses.replace(config, polish_steps=0)  # training does not read it
        if (trains_as, seed) not in _TRAINED:
            with Timer() as training:
                trained = [
                    train_generator(real[labels == c], trains_as, jax.random.fold_in(key, c))
                    for c in range(10)
                ]
            _TRAINED[(trains_as, seed)] = (trained, training.seconds)
        generators, train_seconds = _TRAINED[(trains_as, seed)]
        polish_steps = at_size(config, real.shape[1]).polish_steps if polish else 0
        generators = [
            g._replace(config=dataclasses.replace(g.config, polish_steps=polish_steps)) for g in generators
        ]
        if noise_std != 1.0:
            generators = [g._replace(params=_noise_scaled(g.params, noise_std)) for g in generators]
        floor = leave_one_out_threshold(real, percentile)
        with Timer() as drawing:
            images = []
            for c, g in enumerate(generators):
                draw_key = jax.random.fold_in(key, 100 + c)
                if draw:
                    draw_key = jax.random.fold_in(draw_key, draw)
                pool = polished_samples(g, per_class * nearest_of, real[labels == c], draw_key, floor).images
                if nearest_of > 1:
                    pool = pool[np.argsort(nearest_real(pool, real[labels == c])[1], kind="stable")]
                images.append(pool[:per_class])
        with Timer() as sampling:
            sample(generators[0], 1000, jax.random.fold_in(key, 1000))
        SAMPLING_SECONDS[name] = sampling.seconds
        return np.concatenate(images), np.repeat(np.arange(10), per_class), train_seconds + drawing.seconds

    return make


def combined(*makers: Callable) -> Callable:
    def make(real, labels, count, seed):
        with Timer() as timer:
            parts = [m(real, labels, count, seed) for m in makers]
        # a maker that reused earlier images reports the seconds they took as a third element
        seconds = timer.seconds + sum(p[2] for p in parts if len(p) > 2)
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]), seconds

    return make


DRAWS = (1, 2, 3, 4)
"""The extra draws of each mode's defaults: the same real images, settings and (generator mode)
generators, the synthetic images drawn with another key, so that a mode's gain is judged on the
mean over seeds x draws, not on one draw per seed."""

METHODS = Methods()
METHODS.add("real only", None, 0, "the 50 real images")
for _count in (200, 1000):
    METHODS.add(f"classic {_count}", classic, _count, "rotation ±12°, shift ±1 px")
_DIRECT_FLOOR = MODES["direct"].novelty_floor


def _direct_with_draws(method: str, config: SynthesisConfig, what: str) -> None:
    """Register a direct-mode method at direct mode's novelty floor and its :data:`DRAWS`."""
    for draw in (0, *DRAWS):
        METHODS.add(
            method + (f", draw {draw}" if draw else ""),
            ga_ntk(config, _DIRECT_FLOOR, draw=draw),
            SYNTHETIC,
            what + (f", made again with another key ({draw})" if draw else ""),
        )


_direct_with_draws(
    "GA-NTK direct (defaults)", DEFAULT, "SynthesisConfig() and direct mode's novelty floor as shipped"
)
_direct_with_draws(
    "GA-NTK direct, without the pixel envelope",
    dataclasses.replace(DEFAULT, pixel_envelope=False),
    "the defaults with pixels kept in [0, 1] instead of the range the real side spans at each",
)
METHODS.add(
    "GA-NTK direct, augmentation only",
    ga_ntk(dataclasses.replace(DEFAULT, novelty_stop=False), _DIRECT_FLOOR),
    SYNTHETIC,
    "the defaults without the novelty stop",
)
METHODS.add(
    "GA-NTK direct, novelty stop only",
    ga_ntk(dataclasses.replace(DEFAULT, augment_real_to=0), _DIRECT_FLOOR),
    SYNTHETIC,
    "the defaults without the augmented real set",
)
METHODS.add(
    "GA-NTK direct + classic 200",
    combined(ga_ntk(DEFAULT, _DIRECT_FLOOR), classic),
    SYNTHETIC,
    "the defaults' images and 200 classic ones, both added",
)
METHODS.add(
    "DCGAN, GA-NTK's time", dcgan, SYNTHETIC, "class-conditional, trained as long as the defaults took"
)
_GENERATOR_FLOOR = MODES["generator"].novelty_floor
_GENERATOR_FLOOR_BEFORE = 50.0  # generator mode's floor before the polish


def _generator_with_draws(
    method: str, config: GeneratorConfig, what: str, floor: float = _GENERATOR_FLOOR, **sampling
) -> None:
    """Register a generator-mode method at the novelty ``floor`` (a percentile) and its
    :data:`DRAWS` (one training per seed, shared); ``sampling``: ``ga_ntk_generator``'s
    ``noise_std``, ``nearest_of`` or ``polish``."""
    for draw in (0, *DRAWS):
        name = method + (f", draw {draw}" if draw else "")
        METHODS.add(
            name,
            ga_ntk_generator(config, name, floor, draw=draw, **sampling),
            SYNTHETIC,
            what + (f", its samples drawn with another key ({draw})" if draw else ""),
        )


_generator_with_draws(
    "GA-NTK generator (defaults)",
    GeneratorConfig(),
    "one generator per class, GeneratorConfig() and the novelty floor (60) as shipped: samples polished "
    "by 50 direct-mode steps",
)
_generator_with_draws(
    "GA-NTK generator, polished at floor 50",
    GeneratorConfig(),
    "the defaults' generators and polish at the floor before (50)",
    floor=_GENERATOR_FLOOR_BEFORE,
)
_generator_with_draws(
    "GA-NTK generator, raw samples",
    GeneratorConfig(),
    "the defaults' generators, their samples not polished, at floor 50: the defaults before the polish",
    floor=_GENERATOR_FLOOR_BEFORE,
    polish=False,
)
# measured before the polish, on the samples themselves at floor 50
_generator_with_draws(
    "GA-NTK generator, 4000 steps of 16",
    GeneratorConfig(steps=4000, batch_size=16),
    "generator mode's training above 16 px (4000 steps of 16 samples) on the digits, samples not polished",
    floor=_GENERATOR_FLOOR_BEFORE,
    polish=False,
)
_generator_with_draws(
    "GA-NTK generator, nearest of 4 beyond the floor",
    GeneratorConfig(),
    "the defaults' generators, samples not polished; of four times the samples beyond the novelty "
    "floor, the nearest to the class's real images",
    nearest_of=4,
    floor=_GENERATOR_FLOOR_BEFORE,
    polish=False,
)
for _std in (1.25, 1.5, 2.0):
    _generator_with_draws(
        f"GA-NTK generator, noise std {_std:g}",
        GeneratorConfig(),
        f"the defaults' generators sampled from wider noise (standard deviation {_std:g}), not polished",
        noise_std=_std,
        floor=_GENERATOR_FLOOR_BEFORE,
        polish=False,
    )
