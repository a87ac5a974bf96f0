"""The two copy-avoiding defaults of direct mode: the augmented real set and the novelty stop."""

from __future__ import annotations

import dataclasses
import math
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.ndimage

from augment.errors import AugmentError
from augment.gantk import DiscriminatorConfig, SynthesisConfig, SynthesisSnapshot, synthesize
from augment.gantk.augmentation import _affine, augmented_real_set, random_poses
from augment.measures.quality import leave_one_out_threshold, pairwise_rms_distance

# Without augmentation, five real threes are copied within about 60 Adam steps: the stop must act.
# Pixels in [0, 1], not the real images' range: within that range (the pixel envelope, tested in
# test_direct.py) some images come within the floor in the first chunk, and these tests follow
# images from far to near.
COPYING = SynthesisConfig(
    steps=120, chunk_steps=10, batch_size=8, augment_real_to=0,
    discriminator=DiscriminatorConfig(real_batch_size=8),
    max_near_copy_fraction=0.1, pixel_envelope=False,
)  # fmt: skip


def test_a_quarter_turn_and_a_whole_pixel_shift_move_pixels_exactly():
    image = jnp.asarray(np.random.default_rng(0).uniform(size=(6, 6, 2)), jnp.float32)
    turned = _affine(image, jnp.float32(math.pi / 2), jnp.zeros(2))
    # output (y, x) reads source (x', -y') about the centre: numpy's rot90 over axes (1, 0)
    np.testing.assert_allclose(turned, np.rot90(np.asarray(image), k=1, axes=(1, 0)), atol=1e-5)
    shifted = _affine(image, jnp.float32(0.0), jnp.asarray([1.0, -2.0]))
    expected = np.asarray(image)[np.clip(np.arange(6) - 1, 0, 5)][:, np.clip(np.arange(6) + 2, 0, 5)]
    np.testing.assert_allclose(shifted, expected, atol=1e-6)  # edge pixels repeated beyond the border


def test_the_augmented_set_cycles_through_the_real_images_and_is_keyed(threes):
    same = augmented_real_set(jax.random.PRNGKey(0), threes, 12, rotation=0.0, shift=0.0)
    np.testing.assert_allclose(same, threes[np.arange(12) % 5], atol=1e-6)
    a = augmented_real_set(jax.random.PRNGKey(1), threes, 12, rotation=12.0, shift=0.125)
    b = augmented_real_set(jax.random.PRNGKey(1), threes, 12, rotation=12.0, shift=0.125)
    c = augmented_real_set(jax.random.PRNGKey(2), threes, 12, rotation=12.0, shift=0.125)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c) and a.shape == (12, 8, 8, 1)
    assert float(a.min()) >= 0.0 and float(a.max()) <= 1.0
    # each image is its source under the drawn pose, as scipy's independent affine resampler makes it
    angles, shifts = random_poses(jax.random.PRNGKey(1), 12, 12.0, 0.125 * 8)
    assert np.all(np.abs(np.rad2deg(angles)) <= 12.0) and np.all(np.abs(shifts) <= 1.0)
    centre = np.full(2, 3.5)
    for j, (angle, shift) in enumerate(
        zip(np.asarray(angles, np.float64), np.asarray(shifts, np.float64), strict=True)
    ):
        matrix = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
        expected = scipy.ndimage.affine_transform(
            threes[j % 5, ..., 0].astype(np.float64),
            matrix,
            centre - matrix @ (centre + shift),
            order=1,
            mode="nearest",
        )
        np.testing.assert_allclose(a[j, ..., 0], expected, atol=1e-5)
    with pytest.raises(AugmentError, match="at least the 5 real images"):
        augmented_real_set(jax.random.PRNGKey(0), threes, 4, rotation=12.0, shift=0.1)


@pytest.mark.slow
def test_the_novelty_stop_keeps_the_last_state_before_too_many_near_copies(threes):
    key = jax.random.PRNGKey(0)  # near-copies after each 10 steps: 0, 0, 0, 1, 4, 5, ... of 8
    threshold = leave_one_out_threshold(threes)
    chunks: list[np.ndarray] = []  # the images after every chunk of an unstopped run

    def keep(snapshot: SynthesisSnapshot):
        if 0 in snapshot.running:  # the synthetic images are the first leaf of the state
            chunks.append(np.asarray(snapshot.running[0].state[0]))

    tolerant = dataclasses.replace(COPYING, max_near_copy_fraction=0.3)  # lets a few near-copies through
    free = synthesize(threes, 8, dataclasses.replace(tolerant, novelty_stop=False), key, checkpoint=keep)
    stopped = synthesize(threes, 8, tolerant, key)
    (ran,) = stopped.steps_run
    assert 10 < ran < 120, "the stop should act on this real set (it copies within 120 steps)"
    assert np.all(np.isfinite(stopped.loss_history[0, :ran])) and np.all(
        np.isnan(stopped.loss_history[0, ran:])
    )
    np.testing.assert_array_equal(stopped.loss_history[0, :ran], free.loss_history[0, :ran])

    def near_fraction(images):
        return np.mean(pairwise_rms_distance(images, threes).min(axis=1) < threshold)

    # the batch ends after `ran` steps of the unstopped run (the next chunk is the one refused) ...
    kept = chunks[ran // 10 - 1]
    assert 0 < near_fraction(kept) <= 0.3 < near_fraction(chunks[ran // 10])
    # ... and the near-copies it let through go back to their own last version that was not one
    is_near = pairwise_rms_distance(kept, threes).min(axis=1) < threshold
    for i in range(8):
        novel = [
            c[i]
            for c in chunks[: ran // 10]
            if pairwise_rms_distance(c[i : i + 1], threes).min() >= threshold
        ]
        np.testing.assert_array_equal(stopped.images[i], novel[-1] if is_near[i] else kept[i])
    assert near_fraction(stopped.images) == 0.0
    # a threshold of 0 never stops; the stop can be turned off
    assert synthesize(threes, 8, COPYING, key, floor_distance=0.0).steps_run.tolist() == [120]


@pytest.mark.slow
def test_by_default_no_batch_ends_and_every_image_ends_as_its_last_version_above_the_floor(threes):
    key = jax.random.PRNGKey(0)
    floor = leave_one_out_threshold(threes, 60.0)  # direct mode's default percentile
    default = dataclasses.replace(COPYING, max_near_copy_fraction=SynthesisConfig().max_near_copy_fraction)
    chunks: list[np.ndarray] = []

    def keep(snapshot: SynthesisSnapshot):
        if 0 in snapshot.running:
            chunks.append(np.asarray(snapshot.running[0].state[0]))

    free = synthesize(threes, 8, dataclasses.replace(default, novelty_stop=False), key, checkpoint=keep)
    chunks.append(free.images)  # a finished problem's last chunk is in its result, not a snapshot
    kept = synthesize(threes, 8, default, key, floor_distance=floor)
    assert kept.steps_run.tolist() == [120]  # every step ran, on the unstopped run's trajectory
    np.testing.assert_array_equal(kept.loss_history, free.loss_history)
    distance = np.stack([pairwise_rms_distance(c, threes).min(axis=1) for c in chunks])  # (chunks, 8)
    assert (distance[-1] < floor).any(), "this real set is copied within 120 steps: the floor must act"
    for i in range(8):
        above = np.flatnonzero(distance[:, i] >= floor)
        assert above.size, "every image starts far from the real ones"
        np.testing.assert_array_equal(kept.images[i], chunks[above[-1]][i])
    assert pairwise_rms_distance(kept.images, threes).min() >= floor


@pytest.mark.slow
def test_a_run_resumed_after_a_novelty_stop_equals_the_uninterrupted_one(threes):
    key = jax.random.PRNGKey(3)
    config = dataclasses.replace(COPYING, batch_size=4)  # two problems
    whole = synthesize(threes, 8, config, key)
    assert whole.steps_run.max() < 120
    saved = []

    class Stop(Exception):
        pass

    def checkpoint(snapshot):
        saved.append(snapshot.copy())
        assert all(run.novel is not None for run in snapshot.running.values())  # they travel with it
        if len(snapshot.finished) == 1 and snapshot.running:
            raise Stop  # within the second problem, after the first one was stopped

    with pytest.raises(Stop):
        synthesize(threes, 8, config, key, checkpoint=checkpoint)
    resumed = synthesize(threes, 8, config, key, resume=saved[-1])
    np.testing.assert_array_equal(resumed.images, whole.images)
    np.testing.assert_array_equal(resumed.loss_history, whole.loss_history)
    np.testing.assert_array_equal(resumed.steps_run, whole.steps_run)


@pytest.mark.slow
def test_the_defaults_do_not_copy_the_real_images(threes):
    """The shipped defaults on five threes: no synthetic image is a near-copy (with the stop off
    and no augmentation, most are; see COPYING)."""
    config = dataclasses.replace(SynthesisConfig(), batch_size=8)
    result = synthesize(threes, 8, config, jax.random.PRNGKey(0))
    distance = pairwise_rms_distance(result.images, threes).min(axis=1)
    assert np.all(distance >= leave_one_out_threshold(threes))
    copying = synthesize(
        threes, 8, dataclasses.replace(COPYING, steps=300, novelty_stop=False), jax.random.PRNGKey(0)
    )
    assert (
        np.mean(pairwise_rms_distance(copying.images, threes).min(axis=1) < leave_one_out_threshold(threes))
        > 0.5
    )


def test_the_provenance_loss_record_of_stopped_batches():
    """NaN marks the steps after a stop: the record counts steps run and averages what ran."""
    from augment.run.provenance import loss_summary

    history = np.array([[1.0, 2.0, 3.0], [4.0, np.nan, np.nan]], np.float32)
    record = loss_summary(history)
    assert record["steps"] == 3 and record["stopped_early"] == 1
    assert record["steps_run"] == {"min": 1, "median": 2.0, "max": 3}
    assert record["first"] == 2.5 and record["final"] == 3.5 and record["min"] == 2.0
    assert record["curve"] == [[1, 2.5], [2, 2.0], [3, 3.0]]


def test_the_loss_record_of_coarse_to_fine_levels_with_a_gap_between_them():
    """Both problems stopped early at the coarse level (steps 1-3) and ran the fine one (4-5):
    the steps where neither ran are left out, the fine level's are kept, and nothing warns."""
    from augment.run.provenance import loss_summary

    history = np.array([[1.0, np.nan, np.nan, 5.0, 4.0], [3.0, 2.0, np.nan, 7.0, 6.0]], np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        record = loss_summary(history)
    assert record["steps"] == 5 and record["stopped_early"] == 2
    assert record["first"] == 2.0 and record["final"] == 5.0 and record["min"] == 2.0
    assert record["curve"] == [[1, 2.0], [2, 2.0], [4, 6.0], [5, 5.0]]
