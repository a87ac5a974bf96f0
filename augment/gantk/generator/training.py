"""Generator mode (GA-NTKg): a network G(z; theta) maps noise to images; theta is trained with the
same single-level GA-NTK loss as direct mode, on (real batch, G(z) batch).

One generator per class, like one problem set per class in direct mode: the discriminator is a
per-class GA-NTK problem, and independent generators let a lab add a class without retraining the
others (and, later, train classes on different devices). One class-conditional generator for all
classes trained faster but gained less on the digits protocol (docs/design.md, "The method").

The network is :mod:`augment.gantk.generator.network`'s, its settings
:class:`~augment.gantk.generator.config.GeneratorConfig`; this module trains it and
:mod:`augment.gantk.generator.sampling` samples it. All randomness comes from explicit keys.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from augment.errors import AugmentError
from augment.gantk.augmentation import discriminator_real_set
from augment.gantk.discriminator import real_batch
from augment.gantk.generator.config import LEARNING_RATE_SCHEDULES, GeneratorConfig, sized
from augment.gantk.generator.network import generator_network, grown_parameters, grows_into
from augment.gantk.generator.snapshot import GeneratorSnapshot
from augment.gantk.levels import LEVEL_STREAM, level_sizes, level_weights, level_work, resize
from augment.gantk.loop import chunk_of_steps, real_gram, restore, run_steps
from augment.gantk.resolution import at_size

Array = jax.Array


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
    mode's :func:`~augment.gantk.levels.level_sizes`). Each finer network is the coarser one
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


def _level_start(
    compiled: CompiledGenerator,
    level_config: GeneratorConfig,
    key: Array,
    params: Any,
    coarser_size: int,
    level_size: int,
) -> GeneratorState:
    """A level's first state: a new network, or for a finer level (``params`` of the coarser one)
    the coarser network grown to ``level_size``, with a fresh optimiser for the level's steps."""
    state = compiled.init_state(key)
    if params is None:
        return state
    grown = grown_parameters(params, coarser_size, level_size, level_config.base_channels)
    assert level_config.steps is not None  # the level's own
    return state._replace(
        params=grown, opt_state=generator_optimizer(level_config, level_config.steps).init(grown)
    )


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
    resized to it (:func:`~augment.gantk.levels.resize`), with its own discriminator, real
    side and optimiser (its learning-rate schedule over the level's steps), keyed by ``key`` at
    level 0 and ``fold_in(key, LEVEL_STREAM + k)`` after; a finer level starts from the coarser
    one's parameters grown by :func:`grown_parameters`. The loss history runs over all levels.

    Args:
      real_images: (n, S, S, C) in [0, 1].
      config: the training settings.
      key: a JAX PRNG key (initialisation, noise and real batches all derive from it).
      progress: ``progress(work_done, work, last_loss)`` after every chunk, in steps of the
        coarsest level (:func:`~augment.gantk.levels.level_weights`).
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
    poses = (config.augment_real_to, config.augment_rotation, config.augment_shift)  # the real side
    for level, (level_size, steps) in enumerate(levels):
        if level < first_level:
            continue
        level_key = key if level == 0 else jax.random.fold_in(key, LEVEL_STREAM + level)
        level_shape = (level_size, level_size, channels)
        level_config = dataclasses.replace(config, steps=steps)
        compiled = compiled_generator(dataclasses.replace(level_config, steps=1), level_shape)
        real = discriminator_real_set(level_key, jnp.asarray(resize(real_all, level_size)), *poses)
        gram = compiled.gram(real)
        state = _level_start(
            compiled, level_config, level_key, params, levels[max(level - 1, 0)][0], level_size
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
