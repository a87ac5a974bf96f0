"""Quality benchmark on the open digits protocol (docs/design.md, "Measured facts"): does
synthetic data help, and is it new?

Protocol: scikit-learn's bundled digits (8x8), 5 real images per class drawn with seeds 0-4, the
rest (about 1 747) held out; classifier ``SVC()`` on raw pixels in [0, 1]; 200 synthetic images
(20 per class) unless a method says otherwise. For every method and seed: holdout accuracy of
the SVC trained on real + extra images, its gain over real only, the privacy ratio (median
distance of the extra images to their closest training image over the same for the held-out
images), the near-copy fraction (extra images closer than the 5th percentile of the held-out
distances), the membership-inference AUC (the 50 training images as members, the held-out ones
as non-members; ``augment.privacy``) with its bootstrap upper bound, and the wall time to make
the extra images.

Run by hand (about 30 minutes on 2 CPU cores, 15 of them training the generators):

    .venv/bin/python benchmarks/quality_digits.py --out benchmarks/quality_digits.json \
        --figure benchmarks/quality_digits.png

Methods still missing, and why, are listed in ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import time
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
from harness import write
from PIL import Image, ImageDraw
from sklearn.datasets import load_digits
from sklearn.svm import SVC

from augment.gantk import DiscriminatorConfig, SynthesisConfig, synthesize
from augment.gantk.augmentation import augmented_real_set
from augment.gantk.generator import GeneratorConfig, train_generator
from augment.gantk.generator_sampling import generate, sample
from augment.gantk.losses import LOSSES, origin_loss
from augment.gantk.modes import MODES
from augment.privacy import membership_inference
from augment.quality import NEAR_COPY_PERCENTILE, leave_one_out_threshold, privacy
from augment.run.gate import check as gate_check
from augment.run.gate import reference as gate_reference

SEEDS = (0, 1, 2, 3, 4)


def _squared_distances(a: jax.Array, b: jax.Array) -> jax.Array:
    """(n_a, n_b) squared Euclidean distances between flattened images."""
    a, b = a.reshape(a.shape[0], -1), b.reshape(b.shape[0], -1)
    return jnp.sum(a * a, 1)[:, None] + jnp.sum(b * b, 1)[None, :] - 2 * a @ b.T


def pixel_mmd(synthetic: jax.Array, real: jax.Array) -> jax.Array:
    """Unbiased squared MMD between the synthetic (n_s, H, W, C) and real (n_r, H, W, C) batches
    under Gaussian kernels on the pixels, bandwidths 1/4, 1 and 4 times the real batch's median
    squared distance: low when the synthetic images cover the real ones and differ from each
    other (the synthetic-synthetic term repels them)."""
    real_real = _squared_distances(real, real)
    bandwidth = jax.lax.stop_gradient(jnp.median(real_real))
    n = synthetic.shape[0]
    total = jnp.zeros((), synthetic.dtype)
    for scale in (0.25, 1.0, 4.0):
        kss = jnp.exp(-_squared_distances(synthetic, synthetic) / (scale * bandwidth))
        total += (jnp.sum(kss) - jnp.trace(kss)) / (n * (n - 1))
        total -= 2 * jnp.mean(jnp.exp(-_squared_distances(synthetic, real) / (scale * bandwidth)))
        total += jnp.mean(jnp.exp(-real_real / (scale * bandwidth)))
    return total


# Cross-entropy plus ``similarity_weight`` times the pixel MMD (a coverage term), for the methods
# below that try it; registered here, not in the library, until it earns a place there.
LOSSES.register(
    "origin+mmd",
    lambda prediction, synthetic, real, weight: origin_loss(prediction) + weight * pixel_mmd(synthetic, real),
)
REAL_PER_CLASS = 5
SYNTHETIC = 200


def protocol(seed: int, images: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Training indices (5 per class, drawn with ``seed``) and the held-out rest."""
    rng = np.random.default_rng(seed)
    train = np.concatenate(
        [rng.choice(np.flatnonzero(labels == c), REAL_PER_CLASS, replace=False) for c in range(10)]
    )
    return train, np.setdiff1d(np.arange(len(labels)), train)


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
_MADE: dict[tuple, tuple[np.ndarray, np.ndarray, float]] = {}  # (config, %, seed, count) -> images, labels, s


def ga_ntk(config: SynthesisConfig, percentile: float = NEAR_COPY_PERCENTILE, draw: int = 0) -> Callable:
    """GA-NTK direct mode per class, the novelty stop's threshold the ``percentile`` of the training
    images' leave-one-out distances (as synth does: its novelty floor; 5, the near-copy threshold,
    for the methods measured before the floor existed).

    Class c's images are made with ``fold_in(PRNGKey(seed), c)``; with ``draw`` > 0, with
    ``fold_in`` of that key and ``draw``: the same real images and settings, another draw of the
    synthetic ones.

    Results are kept, so "GA-NTK + classic" reuses the defaults' images instead of making them again
    (its seconds are then the defaults' plus classic's)."""

    def make(real, labels, count, seed):
        made_as = (config, percentile, seed, count, draw)
        if made_as not in _MADE:
            start = time.perf_counter()
            per_class = count // 10
            threshold = leave_one_out_threshold(real, percentile)
            keys = [jax.random.fold_in(jax.random.PRNGKey(seed), c) for c in range(10)]
            if draw:
                keys = [jax.random.fold_in(k, draw) for k in keys]
            classes = [real[labels == c] for c in range(10)]
            images = [
                synthesize(r, per_class, config, k, near_copy_threshold=threshold).images
                for r, k in zip(classes, keys, strict=True)
            ]
            made = (np.concatenate(images), np.repeat(np.arange(10), per_class), time.perf_counter() - start)
            _MADE[made_as] = made
            if config == DEFAULT and percentile == MODES["direct"].novelty_floor and not draw:
                GA_NTK_SECONDS[seed] = made[2]
        images, made_labels, seconds = _MADE[made_as]
        return images, made_labels, seconds

    return make


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


DCGAN_STEPS: dict[int, int] = {}


# Generator mode's defaults before its cosine learning rate (Adam at a constant 1e-3; measured as
# "real batch 128"), and before that its real batch of 128 (all 200 of the augmented real set per
# step): the generator methods measured before each change keep the settings they ran with.
GENERATOR_CONSTANT = GeneratorConfig(learning_rate=1e-3, learning_rate_schedule="constant")
GENERATOR_WHOLE_SET = dataclasses.replace(
    GENERATOR_CONSTANT, discriminator=DiscriminatorConfig(diag_reg=1e-4, real_batch_size=256)
)


SAMPLING_SECONDS: dict[str, float] = {}  # method -> seconds to sample 1 000 images per class (last seed)


def _noise_scaled(params, scale: float):
    """Generator parameters that map noise z as the given ones map ``scale * z``."""
    (weights, bias), *rest = params
    return ((scale * weights, bias), *rest)


def _farthest_first(images: np.ndarray, k: int, anchors: np.ndarray | None = None) -> np.ndarray:
    """Indices of ``k`` of ``images`` (n, S, S, C) picked farthest-first: each next one is the image
    farthest (Euclidean, pixels) from those picked so far and from ``anchors`` (m, S, S, C) if given;
    without anchors the first pick is image 0 (the pools are in random order)."""
    flat = np.asarray(images, np.float64).reshape(len(images), -1)
    nearest = np.full(len(flat), np.inf)
    if anchors is not None:
        reference = np.asarray(anchors, np.float64).reshape(len(anchors), -1)
        nearest = ((flat[:, None, :] - reference[None]) ** 2).sum(-1).min(1)
    picked: list[int] = []
    for _ in range(k):
        index = 0 if not picked and anchors is None else int(np.argmax(nearest))
        picked.append(index)
        nearest = np.minimum(nearest, ((flat - flat[index]) ** 2).sum(-1))
        nearest[picked] = -np.inf
    return np.asarray(picked)


SELECT_POOL = 4  # selecting methods draw this many samples per image they keep
_TRAINED: dict[tuple, tuple[list, float]] = {}  # (config, seed) -> the 10 generators, seconds


def ga_ntk_generator(
    config: GeneratorConfig,
    name: str,
    percentile: float | None = None,
    select: str | None = None,
    noise_std: float = 1.0,
    jitter: tuple[float, float] | None = None,
    draw: int = 0,
) -> Callable:
    """One generator per class; with ``percentile``, the samples are drawn as synth draws them
    (``generate`` with the novelty floor at that percentile of the training images' leave-one-out
    distances), else straight from ``sample`` (the methods measured before the floor existed).
    With ``select``, :data:`SELECT_POOL` times as many are drawn and ``per_class`` kept: those
    with the highest realness (``"realness"``), nearest the quality gate's reference (``"gate"``),
    or picked farthest-first from each other (``"diverse"``) or from the class's real images and
    each other (``"coverage"``).
    With ``noise_std``, samples come from noise of that standard deviation (the truncation trick:
    the generator's first layer is ``Dense``, so its weights are scaled by it).
    With ``jitter = (rotation, shift)``, each drawn sample is then rotated and shifted once at
    random, as the real set is augmented (degrees, fraction of the size).
    With ``draw`` > 0, class c's samples are drawn with ``fold_in(fold_in(key, 100 + c), draw)``
    instead of ``fold_in(key, 100 + c)``: the same generators, another draw of their samples.
    Trained generators are kept, so methods that differ only in the floor, the noise, the jitter or
    the draw share one training."""

    def make(real, labels, count, seed):
        per_class = count // 10
        key = jax.random.PRNGKey(seed)
        if (config, seed) not in _TRAINED:
            start = time.perf_counter()
            trained = [
                train_generator(real[labels == c], config, jax.random.fold_in(key, c)) for c in range(10)
            ]
            _TRAINED[(config, seed)] = (trained, time.perf_counter() - start)
        generators, train_seconds = _TRAINED[(config, seed)]
        if noise_std != 1.0:
            generators = [g._replace(params=_noise_scaled(g.params, noise_std)) for g in generators]
        start = time.perf_counter()
        if percentile is None:
            images = [
                sample(g, per_class, jax.random.fold_in(key, 100 + c)) for c, g in enumerate(generators)
            ]
        else:
            floor = leave_one_out_threshold(real, percentile)
            images = []
            for c, g in enumerate(generators):
                pool = per_class * (1 if select is None else SELECT_POOL)
                draw_key = jax.random.fold_in(key, 100 + c)
                if draw:
                    draw_key = jax.random.fold_in(draw_key, draw)
                made = generate(g, pool, real[labels == c], draw_key, floor)
                if select is None:
                    images.append(made.images)
                    continue
                if select == "realness":
                    order = np.argsort(-made.realness)
                elif select in ("diverse", "coverage"):
                    order = _farthest_first(
                        made.images, per_class, real[labels == c] if select == "coverage" else None
                    )
                else:
                    _, distance = gate_check(made.images, gate_reference(real[labels == c]))
                    order = np.argsort(distance)
                images.append(made.images[order[:per_class]])
        if jitter is not None:
            images = [
                np.asarray(augmented_real_set(jax.random.fold_in(key, 200 + c), made, len(made), *jitter))
                for c, made in enumerate(images)
            ]
        drawn = time.perf_counter() - start
        start = time.perf_counter()
        sample(generators[0], 1000, jax.random.fold_in(key, 1000))
        SAMPLING_SECONDS[name] = time.perf_counter() - start
        return np.concatenate(images), np.repeat(np.arange(10), per_class), train_seconds + drawn

    return make


def ga_ntk_ensemble(members: int, steps: int) -> Callable:
    """``members`` generators per class, each trained alone for ``steps`` steps (the defaults
    otherwise; the first with the key the defaults' one generator gets, member m with
    ``fold_in(that key, 1000 + m)``), each drawing an even share of the class's samples as synth
    draws them (generator mode's floor; member m's draws from ``fold_in`` of the defaults' sampling
    key with m)."""
    config = GeneratorConfig(steps=steps)

    def make(real, labels, count, seed):
        per_class = count // 10
        key = jax.random.PRNGKey(seed)
        floor = leave_one_out_threshold(real, MODES["generator"].novelty_floor)
        start = time.perf_counter()
        images = []
        for c in range(10):
            class_key, class_real = jax.random.fold_in(key, c), real[labels == c]
            keys = [class_key, *(jax.random.fold_in(class_key, 1000 + m) for m in range(1, members))]
            for m, member_key in enumerate(keys):
                generator = train_generator(class_real, config, member_key)
                share = per_class // members + (m < per_class % members)
                draw_key = jax.random.fold_in(jax.random.fold_in(key, 100 + c), m)
                images.append(generate(generator, share, class_real, draw_key, floor).images)
        return np.concatenate(images), np.repeat(np.arange(10), per_class), time.perf_counter() - start

    return make


def conditional_generator(per_class_batch: int, label_scale: float) -> Callable:
    """One class-conditional generator for all classes (``benchmarks/conditional_generator.py``),
    ``per_class_batch`` samples of every class per step; samples drawn with generator mode's floor."""

    def make(real, labels, count, seed):
        from conditional_generator import draw_far_enough, train_conditional

        key = jax.random.PRNGKey(seed)
        start = time.perf_counter()
        sample_fn, _ = train_conditional(
            real, labels, 10, GENERATOR_WHOLE_SET, per_class_batch, label_scale, key
        )
        floor = leave_one_out_threshold(real, MODES["generator"].novelty_floor)
        images = [
            draw_far_enough(
                sample_fn, c, count // 10, real[labels == c], floor, jax.random.fold_in(key, 100 + c)
            )
            for c in range(10)
        ]
        return np.concatenate(images), np.repeat(np.arange(10), count // 10), time.perf_counter() - start

    return make


def combined(*makers: Callable) -> Callable:
    def make(real, labels, count, seed):
        start = time.perf_counter()
        parts = [m(real, labels, count, seed) for m in makers]
        # a maker that reused earlier images reports the seconds they took as a third element
        seconds = time.perf_counter() - start + sum(p[2] for p in parts if len(p) > 2)
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]), seconds

    return make


DEFAULT = SynthesisConfig()
# Direct mode's novelty stop before 2026-12-02: a batch ended once 20 % of its images were nearer than
# the floor (then the near-copy threshold, 5 %). The methods measured then keep it (and that floor),
# so that they compute what their rows in benchmarks/RESULTS.md say.
STOPPING = dataclasses.replace(DEFAULT, max_near_copy_fraction=0.2)
# Before the copy-avoiding defaults (real images only, no novelty stop, chunks of 25 steps).
PLAIN = dataclasses.replace(
    DEFAULT, augment_real_to=0, novelty_stop=False, convergence_stop=False, chunk_steps=25
)
METHODS: dict[str, tuple[Callable | None, int, str]] = {
    "real only": (None, 0, "the 50 real images"),
    "classic 200": (classic, 200, "rotation ±12°, shift ±1 px"),
    "classic 1000": (classic, 1000, "rotation ±12°, shift ±1 px"),
    "GA-NTK direct (defaults)": (
        ga_ntk(DEFAULT, MODES["direct"].novelty_floor),
        SYNTHETIC,
        "SynthesisConfig() and direct mode's novelty floor (60 %) as shipped",
    ),
    **{
        f"GA-NTK direct (defaults), draw {draw}": (
            ga_ntk(DEFAULT, MODES["direct"].novelty_floor, draw=draw),
            SYNTHETIC,
            f"the defaults' images made again with another key ({draw}): how much the gain moves "
            "with the draw alone",
        )
        for draw in (1, 2, 3, 4)
    },
    "GA-NTK direct, novelty floor 50": (
        ga_ntk(STOPPING, 50.0),
        SYNTHETIC,
        "the floor at 50, batches ended at 20 % nearer (the novelty stop before 2026-12-02)",
    ),
    "GA-NTK direct, floor 5, stop at 20 %": (
        ga_ntk(STOPPING, NEAR_COPY_PERCENTILE),
        SYNTHETIC,
        "direct mode's defaults before 2026-12-02: the near-copy threshold, batches ended at 20 % nearer",
    ),
    "GA-NTK direct, novelty floor 50, no stop": (
        ga_ntk(dataclasses.replace(DEFAULT, max_near_copy_fraction=1.0), 50.0),
        SYNTHETIC,
        "the floor at 50, each image kept at its last version above it without ending the batch",
    ),
    **{
        f"GA-NTK direct, novelty floor {floor}, no stop": (
            ga_ntk(dataclasses.replace(DEFAULT, max_near_copy_fraction=1.0), float(floor)),
            SYNTHETIC,
            f"the floor at {floor}, each image kept at its last version above it",
        )
        for floor in (60, 70)
    },
    "GA-NTK direct, novelty floor 50, stop at half": (
        ga_ntk(dataclasses.replace(DEFAULT, max_near_copy_fraction=0.5), 50.0),
        SYNTHETIC,
        "the floor at 50, a batch ended once half its images are nearer",
    ),
    "GA-NTK direct, no convergence stop": (
        ga_ntk(dataclasses.replace(STOPPING, convergence_stop=False)),
        SYNTHETIC,
        "every batch runs all 300 steps",
    ),
    "GA-NTK direct, augmentation only": (
        ga_ntk(dataclasses.replace(STOPPING, novelty_stop=False)),
        SYNTHETIC,
        "no novelty stop",
    ),
    "GA-NTK direct, novelty stop only": (
        ga_ntk(dataclasses.replace(STOPPING, augment_real_to=0)),
        SYNTHETIC,
        "no real-set augmentation",
    ),
    "GA-NTK direct, poses ±24°, ±1/4": (
        ga_ntk(dataclasses.replace(STOPPING, augment_rotation=24.0, augment_shift=0.25)),
        SYNTHETIC,
        "a wider augmented real set (membership inference against gain)",
    ),
    "GA-NTK direct, poses ±36°, ±1/4": (
        ga_ntk(dataclasses.replace(STOPPING, augment_rotation=36.0, augment_shift=0.25)),
        SYNTHETIC,
        "wider still",
    ),
    "GA-NTK direct, plain": (ga_ntk(PLAIN), SYNTHETIC, "neither (the defaults before this change)"),
    "GA-NTK direct, plain, 50 steps": (
        ga_ntk(dataclasses.replace(PLAIN, steps=50)),
        SYNTHETIC,
        "stopped early",
    ),
    "GA-NTK direct, plain, t=16384": (
        ga_ntk(dataclasses.replace(PLAIN, discriminator=dataclasses.replace(PLAIN.discriminator, t=16384.0))),
        SYNTHETIC,
        "less-trained D",
    ),
    "GA-NTK direct + classic 200": (
        combined(ga_ntk(STOPPING), classic),
        SYNTHETIC,
        "both sets added",
    ),
    "DCGAN, GA-NTK's time": (dcgan, SYNTHETIC, "class-conditional, trained as long as the defaults took"),
    "GA-NTK generator (defaults)": (
        ga_ntk_generator(GeneratorConfig(), "GA-NTK generator (defaults)", MODES["generator"].novelty_floor),
        SYNTHETIC,
        "one generator per class, GeneratorConfig() and the novelty floor as shipped",
    ),
    **{
        f"GA-NTK generator, samples jittered {rotation:g}°, {shift:g}": (
            ga_ntk_generator(
                GeneratorConfig(),
                f"GA-NTK generator, samples jittered {rotation:g}°, {shift:g}",
                MODES["generator"].novelty_floor,
                jitter=(rotation, shift),
            ),
            SYNTHETIC,
            f"the defaults' samples, each then rotated within ±{rotation:g}° and shifted within "
            f"±{shift:g} of the size at random",
        )
        for rotation, shift in ((12.0, 0.125), (6.0, 0.0625))
    },
    **{
        f"GA-NTK generator (defaults), draw {draw}": (
            ga_ntk_generator(
                GeneratorConfig(),
                f"GA-NTK generator (defaults), draw {draw}",
                MODES["generator"].novelty_floor,
                draw=draw,
            ),
            SYNTHETIC,
            f"the defaults' generators (one training per seed, shared), their samples drawn with "
            f"another key ({draw}): how much the gain moves with the draw alone",
        )
        for draw in (1, 2, 3, 4)
    },
    **{
        f"GA-NTK generators, {members} x {steps} steps": (
            ga_ntk_ensemble(members, steps),
            SYNTHETIC,
            f"{members} generators per class trained apart for {steps} steps each (the defaults "
            "otherwise), each drawing an even share of the class's samples",
        )
        for members, steps in ((2, 500), (2, 1000))
    },
    "GA-NTK generator, constant 1e-3": (
        ga_ntk_generator(
            GENERATOR_CONSTANT, "GA-NTK generator, constant 1e-3", MODES["generator"].novelty_floor
        ),
        SYNTHETIC,
        "the defaults before the cosine learning rate: Adam at a constant 1e-3",
    ),
    "GA-NTK generator, cosine from 3e-3": (
        ga_ntk_generator(
            GeneratorConfig(learning_rate=3e-3),
            "GA-NTK generator, cosine from 3e-3",
            MODES["generator"].novelty_floor,
        ),
        SYNTHETIC,
        "the defaults with the rate decaying from 3e-3 instead of 2e-3",
    ),
    "GA-NTK generator, cosine, 1300 steps": (
        ga_ntk_generator(
            GeneratorConfig(steps=1300),
            "GA-NTK generator, cosine, 1300 steps",
            MODES["generator"].novelty_floor,
        ),
        SYNTHETIC,
        "the defaults trained 1.3x as long, the rate decaying over the 1300 steps",
    ),
    **{
        f"GA-NTK generator, {label}": (
            ga_ntk_generator(config, f"GA-NTK generator, {label}", MODES["generator"].novelty_floor),
            SYNTHETIC,
            f"the defaults with {what}",
        )
        for label, config, what in (
            (
                "diag_reg 1e-5",
                GeneratorConfig(
                    discriminator=dataclasses.replace(GeneratorConfig().discriminator, diag_reg=1e-5)
                ),
                "direct mode's diag_reg (1e-5) in the discriminator instead of 1e-4",
            ),
            (
                "400 augmented",
                GeneratorConfig(augment_real_to=400),
                "an augmented real set of 400 instead of 200 (still a random 128 per step)",
            ),
            (
                "base 256",
                GeneratorConfig(base_channels=256),
                "a generator twice as wide (256 channels after its first layer instead of 128)",
            ),
            (
                "rotation 6, shift 1/16",
                GeneratorConfig(augment_rotation=6.0, augment_shift=0.0625),
                "a narrower augmentation of the real set (rotations to 6 degrees, shifts to 1/16 of the size "
                "instead of 12 and 1/8)",
            ),
            *(
                (
                    f"pixel MMD {weight:g}",
                    GeneratorConfig(
                        discriminator=dataclasses.replace(
                            GeneratorConfig().discriminator, loss="origin+mmd", similarity_weight=weight
                        )
                    ),
                    f"a coverage term in the loss: cross-entropy plus {weight:g} times the pixel MMD "
                    "between the synthetic and real batches",
                )
                for weight in (0.3, 1.0, 3.0)
            ),
            (
                "t 16384",
                GeneratorConfig(
                    discriminator=dataclasses.replace(GeneratorConfig().discriminator, t=16384.0)
                ),
                "a less-trained discriminator (t = 16 384 instead of 131 072)",
            ),
            (
                "mse loss",
                GeneratorConfig(
                    discriminator=dataclasses.replace(GeneratorConfig().discriminator, loss="mse")
                ),
                "the squared-error loss (mse) instead of cross-entropy",
            ),
            (
                "t 1048576",
                GeneratorConfig(
                    discriminator=dataclasses.replace(GeneratorConfig().discriminator, t=1048576.0)
                ),
                "a more-trained discriminator (t = 1 048 576 instead of 131 072)",
            ),
            (
                "batch 128",
                GeneratorConfig(batch_size=128),
                "128 samples per generator step instead of 64",
            ),
            (
                "beta1 0.9",
                GeneratorConfig(beta1=0.9),
                "Adam's usual beta1 of 0.9 instead of the published 0.5",
            ),
            *(
                (f"z_dim {z_dim}", GeneratorConfig(z_dim=z_dim), f"noise of {z_dim} dimensions instead of 64")
                for z_dim in (32, 128)
            ),
            (
                "rotation 20, shift 3/16",
                GeneratorConfig(augment_rotation=20.0, augment_shift=0.1875),
                "a wider augmentation of the real set (rotations to 20 degrees, shifts to 3/16 of the size "
                "instead of 12 and 1/8)",
            ),
        )
    },
    "GA-NTK generator, novelty floor 60": (
        ga_ntk_generator(GENERATOR_WHOLE_SET, "GA-NTK generator, novelty floor 60", 60.0),
        SYNTHETIC,
        "the same generators, the floor at direct mode's default",
    ),
    "GA-NTK generator, near-copy floor": (
        ga_ntk_generator(GENERATOR_WHOLE_SET, "GA-NTK generator, near-copy floor", NEAR_COPY_PERCENTILE),
        SYNTHETIC,
        "the same generators, samples kept out only when near-copies (5 %)",
    ),
    **{
        f"GA-NTK generator, best {select} of {SELECT_POOL}x": (
            ga_ntk_generator(
                GENERATOR_WHOLE_SET,
                f"GA-NTK generator, best {select} of {SELECT_POOL}x",
                MODES["generator"].novelty_floor,
                select,
            ),
            SYNTHETIC,
            f"the generators of the time (all 200 per step, Adam 1e-3) and floor, the samples of "
            f"{SELECT_POOL}x as many with the best {select}",
        )
        for select in ("realness", "gate")
    },
    **{
        f"GA-NTK generator, {select} {SELECT_POOL}x": (
            ga_ntk_generator(
                GeneratorConfig(),
                f"GA-NTK generator, {select} {SELECT_POOL}x",
                MODES["generator"].novelty_floor,
                select,
            ),
            SYNTHETIC,
            f"the defaults' generators and floor, {SELECT_POOL}x as many samples drawn and the kept "
            f"ones picked farthest-first from {away_from}",
        )
        for select, away_from in (
            ("diverse", "each other"),
            ("coverage", "the class's real images and each other"),
        )
    },
    **{
        f"GA-NTK generator, noise std {std:g}": (
            ga_ntk_generator(
                GENERATOR_WHOLE_SET,
                f"GA-NTK generator, noise std {std:g}",
                MODES["generator"].novelty_floor,
                noise_std=std,
            ),
            SYNTHETIC,
            f"the generators of the time (all 200 per step, Adam 1e-3) and floor, sampled from noise "
            f"of standard deviation {std:g}",
        )
        for std in (0.25, 0.35, 0.5, 0.75)
    },
    "GA-NTK generator, Adam 2e-3": (
        ga_ntk_generator(
            dataclasses.replace(GENERATOR_WHOLE_SET, learning_rate=2e-3),
            "GA-NTK generator, Adam 2e-3",
            MODES["generator"].novelty_floor,
        ),
        SYNTHETIC,
        "all 200 real images per step and twice the learning rate, constant",
    ),
    "GA-NTK generator, whole real set": (
        ga_ntk_generator(
            GENERATOR_WHOLE_SET,
            "GA-NTK generator, whole real set",
            MODES["generator"].novelty_floor,
        ),
        SYNTHETIC,
        "the defaults before the real batch of 128: all 200 of the augmented real set per step, Adam 1e-3",
    ),
    "GA-NTK generator, 1300 steps": (
        ga_ntk_generator(
            dataclasses.replace(GENERATOR_WHOLE_SET, steps=1300),
            "GA-NTK generator, 1300 steps",
            MODES["generator"].novelty_floor,
        ),
        SYNTHETIC,
        "all 200 real images per step, Adam 1e-3, 1.3x as long (about 60 s per class at 8x8)",
    ),
    **{
        f"GA-NTK conditional generator, {b} per class, label x{scale:g}": (
            conditional_generator(b, scale),
            SYNTHETIC,
            f"one generator for all classes, {b} samples of each class per step, the one-hot label "
            f"scaled by {scale:g} beside the noise, generator mode's floor",
        )
        for b, scale in ((16, 8.0), (64, 8.0))
    },
    "GA-NTK generator, published settings": (
        ga_ntk_generator(
            GeneratorConfig(augment_real_to=0, learning_rate=2e-4, learning_rate_schedule="constant"),
            "GA-NTK generator, published settings",
        ),
        SYNTHETIC,
        "1000 steps, Adam 2e-4, the real images only",
    ),
    "GA-NTK generator, 300 steps": (
        ga_ntk_generator(
            GeneratorConfig(
                steps=300, augment_real_to=0, learning_rate=2e-4, learning_rate_schedule="constant"
            ),
            "GA-NTK generator, 300 steps",
        ),
        SYNTHETIC,
        "the published settings for 300 steps",
    ),
}


def run(method: str, seed: int, images, labels) -> dict:
    make, count, _ = METHODS[method]
    train, holdout = protocol(seed, images, labels)
    real, real_labels = images[train], labels[train]
    start = time.perf_counter()
    if make is None:
        extra, extra_labels = np.zeros((0, 8, 8, 1), np.float32), np.zeros(0, np.int64)
    else:
        made = make(real, real_labels, count, seed)
        extra, extra_labels = made[0], made[1]
    seconds = made[2] if make is not None and len(made) > 2 else time.perf_counter() - start

    def flat(a):
        return np.asarray(a, np.float64).reshape(len(a), 64)

    fit_x, fit_y = np.concatenate([flat(real), flat(extra)]), np.concatenate([real_labels, extra_labels])
    accuracy = SVC().fit(fit_x, fit_y).score(flat(images[holdout]), labels[holdout])
    row = {"method": method, "seed": seed, "accuracy": accuracy, "seconds": seconds, "extra": len(extra)}
    if method in SAMPLING_SECONDS:
        row["sample_1000_seconds"] = SAMPLING_SECONDS[method]
    if make is dcgan:
        row["dcgan_steps"] = DCGAN_STEPS[seed]
    if len(extra):
        figures = privacy(extra, real, images[holdout])
        # members: the 50 training images; non-members: the held-out images
        attack = membership_inference(extra, real, images[holdout], seed)
        row |= {
            "privacy_ratio": figures["privacy_ratio"],
            "near_copy_fraction": figures["near_copy_fraction"],
            "membership_auc": attack["auc"],
            "membership_auc_high": attack["auc_interval"][1],
        }
    return row


def summarise(rows: list[dict]) -> list[dict]:
    baseline = {r["seed"]: r["accuracy"] for r in rows if r["method"] == "real only"}
    table = []
    for method in METHODS:
        mine = [r for r in rows if r["method"] == method]
        if not mine:
            continue
        gains = [100 * (r["accuracy"] - baseline[r["seed"]]) for r in mine]

        def stats(values):
            values = [v for v in values if v is not None]
            if not values:
                return None, None
            return statistics.mean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)

        table.append(
            {
                "method": method,
                "what": METHODS[method][2],
                "seeds": len(mine),
                "accuracy": stats([r["accuracy"] for r in mine]),
                "gain_points": stats(gains),
                "privacy_ratio": stats([r.get("privacy_ratio") for r in mine]),
                "near_copy_fraction": stats([r.get("near_copy_fraction") for r in mine]),
                "membership_auc": stats([r.get("membership_auc") for r in mine]),
                "membership_auc_high": max(
                    (r["membership_auc_high"] for r in mine if "membership_auc_high" in r), default=None
                ),
                "seconds": stats([r["seconds"] for r in mine]),
            }
        )
    return table


def markdown(table: list[dict]) -> str:
    def show(pair, scale=1.0, digits=3, sign=False):
        if pair[0] is None:
            return "—"
        mean, sd = pair[0] * scale, pair[1] * scale
        return f"{mean:+.{digits}f} ± {sd:.{digits}f}" if sign else f"{mean:.{digits}f} ± {sd:.{digits}f}"

    lines = [
        "| method | accuracy | gain (points) | privacy ratio | near-copies "
        "| membership AUC (highest upper bound) | seconds |",
        "|---|---|---|---|---|---|---|",
    ]
    for t in table:
        high = t.get("membership_auc_high")
        lines.append(
            f"| {t['method']} | {show(t['accuracy'])} | {show(t['gain_points'], digits=2, sign=True)} | "
            f"{show(t['privacy_ratio'])} | {show(t['near_copy_fraction'], 100, 1)} % | "
            f"{show(t.get('membership_auc', (None, None)))}{'' if high is None else f' ({high:.3f})'} | "
            f"{show(t['seconds'], digits=1)} |"
        )
    return "\n".join(lines)


def figure(table: list[dict], path: str) -> None:
    """Accuracy gain (y) against privacy ratio (x), one labelled point per method, drawn with Pillow."""
    width, height, margin = 900, 560, 70
    picture = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(picture)
    points = [
        (t["privacy_ratio"][0], t["gain_points"][0], t["method"]) for t in table if t["privacy_ratio"][0]
    ]
    x_max = max(2.2, max(p[0] for p in points) * 1.1)
    gains = [p[1] for p in points] + [0.0, 4.0]
    y_min, y_max = min(gains) - 0.5, max(gains) + 0.5

    def at(x, y):
        return (
            margin + (width - 2 * margin) * x / x_max,
            height - margin - (height - 2 * margin) * (y - y_min) / (y_max - y_min),
        )

    draw.line([at(0, y_min), at(x_max, y_min)], fill="black")
    draw.line([at(0, y_min), at(0, y_max)], fill="black")
    draw.line([at(0.8, y_min), at(0.8, y_max)], fill=(200, 120, 120))  # privacy target
    draw.line([at(0, 4.0), at(x_max, 4.0)], fill=(120, 160, 200))  # gain target
    draw.text(at(0.81, y_max - 0.2), "privacy ratio 0.8", fill=(200, 120, 120))
    draw.text(at(x_max * 0.75, 4.1), "gain +4.0 points", fill=(120, 160, 200))
    for x in np.arange(0, x_max, 0.5):
        draw.text((at(x, y_min)[0] - 8, height - margin + 6), f"{x:.1f}", fill="black")
    for y in np.arange(np.ceil(y_min), y_max, 1.0):
        draw.text((margin - 40, at(0, y)[1] - 6), f"{y:+.0f}", fill="black")
    draw.text((width // 2 - 140, height - 30), "privacy ratio (median DCR synthetic / holdout)", fill="black")
    draw.text((10, 20), "holdout accuracy gain over real only (points)", fill="black")
    for x, y, name in points:
        cx, cy = at(x, y)
        draw.ellipse([cx - 5, cy - 5, cx + 5, cy + 5], fill=(40, 40, 160))
        draw.text((cx + 8, cy - 6), name, fill="black")
    picture.save(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--methods", nargs="*", default=list(METHODS), choices=list(METHODS))
    parser.add_argument("--seeds", nargs="*", type=int, default=list(SEEDS))
    parser.add_argument("--out", help="write rows and the summary table as JSON here")
    parser.add_argument("--figure", help="write the accuracy-vs-privacy figure (PNG) here")
    args = parser.parse_args()
    data = load_digits()
    images, labels = (data.images / 16.0)[..., None].astype(np.float32), data.target
    methods = ["real only", *[m for m in args.methods if m != "real only"]]
    rows = []
    for method in methods:
        for seed in args.seeds:
            rows.append(run(method, seed, images, labels))
            print(json.dumps(rows[-1]), flush=True)
    table = summarise(rows)
    print(markdown(table))
    if args.out:
        write({"rows": rows, "table": table, "devices": [str(d) for d in jax.devices()]}, args.out)
    if args.figure:
        figure(table, args.figure)


if __name__ == "__main__":
    main()
