"""Generator mode: network shapes for every size, the GA-NTK loss falls, sampling, resume."""

from __future__ import annotations

import dataclasses

import jax
import numpy as np
import pytest

from augment.errors import AugmentError
from augment.gantk.generator import (
    GeneratorConfig,
    GeneratorSnapshot,
    generator_network,
    sample,
    train_generator,
)
from augment.ntk import stax

FAST = GeneratorConfig(steps=40, chunk_steps=10, batch_size=16, base_channels=32, learning_rate=5e-3)


@pytest.mark.parametrize("size", [8, 9, 10, 16, 28, 32])
@pytest.mark.parametrize("channels", [1, 3])
def test_the_network_makes_images_of_the_working_size_in_the_unit_range(size, channels):
    init_fn, apply_fn = generator_network(size, channels, z_dim=8, base_channels=32)
    shape, params = init_fn(jax.random.PRNGKey(0), (-1, 8))
    assert shape == (-1, size, size, channels)
    images = apply_fn(params, jax.random.normal(jax.random.PRNGKey(1), (3, 8)))
    assert images.shape == (3, size, size, channels)
    assert float(images.min()) > 0.0 and float(images.max()) < 1.0


def test_generator_only_layers_have_no_kernel():
    _, _, kernel_fn = stax.serial(stax.Dense(4), stax.Reshape((2, 2, 1)))
    with pytest.raises(AugmentError, match="Reshape is for finite networks"):
        kernel_fn(np.ones((2, 3), np.float32), None, "ntk")


def test_the_ga_ntk_loss_falls_and_samples_are_deterministic(threes):
    generator = train_generator(threes, FAST, jax.random.PRNGKey(0))
    history = generator.loss_history
    assert history.shape == (40,) and np.all(np.isfinite(history))
    drop = history[:10].mean() - history[-10:].mean()
    assert drop > 3 * np.std(np.diff(history))  # a fall well beyond the step-to-step noise (fresh z each step)
    first = sample(generator, 7, jax.random.PRNGKey(3))
    assert first.shape == (7, 8, 8, 1) and first.dtype == np.float32
    assert 0.0 < first.min() and first.max() < 1.0
    np.testing.assert_array_equal(first, sample(generator, 7, jax.random.PRNGKey(3)))
    assert not np.array_equal(first, sample(generator, 7, jax.random.PRNGKey(4)))
    again = train_generator(threes, FAST, jax.random.PRNGKey(0))
    np.testing.assert_array_equal(again.loss_history, history)


def test_a_resumed_training_equals_the_uninterrupted_one(threes):
    config = dataclasses.replace(FAST, steps=20)
    whole = train_generator(threes, config, jax.random.PRNGKey(1))
    saved: list[GeneratorSnapshot] = []

    class Stop(Exception):
        pass

    def checkpoint(snapshot):
        saved.append(snapshot)
        raise Stop

    with pytest.raises(Stop):
        train_generator(threes, config, jax.random.PRNGKey(1), checkpoint=checkpoint)
    resumed = train_generator(threes, config, jax.random.PRNGKey(1), resume=saved[0])
    np.testing.assert_array_equal(resumed.loss_history, whole.loss_history)
    np.testing.assert_array_equal(
        sample(resumed, 5, jax.random.PRNGKey(0)), sample(whole, 5, jax.random.PRNGKey(0))
    )


def test_bad_settings_are_clear_errors(threes):
    with pytest.raises(AugmentError, match="must be at least 1"):
        GeneratorConfig(z_dim=0)
    with pytest.raises(AugmentError, match="1 or 3 channels"):
        generator_network(8, 2)
