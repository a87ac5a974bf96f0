"""The quality gate: broken images are caught, usable ones pass, failures are re-synthesised or
dropped and counted, and a run reports it."""

from __future__ import annotations

import json

import h5py
import jax
import numpy as np
import pytest
from typer.testing import CliRunner

from augment.cli.app import app
from augment.gantk.augmentation import augmented_real_set
from augment.gantk.modes import ClassResult, ClassTask, Mode
from augment.gantk.placement import Placement
from augment.realism import high_frequency_share
from augment.run.gate import GATE_ROUNDS, check, gated, reference


@pytest.fixture(scope="module")
def sevens(digits):
    images, labels = digits
    return images[labels == 7][:6]


def broken_images(count: int, size: int, seed: int = 0) -> np.ndarray:
    """What broken synthetic images look like: a bright blob on black, and salt-and-pepper speckle."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[:size, :size] / size
    blobs = [np.exp(-((y - rng.random()) ** 2 + (x - rng.random()) ** 2) / 0.02) for _ in range(count // 2)]
    speckle = [(rng.random((size, size)) < 0.3).astype(np.float64) for _ in range(count - count // 2)]
    return np.stack(blobs + speckle)[..., None].astype(np.float32)


def test_broken_images_fail_and_new_poses_of_the_real_images_pass(sevens):
    ref = reference(sevens)
    poses = np.asarray(augmented_real_set(jax.random.PRNGKey(9), sevens, 30, 12.0, 0.125))
    passed, distance = check(poses, ref)
    assert passed.all(), distance.max() / ref.threshold
    passed, distance = check(broken_images(10, 8), ref)
    assert not passed.any(), distance.min() / ref.threshold
    # the verdicts are a fixed function of the real images
    assert reference(sevens).threshold == ref.threshold


class _Scripted(Mode):
    """A mode that hands out prepared images: first the class's result, then replacements."""

    name = "scripted"

    def __init__(self, replacements: list[np.ndarray]):
        self.replacements = list(replacements)
        self.asked: list[int] = []

    def more(self, config, task, first):
        self.asked.append(task.count)
        images = self.replacements.pop(0)[: task.count]
        return ClassResult(images, np.full(len(images), 0.5, np.float32), first.loss_history, 0.0)


def _task(real: np.ndarray, count: int) -> ClassTask:
    return ClassTask(real, count, jax.random.PRNGKey(0), None, None, lambda s: None, None, Placement.single())


def test_failures_are_replaced_by_passing_images_and_the_rest_dropped(sevens):
    good = np.asarray(augmented_real_set(jax.random.PRNGKey(1), sevens, 8, 12.0, 0.125))
    bad = broken_images(8, 8, seed=1)
    first = ClassResult(
        np.concatenate([good[:5], bad[:3]]), np.arange(8, dtype=np.float32), np.zeros((1, 3)), 1.0
    )
    # round 1 gives one good and two broken replacements, round 2 one good and one broken
    mode = _Scripted([np.concatenate([good[5:6], bad[3:5]]), np.concatenate([good[6:7], bad[5:6]])])
    result = gated(mode, None, _task(sevens, 8), first, sevens)
    assert mode.asked == [3, 2] and len(mode.asked) == GATE_ROUNDS
    assert result.gate == {
        "threshold": result.gate["threshold"], "checked": 13, "rejected": 6, "resynthesised": 5, "dropped": 1,
    }  # fmt: skip
    np.testing.assert_array_equal(result.images, np.concatenate([good[:5], good[5:7]]))
    np.testing.assert_array_equal(
        result.realness[:5], np.arange(5, dtype=np.float32)
    )  # the passing ones kept theirs


@pytest.mark.slow
def test_synth_reports_the_gate_in_its_summary_and_provenance(tmp_path):
    from pathlib import Path

    samples = Path(__file__).resolve().parent.parent / "samples" / "digits"
    out = tmp_path / "o.h5"
    result = CliRunner().invoke(app, ["synth", str(samples), "--n", "6", "--steps", "150", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "gate: rejected / dropped" in result.stderr.replace("\n", " ") or "rejected" in result.stderr
    with h5py.File(out) as f:
        provenance = json.loads(f["provenance"][()])
        written = len(f["images"])
    gate = provenance["quality_gate"]
    assert gate["applied"] is True and "re-synthesised" in gate["rule"]
    per_class = [c["gate"] for c in provenance["classes"]]
    assert gate["dropped"] == sum(c["dropped"] for c in per_class) == 6 - written
    assert all(c["checked"] >= 2 and c["threshold"] > 0 for c in per_class)
    inspected = CliRunner().invoke(app, ["inspect", str(out)])
    assert f"quality gate: {gate['rejected']} rejected, {gate['dropped']} dropped" in inspected.stdout


@pytest.mark.slow
def test_every_class_is_announced_with_its_work_before_the_first_step(tmp_path):
    from pathlib import Path

    from augment.gantk import SynthesisConfig
    from augment.run import SynthRequest, run_synth

    samples = Path(__file__).resolve().parent.parent / "samples" / "digits"
    calls: list[tuple] = []
    config = SynthesisConfig(steps=4, chunk_steps=2, augment_real_to=0)
    request = SynthRequest(samples, tmp_path / "o.h5", config=config, n=6, quality_gate=False)
    run_synth(request, progress=lambda *call: calls.append(call))
    announced = calls[:3]
    assert [c[0] for c in announced] == ["digit-0", "digit-1", "digit-7"]
    assert all(c[1] == 0 and c[2] == 4 and c[4] == 0 for c in announced)  # 1 problem x 4 steps each
    assert calls[-1][:3] == ("digit-7", 4, 4)


def test_the_whole_run_estimate_is_said_once_from_the_rate_after_the_first_report(monkeypatch):
    from augment.run import estimate as module

    clock = iter([100.0, 130.0, 140.0, 150.0])  # the first report includes compiling: not used
    monkeypatch.setattr(module.time, "perf_counter", lambda: next(clock))
    said: list[tuple[str, str]] = []
    estimate = module.Estimate([300, 300], lambda level, message: said.append((level, message)))
    estimate.update(10)  # t=100
    estimate.update(10)  # t=130, no work since: still the start
    estimate.update(70)  # t=140: 60 units in 10 s, 530 left -> about 88 s
    estimate.update(80)  # said once only
    assert said == [
        ("note", "estimated time left for the whole run: about 88 s (measured on its first steps)")
    ]


def _scans(size: int = 32) -> np.ndarray:
    """Six textured 'scans': a bright disc with a fine stripe texture inside, shifted a little."""
    y, x = np.mgrid[:size, :size].astype(np.float64)
    scans = []
    for k in range(6):
        cy, cx = size / 2 + (k % 3) - 1, size / 2 + (k // 3) - 0.5
        inside = (y - cy) ** 2 + (x - cx) ** 2 < (0.35 * size) ** 2
        texture = 0.6 + 0.25 * np.cos(2 * np.pi * (x + 0.3 * k) / 6.0) * np.cos(2 * np.pi * y / 7.0)
        scans.append(np.where(inside, texture, 0.0))
    return np.stack(scans)[..., None].astype(np.float32)


def test_the_gate_rejects_a_veil_of_noise_and_a_featureless_blob_by_their_spectrum():
    real = _scans()
    ref = reference(real)
    rng = np.random.default_rng(0)
    veiled = np.clip(real[:3] + rng.normal(0, 0.35, real[:3].shape), 0, 1).astype(np.float32)
    y, x = np.mgrid[:32, :32]
    blob = np.exp(-((y - 16.0) ** 2 + (x - 16.0) ** 2) / 60.0)[None, ..., None].astype(np.float32)
    noise = rng.uniform(size=(2, 32, 32, 1)).astype(np.float32)
    fragment = np.where(np.arange(32)[None, None, :, None] < 16, real[:2], 0.0).astype(np.float32)
    passed, _ = check(np.concatenate([veiled, blob, noise, fragment]), ref)
    assert not passed.any(), passed
    poses = np.asarray(augmented_real_set(jax.random.PRNGKey(3), real, 12, 12.0, 0.125))
    assert check(poses, ref)[0].all() and check(real, ref)[0].all()
    low, high = ref.spectral_range
    share = high_frequency_share(veiled)
    assert (share > high).all()  # the veil is what fails them, whatever the feature distance says
    assert high_frequency_share(blob)[0] < low
