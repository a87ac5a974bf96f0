"""Numerically safe primitives used by the kernel engine and the GA-NTK discriminator.

- :func:`arc_cosine`: the ReLU kernel's angle ``arccos(rho)`` with ``sin`` and ``1 / sin`` of it
  (``1 / sin`` defined as 0 at ``rho = +-1``, the diagonal ``x1 == x2``, where the plain
  derivatives are infinite and would turn every gradient into NaN), from multiplications and
  additions alone in float32.
- :func:`psd_expm`: ``exp(-c * K)`` for a symmetric ``K`` through its eigendecomposition, with
  negative round-off eigenvalues clamped to 0, and a derivative computed with divided differences
  (Daleckii-Krein) so that equal or nearly equal eigenvalues stay finite and accurate, where the
  derivative of ``eigh`` itself divides by eigenvalue gaps.
"""

from __future__ import annotations

import math
from functools import partial

import jax
import jax.numpy as jnp
from jax import lax

_RSQRT_MAGIC = 0x5F375A86  # Lomont's constant: bit-level first guess of 1 / sqrt(x), within 3.5 %


def _rsqrt_float32(x: jax.Array) -> jax.Array:
    """``1 / sqrt(x)`` for float32 ``x > 0`` from a bit-level first guess and three Newton steps
    (relative error 3.4e-2, 1.8e-3, 4.6e-6, then float32 rounding).

    Only multiplications, additions and an integer shift: XLA's CPU fusion copies such cheap
    operations into every consumer loop, where a ``sqrt``, ``rsqrt`` or division shared by two
    consumers makes it write the intermediate out as a full array and read it back.
    """
    bits = lax.bitcast_convert_type(x, jnp.int32)
    y = lax.bitcast_convert_type(jnp.int32(_RSQRT_MAGIC) - (bits >> 1), jnp.float32)
    for _ in range(3):
        y = y * (1.5 - 0.5 * x * y * y)
    return y


def _arcsin_half(w: jax.Array) -> jax.Array:
    """``arcsin(w)`` for float32 ``w`` in [0, 0.5] (the Cephes ``asinf`` polynomial)."""
    z = w * w
    poly = (((4.2163199048e-2 * z + 2.4181311049e-2) * z + 4.5470025998e-2) * z + 7.4953002686e-2) * z
    return (poly + 1.6666752422e-1) * z * w + w


def arc_cosine(rho: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
    """``(theta, sin(theta), 1 / sin(theta))`` for ``theta = arccos(rho)``, elementwise.

    Args:
      rho: correlations in [-1, 1] (callers clip them; round-off takes them just outside).

    Returns:
      three arrays of ``rho``'s shape: the angle in [0, pi], ``sqrt(1 - rho**2)``, and its
      reciprocal, defined as 0 where ``rho`` is +-1 (the derivative formulas of the ReLU kernel
      multiply it by quantities that vanish there).

    float64 uses ``arccos`` and ``sqrt``. Below float64 everything is multiplications, additions and
    selections (:func:`_rsqrt_float32`, :func:`_arcsin_half`), accurate to a few float32 ulps: the
    ReLU kernel evaluates this on every pair of images at every position, where XLA's CPU
    ``atan2`` is scalar libm and its divisions and square roots break the fused loops apart.
    Nothing differentiates through it: the ReLU kernel's derivative is written out.
    """
    magnitude = jnp.abs(rho)
    one_minus = 1.0 - magnitude
    one_minus_sq = one_minus * (1.0 + magnitude)  # 1 - rho**2 without cancellation
    if rho.dtype == jnp.float64:
        theta = jnp.arccos(rho)
        sine = jnp.sqrt(one_minus_sq)
        inv_sine = jnp.where(sine > 0, 1.0 / jnp.where(sine > 0, sine, 1.0), 0.0)
        return theta, sine, inv_sine
    # arccos(m) = 2 arcsin(sqrt((1 - m) / 2)) above 1/2, pi/2 - arcsin(m) below
    wide = magnitude > 0.5
    half = 0.5 * one_minus
    root_half = half * _rsqrt_float32(jnp.maximum(half, 1e-30))
    arcsin = _arcsin_half(jnp.where(wide, root_half, magnitude))
    theta = jnp.where(wide, 2.0 * arcsin, math.pi / 2 - arcsin)
    theta = jnp.where(rho < 0, math.pi - theta, theta)
    positive = one_minus_sq > 0
    inv_sine = jnp.where(positive, _rsqrt_float32(jnp.maximum(one_minus_sq, 1e-30)), 0.0)
    return theta, one_minus_sq * inv_sine, inv_sine


def _exp_divided_differences(evals: jax.Array, c: float) -> jax.Array:
    """``F[i, j] = (f(l_i) - f(l_j)) / (l_i - l_j)`` for ``f(l) = exp(-c * max(l, 0))``.

    Args:
      evals: (n,) eigenvalues.
      c: the positive scale of the exponent.

    Returns:
      (n, n) matrix; the limit ``f'(l_i)`` where ``l_i == l_j``.

    With ``a' = max(a, 0)``, ``b' = max(b, 0)`` and ``m = min(a', b')`` the difference is written
    ``-exp(-c m) * (-expm1(-c |a' - b'|)) / |a - b|``: no overflow for well separated eigenvalues
    (``c * l`` reaches hundreds here), no cancellation for close ones, and 0 where both are clamped.
    """
    a = evals[:, None]
    b = evals[None, :]
    a_pos, b_pos = jnp.maximum(a, 0.0), jnp.maximum(b, 0.0)
    gap = jnp.abs(a - b)
    has_gap = gap > 0
    quotient = (
        -jnp.exp(-c * jnp.minimum(a_pos, b_pos))
        * -jnp.expm1(-c * jnp.abs(a_pos - b_pos))
        / jnp.where(has_gap, gap, 1.0)
    )
    derivative = jnp.where(a > 0, -c * jnp.exp(-c * a_pos), 0.0)
    return jnp.where(has_gap, quotient, derivative)


@partial(jax.custom_jvp, nondiff_argnums=(1,))
def psd_expm(k: jax.Array, c: float) -> jax.Array:
    """``exp(-c * K)`` for a symmetric positive semi-definite ``K``.

    Args:
      k: (n, n) symmetric matrix. Only its symmetric part is used.
      c: positive scalar (a Python float: it is not differentiated).

    Returns:
      (n, n) symmetric matrix ``V diag(exp(-c * max(l, 0))) V^T`` where ``K = V diag(l) V^T``.
    """
    evals, evecs = jnp.linalg.eigh(0.5 * (k + k.T))
    return (evecs * jnp.exp(-c * jnp.maximum(evals, 0.0))) @ evecs.T


@psd_expm.defjvp
def _psd_expm_jvp(c, primals, tangents):
    (k,), (dk,) = primals, tangents
    evals, evecs = jnp.linalg.eigh(0.5 * (k + k.T))
    out = (evecs * jnp.exp(-c * jnp.maximum(evals, 0.0))) @ evecs.T
    dk_eig = evecs.T @ (0.5 * (dk + dk.T)) @ evecs
    d_out = evecs @ (_exp_divided_differences(evals, c) * dk_eig) @ evecs.T
    return out, d_out
