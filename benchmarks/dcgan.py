"""A small class-conditional DCGAN in JAX: the baseline of the quality benchmark.

Trained on the same few real images as GA-NTK, for a given wall-clock budget. Built from the
project's stax layers (standard parameterisation is not needed: Adam is invariant to the NTK
scaling of each weight).

- Generator: ``[z (64), one-hot label]`` -> the GA-NTK generator network
  (:func:`augment.gantk.generator.network.generator_network`) -> (S, S, C) in (0, 1).
- Discriminator: the image with the one-hot label broadcast as extra channels ->
  Conv 3x3/2 (64) -> LeakyReLU 0.2 -> Conv 3x3/2 (128) -> LeakyReLU 0.2 -> Flatten -> Dense 1.
- Non-saturating GAN loss, Adam 2e-4 with beta1 0.5 for both (Radford et al., 2016), batch = all
  real images, one discriminator and one generator step per iteration.
"""

from __future__ import annotations

import time

import jax
import jax.numpy as jnp
import numpy as np
import optax

from augment.gantk.generator.network import generator_network
from augment.ntk import stax

Z_DIM = 64


def train_dcgan(real: np.ndarray, labels: np.ndarray, classes: int, seconds: float, key: jax.Array):
    """Train until ``seconds`` have passed (compilation included); returns (sample_fn, steps).

    ``sample_fn(labels, key)`` -> (n, S, S, C) images for the given (n,) labels.
    """
    size, channels = real.shape[1], real.shape[-1]
    g_init, g_apply = generator_network(size, channels, 128)
    d_init, d_apply, _ = stax.serial(
        stax.Conv(64, (3, 3), (2, 2), "SAME"), stax.LeakyRelu(0.2),
        stax.Conv(128, (3, 3), (2, 2), "SAME"), stax.LeakyRelu(0.2),
        stax.Flatten(), stax.Dense(1),
    )  # fmt: skip
    g_key, d_key, key = jax.random.split(key, 3)
    _, g_params = g_init(g_key, (-1, Z_DIM + classes))
    _, d_params = d_init(d_key, (-1, size, size, channels + classes))
    optimizer = optax.adam(2e-4, b1=0.5)
    g_opt, d_opt = optimizer.init(g_params), optimizer.init(d_params)
    real = jnp.asarray(real, jnp.float32)
    real_onehot = jax.nn.one_hot(jnp.asarray(labels), classes)

    def generate(g_params, onehot, z):
        return g_apply(g_params, jnp.concatenate([z, onehot], axis=1))

    def logits(d_params, images, onehot):
        planes = jnp.broadcast_to(onehot[:, None, None, :], (*images.shape[:3], classes))
        return d_apply(d_params, jnp.concatenate([images, planes], axis=-1))[:, 0]

    @jax.jit
    def step(g_params, d_params, g_opt, d_opt, key):
        z_key, label_key = jax.random.split(key)
        n = real.shape[0]
        fake_onehot = jax.nn.one_hot(jax.random.randint(label_key, (n,), 0, classes), classes)
        z = jax.random.normal(z_key, (n, Z_DIM))

        def d_loss(d_params):
            fake = jax.lax.stop_gradient(generate(g_params, fake_onehot, z))
            return jnp.mean(jax.nn.softplus(-logits(d_params, real, real_onehot))) + jnp.mean(
                jax.nn.softplus(logits(d_params, fake, fake_onehot))
            )

        d_grad = jax.grad(d_loss)(d_params)
        updates, d_opt = optimizer.update(d_grad, d_opt, d_params)
        d_params = optax.apply_updates(d_params, updates)

        def g_loss(g_params):
            return jnp.mean(
                jax.nn.softplus(-logits(d_params, generate(g_params, fake_onehot, z), fake_onehot))
            )

        g_grad = jax.grad(g_loss)(g_params)
        updates, g_opt = optimizer.update(g_grad, g_opt, g_params)
        return optax.apply_updates(g_params, updates), d_params, g_opt, d_opt

    start, steps = time.perf_counter(), 0
    while time.perf_counter() - start < seconds:
        key, step_key = jax.random.split(key)
        g_params, d_params, g_opt, d_opt = step(g_params, d_params, g_opt, d_opt, step_key)
        jax.block_until_ready(g_params)
        steps += 1
    sample_jit = jax.jit(generate)

    def sample_fn(sample_labels, key):
        onehot = jax.nn.one_hot(jnp.asarray(sample_labels), classes)
        return np.asarray(sample_jit(g_params, onehot, jax.random.normal(key, (len(sample_labels), Z_DIM))))

    return sample_fn, steps
