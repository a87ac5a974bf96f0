"""Where direct mode's images start (augment.gantk.direct.starts): the deformation against scipy's
independent resampler, and the warped start's promise on real slices and tiles."""

from __future__ import annotations

import math
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.ndimage

from augment.errors import AugmentError
from augment.gantk import SynthesisConfig, synthesize
from augment.gantk.augmentation import _affine
from augment.gantk.direct.starts import STARTS, WARP_ATTEMPTS, _warp_one, warp, warped_start
from augment.measures.quality import distinct, leave_one_out_dcr, leave_one_out_threshold, nearest_real
from augment.run.gate import check, reference

GOLDEN = Path(__file__).resolve().parent / "golden" / "real_images.npz"


def golden(name: str) -> np.ndarray:
    """The 12 training images of a class of tests/golden/real_images.npz, in [0, 1]."""
    with np.load(GOLDEN) as stored:
        images = stored[name].astype(np.float32) / 255.0
    return images[0::2][:12] if name == "he" else images[:12]


def test_the_displacement_is_what_scipys_resampler_reads():
    rng = np.random.default_rng(0)
    image = rng.uniform(size=(9, 9, 2)).astype(np.float32)
    field = rng.normal(0, 1.5, size=(9, 9, 2)).astype(np.float32)
    warped = np.asarray(_warp_one(jnp.asarray(image), jnp.asarray(field), jnp.float32(0.0), jnp.zeros(2)))
    y, x = np.meshgrid(np.arange(9.0), np.arange(9.0), indexing="ij")
    for c in range(2):
        expected = scipy.ndimage.map_coordinates(
            image[..., c].astype(np.float64), [y + field[..., 0], x + field[..., 1]], order=1, mode="nearest"
        )
        np.testing.assert_allclose(warped[..., c], expected, atol=1e-5)


def test_without_a_field_the_warp_is_the_augmentations_rigid_pose():
    image = jnp.asarray(np.random.default_rng(1).uniform(size=(8, 8, 1)), jnp.float32)
    angle, shift = jnp.float32(math.radians(7.0)), jnp.asarray([0.5, -1.25])
    np.testing.assert_allclose(
        _warp_one(image, jnp.zeros((8, 8, 2)), angle, shift), _affine(image, angle, shift), atol=1e-6
    )


def test_a_warp_of_strength_zero_is_the_image_and_a_warp_is_keyed(threes):
    np.testing.assert_allclose(warp(jax.random.PRNGKey(0), threes, 0.0), threes, atol=1e-6)
    a, b = warp(jax.random.PRNGKey(3), threes), warp(jax.random.PRNGKey(3), threes)
    np.testing.assert_array_equal(a, b)
    assert a.shape == threes.shape and a.dtype == np.float32
    assert float(a.min()) >= 0.0 and float(a.max()) <= 1.0
    assert not np.array_equal(a, warp(jax.random.PRNGKey(4), threes))
    stronger = warp(jax.random.PRNGKey(3), threes, 2.0)  # the same draws, twice the displacement
    moved = np.sqrt(np.mean((a - threes) ** 2, axis=(1, 2, 3)))
    assert np.mean(np.sqrt(np.mean((stronger - threes) ** 2, axis=(1, 2, 3)))) > np.mean(moved)


def unit(real: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Bounds of [0, 1] at every pixel of ``real``'s shape."""
    return np.zeros(real.shape[1:], np.float32), np.ones(real.shape[1:], np.float32)


def test_warped_slices_start_sharp_and_beyond_the_floor():
    """Slices of one scan lie close together: a small deformation is already new, and it is a
    slice, not noise or blur (the gate's blur, noise, intensity and colour tests pass it)."""
    for name in ("coronal_frontal", "sagittal_medial"):
        real = golden(name)
        floor = leave_one_out_threshold(real, 40.0)
        starts = warped_start(jax.random.PRNGKey(0), real, 24, floor, unit(real))
        assert np.all(nearest_real(starts, real)[1] >= floor), name
        _, failed = check(starts, reference(real))
        for test in ("blurred", "noisy", "intensity", "colour"):
            assert not failed[test].any(), (name, test)


def test_a_start_within_the_floor_after_every_deformation_is_noise():
    real = golden("he")
    far = float(leave_one_out_dcr(real).max()) * 10  # no deformation of a tile gets this far
    starts = warped_start(jax.random.PRNGKey(0), real, 6, far, unit(real))
    assert WARP_ATTEMPTS >= 1
    assert abs(float(starts.mean()) - 0.5) < 0.01 and abs(float(starts.std()) - math.sqrt(1 / 12)) < 0.01
    near = warped_start(jax.random.PRNGKey(0), real, 6, 0.0, unit(real))  # floor 0: every first warp stands
    np.testing.assert_array_equal(near, warped_start(jax.random.PRNGKey(0), real, 6, None, unit(real)))
    # the starts lie within the bounds every step clips to, and are measured there
    envelope = (real.min(axis=0), real.max(axis=0))
    floor = leave_one_out_threshold(real, 40.0)
    clipped = warped_start(jax.random.PRNGKey(0), real, 6, floor, envelope)
    assert np.all(clipped >= envelope[0]) and np.all(clipped <= envelope[1])
    assert np.all(nearest_real(clipped, real)[1] >= floor)


def test_the_noise_start_is_the_optimisers_own_and_a_bad_name_is_refused():
    real = np.zeros((2, 4, 4, 1), np.float32)
    assert STARTS["noise"](jax.random.PRNGKey(0), real, 3, 0.1, unit(real)) is None
    with pytest.raises(AugmentError, match=r"^`start` must be noise or warped, got 'blur'$"):
        STARTS["blur"]
    with pytest.raises(AugmentError, match=r"^`start` must be noise or warped, got 'blur'$"):
        SynthesisConfig(start="blur")


def test_the_floor_counts_a_repeated_image_once(threes):
    repeated = np.concatenate([threes, threes[:2], threes[:1] + 0.1 / 255])
    np.testing.assert_array_equal(distinct(repeated), threes)
    assert leave_one_out_threshold(repeated, 40.0) == leave_one_out_threshold(threes, 40.0)
    assert leave_one_out_threshold(np.concatenate([threes[:1]] * 3)) is None


def test_direct_mode_above_the_scan_size_writes_deformed_slices_beyond_the_floor():
    """The default above 16 px: every image starts as a deformed slice and ends, after its steps,
    beyond the floor as stored (8 bits) and neither blurred nor noisy."""
    real = golden("coronal_frontal")[:, ::2, ::2]  # 32 px: a scan size, one cheap level
    floor = leave_one_out_threshold(real, 40.0)
    config = SynthesisConfig(steps=10, batch_size=8, augment_real_to=0)
    result = synthesize(real, 8, config, jax.random.PRNGKey(0), floor_distance=floor)
    stored = np.round(result.images * 255) / 255
    assert np.all(nearest_real(stored, real)[1] >= floor)
    _, failed = check(result.images, reference(real))
    assert not failed["blurred"].any() and not failed["noisy"].any()
    assert result.loss_history.shape == (1, 10)  # one level at the working size
