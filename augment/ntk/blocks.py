"""Kernels assembled from blocks: the symmetry of a self-kernel.

``kernel_fn(z, None)`` evaluates all n**2 pairs although ``K[i, j] == K[j, i]``. Splitting ``z``
into halves A and B gives ``[[K_AA, K_AB], [K_AB^T, K_BB]]``: ``K_AB`` is computed once, and the
two diagonal blocks are themselves self-kernels, computed together (``vmap``) by the same rule.
With ``levels`` halvings the fraction of pairs evaluated is ``1/2 + 1/2**(levels + 1)``.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp

Array = jax.Array


def self_kernel_by_halves(kernel_fn: Callable, x: Array, get: str = "ntk", levels: int = 2) -> Array:
    """``kernel_fn(x, None, get)`` computed by recursive halving.

    Args:
      kernel_fn: a ``stax`` kernel function.
      x: (n, ...) inputs. Halving stops early where a block size is odd or below 8.
      get: "nngp" or "ntk".
      levels: at most this many halvings.

    Returns:
      (n, n) the self-kernel; its diagonal blocks are exact self-kernels (so the diagonal keeps
      the safe-gradient treatment of ``x2=None``).
    """
    n = x.shape[0]
    if levels <= 0 or n % 2 or n < 8:
        return kernel_fn(x, None, get)
    half = n // 2
    a, b = x[:half], x[half:]
    diagonal = jax.vmap(lambda block: self_kernel_by_halves(kernel_fn, block, get, levels - 1))(
        jnp.stack([a, b])
    )
    return symmetric_from_blocks(diagonal[0], kernel_fn(a, b, get), diagonal[1])


def symmetric_from_blocks(top_left: Array, top_right: Array, bottom_right: Array) -> Array:
    """``[[A, B], [B^T, C]]`` as one (n_a + n_c, n_a + n_c) matrix from A (n_a, n_a), B, C."""
    top = jnp.concatenate([top_left, top_right], axis=1)
    bottom = jnp.concatenate([top_right.T, bottom_right], axis=1)
    return jnp.concatenate([top, bottom], axis=0)
