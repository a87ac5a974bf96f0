"""Coarse-to-fine direct synthesis: the level schedule, the hand-over between levels, checkpoints
and resume, and the schedule in an output's provenance."""

from __future__ import annotations

import dataclasses
import json

import h5py
import jax
import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from augment.cli.app import app
from augment.errors import AugmentError
from augment.gantk import DiscriminatorConfig, SynthesisConfig, SynthesisSnapshot, synthesize
from augment.gantk.direct.multiscale import CoarseToFineSnapshot, schedule, synthesize_coarse_to_fine
from augment.gantk.levels import level_sizes, resize
from augment.gantk.modes import MODES
from augment.gantk.resolution import at_size
from augment.io.dataset import from_integer_pixels
from augment.io.writers import read_output
from augment.parameters import AUGMENT_REAL_TO, SCAN_NOVELTY_FLOOR
from augment.run.checkpoint import load_checkpoint, save_checkpoint

# 16x16 digits synthesised from 8x8: two levels, both small enough for the quick loop.
CONFIG = SynthesisConfig(
    steps=20, refine_steps=10, chunk_steps=5, coarse_size=8, batch_size=4, augment_real_to=0,
    discriminator=DiscriminatorConfig(real_batch_size=8),
)  # fmt: skip


@pytest.fixture(scope="module")
def threes16(threes):
    return resize(threes, 16)


def test_level_sizes_halve_down_to_the_coarse_size_and_no_lower_than_the_discriminator_takes():
    assert level_sizes(128, 32, 8) == [32, 64, 128]
    assert level_sizes(100, 32, 8) == [25, 50, 100]
    assert level_sizes(64, 32, 8) == [32, 64]
    assert level_sizes(32, 32, 8) == [32]
    assert level_sizes(20, 8, 8) == [10, 20]  # 5 would be below the discriminator's 8
    assert level_sizes(128, 0, 8) == [128]  # coarse_size 0: single scale
    with pytest.raises(AugmentError, match=r"`start`, `steps` depend on the working size"):
        schedule(64, SynthesisConfig(augment_real_to=0))  # the schedule reads a resolved configuration
    assert schedule(64, at_size(SynthesisConfig(start="noise", steps=300), 64)) == [(32, 300), (64, 40)]
    assert schedule(28, at_size(SynthesisConfig(start="noise", steps=300), 28)) == [(28, 300)]
    # the defaults: up to the scan size 300 steps from noise, above it 50 from deformed real
    # images at the working size alone
    assert schedule(16, at_size(SynthesisConfig(), 16)) == [(16, 300)]
    assert schedule(64, at_size(SynthesisConfig(), 64)) == [(64, 50)]
    assert schedule(128, at_size(SynthesisConfig(steps=80), 128)) == [(128, 80)]


@pytest.mark.slow
@pytest.mark.parametrize(
    "asked, size, expected",
    [(None, 16, [True, True]), (None, 8, [False]), (False, 16, [False, False]), (True, 8, [True])],
)
def test_the_convergence_stop_is_on_by_default_only_coarse_to_fine(
    threes16, monkeypatch, asked, size, expected
):
    """None: on for every level of a coarse-to-fine run, off for a single level; a choice is kept."""
    import augment.gantk.direct.multiscale as multiscale

    seen = []

    def record(real, n, config, key, *args, **kwargs):
        seen.append(config.convergence_stop)
        return synthesize(real, n, dataclasses.replace(config, steps=1), key, *args, **kwargs)

    monkeypatch.setattr(multiscale, "synthesize", record)
    real = threes16 if size == 16 else resize(threes16, 8)
    config = dataclasses.replace(CONFIG, convergence_stop=asked, novelty_stop=False)
    synthesize_coarse_to_fine(real, 2, config, jax.random.PRNGKey(0))
    assert seen == expected


@pytest.mark.slow
def test_each_coarser_level_keeps_the_floor_at_the_same_percentile_of_its_own_real_images(
    threes16, monkeypatch
):
    import augment.gantk.direct.multiscale as multiscale

    seen = []

    def record(real, n, config, key, *args, **kwargs):
        seen.append((real.shape[1], kwargs["floor_distance"]))
        return synthesize(real, n, dataclasses.replace(config, steps=1), key, *args, **kwargs)

    monkeypatch.setattr(multiscale, "synthesize", record)
    synthesize_coarse_to_fine(
        threes16, 2, CONFIG, jax.random.PRNGKey(0), floor_distance=0.3, novelty_floor=60.0
    )
    coarse = resize(threes16, 8)
    between = np.sqrt(((coarse[:, None] - coarse[None]) ** 2).mean(axis=(2, 3, 4)))
    np.fill_diagonal(between, np.inf)  # each real image's nearest other one, by brute force
    assert [size for size, _ in seen] == [8, 16]
    assert seen[0][1] == pytest.approx(np.percentile(between.min(axis=1), 60.0), rel=1e-5)
    assert seen[1][1] == 0.3  # the last level: the caller's floor


def test_resize_keeps_the_unit_range_and_a_constant_image():
    images = np.random.default_rng(0).random((3, 8, 8, 1)).astype(np.float32)
    up = resize(images, 16)
    assert up.shape == (3, 16, 16, 1) and up.min() >= 0 and up.max() <= 1
    np.testing.assert_allclose(resize(np.full((1, 8, 8, 3), 0.25, np.float32), 32), 0.25, atol=1e-6)
    np.testing.assert_allclose(resize(up, 8).mean(), images.mean(), atol=0.02)


def test_one_level_is_exactly_plain_synthesis(threes):
    key = jax.random.PRNGKey(3)
    single = dataclasses.replace(CONFIG, coarse_size=0)
    a = synthesize_coarse_to_fine(threes, 6, single, key)
    b = synthesize(threes, 6, single, key)
    np.testing.assert_array_equal(a.images, b.images)
    np.testing.assert_array_equal(a.loss_history, b.loss_history)


@pytest.mark.slow
def test_the_fine_level_starts_from_the_coarse_images(threes16):
    key = jax.random.PRNGKey(4)
    result = synthesize_coarse_to_fine(threes16, 6, CONFIG, key)
    assert result.images.shape == (6, 16, 16, 1) and result.realness.shape == (6,)
    assert result.loss_history.shape == (2, 30) and np.all(np.isfinite(result.loss_history))
    # the coarse level alone (same key, same partition into problems), resized up and kept within
    # the fine real images' range (the pixel envelope), is where the fine level began: Adam moves
    # a pixel by at most about the learning rate per step, so ten steps stay within 10 x 0.01 of
    # it, far less than two independent syntheses are apart
    coarse = synthesize(resize(threes16, 8), 6, dataclasses.replace(CONFIG, steps=20), key)
    start = np.clip(resize(coarse.images, 16), threes16.min(axis=0), threes16.max(axis=0))
    moved = np.sqrt(np.mean((result.images - start) ** 2))
    other = synthesize_coarse_to_fine(threes16, 6, CONFIG, jax.random.PRNGKey(5)).images
    apart = np.sqrt(np.mean((result.images - other) ** 2))
    assert moved <= 10 * CONFIG.learning_rate, moved
    assert moved < 0.5 * apart, (moved, apart)
    assert np.all(result.images >= threes16.min(axis=0)) and np.all(result.images <= threes16.max(axis=0))


@pytest.mark.slow
def test_a_run_interrupted_in_the_fine_level_resumes_to_the_same_result(threes16, tmp_path):
    key = jax.random.PRNGKey(6)
    whole = synthesize_coarse_to_fine(threes16, 6, CONFIG, key)
    saved: list[CoarseToFineSnapshot] = []

    class Stop(Exception):
        pass

    def checkpoint(snapshot):
        if snapshot.level == 1 and snapshot.current.running:
            path = tmp_path / "run.checkpoint.npz"
            save_checkpoint(path, "f" * 64, {}, (0, snapshot, 1.0))
            saved.append(snapshot)
            raise Stop

    with pytest.raises(Stop):
        synthesize_coarse_to_fine(threes16, 6, CONFIG, key, checkpoint=checkpoint)
    _, current = load_checkpoint(tmp_path / "run.checkpoint.npz", "f" * 64, MODES["direct"].read_snapshot)
    assert current is not None and isinstance(current[1], CoarseToFineSnapshot) and current[1].level == 1
    resumed = synthesize_coarse_to_fine(threes16, 6, CONFIG, key, resume=current[1])
    np.testing.assert_array_equal(resumed.images, whole.images)
    np.testing.assert_array_equal(resumed.loss_history, whole.loss_history)


def test_a_snapshot_of_another_schedule_is_refused(threes16):
    other = CoarseToFineSnapshot(1, np.zeros((4, 8, 8, 1), np.float32), SynthesisSnapshot())
    with pytest.raises(AugmentError, match="the checkpoint does not match this request"):
        synthesize_coarse_to_fine(threes16, 6, CONFIG, jax.random.PRNGKey(0), resume=other)


@pytest.mark.slow
def test_synth_at_64_pixels_starts_from_deformed_real_images_and_records_the_schedule(tmp_path, digits):
    images, labels = digits
    folder = tmp_path / "scans"
    for digit in (0, 1):
        (folder / f"d{digit}").mkdir(parents=True)
        for i, image in enumerate(images[labels == digit][:4]):
            big = Image.fromarray(np.round(image[..., 0] * 255).astype(np.uint8)).resize(
                (64, 64), Image.BILINEAR
            )
            big.save(folder / f"d{digit}" / f"{i}.png")
    brightest = {
        digit: np.max([np.asarray(Image.open(p)) for p in (folder / f"d{digit}").iterdir()], axis=0)
        for digit in (0, 1)
    }  # (64, 64) uint8: each class's brightest value at every pixel, as written
    out = tmp_path / "o.h5"
    args = [
        "synth",
        str(folder),
        "--out",
        str(out),
        "--size",
        "64",
        "--n",
        "2",
        "--steps",
        "6",
        "--no-quality-gate",
    ]
    result = CliRunner().invoke(app, [*args, "--batch-size", "4", "--quiet"])
    assert result.exit_code == 0, result.output
    with h5py.File(out) as f:
        assert f["images"].shape == (2, 64, 64, 1)
        provenance = json.loads(f["provenance"][()])
    written = read_output(out)
    # a deformed real image is an image at the working size already: one level, no coarse one
    assert provenance["synthesis"]["schedule"] == [{"size": 64, "steps": 6, "architecture": "strided-gray"}]
    assert provenance["classes"][0]["loss"]["steps"] == 6
    assert provenance["config"]["start"] == "warped"
    # a scan size: the real side is the real images themselves, the floor the scans' percentile
    assert provenance["config"]["augment_real_to"] == 0
    assert provenance["novelty_floor"]["percentile"] == SCAN_NOVELTY_FLOOR
    # and the pixel envelope: no synthetic pixel brighter than its class's real images there
    assert provenance["config"]["pixel_envelope"] is True
    for image, label in zip(from_integer_pixels(written.images)[..., 0], written.labels, strict=True):
        assert np.all(image <= brightest[int(written.class_names[label][1])] / 255 + 1e-3)


@pytest.mark.parametrize(
    "size, chosen, real_to, percentile",
    [
        (16, None, AUGMENT_REAL_TO, 60.0),
        (32, None, 0, SCAN_NOVELTY_FLOOR),  # above 16 px, single level or not
        (64, None, 0, SCAN_NOVELTY_FLOOR),
        (128, None, 0, SCAN_NOVELTY_FLOOR),
        (64, 200, 200, 60.0),  # chosen by hand: kept, with the floor of a posed real side
        (16, 0, 0, 60.0),
    ],
)
def test_scan_sizes_default_to_the_real_images_themselves_and_their_own_floor(
    size, chosen, real_to, percentile
):
    config, floor, _ = MODES["direct"].resolve(SynthesisConfig(augment_real_to=chosen), size)
    assert config.augment_real_to == real_to and floor == percentile
    assert at_size(SynthesisConfig(augment_real_to=chosen), size).augment_real_to == real_to


@pytest.mark.parametrize(
    "change, message",
    [
        ({"coarse_size": -1}, "`coarse_size` must not be negative, got -1"),
        ({"refine_steps": 0}, "`refine_steps` must be at least 1, got 0"),
    ],
)
def test_a_bad_schedule_is_a_clear_error(change, message):
    with pytest.raises(AugmentError, match=message):
        dataclasses.replace(CONFIG, **change)
