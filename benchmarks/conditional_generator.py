"""One class-conditional GA-NTK generator for all classes, to compare with one generator per class
(generator mode as shipped). Benchmark code: it is measured here before anything is built into the
library.

- Generator: ``[z (64), label_scale * one-hot label]`` -> the generator network of generator mode
  (:func:`augment.gantk.generator_network.generator_network`, the same widths) -> (S, S, C) in (0, 1).
- Each step draws ``per_class`` noise vectors for every class, makes all the images in one pass,
  and minimises the mean over classes of each class's GA-NTK loss against its own discriminator:
  the class's augmented real set and its Gram matrix, as generator mode builds them
  (:func:`augment.gantk.augmentation.discriminator_real_set`, keyed by the class as there). The
  per-class problems run as one ``vmap``.
- Everything else is generator mode's: ``GeneratorConfig`` (Adam 1e-3 with beta1 0.5, clipping 5,
  1000 steps, the published discriminator), steps in chunks of ``chunk_steps`` inside one
  ``fori_loop``.
- Samples of a class are drawn as ``generate`` draws them: pools of 64 noise vectors, those nearer
  a real image of the class than the novelty floor left out, up to 8 pools, then the farthest of
  the rest.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax

from augment.gantk.augmentation import discriminator_real_set
from augment.gantk.generator import GeneratorConfig, generator_optimizer
from augment.gantk.generator_network import generator_network
from augment.gantk.generator_sampling import far_enough_pools
from augment.gantk.loop import chunk_of_steps, real_gram, run_steps

SampleFn = Callable[[int, int, jax.Array], np.ndarray]  # (class, n, key) -> (n, S, S, C)


def train_conditional(
    real: np.ndarray,
    labels: np.ndarray,
    classes: int,
    config: GeneratorConfig,
    per_class: int,
    label_scale: float,
    key: jax.Array,
) -> tuple[SampleFn, np.ndarray]:
    """Train one conditional generator on every class's real images.

    Args:
      real: (n, S, S, C) real images in [0, 1]; labels: (n,) ints in [0, classes).
      config: generator mode's settings (``batch_size`` is not used: ``per_class`` is).
      per_class: generated images per class and step.
      label_scale: the one-hot label's length beside the noise (norm about sqrt(z_dim)).
      key: a JAX PRNG key; class ``c``'s augmented real set is drawn from ``fold_in(key, c)``.

    Returns:
      ``(sample_fn, losses)``: ``sample_fn(c, n, key)`` -> (n, S, S, C) images of class ``c``;
      losses (steps,) the mean GA-NTK loss at each step.
    """
    size, _, channels = (int(d) for d in real.shape[1:])
    kernel_fn = config.discriminator.kernel_fn(size, channels)
    loss_and_realness = config.discriminator.loss_fn(kernel_fn)
    init_fn, apply_fn = generator_network(size, channels, config.base_channels)
    optimizer = generator_optimizer(config, config.steps)
    gram = real_gram(kernel_fn)
    real_sets = [
        discriminator_real_set(
            jax.random.fold_in(key, c), jnp.asarray(real[labels == c], jnp.float32),
            config.augment_real_to, config.augment_rotation, config.augment_shift,
        )
        for c in range(classes)
    ]  # fmt: skip
    real_all = jnp.stack(real_sets)  # (classes, N, S, S, C)
    gram_all = jnp.stack([gram(r) for r in real_sets])  # (classes, N, N)
    step_labels = label_scale * jnp.repeat(jnp.eye(classes), per_class, axis=0)

    def images_of(params, z, onehot):
        return apply_fn(params, jnp.concatenate([z, onehot], axis=1))

    def loss_fn(params, z, real_all, gram_all):
        images = images_of(params, z, step_labels).reshape(classes, per_class, size, size, channels)
        losses, _ = jax.vmap(loss_and_realness)(images, real_all, gram_all)
        return jnp.mean(losses)

    value_and_grad = jax.value_and_grad(loss_fn)

    def step(state, real_all, gram_all):
        params, opt_state, key = state
        key, z_key = jax.random.split(key)
        z = jax.random.normal(z_key, (classes * per_class, config.z_dim))
        loss, grad = value_and_grad(params, z, real_all, gram_all)
        updates, opt_state = optimizer.update(grad, opt_state, params)
        return (optax.apply_updates(params, updates), opt_state, key), loss

    run_chunk = jax.jit(chunk_of_steps(step, config.chunk_steps))
    init_key, state_key = jax.random.split(key)
    _, params = init_fn(init_key, (-1, config.z_dim + classes))
    history: list[float] = []
    state = run_steps(
        lambda state, n: run_chunk(state, real_all, gram_all, n), (params, optimizer.init(params), state_key),
        history, config.steps, config.chunk_steps, "the conditional generator", lambda state, history: None,
    )  # fmt: skip
    trained = state[0]
    apply = jax.jit(images_of)

    def sample_fn(c: int, n: int, key: jax.Array) -> np.ndarray:
        z = jax.random.normal(key, (n, config.z_dim))
        onehot = jnp.tile(label_scale * jax.nn.one_hot(c, classes), (n, 1))
        return np.asarray(apply(trained, z, onehot))

    return sample_fn, np.asarray(history, np.float32)


def draw_far_enough(
    sample_fn: SampleFn, c: int, n: int, class_real: np.ndarray, floor: float, key: jax.Array, pool: int = 64
) -> np.ndarray:
    """(n, S, S, C) samples of class ``c`` kept from the images of ``class_real`` by the novelty
    floor as ``generate`` keeps them (:func:`~augment.gantk.generator_sampling.far_enough_pools` over pools
    of whole batches of ``pool``)."""
    size = pool * math.ceil(n / pool)
    return far_enough_pools(lambda pool_key: sample_fn(c, size, pool_key), class_real, floor, key)[0][:n]
