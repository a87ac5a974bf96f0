"""Direct-mode GA-NTK synthesis: the synthetic pixels themselves are the parameters.

One *problem* is one synthetic batch of ``n_s`` images optimised against real batches of ``n_r``
images drawn from the real set of one class. :func:`synthesize` splits a request for M images
into independent problems of equal size (so they share one compilation) and solves them in turn.

Per step: ``loss, grad = value_and_grad(ga_ntk_loss)(Z)``; the optimiser (optax Adam, or the
paper's plain gradient descent) proposes an update; optional Gaussian noise of standard deviation
``noise / (1 + step)**0.55`` is added; pixels are clipped to [0, 1].

Two defaults keep the images from becoming copies of the real ones (DESIGN.md section 3; measured
in ``benchmarks/RESULTS.md``):

- the real side of the loss is an *augmented real set*: ``augment_real_to`` random small
  rotations and shifts of the class's real images (:mod:`augment.gantk.augmentation`), so the
  discriminator's target is the class under small pose changes rather than the few real images;
- a *novelty stop*: after every chunk of steps, the share of the batch's images that are
  near-copies (closer to a real image than ``near_copy_threshold``) is measured, and the first
  chunk that takes it above ``max_near_copy_fraction`` is undone and ends that batch; the few
  near-copies it let through are then replaced by their own last version that was not one.

Costs that are paid once: the NTK Gram matrix of the whole real set (real-vs-real blocks do not
depend on Z), computed before the first step; each step gathers its (n_r, n_r) block. Steps run
inside one compiled ``fori_loop`` per chunk of at most ``chunk_steps`` steps, with a traced trip
count, so no step, chunk or problem recompiles.

All randomness comes from the key passed in: the same key gives bit-identical images on CPU.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from augment.errors import AugmentError
from augment.gantk.architectures import ARCHITECTURES, discriminator
from augment.gantk.augmentation import augmented_real_set
from augment.gantk.discriminator import LOSSES, ga_ntk_loss, real_batch
from augment.gantk.loop import restore, run_steps
from augment.quality import leave_one_out_threshold, pairwise_rms_distance

Array = jax.Array
OPTIMIZERS = ("adam", "gd")
GRAM_BLOCK = 128  # rows of the real Gram matrix computed at a time
AUGMENTATION_STREAM = 0x617567  # fold_in constant: the augmentation's key, apart from the problems'


@dataclass(frozen=True)
class SynthesisConfig:
    """Everything that decides what direct-mode synthesis computes (recorded in provenance).

    Defaults follow the published GA-NTK settings (DESIGN.md section 1) for the discriminator, and
    Adam on pixels for the optimiser (clean images within a few hundred steps, DESIGN.md section 3).
    """

    architecture: str = "paper-gray"
    loss: str = "origin"
    similarity_weight: float = 0.1
    eta: float = 1e-2
    t: float = 65536.0 * 2
    diag_reg: float = 1e-5
    optimizer: str = "adam"
    learning_rate: float = 0.01
    noise: float = 0.0
    steps: int = 300
    real_batch_size: int = 256
    synthetic_batch_size: int = 32
    chunk_steps: int = 10
    augment_real_to: int = 200
    augment_rotation: float = 12.0
    augment_shift: float = 0.125
    novelty_stop: bool = True
    max_near_copy_fraction: float = 0.2

    def __post_init__(self):
        checks = [
            (
                self.architecture in ARCHITECTURES,
                f"architecture must be one of {sorted(ARCHITECTURES)}",
            ),
            (self.loss in LOSSES, f"loss must be one of {LOSSES}"),
            (self.optimizer in OPTIMIZERS, f"optimizer must be one of {OPTIMIZERS}"),
            (self.steps >= 1, "steps must be at least 1"),
            (self.real_batch_size >= 1, "the real batch size must be at least 1"),
            (
                self.synthetic_batch_size >= 1,
                "the synthetic batch size must be at least 1",
            ),
            (self.chunk_steps >= 1, "chunk_steps must be at least 1"),
            (self.learning_rate > 0, "the learning rate must be positive"),
            (self.eta > 0 and self.t > 0, "eta and t must be positive"),
            (
                self.diag_reg >= 0 and self.noise >= 0,
                "diag_reg and noise must not be negative",
            ),
            (
                self.augment_real_to >= 0 and self.augment_rotation >= 0 and self.augment_shift >= 0,
                "the real-set augmentation's size, rotation and shift must not be negative",
            ),
            (
                0 <= self.max_near_copy_fraction <= 1,
                "max_near_copy_fraction must be between 0 and 1",
            ),
        ]
        for ok, message in checks:
            if not ok:
                raise AugmentError(message)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


class ProblemState(NamedTuple):
    """State of one synthetic batch between steps."""

    synthetic: Array  # (n_s, H, W, C) in [0, 1]
    opt_state: optax.OptState
    key: Array  # PRNG key for real-batch sampling and noise
    step: Array  # () int32, steps taken


class SynthesisResult(NamedTuple):
    """What :func:`synthesize` returns.

    Attributes:
      images: (M, H, W, C) float32 in [0, 1].
      realness: (M,) the discriminator's "real" prediction for each image after the last step,
        against a real batch of the class.
      loss_history: (problems, steps) loss at every step of every problem; NaN after the step
        at which the novelty stop ended a problem.
      problem_index: (M,) which problem (synthetic batch) each image came from.
      steps_run: (problems,) the steps each problem ran (fewer than ``steps`` when stopped).
    """

    images: np.ndarray
    realness: np.ndarray
    loss_history: np.ndarray
    problem_index: np.ndarray
    steps_run: np.ndarray


class CompiledProblem(NamedTuple):
    """The jitted pieces of one configuration (see :func:`_compiled_problem`)."""

    init_state: Callable  # (key, n_synthetic, image_shape) -> ProblemState
    run_chunk: Callable  # (state, real_all, gram_all, num_steps) -> (state, (chunk_steps,) losses)
    evaluate: Callable  # (synthetic, real_all, gram_all, key) -> (loss, (n_s,) realness)
    gram: Callable  # (real_all,) -> (n, n) NTK of the real set


ProgressFn = Callable[[int, int, int, int, float], None]
"""``progress(problem, problems, steps_done, steps, last_loss)``, called after every chunk."""


def _optimizer(config: SynthesisConfig) -> optax.GradientTransformation:
    if config.optimizer == "adam":
        return optax.adam(config.learning_rate)
    return optax.sgd(config.learning_rate)


@functools.lru_cache(maxsize=16)
def _compiled_problem(config: SynthesisConfig, image_size: int, n_real_total: int):
    """The jitted pieces for one configuration and real-set size, shared by every problem."""
    _, _, kernel_fn = discriminator(config.architecture, image_size)
    optimizer = _optimizer(config)

    def loss_fn(synthetic, real, gram):
        return ga_ntk_loss(
            kernel_fn,
            synthetic,
            real,
            gram,
            loss=config.loss,
            eta=config.eta,
            t=config.t,
            diag_reg=config.diag_reg,
            similarity_weight=config.similarity_weight,
        )

    value_and_grad = jax.value_and_grad(loss_fn, has_aux=True)

    def step(state: ProblemState, real_all, gram_all):
        key, batch_key, noise_key = jax.random.split(state.key, 3)
        real, gram = real_batch(batch_key, real_all, gram_all, config.real_batch_size)
        (loss, _), grad = value_and_grad(state.synthetic, real, gram)
        updates, opt_state = optimizer.update(grad, state.opt_state, state.synthetic)
        synthetic = optax.apply_updates(state.synthetic, updates)
        if config.noise > 0:
            scale = config.noise / (1.0 + state.step.astype(synthetic.dtype)) ** 0.55
            synthetic = synthetic + scale * jax.random.normal(noise_key, synthetic.shape, synthetic.dtype)
        synthetic = jnp.clip(synthetic, 0.0, 1.0)
        return ProblemState(synthetic, opt_state, key, state.step + 1), loss

    def init_state(key, n_synthetic, image_shape):
        init_key, state_key = jax.random.split(key)
        synthetic = jax.random.uniform(init_key, (n_synthetic,) + image_shape, jnp.float32)
        return ProblemState(synthetic, optimizer.init(synthetic), state_key, jnp.zeros((), jnp.int32))

    @jax.jit
    def run_chunk(state: ProblemState, real_all, gram_all, num_steps):
        """Up to ``config.chunk_steps`` steps; ``num_steps`` is traced, so it never recompiles."""
        history = jnp.full((config.chunk_steps,), jnp.nan, jnp.float32)

        def body(i, carry):
            state, history = carry
            state, loss = step(state, real_all, gram_all)
            return state, history.at[i].set(loss)

        return jax.lax.fori_loop(0, num_steps, body, (state, history))

    @jax.jit
    def evaluate(synthetic, real_all, gram_all, key):
        real, gram = real_batch(key, real_all, gram_all, config.real_batch_size)
        return loss_fn(synthetic, real, gram)

    @jax.jit
    def gram_rows(rows, real_all):
        return kernel_fn(rows, real_all, "ntk")

    @jax.jit
    def gram_self(real_all):
        return kernel_fn(real_all, None, "ntk")

    def gram(real_all):
        """(n, n) NTK of the whole real set, GRAM_BLOCK rows at a time to bound memory."""
        if n_real_total <= GRAM_BLOCK:
            return gram_self(real_all)
        blocks = [
            gram_rows(real_all[i : i + GRAM_BLOCK], real_all) for i in range(0, n_real_total, GRAM_BLOCK)
        ]
        return jnp.concatenate(blocks, axis=0)

    return CompiledProblem(jax.jit(init_state, static_argnums=(1, 2)), run_chunk, evaluate, gram)


def plan_problems(n_synthetic: int, batch_size: int) -> tuple[int, int]:
    """Split M images into ``problems`` equal batches of ``per_problem`` (the last few dropped).

    Equal batches share one compilation; ``problems * per_problem - M < problems``.
    """
    if n_synthetic < 1:
        raise AugmentError(f"the number of synthetic images must be at least 1, got {n_synthetic}")
    problems = math.ceil(n_synthetic / batch_size)
    return problems, math.ceil(n_synthetic / problems)


@dataclass
class SynthesisSnapshot:
    """Where the synthesis of one class stands, to checkpoint and resume it bit for bit.

    Attributes:
      images, realness, histories: per finished problem, (per_problem, H, W, C) images,
        (per_problem,) realness and its losses (steps,).
      state: the leaves of the :class:`ProblemState` of the problem under way (numpy arrays, in
        ``jax.tree_util`` order), or None between problems.
      history: that problem's losses so far.
      novel: with the novelty stop, (per_problem, H, W, C) each image's last version that was not
        a near-copy, for the problem under way (None between problems or without the stop).
    """

    images: list[np.ndarray] = dataclasses.field(default_factory=list)
    realness: list[np.ndarray] = dataclasses.field(default_factory=list)
    histories: list[list[float]] = dataclasses.field(default_factory=list)
    state: list[np.ndarray] | None = None
    history: list[float] = dataclasses.field(default_factory=list)
    novel: np.ndarray | None = None


CheckpointFn = Callable[[SynthesisSnapshot], None]
"""``checkpoint(snapshot)``, called after every chunk of steps and after every problem."""


def synthesize(
    real_images,
    n_synthetic: int,
    config: SynthesisConfig,
    key: Array,
    progress: ProgressFn | None = None,
    *,
    resume: SynthesisSnapshot | None = None,
    checkpoint: CheckpointFn | None = None,
    near_copy_threshold: float | None = None,
) -> SynthesisResult:
    """Synthesise ``n_synthetic`` images of one class from its real images (direct mode).

    Args:
      real_images: (n, S, S, C) real images of one class, values in [0, 1].
      n_synthetic: M, the number of images wanted.
      config: the synthesis settings.
      key: a JAX PRNG key; the same key gives the same images.
      progress: called after every chunk of steps (see :data:`ProgressFn`).
      resume: a snapshot from an interrupted call with the same arguments; the result is then
        identical to that of an uninterrupted call.
      checkpoint: called with a snapshot after every chunk and every finished problem.
      near_copy_threshold: the RMS distance below which an image counts as a near-copy of a real
        one, for the novelty stop. Default: the 5th percentile of the leave-one-out nearest
        distances among ``real_images`` (no novelty stop with a single real image).

    Raises:
      AugmentError: bad shapes or values, a snapshot that does not fit, or a loss that became
        NaN or infinite (the last snapshot passed to ``checkpoint`` is the last good state).
    """
    real = jnp.asarray(real_images, jnp.float32)
    if real.ndim != 4 or real.shape[1] != real.shape[2] or real.shape[0] < 1:
        raise AugmentError(f"real images must be (n, S, S, C) with n >= 1, got shape {real.shape}")
    if not bool(jnp.all(jnp.isfinite(real))) or float(real.min()) < 0 or float(real.max()) > 1:
        raise AugmentError("real image values must be finite and in [0, 1]")
    problems, per_problem = plan_problems(n_synthetic, config.synthetic_batch_size)
    image_shape = tuple(real.shape[1:])
    originals = np.asarray(real)
    if config.augment_real_to > 0:
        count = max(config.augment_real_to, real.shape[0])
        real = augmented_real_set(
            jax.random.fold_in(key, AUGMENTATION_STREAM),
            real,
            count,
            config.augment_rotation,
            config.augment_shift,
        )
    # The step count does not change what is compiled: one compilation serves every --steps.
    compiled = _compiled_problem(dataclasses.replace(config, steps=1), image_shape[0], real.shape[0])
    gram = compiled.gram(real)
    if near_copy_threshold is None:
        near_copy_threshold = leave_one_out_threshold(originals)
    guarded = config.novelty_stop and near_copy_threshold is not None

    def near_copies(images: np.ndarray) -> np.ndarray:
        """(n_s,) bool: which images are near-copies of a real image of the class."""
        return pairwise_rms_distance(images, originals).min(axis=1) < near_copy_threshold

    def accept(state: ProblemState) -> bool:
        if int(state.step) <= config.chunk_steps:
            return True  # the first chunk always stands: no batch ends as its initial noise
        return float(np.mean(near_copies(np.asarray(state.synthetic)))) <= config.max_near_copy_fraction

    snapshot = (
        SynthesisSnapshot()
        if resume is None
        else dataclasses.replace(
            resume,
            images=list(resume.images),
            realness=list(resume.realness),
            histories=list(resume.histories),
        )
    )
    if len(snapshot.images) > problems or any(
        i.shape != (per_problem, *image_shape) for i in snapshot.images
    ):
        raise AugmentError("the checkpoint does not match this request (problem count or image shape differ)")
    for problem, problem_key in enumerate(jax.random.split(key, problems)):
        if problem < len(snapshot.images):
            continue  # finished before the interruption
        init_key, eval_key = jax.random.split(problem_key)
        state = compiled.init_state(init_key, per_problem, image_shape)
        history: list[float] = []
        # each image's last version that was not a near-copy (the initial noise to begin with)
        snapshot.novel = np.asarray(state.synthetic) if guarded else None
        if snapshot.state is not None:
            state = restore(state, snapshot.state, "optimiser state")
            history = list(snapshot.history)
            if guarded and (resume.novel is None or resume.novel.shape != snapshot.novel.shape):
                raise AugmentError("the checkpoint does not match this request (novelty record differs)")
            snapshot.novel = resume.novel if guarded else None

        def after_chunk(state, history, problem=problem):
            if guarded:
                images = np.asarray(state.synthetic)
                snapshot.novel = np.where(near_copies(images)[:, None, None, None], snapshot.novel, images)
            if checkpoint is not None:
                snapshot.state = [np.asarray(leaf) for leaf in jax.tree_util.tree_leaves(state)]
                snapshot.history = list(history)
                checkpoint(snapshot)
            if progress is not None:
                progress(problem, problems, len(history), config.steps, history[-1])

        state, _ = run_steps(
            lambda state, n: compiled.run_chunk(state, real, gram, n), state, history, config.steps,
            config.chunk_steps, lambda step, problem=problem: f"step {step} of problem {problem + 1}", after_chunk,
            accept if guarded else None,
        )  # fmt: skip
        images = np.asarray(state.synthetic)
        if guarded:  # the few near-copies the stop let through go back to their last novel version
            images = np.where(near_copies(images)[:, None, None, None], snapshot.novel, images)
        _, scores = compiled.evaluate(jnp.asarray(images), real, gram, eval_key)
        snapshot.images.append(images)
        snapshot.realness.append(np.asarray(scores))
        snapshot.histories.append(history)
        snapshot.state, snapshot.history, snapshot.novel = None, [], None
        if checkpoint is not None:
            checkpoint(snapshot)

    problem_index = np.repeat(np.arange(problems), per_problem)[:n_synthetic]
    loss_history = np.full((problems, config.steps), np.nan, np.float32)
    for p, losses in enumerate(snapshot.histories):
        loss_history[p, : len(losses)] = losses
    return SynthesisResult(
        images=np.concatenate(snapshot.images)[:n_synthetic],
        realness=np.concatenate(snapshot.realness)[:n_synthetic],
        loss_history=loss_history,
        problem_index=problem_index,
        steps_run=np.asarray([len(h) for h in snapshot.histories], np.int64),
    )
