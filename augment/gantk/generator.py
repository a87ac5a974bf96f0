"""Generator mode (GA-NTKg): a network G(z; theta) maps noise to images; theta is trained with the
same single-level GA-NTK loss as direct mode, on (real batch, G(z) batch).

One generator per class, like one problem set per class in direct mode: the discriminator is a
per-class GA-NTK problem, and independent generators let a lab add a class without retraining the
others (and, later, train classes on different devices). One class-conditional generator for all
classes trained faster but gained less on the digits protocol (docs/design.md, "The method").

The network is :mod:`augment.gantk.generator_network`'s; this module trains it and
:mod:`augment.gantk.generator_sampling` samples it.
Settings follow the published GA-NTKg code (Adam with beta1 0.5, global-norm clipping, a cosine
learning-rate schedule), with the departures and their reasons in docs/design.md ("The method",
"Sharp scans"): the defaults are :class:`GeneratorConfig`'s fields, and those that depend on the
working size are its ``SIZE_DEFAULTS``, with the reason for each. All randomness comes from
explicit keys.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from augment.errors import AugmentError
from augment.gantk.augmentation import discriminator_real_set
from augment.gantk.config import DiscriminatorConfig, FlatRecord, check
from augment.gantk.discriminator import real_batch
from augment.gantk.generator_network import generator_network, grown_parameters, grows_into
from augment.gantk.loop import chunk_of_steps, real_gram, restore, run_steps
from augment.gantk.multiscale import LEVEL_STREAM, level_sizes, level_weights, level_work, resize
from augment.gantk.resolution import SizeDefault, at_size
from augment.parameters import (
    GENERATOR_BATCH,
    GENERATOR_STEPS,
    POLISH_STEPS,
    SCAN_GENERATOR_BATCH,
    SCAN_GENERATOR_STEPS,
)

Array = jax.Array


def _constant(learning_rate: float, steps: int | Array) -> optax.ScalarOrSchedule:
    return learning_rate


def _cosine(learning_rate: float, steps: int | Array) -> optax.ScalarOrSchedule:
    """``learning_rate`` at step 0, falling along half a cosine to 0 at ``steps`` (the same values
    as ``optax.cosine_decay_schedule(learning_rate, steps)``, with ``steps`` allowed to be traced,
    so one compiled chunk serves every length of training)."""

    def schedule(count: Array) -> Array:
        total = jnp.asarray(steps, jnp.float32)
        done = jnp.minimum(jnp.asarray(count, jnp.float32), total)
        return learning_rate * (0.5 * (1 + jnp.cos(jnp.pi * done / total)))

    return schedule


LEARNING_RATE_SCHEDULES: dict[str, Callable[[float, int | Array], optax.ScalarOrSchedule]] = {
    "constant": _constant,
    "cosine": _cosine,
}
"""``schedule(learning_rate, steps)``: the learning rate, or a function of Adam's step count, for a
training of ``steps`` steps. One entry here adds a schedule (``learning_rate_schedule``)."""


GENERATOR_REAL_BATCH = 128
"""Real images the discriminator sees per generator step, drawn at random from its real side: as
good on the digits protocol as the whole augmented set of 200, and faster (docs/design.md)."""


def _generator_discriminator() -> DiscriminatorConfig:
    """The published GA-NTKg discriminator (diag_reg 1e-4; direct mode's is 1e-5), on a random
    real batch of :data:`GENERATOR_REAL_BATCH` per step."""
    return DiscriminatorConfig(diag_reg=1e-4, real_batch_size=GENERATOR_REAL_BATCH)


@dataclass(frozen=True)
class GeneratorConfig(FlatRecord):
    """Everything that decides what generator training computes (recorded in provenance).

    ``steps`` and ``batch_size`` left at None are resolved by the working size
    (:data:`SIZE_DEFAULTS`, :func:`~augment.gantk.resolution.resolve`): 1000 steps of 64
    samples up to 16 pixels, 4000 of 16 above.
    ``chunk_steps`` only sets how many steps run in one compiled loop, and so how often progress
    is reported and a checkpoint may be written; it does not change the result.
    With ``augment_real_to > 0`` the discriminator's real side is an augmented real set of that
    many random small rotations and shifts of the class's images, as in direct mode
    (:func:`~augment.gantk.augmentation.discriminator_real_set`); left at None it is resolved by
    the working size (:func:`~augment.gantk.resolution.resolve`): 200 up to 16 pixels,
    the real images themselves above.
    ``polish_steps`` does not change training: it is how many direct-mode steps each sample takes
    against the class's real images before ``augment synth`` writes it
    (:func:`~augment.gantk.generator_sampling.generate`); left at None, 50 up to 16 pixels (where
    it was measured) and 0 above. Samples drawn without the real data (``augment sample``) are
    not polished.
    """

    SIZE_DEFAULTS: ClassVar[dict[str, SizeDefault]] = {
        "steps": SizeDefault(
            GENERATOR_STEPS,
            SCAN_GENERATOR_STEPS,
            "training steps of the published settings' length",
            "more steps of smaller batches: together they take less time at these sizes than the small "
            "sizes' steps and batches would, for images as hard to tell from real ones",
        ),
        "batch_size": SizeDefault(
            GENERATOR_BATCH,
            SCAN_GENERATOR_BATCH,
            "samples per training step",
            "smaller batches, for more steps in the same time",
        ),
        "polish_steps": SizeDefault(
            POLISH_STEPS,
            0,
            "each sample takes direct-mode steps against its class's real images before it is written",
            "samples are written as drawn: the polish was measured at small sizes only",
        ),
    }

    discriminator: DiscriminatorConfig = dataclasses.field(default_factory=_generator_discriminator)
    z_dim: int = 64
    base_channels: int = 128
    batch_size: int | None = None  # None: by working size (SIZE_DEFAULTS, resolution.resolve)
    steps: int | None = None  # None: by working size (SIZE_DEFAULTS, resolution.resolve)
    learning_rate: float = 2e-3
    learning_rate_schedule: str = "cosine"
    beta1: float = 0.5
    clip_norm: float = 5.0
    chunk_steps: int = 25
    augment_real_to: int | None = None  # None: AUGMENT_REAL_TO up to SCAN_SIZE, 0 above (resolution)
    augment_rotation: float = 12.0
    augment_shift: float = 0.125
    coarse_size: int = 0  # 0: one level; else trains at this size first (docs/design.md, "Sharp scans")
    refine_steps: int = 200
    polish_steps: int | None = None  # direct-mode steps per sample synth writes; None: by size

    def __post_init__(self) -> None:
        check(
            [
                (
                    self.coarse_size >= 0 and self.refine_steps >= 1 and (self.polish_steps or 0) >= 0,
                    "`coarse_size` and `polish_steps` must not be negative and `refine_steps` must be "
                    "at least 1",
                ),
                (
                    min(
                        self.z_dim,
                        self.base_channels,
                        self.batch_size or 1,
                        self.steps or 1,
                        self.chunk_steps,
                    )
                    >= 1,
                    "`z_dim`, `base_channels`, `batch_size`, `steps` and `chunk_steps` must be at least 1",
                ),
                (
                    self.learning_rate > 0 and self.clip_norm > 0,
                    "`learning_rate` and `clip_norm` must be positive",
                ),
                (
                    self.learning_rate_schedule in LEARNING_RATE_SCHEDULES,
                    f"`learning_rate_schedule` must be one of {', '.join(LEARNING_RATE_SCHEDULES)}, "
                    f"got {self.learning_rate_schedule!r}",
                ),
                (
                    (self.augment_real_to is None or self.augment_real_to >= 0)
                    and self.augment_rotation >= 0
                    and self.augment_shift >= 0,
                    "the real-set augmentation's size, rotation and shift (`augment_real_to`, "
                    "`augment_rotation`, `augment_shift`) must not be negative",
                ),
            ]
        )


def sized(value: int | None, name: str) -> int:
    """A size-dependent field (``steps``, ``batch_size``) once :func:`~augment.gantk.resolution.resolve`
    decided it for a working size: the library resolves it before training, sampling or planning."""
    if value is None:
        raise AugmentError(
            f"`{name}` depends on the working size: resolve the configuration first "
            "(augment.gantk.resolution.at_size)"
        )
    return value


def parameter_layout(image_shape: tuple[int, int, int], config: GeneratorConfig):
    """``(leaves, treedef)`` of the generator's parameters: leaves are ``jax.ShapeDtypeStruct``
    in ``jax.tree_util`` order; ``jax.tree_util.tree_unflatten(treedef, arrays)`` rebuilds them."""
    size, _, channels = (int(d) for d in image_shape)
    init_fn, _ = generator_network(size, channels, config.base_channels)
    _, params = jax.eval_shape(lambda key: init_fn(key, (-1, config.z_dim)), jax.random.PRNGKey(0))
    return jax.tree_util.tree_flatten(params)


def generator_optimizer(config: GeneratorConfig, steps: int | Array) -> optax.GradientTransformation:
    """Adam (``beta1``) after global-norm clipping to ``clip_norm``, at ``learning_rate`` on the
    ``learning_rate_schedule`` for a training of ``steps`` steps (an int, or traced)."""
    schedule = LEARNING_RATE_SCHEDULES[config.learning_rate_schedule](config.learning_rate, steps)
    return optax.chain(optax.clip_by_global_norm(config.clip_norm), optax.adam(schedule, b1=config.beta1))


class GeneratorState(NamedTuple):
    params: object
    opt_state: optax.OptState
    key: Array
    step: Array


class TrainedGenerator(NamedTuple):
    """A trained generator: its parameters, what it makes, and its training loss per step."""

    params: object
    image_shape: tuple[int, int, int]
    config: GeneratorConfig
    loss_history: np.ndarray  # (steps,)


@dataclass
class GeneratorSnapshot:
    """The training state (numpy leaves, ``jax.tree_util`` order) and losses so far, to resume."""

    state: list[np.ndarray]
    history: list[float]
    level: int = 0  # the level of :func:`generator_schedule` under way (its state)

    @property
    def milestone(self) -> bool:
        """False: a generator has no finished part before its end, so every save of its training
        is rationed by time alone (direct mode's snapshots mark a finished problem)."""
        return False

    def to_arrays(self, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
        """Put the state's leaves into ``arrays`` (keys ``current.state.*``); return the record."""
        for i, leaf in enumerate(self.state):
            arrays[f"current.state.{i}"] = np.asarray(leaf)
        return {
            "kind": "generator",
            "state_leaves": len(self.state),
            "history": list(self.history),
            "level": self.level,
        }

    @classmethod
    def from_arrays(cls, record: dict[str, Any], arrays: dict[str, np.ndarray]) -> GeneratorSnapshot:
        """The snapshot that :meth:`to_arrays` recorded (one without a level: level 0)."""
        if record.get("kind") != "generator":
            raise ValueError(f"the snapshot under way is of mode {record.get('kind')!r}, not generator")
        leaves = [arrays[f"current.state.{i}"] for i in range(record["state_leaves"])]
        return cls(leaves, record["history"], int(record.get("level", 0)))


class CompiledGenerator(NamedTuple):
    init_state: Callable
    run_chunk: Callable  # (state, real_all, gram_all, steps in the whole training, num_steps)
    gram: Callable
    apply: Callable
    realness: Callable  # (images (batch_size, S, S, C), real_all, gram_all, key) -> (batch_size,)


@functools.lru_cache(maxsize=8)
def compiled_generator(config: GeneratorConfig, image_shape: tuple[int, ...]) -> CompiledGenerator:
    """The jitted steps of training (and scoring samples of) a generator of ``config`` for
    ``image_shape`` images, cached by both."""
    size, _, channels = image_shape
    kernel_fn = config.discriminator.kernel_fn(size, channels)
    loss_and_realness = config.discriminator.loss_fn(kernel_fn)
    real_batch_size = config.discriminator.real_batch_size
    init_fn, apply_fn = generator_network(size, channels, config.base_channels)

    def loss_fn(params, z, real, gram):
        loss, _ = loss_and_realness(apply_fn(params, z), real, gram)
        return loss

    value_and_grad = jax.value_and_grad(loss_fn)

    def step(state: GeneratorState, real_all, gram_all, steps):
        key, z_key, batch_key = jax.random.split(state.key, 3)
        real, gram = real_batch(batch_key, real_all, gram_all, real_batch_size)
        z = jax.random.normal(z_key, (sized(config.batch_size, "batch_size"), config.z_dim))
        loss, grad = value_and_grad(state.params, z, real, gram)
        optimizer = generator_optimizer(config, steps)
        updates, opt_state = optimizer.update(grad, state.opt_state, state.params)
        return GeneratorState(
            optax.apply_updates(state.params, updates), opt_state, key, state.step + 1
        ), loss

    run_chunk = jax.jit(chunk_of_steps(step, config.chunk_steps))

    @jax.jit
    def init_state(key):
        init_key, state_key = jax.random.split(key)
        _, params = init_fn(init_key, (-1, config.z_dim))
        # the optimizer's state does not depend on the length of training
        opt_state = generator_optimizer(config, 1).init(params)
        return GeneratorState(params, opt_state, state_key, jnp.zeros((), jnp.int32))

    @jax.jit
    def realness(images, real_all, gram_all, key):
        real, gram = real_batch(key, real_all, gram_all, real_batch_size)
        _, prediction = loss_and_realness(images, real, gram)
        return prediction

    return CompiledGenerator(init_state, run_chunk, real_gram(kernel_fn), jax.jit(apply_fn), realness)


def generator_schedule(image_size: int, config: GeneratorConfig) -> list[tuple[int, int]]:
    """``(size, steps)`` of every level of a generator's training, coarsest first: ``steps`` at the
    coarsest size, ``refine_steps`` at each doubling up to ``image_size`` (the sizes of direct
    mode's :func:`~augment.gantk.multiscale.level_sizes`). Each finer network is the coarser one
    with one more :func:`~augment.ntk.stax.UpsampleConv` before its output layer
    (:func:`grown_parameters`); where two levels' networks do not differ so (an odd size, a
    ``base_channels`` too wide for the coarse level), training is one level at ``image_size``."""
    sizes = level_sizes(image_size, config.coarse_size, config.discriminator.min_size)
    if any(not grows_into(a, b, config.base_channels) for a, b in itertools.pairwise(sizes)):
        sizes = [image_size]
    steps = sized(config.steps, "steps")
    return [(size, steps if k == 0 else config.refine_steps) for k, size in enumerate(sizes)]


def _run_level_chunk(
    compiled: CompiledGenerator, real: Array, gram: Array, steps: int, state, num_steps: int
):
    """``num_steps`` steps of a level of ``steps`` steps (``run_steps``'s ``run_chunk``)."""
    return compiled.run_chunk(state, real, gram, steps, num_steps)


def train_generator(
    real_images,
    config: GeneratorConfig,
    key: Array,
    progress: Callable[[int, int, float], None] | None = None,
    *,
    resume: GeneratorSnapshot | None = None,
    checkpoint: Callable[[GeneratorSnapshot], None] | None = None,
) -> TrainedGenerator:
    """Train one generator on the real images of one class, coarse to fine above ``coarse_size``.

    Level k of :func:`generator_schedule` trains the network for its size on the real images
    resized to it (:func:`~augment.gantk.multiscale.resize`), with its own discriminator, real
    side and optimiser (its learning-rate schedule over the level's steps), keyed by ``key`` at
    level 0 and ``fold_in(key, LEVEL_STREAM + k)`` after; a finer level starts from the coarser
    one's parameters grown by :func:`grown_parameters`. The loss history runs over all levels.

    Args:
      real_images: (n, S, S, C) in [0, 1].
      config: the training settings.
      key: a JAX PRNG key (initialisation, noise and real batches all derive from it).
      progress: ``progress(work_done, work, last_loss)`` after every chunk, in steps of the
        coarsest level (:func:`~augment.gantk.multiscale.level_weights`).
      resume / checkpoint: as in :func:`augment.gantk.synthesize`: a resumed run equals an
        uninterrupted one.
    """
    real_all = np.asarray(real_images, np.float32)
    if real_all.ndim != 4 or real_all.shape[1] != real_all.shape[2] or real_all.shape[0] < 1:
        raise AugmentError(f"real images must be (n, S, S, C) with n >= 1, got shape {real_all.shape}")
    size, width, channels = (int(d) for d in real_all.shape[1:])
    config = at_size(config, size)  # the library's entry: a configuration given unresolved
    assert config.augment_real_to is not None  # resolved
    levels = generator_schedule(size, config)
    weights = level_weights(levels)
    work = level_work(levels)
    history: list[float] = [] if resume is None else list(resume.history)
    first_level = 0 if resume is None else resume.level
    if not 0 <= first_level < len(levels):
        raise AugmentError(f"the checkpoint's generator level {first_level} is not one of this training's")
    params = None
    for level, (level_size, steps) in enumerate(levels):
        if level < first_level:
            continue
        level_key = key if level == 0 else jax.random.fold_in(key, LEVEL_STREAM + level)
        level_shape = (level_size, level_size, channels)
        level_config = dataclasses.replace(config, steps=steps)
        compiled = compiled_generator(dataclasses.replace(level_config, steps=1), level_shape)
        real = discriminator_real_set(
            level_key,
            jnp.asarray(resize(real_all, level_size)),
            config.augment_real_to,
            config.augment_rotation,
            config.augment_shift,
        )
        gram = compiled.gram(real)
        state = compiled.init_state(level_key)
        if params is not None:  # a finer level: the coarser network, grown
            grown = grown_parameters(params, levels[level - 1][0], level_size, config.base_channels)
            state = state._replace(
                params=grown, opt_state=generator_optimizer(level_config, steps).init(grown)
            )
        if resume is not None and level == first_level:
            state = restore(state, resume.state, "generator architecture or size")
        before = sum(s for _, s in levels[:level])  # steps of the finished levels
        work_before = level_work(levels, level)

        def after_chunk(state, history, level=level, before=before, work_before=work_before):
            if checkpoint is not None:
                leaves = [np.asarray(v) for v in jax.tree_util.tree_leaves(state)]
                checkpoint(GeneratorSnapshot(leaves, list(history), level))
            if progress is not None:
                progress(work_before + (len(history) - before) * weights[level], work, history[-1])

        run_chunk = functools.partial(_run_level_chunk, compiled, real, gram, steps)
        state = run_steps(
            run_chunk, state, history, before + steps, config.chunk_steps, "the generator", after_chunk
        )
        params = state.params
    return TrainedGenerator(
        jax.tree_util.tree_map(np.asarray, params),
        (size, width, channels),
        config,
        np.asarray(history, np.float32),
    )
