"""Safe primitives: the symmetric matrix exponential and its derivative, the ReLU kernel's angle."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.scipy.linalg import expm

from augment.ntk.linalg import _rsqrt_float32, arc_cosine, psd_expm


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


def test_rsqrt_float32_is_accurate_to_float32_rounding():
    x = np.geomspace(1e-30, 1e30, 200_001).astype(np.float32)
    got = np.asarray(jax.jit(_rsqrt_float32)(jnp.asarray(x)), np.float64)
    relative = np.abs(got * np.sqrt(x.astype(np.float64)) - 1.0)
    assert relative.max() < 3e-7  # about two float32 ulps


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_arc_cosine_against_numpy_in_float64(dtype):
    rho = np.concatenate(
        [np.linspace(-1, 1, 400_001), 1 - np.geomspace(1e-7, 1e-1, 200), -1 + np.geomspace(1e-7, 1e-1, 200)]
    )
    with jax.enable_x64(dtype == "float64"):
        x = jnp.asarray(rho, dtype)
        theta, sine, inv_sine = jax.jit(arc_cosine)(x)
        assert theta.dtype == sine.dtype == inv_sine.dtype == jnp.dtype(dtype)
        exact = np.asarray(x, np.float64)  # the input as it is stored
    theta, sine, inv_sine = (np.asarray(a, np.float64) for a in (theta, sine, inv_sine))
    tolerance = 6e-7 if dtype == "float32" else 1e-13  # a few ulps of pi
    assert np.max(np.abs(theta - np.arccos(exact))) < tolerance
    assert np.max(np.abs(sine - np.sqrt(1 - exact**2))) < tolerance
    inside = np.abs(exact) < 1
    np.testing.assert_allclose(
        inv_sine[inside] * sine[inside], 1.0, rtol=1e-6 if dtype == "float32" else 1e-14
    )
    assert np.all(inv_sine[~inside] == 0) and np.all(sine[~inside] == 0)
    np.testing.assert_array_equal(theta[exact == 1], 0.0)
    np.testing.assert_allclose(theta[exact == -1], np.pi, rtol=1e-7)
