"""The GA-NTK discriminator: the closed-form mean prediction of an NTK Gaussian process.

Training an infinitely wide network by gradient descent on MSE for time ``t`` with learning rate
``eta`` gives, on its own 2n training points (docs/design.md, "The method"),

    D(X u Z; t) = (I - exp(-eta * t * K / N)) y,        N = y.size,

with ``K`` the (2n, 2n) NTK Gram matrix of the real batch X followed by the synthetic batch Z, and
``y`` one-hot labels (real = class 1, synthetic = class 0). ``K`` is symmetrised and regularised by
``diag_reg * mean(diag K)`` on the diagonal (the convention of neural-tangents'
``predict.gradient_descent_mse``), and ``exp`` is computed through an eigendecomposition with
negative round-off eigenvalues clamped to 0 (:func:`augment.ntk.linalg.psd_expm`).

Synthesis minimises a loss of ``D`` against the target "real" for every point.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp

from augment.gantk.losses import LOSSES, REAL, SYNTHETIC
from augment.ntk.blocks import self_kernel_by_halves, symmetric_from_blocks
from augment.ntk.linalg import psd_expm

Array = jax.Array
SELF_KERNEL_HALVINGS = 1
"""Recursive halvings of the synthetic self-kernel (:func:`self_kernel_by_halves`): one halving
evaluates 3/4 of the pairs. Why not more: docs/design.md, "The kernel engine"."""


def real_batch(key: Array, real_all: Array, gram_all: Array, n_real: int) -> tuple[Array, Array]:
    """A random real batch of ``n_real`` images and its NTK block, gathered from the whole real set.

    ``real_all`` is (N, S, S, C) and ``gram_all`` its (N, N) NTK, computed once; with
    ``n_real >= N`` the whole set is the batch. Returns (n, S, S, C) images and their (n, n) block.
    """
    total = real_all.shape[0]
    if n_real >= total:
        return real_all, gram_all
    index = jax.random.choice(key, total, (n_real,), replace=False)
    return real_all[index], gram_all[index][:, index]


def ntk_gp_train_prediction(k: Array, y: Array, *, eta: float, t: float, diag_reg: float) -> Array:
    """Mean prediction of the NTK-GP on its training points after training time ``t``.

    Args:
      k: (m, m) NTK Gram matrix of the training points.
      y: (m, classes) targets.
      eta: learning rate of the (continuous-time) gradient descent.
      t: training time, in steps of ``eta``.
      diag_reg: diagonal regulariser, relative to the mean of ``diag(k)``.

    Returns:
      (m, classes): ``(I - exp(-eta t K_reg / y.size)) y``; only the symmetric part of ``k`` is
      used (:func:`psd_expm` symmetrises it).
    """
    m = k.shape[0]
    k = k + diag_reg * (jnp.trace(k) / m) * jnp.eye(m, dtype=k.dtype)
    decay = psd_expm(k, eta * t / y.size)
    return y - decay @ y


def one_hot_labels(n_real: int, n_synthetic: int, dtype: jnp.dtype = jnp.float32) -> Array:
    """(n_real + n_synthetic, 2): real rows are class 1, synthetic rows class 0."""
    labels = jnp.concatenate([jnp.full((n_real,), REAL), jnp.full((n_synthetic,), SYNTHETIC)])
    return jax.nn.one_hot(labels, 2, dtype=dtype)


def ga_ntk_loss(
    kernel_fn: Callable,
    synthetic: Array,
    real: Array,
    k_real_real: Array,
    *,
    loss: str,
    eta: float,
    t: float,
    diag_reg: float,
    similarity_weight: float = 0.0,
) -> tuple[Array, Array]:
    """The single-level GA-NTK objective for one (real batch, synthetic batch) problem.

    Args:
      kernel_fn: a ``stax`` kernel function of the discriminator architecture.
      synthetic: (n_s, H, W, C) synthetic images (the quantity being optimised).
      real: (n_r, H, W, C) real images.
      k_real_real: (n_r, n_r) NTK of the real batch; it does not depend on ``synthetic`` and is
        computed once by the caller.
      loss: a name in :data:`~augment.gantk.losses.LOSSES`: "origin" (cross-entropy), "mse", or
        "similarity" (cross-entropy plus ``similarity_weight`` times the mean of each synthetic
        image's largest cosine similarity to the real batch).

    Returns:
      ``(loss value, realness)``: realness (n_s,) is D's prediction for the "real" class at each
      synthetic image (about 0 = recognised as synthetic, about 1 = indistinguishable from real).
    """
    n_real, n_synthetic = real.shape[0], synthetic.shape[0]
    k = symmetric_from_blocks(
        k_real_real,
        kernel_fn(real, synthetic, "ntk"),
        self_kernel_by_halves(kernel_fn, synthetic, "ntk", SELF_KERNEL_HALVINGS),
    )
    y = one_hot_labels(n_real, n_synthetic, synthetic.dtype)
    prediction = ntk_gp_train_prediction(k, y, eta=eta, t=t, diag_reg=diag_reg)
    value = LOSSES[loss](prediction, synthetic, real, similarity_weight)
    return value, prediction[n_real:, REAL]
