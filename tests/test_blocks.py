"""Block-wise kernels (symmetric halving) equal the plain kernel_fn."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from augment.gantk.architectures import discriminator
from augment.ntk.blocks import self_kernel_by_halves


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
