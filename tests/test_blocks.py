"""Block-wise kernels (symmetric halving, cache-sized tiles) equal the plain kernel_fn."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from augment.gantk.architectures import discriminator
from augment.ntk.blocks import cross_kernel_by_tiles, self_kernel_by_halves


@pytest.fixture(scope="module")
def kernel_fn():
    return discriminator("paper-gray", 8)[2]


@pytest.mark.parametrize(
    "n, levels", [(32, 2), (24, 3), (6, 2)], ids=["two-halvings", "stops-at-odd", "too-small"]
)
def test_self_kernel_by_halves_equals_the_plain_self_kernel(kernel_fn, n, levels):
    x = jax.random.uniform(jax.random.PRNGKey(0), (n, 8, 8, 1))
    blocked = jax.jit(lambda z: self_kernel_by_halves(kernel_fn, z, "ntk", levels))(x)
    plain = jax.jit(lambda z: kernel_fn(z, None, "ntk"))(x)
    np.testing.assert_allclose(blocked, plain, rtol=1e-5)
    np.testing.assert_array_equal(blocked, blocked.T)
    # the gradient keeps the safe diagonal: finite everywhere
    grad = jax.jit(jax.grad(lambda z: jnp.sum(self_kernel_by_halves(kernel_fn, z, "ntk", levels))))(x)
    assert jnp.all(jnp.isfinite(grad))


@pytest.mark.parametrize("n1, n2, tile", [(16, 24, 8), (16, 20, 8)], ids=["tiled", "not-a-multiple"])
def test_cross_kernel_by_tiles_equals_the_plain_cross_kernel(kernel_fn, n1, n2, tile):
    x1 = jax.random.uniform(jax.random.PRNGKey(1), (n1, 8, 8, 1))
    x2 = jax.random.uniform(jax.random.PRNGKey(2), (n2, 8, 8, 1))
    tiled = jax.jit(lambda a, b: cross_kernel_by_tiles(kernel_fn, a, b, "ntk", tile))(x1, x2)
    plain = jax.jit(lambda a, b: kernel_fn(a, b, "ntk"))(x1, x2)
    assert tiled.shape == (n1, n2)
    np.testing.assert_allclose(tiled, plain, rtol=1e-5)
