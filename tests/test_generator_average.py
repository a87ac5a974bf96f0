"""Generator mode's moving average of weights (``GeneratorConfig.ema_decay``): a weighted mean of
the steps' weights, checked against its closed form and against the weights each step left in the
training state; off by default, and then absent from the state and its snapshots."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from augment.errors import AugmentError
from augment.gantk.augmentation import scan_defaults
from augment.gantk.generator import (
    EMA_WARMUP,
    GeneratorConfig,
    GeneratorSnapshot,
    average_weights,
    compiled_generator,
    parameter_layout,
    train_generator,
)
from augment.gantk.generator_sampling import sample
from augment.gantk.multiscale import resize

FAST = GeneratorConfig(
    steps=6, chunk_steps=1, batch_size=8, base_channels=32, learning_rate=5e-3, augment_real_to=0
)


def closed_form_weights(decay: float, steps: int) -> np.ndarray:
    """The weight of the initial weights (first entry) and of each step's weights in the average
    after ``steps`` steps: the recurrence a <- d_t a + (1 - d_t) p_t unrolled, d_t as documented."""
    d = np.minimum(decay, (1 + np.arange(steps)) / (EMA_WARMUP + np.arange(steps)))
    after = np.append(np.cumprod(d[::-1])[::-1][1:], 1.0)  # product of the later steps' decays
    return np.concatenate([[np.prod(d)], (1 - d) * after])


@pytest.mark.parametrize("decay", [0.5, 0.9, 0.995])
def test_the_average_is_the_closed_form_weighted_mean_of_the_steps_weights(decay):
    rng = np.random.default_rng(0)
    initial = {"w": rng.normal(size=(3, 2)), "b": rng.normal(size=4)}
    steps = [{"w": rng.normal(size=(3, 2)), "b": rng.normal(size=4)} for _ in range(30)]
    average = jax.tree_util.tree_map(jnp.asarray, initial)
    for t, params in enumerate(steps):
        average = average_weights(average, params, decay, jnp.asarray(t))
    weights = closed_form_weights(decay, len(steps))
    assert weights.sum() == pytest.approx(1.0)
    assert weights[0] < 1e-7  # the untrained weights are soon forgotten (d_0 = 1 / EMA_WARMUP)
    for name in ("w", "b"):
        stacked = np.stack([initial[name]] + [p[name] for p in steps])
        expected = np.tensordot(weights, stacked, axes=1)
        np.testing.assert_allclose(np.asarray(average[name]), expected, rtol=1e-5, atol=1e-6)


def test_training_is_unchanged_and_returns_the_average_of_the_weights_each_step_left(threes):
    """One step per chunk: each snapshot holds the training state after its step, the weights
    first, so the returned weights are checked against the closed form over what training did."""
    averaged = dataclasses.replace(FAST, ema_decay=0.7)
    plain: list[GeneratorSnapshot] = []
    plain_result = train_generator(threes, FAST, jax.random.PRNGKey(1), checkpoint=plain.append)
    snapshots: list[GeneratorSnapshot] = []
    result = train_generator(threes, averaged, jax.random.PRNGKey(1), checkpoint=snapshots.append)
    # the average does not feed back into training: the same losses and states, step for step,
    # and the snapshot holds it after them (without it, a snapshot is as it always was)
    np.testing.assert_array_equal(result.loss_history, plain_result.loss_history)
    layout, treedef = parameter_layout(threes.shape[1:], averaged)
    count = len(layout)
    for with_average, without in zip(snapshots, plain, strict=True):
        assert len(with_average.state) == len(without.state) + count
        for a, b in zip(with_average.state, without.state, strict=False):
            np.testing.assert_array_equal(a, b)
    # the average starts at the initial weights, as training does
    compiled = compiled_generator(dataclasses.replace(scan_defaults(FAST, 8), steps=1), (8, 8, 1))
    initial = jax.tree_util.tree_leaves(compiled.init_state(jax.random.PRNGKey(1)).params)
    weights = closed_form_weights(0.7, len(snapshots))
    returned = jax.tree_util.tree_leaves(result.params)
    assert jax.tree_util.tree_structure(result.params) == treedef
    for i, leaf in enumerate(returned):
        stacked = np.stack([initial[i]] + [s.state[i] for s in snapshots])
        np.testing.assert_allclose(leaf, np.tensordot(weights, stacked, axes=1), rtol=1e-4, atol=1e-6)
    assert not np.allclose(returned[0], jax.tree_util.tree_leaves(plain_result.params)[0])


def test_an_averaged_coarse_to_fine_training_resumes_at_the_finer_level(threes):
    real = np.asarray(resize(threes, 16))  # 8 then 16 pixels
    config = dataclasses.replace(FAST, steps=4, refine_steps=4, chunk_steps=2, coarse_size=8, ema_decay=0.9)
    whole = train_generator(real, config, jax.random.PRNGKey(3))
    assert whole.image_shape == (16, 16, 1)
    layout, _ = parameter_layout((16, 16, 1), config)
    assert [leaf.shape for leaf in jax.tree_util.tree_leaves(whole.params)] == [leaf.shape for leaf in layout]
    saved: list[GeneratorSnapshot] = []

    class Stop(Exception):
        pass

    def checkpoint(snapshot):
        saved.append(snapshot)
        if snapshot.level == 1:
            raise Stop

    with pytest.raises(Stop):
        train_generator(real, config, jax.random.PRNGKey(3), checkpoint=checkpoint)
    arrays: dict[str, np.ndarray] = {}
    record = saved[-1].to_arrays(arrays)
    resumed = train_generator(
        real, config, jax.random.PRNGKey(3), resume=GeneratorSnapshot.from_arrays(record, arrays)
    )
    np.testing.assert_array_equal(resumed.loss_history, whole.loss_history)
    key = jax.random.PRNGKey(0)
    np.testing.assert_array_equal(sample(resumed, 5, key), sample(whole, 5, key))


@pytest.mark.parametrize("decay", [-0.1, 1.0, 1.5])
def test_a_decay_outside_zero_to_one_is_a_clear_error(decay):
    with pytest.raises(AugmentError, match="`ema_decay` must be at least 0 and below 1"):
        GeneratorConfig(ema_decay=decay)


def test_the_decay_is_recorded_and_a_record_without_it_is_the_last_steps_weights():
    record = GeneratorConfig(ema_decay=0.99).to_dict()
    assert record["ema_decay"] == 0.99 and GeneratorConfig.from_dict(record).ema_decay == 0.99
    older = {k: v for k, v in record.items() if k != "ema_decay"}  # saved before the average existed
    assert GeneratorConfig.from_dict(older).ema_decay == 0.0
