"""Kernel engine: Monte-Carlo agreement with wide finite networks, identities and gradients."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from augment.errors import AugmentError
from augment.ntk import stax

W_STD, B_STD = 1.2089251424302498, 0.31622776601683794


def small_convnet(width: int, out_dim: int = 1):
    return stax.serial(
        stax.Conv(width, (3, 3), (2, 2), "SAME", W_std=W_STD, b_std=B_STD),
        stax.Relu(),
        stax.Conv(width, (2, 2), (1, 1), "VALID", W_std=W_STD, b_std=B_STD),
        stax.Erf(),
        stax.Flatten(),
        stax.Dense(out_dim, W_std=W_STD, b_std=B_STD),
    )


def images(key, n, h=6, w=5, c=2):
    return jax.random.uniform(key, (n, h, w, c))


def relative_frobenius(a, b):
    return float(jnp.linalg.norm(a - b) / jnp.linalg.norm(b))


@pytest.mark.slow
def test_monte_carlo_nngp_of_wide_networks():
    """Outputs of width-1024 networks at initialisation: covariance over 64 draws x 256 outputs."""
    init_fn, apply_fn, kernel_fn = small_convnet(width=1024, out_dim=256)
    x = images(jax.random.PRNGKey(0), 4)

    def outputs(key):
        _, params = init_fn(key, x.shape)
        return apply_fn(params, x)  # (4, 256)

    samples = jax.lax.map(outputs, jax.random.split(jax.random.PRNGKey(1), 64))
    empirical = jnp.einsum("dik,djk->ij", samples, samples) / (64 * 256)
    assert relative_frobenius(empirical, kernel_fn(x, None, "nngp")) < 0.03


@pytest.mark.slow
def test_monte_carlo_ntk_of_wide_networks():
    """Empirical NTK J J^T of width-512 networks, averaged over 32 initialisations."""
    init_fn, apply_fn, kernel_fn = small_convnet(width=512)
    x = images(jax.random.PRNGKey(2), 4)

    def empirical_ntk(key):
        _, params = init_fn(key, x.shape)
        jacobian = jax.jacrev(lambda p: apply_fn(p, x)[:, 0])(params)
        flat = jnp.concatenate([j.reshape(x.shape[0], -1) for j in jax.tree.leaves(jacobian)], 1)
        return flat @ flat.T

    empirical = jnp.mean(jax.lax.map(empirical_ntk, jax.random.split(jax.random.PRNGKey(3), 32)), 0)
    assert relative_frobenius(empirical, kernel_fn(x, None, "ntk")) < 0.03


def test_finite_network_shapes():
    init_fn, apply_fn, _ = small_convnet(width=7, out_dim=3)
    out_shape, params = init_fn(jax.random.PRNGKey(0), (2, 6, 5, 2))
    assert out_shape == (2, 3)
    assert apply_fn(params, images(jax.random.PRNGKey(1), 2)).shape == (2, 3)


@pytest.mark.parametrize("get", ["nngp", "ntk"])
def test_kernels_are_symmetric_and_positive_semidefinite(get):
    _, _, kernel_fn = small_convnet(width=1)
    x = images(jax.random.PRNGKey(4), 12)
    kernel = jax.jit(lambda a, b: kernel_fn(a, b, get))
    self_kernel = jax.jit(lambda a: kernel_fn(a, None, get))
    with jax.enable_x64(True):
        k = self_kernel(x.astype(jnp.float64))
        np.testing.assert_array_equal(k, k.T)
        assert jnp.linalg.eigvalsh(k).min() > -1e-12 * jnp.trace(k)
    cross = kernel(x[:5], x[5:])
    np.testing.assert_allclose(kernel(x[5:], x[:5]), cross.T, rtol=1e-6)
    # the cross kernel is the corresponding block of the self kernel
    np.testing.assert_allclose(cross, self_kernel(x)[:5, 5:], rtol=1e-5)


def test_input_gradients_match_finite_differences():
    _, _, kernel_fn = small_convnet(width=1)
    with jax.enable_x64(True):
        x1 = images(jax.random.PRNGKey(5), 3).astype(jnp.float64)
        x2 = images(jax.random.PRNGKey(6), 2).astype(jnp.float64)
        weights = jax.random.normal(jax.random.PRNGKey(7), (5, 5))

        def scalar(x):
            # both the self block (with its diagonal) and the cross block depend on x
            return jnp.sum(weights[:3, :3] * kernel_fn(x, None, "ntk")) + jnp.sum(
                weights[:3, 3:] * kernel_fn(x, x2, "ntk")
            )

        grad = jax.jit(jax.grad(scalar))(x1)
        direction = jax.random.normal(jax.random.PRNGKey(8), x1.shape)
        eps = 1e-5
        value = jax.jit(scalar)
        numeric = (value(x1 + eps * direction) - value(x1 - eps * direction)) / (2 * eps)
        np.testing.assert_allclose(jnp.vdot(grad, direction), numeric, rtol=1e-6)


@pytest.mark.parametrize("layer", [stax.Relu(), stax.LeakyRelu(0.2), stax.Erf()])
def test_gradient_is_finite_where_inputs_coincide(layer):
    """A trap (docs/design.md, "The kernel engine"): sqrt(k11 k22 - k12^2) has an infinite slope at
    x == x'."""
    _, _, kernel_fn = stax.serial(
        stax.Conv(4, (3, 3), padding="SAME", W_std=W_STD), layer, stax.Flatten(), stax.Dense(1)
    )
    x = images(jax.random.PRNGKey(9), 3)
    grad_self_fn = jax.jit(jax.grad(lambda z: jnp.sum(kernel_fn(z, None, "ntk"))))
    grad_self = grad_self_fn(x)
    grad_cross = jax.jit(jax.grad(lambda z: jnp.sum(kernel_fn(z, x, "ntk"))))(x)  # identical pairs
    assert jnp.all(jnp.isfinite(grad_self)) and jnp.all(jnp.isfinite(grad_cross))
    # all-zero images and no bias: k11 = k12 = 0 at every position
    grad_zero = grad_self_fn(jnp.zeros_like(x))
    assert jnp.all(jnp.isfinite(grad_zero))


def test_global_average_pooling_names_the_alternative():
    init_fn, apply_fn, kernel_fn = stax.serial(stax.Conv(3, (3, 3)), stax.GlobalAvgPool())
    x = images(jax.random.PRNGKey(0), 2)
    _, params = init_fn(jax.random.PRNGKey(1), x.shape)
    assert apply_fn(params, x).shape == (2, 3)
    with pytest.raises(AugmentError, match=r"use Flatten\(\) instead"):
        kernel_fn(x)


def test_image_too_small_for_valid_window_is_a_clear_error():
    _, _, kernel_fn = stax.serial(stax.Conv(3, (5, 5), padding="VALID"), stax.Flatten())
    with pytest.raises(AugmentError, match="smaller than a"):
        kernel_fn(jnp.zeros((2, 4, 4, 1)))


def test_spatial_output_asks_for_flatten():
    _, _, kernel_fn = stax.serial(stax.Conv(3, (3, 3), padding="SAME"), stax.Relu())
    with pytest.raises(AugmentError, match="end it with Flatten"):
        kernel_fn(jnp.zeros((2, 4, 4, 1)))


def test_kernel_fn_under_jit_and_float32_by_default():
    _, _, kernel_fn = small_convnet(width=1)
    x1, x2 = images(jax.random.PRNGKey(10), 3), images(jax.random.PRNGKey(11), 2)
    jitted = jax.jit(lambda a, b: kernel_fn(a, b, "ntk"))(x1, x2)
    assert jitted.dtype == jnp.float32
    np.testing.assert_allclose(jitted, kernel_fn(x1, x2, "ntk"), rtol=1e-5)
