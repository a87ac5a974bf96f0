"""What direct mode and generator mode share around their steps: the real set's Gram matrix built
in blocks, restoring a state from a snapshot, running steps chunk by chunk, stopping clearly on a
non-finite loss, reporting after each chunk, and the chunk of steps in one ``fori_loop``."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import jax
import jax.numpy as jnp
import numpy as np

from augment.errors import AugmentError

State = TypeVar("State")
GRAM_BLOCK = 128  # rows of the real Gram matrix computed at a time


def real_gram(kernel_fn: Callable[..., jax.Array]) -> Callable[[jax.Array], jax.Array]:
    """``gram(real)``: the (n, n) NTK Gram matrix of a real set (n, S, S, C), computed
    :data:`GRAM_BLOCK` rows at a time to bound memory (whole when n <= GRAM_BLOCK). It does not
    depend on the synthetic images, so each mode computes it once per class."""

    @jax.jit
    def rows(block: jax.Array, real: jax.Array) -> jax.Array:
        return kernel_fn(block, real, "ntk")

    @jax.jit
    def whole(real: jax.Array) -> jax.Array:
        return kernel_fn(real, None, "ntk")

    def gram(real: jax.Array) -> jax.Array:
        n = real.shape[0]
        if n <= GRAM_BLOCK:
            return whole(real)
        return jnp.concatenate(
            [rows(real[i : i + GRAM_BLOCK], real) for i in range(0, n, GRAM_BLOCK)], axis=0
        )

    return gram


def checked_leaves(template: list, leaves: list[np.ndarray], what: str) -> list[np.ndarray]:
    """Saved ``leaves`` in the dtypes of ``template``'s, after checking their count and shapes."""
    if len(template) != len(leaves) or any(
        np.shape(a) != np.shape(b) for a, b in zip(template, leaves, strict=True)
    ):
        raise AugmentError(f"the checkpoint does not match this request ({what} differs)")
    return [np.asarray(v, a.dtype) for a, v in zip(template, leaves, strict=True)]


def restore(fresh: State, leaves: list[np.ndarray], what: str) -> State:
    """``fresh`` with its leaves replaced by the saved ``leaves`` (same order, shapes and dtypes)."""
    template, treedef = jax.tree_util.tree_flatten(fresh)
    return jax.tree_util.tree_unflatten(
        treedef, [jnp.asarray(v) for v in checked_leaves(template, leaves, what)]
    )


def chunk_of_steps(
    step: Callable[..., tuple[State, jax.Array]], chunk_steps: int
) -> Callable[..., tuple[State, jax.Array]]:
    """``run_chunk(state, *inputs, num_steps) -> (state, (chunk_steps,) losses)``: up to
    ``chunk_steps`` calls of ``step(state, *inputs) -> (state, loss)`` in one ``fori_loop``
    (``inputs``: the real set and its Gram matrix, then whatever else a mode's step reads).
    ``num_steps`` is traced, so a shorter chunk does not recompile; losses past it are NaN."""

    def run_chunk(state, *inputs_and_num_steps):
        *inputs, num_steps = inputs_and_num_steps
        history = jnp.full((chunk_steps,), jnp.nan, jnp.float32)

        def body(i, carry):
            state, history = carry
            state, loss = step(state, *inputs)
            return state, history.at[i].set(loss)

        return jax.lax.fori_loop(0, num_steps, body, (state, history))

    return run_chunk


def check_finite(losses: np.ndarray, steps_before: int, where: str) -> None:
    """A clear error if a chunk's ``losses`` hold a NaN or infinity (``where``: "problem 2")."""
    if not np.all(np.isfinite(losses)):
        bad = steps_before + int(np.argmin(np.isfinite(losses)))
        raise AugmentError(
            f"the GA-NTK loss became {losses[~np.isfinite(losses)][0]} at step {bad + 1} of {where}; "
            "lower the learning rate or raise diag_reg"
        )


def run_steps(
    run_chunk: Callable[[State, int], tuple[State, jax.Array]],
    state: State,
    history: list[float],
    steps: int,
    chunk_steps: int,
    where: str,
    after_chunk: Callable[[State, list[float]], None],
) -> State:
    """Advance ``state`` until ``history`` holds ``steps`` losses, ``chunk_steps`` at a time.

    ``run_chunk(state, n)`` runs n steps and returns (state, losses); ``where`` names what is
    trained for the error message; ``after_chunk(state, history)`` is called after every chunk
    whose losses are all finite (so a NaN leaves the last good state with the caller).
    """
    while len(history) < steps:
        num_steps = min(chunk_steps, steps - len(history))
        state, chunk_losses = run_chunk(state, num_steps)
        losses = np.asarray(chunk_losses[:num_steps])
        check_finite(losses, len(history), where)
        history.extend(losses.tolist())
        after_chunk(state, history)
    return state
