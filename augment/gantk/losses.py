"""GA-NTK losses behind one registry: :data:`LOSSES`.

A loss maps the discriminator's prediction on the real batch followed by the synthetic batch to a
scalar that synthesis minimises; every loss targets "real" for every point. To add one, write
``loss(prediction, synthetic, real, similarity_weight) -> scalar`` and register it
(``docs/extending.md``).
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp

from augment.registry import Registry

Array = jax.Array
REAL, SYNTHETIC = 1, 0

LossFn = Callable[[Array, Array, Array, float], Array]
"""``loss(prediction (n_r + n_s, 2), synthetic (n_s, H, W, C), real (n_r, H, W, C), similarity_weight)``
-> scalar."""


def origin_loss(prediction: Array) -> Array:
    """Cross-entropy of ``softmax(D)`` against "real", averaged over all points."""
    return -jnp.mean(jax.nn.log_softmax(prediction, axis=-1)[:, REAL])


def mse_loss(prediction: Array) -> Array:
    """Mean squared distance of ``D`` to the one-hot "real" target."""
    target = jax.nn.one_hot(jnp.full(prediction.shape[:1], REAL), 2, dtype=prediction.dtype)
    return jnp.mean((prediction - target) ** 2)


def max_cosine_similarity(synthetic: Array, real: Array) -> Array:
    """(n_s,): each synthetic image's largest cosine similarity to any real image (flattened)."""
    s = synthetic.reshape(synthetic.shape[0], -1)
    r = real.reshape(real.shape[0], -1)
    s = s * jax.lax.rsqrt(jnp.sum(s * s, axis=1, keepdims=True) + 1e-12)
    r = r * jax.lax.rsqrt(jnp.sum(r * r, axis=1, keepdims=True) + 1e-12)
    return jnp.max(s @ r.T, axis=1)


def similarity_loss(prediction: Array, synthetic: Array, real: Array, similarity_weight: float) -> Array:
    """Cross-entropy plus ``similarity_weight`` times the mean of each synthetic image's largest
    cosine similarity to the real batch."""
    return origin_loss(prediction) + similarity_weight * jnp.mean(max_cosine_similarity(synthetic, real))


LOSSES: Registry[LossFn] = Registry("loss", parameter="loss")
LOSSES.register("origin", lambda prediction, synthetic, real, weight: origin_loss(prediction))
LOSSES.register("mse", lambda prediction, synthetic, real, weight: mse_loss(prediction))
LOSSES.register("similarity", similarity_loss)
