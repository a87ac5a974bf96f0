"""The quality gate: broken images are caught, usable ones pass, failures are re-synthesised or
dropped and counted, and a run reports it."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import h5py
import jax
import numpy as np
import pytest
from sklearn.datasets import load_digits
from typer.testing import CliRunner

from augment.cli.app import app
from augment.gantk.modes import ClassResult, ClassTask, Mode
from augment.gantk.placement import Placement
from augment.measures.realism import high_frequency_share
from augment.run.gate import GATE_ROUNDS, TESTS, check, gated, reference

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from suite_data import broken_kinds  # what broken images look like, shared with the benchmarks

GOLDEN = Path(__file__).resolve().parent / "golden" / "real_images.npz"


def real_sets() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Real classes as (training images, held-out images) in [0, 1]: MRI slices of two views and
    H&E tiles (tests/golden/real_images.npz, tools/make_real_images.py), and two digits."""
    sets = {}
    with np.load(GOLDEN) as stored:
        for name in stored.files:
            images = stored[name].astype(np.float32) / 255.0
            # the slices: 12 training then 8 held-out ones; the tiles, in raster order: alternate
            sets[name] = (images[0::2], images[1::2]) if name == "he" else (images[:12], images[12:])
    data = load_digits()
    for digit in (0, 7):
        images = (data.images[data.target == digit] / 16.0)[..., None].astype(np.float32)
        sets[f"digit {digit}"] = (images[:6], images[6:40])
    return sets


REAL = real_sets()


@pytest.mark.parametrize("name", [name for name in REAL if not name.startswith("digit")])
def test_every_broken_kind_fails_and_every_real_image_passes(name):
    train, holdout = REAL[name]
    ref = reference(train)
    assert check(train, ref)[0].all()
    passed, failed = check(holdout, ref)
    assert passed.all(), {test: int(v.sum()) for test, v in failed.items()}
    for kind, images in broken_kinds(train).items():
        passed, failed = check(images, ref)
        assert not passed.any(), (kind, {test: int(v.sum()) for test, v in failed.items()})
    # the verdicts are a fixed function of the real images
    assert reference(train).threshold == ref.threshold


@pytest.mark.parametrize("name", sorted(REAL))
def test_each_real_image_passes_the_gate_of_the_others(name):
    """Left out of its class's reference, every real image still passes: the margins are wide
    enough for a real image the reference has not seen."""
    train, _ = REAL[name]
    for i in range(len(train)):
        ref = reference(np.delete(train, i, axis=0))
        passed, failed = check(train[i : i + 1], ref)
        assert passed.all(), (i, {test: bool(v[0]) for test, v in failed.items()})


@pytest.mark.parametrize("name", ["digit 0", "digit 7"])
def test_noise_fails_on_8_pixel_digits_too(name):
    """At 8 px the other kinds are hardly broken (a blur of half a pixel); noise still is."""
    train, _ = REAL[name]
    noise = np.random.default_rng(8).uniform(size=(40, *train.shape[1:])).astype(np.float32)
    passed, failed = check(noise, reference(train))
    assert not passed.any(), {test: int(v.sum()) for test, v in failed.items()}


def test_the_broken_kinds_fail_the_test_that_names_them():
    train, _ = REAL["coronal_frontal"]
    ref = reference(train)
    kinds = broken_kinds(train)
    assert check(kinds["blob"], ref)[1]["blurred"].all()
    assert check(kinds["mean blob"], ref)[1]["blurred"].all()
    assert check(kinds["veil"], ref)[1]["noisy"].all()
    assert check(kinds["noise"], ref)[1]["noisy"].all()
    he, _ = REAL["he"]
    assert check(broken_kinds(he)["colour noise"], reference(he))[1]["colour"].all()


def test_noise_at_178_percent_of_the_real_fine_detail_fails():
    """A veil just strong enough to raise the fine-detail share to 1.78 times the most detailed
    real image's is noisy: the band is not so wide that it passes."""
    train, _ = REAL["sagittal_medial"]
    ref = reference(train)
    rng = np.random.default_rng(4)
    most = high_frequency_share(train).max()
    for sigma in np.linspace(0.005, 0.05, 46):
        veiled = np.clip(train + rng.normal(0, sigma, train.shape), 0, 1).astype(np.float32)
        share = high_frequency_share(veiled)
        if np.all(share >= 1.78 * most):
            break
    assert np.all(share >= 1.78 * most)  # the weakest veil of the sweep that puts every image beyond
    assert check(veiled, ref)[1]["noisy"].all()


def test_a_grey_image_in_a_colour_class_fails_on_colour():
    he, _ = REAL["he"]
    grey = np.repeat(he.mean(axis=-1, keepdims=True), 3, axis=-1)
    passed, failed = check(grey, reference(he))
    assert failed["colour"].all() and not passed.any()


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


def test_failures_are_replaced_by_passing_images_and_the_rest_dropped():
    real, good = REAL["coronal_frontal"]
    bad = broken_kinds(real, seed=1)["noise"]
    first = ClassResult(
        np.concatenate([good[:5], bad[:3]]), np.arange(8, dtype=np.float32), np.zeros((1, 3)), 1.0
    )
    # round 1 gives one good and two broken replacements, round 2 one good and one broken
    mode = _Scripted([np.concatenate([good[5:6], bad[3:5]]), np.concatenate([good[6:7], bad[5:6]])])
    result = gated(mode, None, _task(real, 8), first, real)
    assert mode.asked == [3, 2] and len(mode.asked) == GATE_ROUNDS
    assert result.gate == {
        "checked": 13, "rejected": 6, "first_rejected": 3, "resynthesised": 5, "dropped": 1,
        "failed": {"blurred": 0, "noisy": 6, "intensity": 6, "colour": 0, "structure": 6},
    }  # fmt: skip
    np.testing.assert_array_equal(result.images, np.concatenate([good[:5], good[5:7]]))
    np.testing.assert_array_equal(
        result.realness[:5], np.arange(5, dtype=np.float32)
    )  # the passing ones kept theirs


def test_a_mostly_broken_class_gets_the_closing_warning_and_the_others_none():
    from augment.run.messages import broken_warning
    from augment.run.request import ClassSummary

    gated = ClassSummary("frontal", 12, 12, 0.7, 1.0, rejected=20, dropped=0, checked=36)
    assert broken_warning(gated) == (
        "class 'frontal': the quality gate rejected 20 of the 36 images it checked (56%): most of what "
        "it makes is broken; look at the images before using them"
    )
    ungated = ClassSummary("occipital", 12, 10, 0.7, 1.0, blurred=4, noisy=2)
    assert broken_warning(ungated) == (
        "class 'occipital': 6 of its 10 images (60%) are blurred (4) or noisy (2): most of what it makes "
        "is broken; look at the images before using them"
    )
    assert broken_warning(ClassSummary("fine", 12, 12, 0.7, 1.0, rejected=18, checked=36)) is None


@pytest.mark.slow
def test_synth_reports_the_gate_in_its_summary_and_provenance(tmp_path):
    from pathlib import Path

    samples = Path(__file__).resolve().parent.parent / "samples" / "digits"
    out = tmp_path / "o.h5"
    command = ["synth", str(samples), "--n", "6", "--steps", "150", "--out", str(out)]
    result = CliRunner().invoke(app, command, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "rejected" in result.stderr and "blur/noise" in result.stderr
    with h5py.File(out) as f:
        provenance = json.loads(f["provenance"][()])
        written = len(f["images"])
    gate = provenance["quality_gate"]
    assert gate["applied"] is True and "re-synthesised" in gate["rule"]
    per_class = [c["gate"] for c in provenance["classes"]]
    assert gate["dropped"] == sum(c["dropped"] for c in per_class) == 6 - written
    assert all(c["checked"] >= 2 and set(c["failed"]) == set(TESTS) for c in per_class)
    for c in provenance["classes"]:  # the table's row of each class
        gate_cell = f"{c['rejected']}/{c['checked']} {c['rejected'] / c['checked']:.0%}"
        assert gate_cell in result.stderr and c["gate"]["checked"] == c["checked"]
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
