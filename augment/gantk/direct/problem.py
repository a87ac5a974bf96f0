"""One direct-mode problem compiled: its state, its step (the GA-NTK loss's gradient, the
optimiser's update, the pixel bounds and the grey constraint), chunks of steps on lanes spread
over devices, and what XLA reports a chunk needs. :mod:`augment.gantk.direct.synthesis` schedules
the problems.

Per step: ``loss, grad = value_and_grad(ga_ntk_loss)(Z)``; the optimiser (optax Adam, or the
paper's plain gradient descent) proposes an update; optional Gaussian noise of standard deviation
``noise / (1 + step)**0.55`` is added; pixels are clipped to the range the real side spans at
each pixel (``pixel_envelope``, :func:`pixel_bounds`; [0, 1] without it), as the starting images
are. Steps run inside one compiled ``fori_loop`` per chunk of at most ``chunk_steps`` steps, with a
traced trip count, so no step, chunk or problem recompiles.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from augment.gantk.channels import keep_grey
from augment.gantk.config import DiscriminatorConfig
from augment.gantk.direct.config import SynthesisConfig
from augment.gantk.discriminator import real_batch
from augment.gantk.loop import chunk_of_steps, real_gram
from augment.gantk.placement import LANE_AXIS, Placement

Array = jax.Array
UNBATCHED_SINGLE_LANE = True
"""Run a device's single lane (every CPU run) without ``vmap``: it saves the batching
(docs/design.md, "Devices and memory"). ``tests/test_scale.py`` runs both paths and checks they agree, so
either can be dropped without changing results."""


class ProblemState(NamedTuple):
    """State of one synthetic batch between steps."""

    synthetic: Array  # (n_s, H, W, C) in [0, 1]
    opt_state: optax.OptState
    key: Array  # PRNG key for real-batch sampling and noise
    step: Array  # () int32, steps taken


class CompiledProblem(NamedTuple):
    """The jitted pieces of one configuration (see :func:`compiled_problem`)."""

    init_state: Callable  # (key, n_synthetic, image_shape) -> ProblemState
    # mesh -> jitted (states, real_all, gram_all, low, high, grey, (lanes,) num_steps)
    #   -> (states, (lanes, chunk_steps) losses); low and high: pixel_bounds, (S, S, C) each;
    #   grey: () bool, the class is grey in colour (augment.gantk.channels)
    run_lanes: Callable
    evaluate: Callable  # (synthetic, real_all, gram_all, key) -> (loss, (n_s,) realness)
    gram: Callable  # (real_all,) -> (n, n) NTK of the real set, GRAM_BLOCK rows at a time


def pixel_bounds(config: SynthesisConfig, real_all: Array) -> tuple[Array, Array]:
    """The lowest and highest value each synthetic pixel may take, two (S, S, C) arrays: with
    ``pixel_envelope`` the range the discriminator's real side (n, S, S, C) spans at that pixel,
    so a pixel that is dark in every real image stays dark; else 0 and 1 everywhere."""
    if config.pixel_envelope:
        return jnp.min(real_all, axis=0), jnp.max(real_all, axis=0)
    shape = real_all.shape[1:]
    return jnp.zeros(shape, jnp.float32), jnp.ones(shape, jnp.float32)


def _optimizer(config: SynthesisConfig) -> optax.GradientTransformation:
    if config.optimizer == "adam":
        return optax.adam(config.learning_rate)
    return optax.sgd(config.learning_rate)


@functools.lru_cache(maxsize=16)
def compiled_problem(config: SynthesisConfig, image_size: int, channels: int = 1) -> CompiledProblem:
    """The jitted pieces for one configuration and working size, shared by every problem."""
    kernel_fn = config.discriminator.kernel_fn(image_size, channels)
    loss_fn = config.discriminator.loss_fn(kernel_fn)
    real_batch_size = config.discriminator.real_batch_size
    optimizer = _optimizer(config)

    value_and_grad = jax.value_and_grad(loss_fn, has_aux=True)

    def step(state: ProblemState, real_all, gram_all, low, high, grey):
        key, batch_key, noise_key = jax.random.split(state.key, 3)
        real, gram = real_batch(batch_key, real_all, gram_all, real_batch_size)
        (loss, _), grad = value_and_grad(state.synthetic, real, gram)
        updates, opt_state = optimizer.update(grad, state.opt_state, state.synthetic)
        synthetic = optax.apply_updates(state.synthetic, updates)
        if config.noise > 0:
            scale = config.noise / (1.0 + state.step.astype(synthetic.dtype)) ** 0.55
            synthetic = synthetic + scale * jax.random.normal(noise_key, synthetic.shape, synthetic.dtype)
        synthetic = jnp.clip(keep_grey(synthetic, grey), low, high)
        return ProblemState(synthetic, opt_state, key, state.step + 1), loss

    def init_state(key, n_synthetic, image_shape):
        init_key, state_key = jax.random.split(key)
        synthetic = jax.random.uniform(init_key, (n_synthetic, *image_shape), jnp.float32)
        return ProblemState(synthetic, optimizer.init(synthetic), state_key, jnp.zeros((), jnp.int32))

    run_chunk = chunk_of_steps(step, config.chunk_steps)

    @jax.jit
    def evaluate(synthetic, real_all, gram_all, key):
        real, gram = real_batch(key, real_all, gram_all, real_batch_size)
        return loss_fn(synthetic, real, gram)

    gram = real_gram(kernel_fn)

    @functools.lru_cache(maxsize=8)
    def run_lanes(mesh: jax.sharding.Mesh) -> Callable:
        """Problems stacked along a leading lane axis, each with its own step count (0 leaves a
        lane as it is), the lanes split over ``mesh`` (see placement.py) with ``shard_map``.

        A device's share of one lane runs unbatched (:data:`UNBATCHED_SINGLE_LANE`). ``shard_map``
        runs with ``check_vma=False``: ``local`` mixes per-lane values with the replicated real
        set and Gram matrix, which JAX's varying-manual-axes check would ask to mark by hand; each
        lane's result depends only on its own inputs, so nothing needs the check.
        """

        def local(states, real_all, gram_all, low, high, grey, num_steps):
            if num_steps.shape[0] == 1 and UNBATCHED_SINGLE_LANE:
                state = jax.tree_util.tree_map(lambda v: v[0], states)
                state, losses = run_chunk(state, real_all, gram_all, low, high, grey, num_steps[0])
                return jax.tree_util.tree_map(lambda v: v[None], (state, losses))
            return jax.vmap(run_chunk, in_axes=(0, None, None, None, None, None, 0))(
                states, real_all, gram_all, low, high, grey, num_steps
            )

        lanes, whole = jax.sharding.PartitionSpec(LANE_AXIS), jax.sharding.PartitionSpec()
        return jax.jit(
            jax.shard_map(
                local,
                mesh=mesh,
                in_specs=(lanes, whole, whole, whole, whole, whole, lanes),
                out_specs=(lanes, lanes),
                check_vma=False,
            )
        )

    return CompiledProblem(jax.jit(init_state, static_argnums=(1, 2)), run_lanes, evaluate, gram)


def xla_step_bytes(
    architecture: str, image_shape: tuple[int, int, int], n_real: int, n_synthetic: int
) -> int:
    """The temporary buffers XLA reports for one problem's compiled chunk of steps (bytes), on
    one device: what the memory model (:mod:`augment.gantk.memory`) estimates. Compiles, runs
    nothing.

    Args:
      architecture: a discriminator architecture name.
      image_shape: (S, S, C) working size.
      n_real, n_synthetic: the real and synthetic batch of the problem.
    """
    config = SynthesisConfig(
        discriminator=DiscriminatorConfig(architecture=architecture, real_batch_size=n_real),
        steps=1,
        batch_size=n_synthetic,
        augment_real_to=0,
    )
    compiled = compiled_problem(config, image_shape[0], image_shape[-1])
    state = compiled.init_state(jax.random.PRNGKey(0), n_synthetic, image_shape)
    lanes = jax.tree_util.tree_map(lambda leaf: leaf[None], state)
    real, gram = np.zeros((n_real, *image_shape), np.float32), np.eye(n_real, dtype=np.float32)
    low, high = np.zeros(image_shape, np.float32), np.ones(image_shape, np.float32)
    run_lanes = compiled.run_lanes(Placement.single().mesh)
    lowered = run_lanes.lower(lanes, real, gram, low, high, np.asarray(False), np.ones(1, np.int32))
    return int(lowered.compile().memory_analysis().temp_size_in_bytes)
