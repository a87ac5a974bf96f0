"""Safe primitives: the symmetric matrix exponential and its derivative, safe sqrt/arctan2."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.scipy.linalg import expm

from augment.ntk.linalg import psd_expm, safe_arctan2, safe_sqrt


def random_psd(key, n, rank=None):
    a = jax.random.normal(key, (n, rank or n))
    return a @ a.T / n


def test_psd_expm_matches_scipy_expm():
    with jax.enable_x64(True):
        k = random_psd(jax.random.PRNGKey(0), 6)
        np.testing.assert_allclose(psd_expm(k, 0.7), expm(-0.7 * k), rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize(
    "matrix",
    ["generic", "repeated_eigenvalues", "rank_deficient"],
)
def test_psd_expm_derivative_matches_finite_differences(matrix):
    with jax.enable_x64(True):
        key_k, key_dir, key_w = jax.random.split(jax.random.PRNGKey(1), 3)
        if matrix == "generic":
            k = random_psd(key_k, 5)
        elif matrix == "repeated_eigenvalues":
            k = jnp.diag(jnp.array([2.0, 2.0, 2.0, 0.5, 0.5]))  # eigh's own gradient: 0/0
        else:
            # three eigenvalues clustered at the regulariser, as K + diag_reg * mean(diag K) * I
            # in GA-NTK (an exact 0 would sit on the kink of exp(-c max(l, 0)))
            k = random_psd(key_k, 5, rank=2) + 1e-5 * jnp.eye(5)
        weights = jax.random.normal(key_w, (5, 5))
        direction = jax.random.normal(key_dir, (5, 5))
        direction = direction + direction.T

        def scalar(m):
            return jnp.sum(weights * psd_expm(m, 1.3))

        grad = jax.grad(scalar)(k)
        assert jnp.all(jnp.isfinite(grad))
        eps = 1e-6
        numeric = (scalar(k + eps * direction) - scalar(k - eps * direction)) / (2 * eps)
        np.testing.assert_allclose(jnp.vdot(grad, direction), numeric, rtol=1e-6, atol=1e-9)
        # and against the exact matrix exponential, differentiated by JAX through its Pade form
        reference = jax.grad(lambda m: jnp.sum(weights * expm(-1.3 * m)))(k)
        np.testing.assert_allclose(grad + grad.T, reference + reference.T, rtol=1e-7, atol=1e-10)


def test_psd_expm_derivative_float32_is_finite_for_degenerate_spectrum():
    k = jnp.eye(8, dtype=jnp.float32)
    grad = jax.grad(lambda m: jnp.sum(psd_expm(m, 5.0) ** 2))(k)
    assert jnp.all(jnp.isfinite(grad))


def test_safe_sqrt_value_and_derivative():
    x = jnp.array([-1.0, 0.0, 4.0])
    np.testing.assert_array_equal(safe_sqrt(x), [0.0, 0.0, 2.0])
    np.testing.assert_array_equal(jax.vmap(jax.grad(safe_sqrt))(x), [0.0, 0.0, 0.25])


def test_safe_arctan2_value_and_derivative():
    np.testing.assert_allclose(safe_arctan2(1.0, 1.0), np.pi / 4)
    assert jax.grad(safe_arctan2, argnums=(0, 1))(0.0, 0.0) == (0.0, 0.0)
    dy, dx = jax.grad(safe_arctan2, argnums=(0, 1))(1.0, 2.0)
    np.testing.assert_allclose([dy, dx], [2 / 5, -1 / 5], rtol=1e-6)


def test_psd_expm_derivative_float32_with_a_wide_spectrum():
    """c * eigenvalue in the hundreds, as in GA-NTK: sinh/exp forms overflow float32 there."""
    evals = jnp.array([0.05, 0.06, 1.0, 16.0, 16.0 + 1e-6], jnp.float32)
    q, _ = jnp.linalg.qr(jax.random.normal(jax.random.PRNGKey(3), (5, 5)))
    k = (q * evals) @ q.T
    grad = jax.grad(lambda m: jnp.sum(psd_expm(m, 26.0) @ jnp.ones(5)))(k)
    assert jnp.all(jnp.isfinite(grad))
    with jax.enable_x64(True):
        k64 = k.astype(jnp.float64)
        grad64 = jax.grad(lambda m: jnp.sum(psd_expm(m, 26.0) @ jnp.ones(5)))(k64)
    np.testing.assert_allclose(grad, grad64, rtol=1e-3, atol=1e-6)


def test_vectorised_arctan2_is_accurate_in_float32_over_all_quadrants():
    grid = np.concatenate([-np.logspace(-6, 3, 200), [0.0], np.logspace(-6, 3, 200)])
    y, x = np.meshgrid(grid, grid)
    got = np.asarray(safe_arctan2(jnp.asarray(y, jnp.float32), jnp.asarray(x, jnp.float32)))
    expected = np.arctan2(y.astype(np.float32).astype(np.float64), x.astype(np.float32).astype(np.float64))
    assert np.max(np.abs(got - expected)) < 5e-7  # a few float32 ulps of pi
