"""Generator mode end to end through CliRunner: `synth --mode generator --save-generator`, its
checkpoint and --resume, `augment sample` (determinism, provenance link), and its error lines."""

from __future__ import annotations

import hashlib
import json
import pathlib

import jax
import numpy as np
import pytest
from cli_options import SAMPLES
from typer.testing import CliRunner
from unwritable import unwritable_even_for_root

import augment.run.synth
from augment.cli.app import app
from augment.gantk.generator.sampling import sample
from augment.gantk.modes.polish import POLISH_STREAM, polish
from augment.io.dataset import stored_form, to_integer_pixels
from augment.io.folder import load_folder
from augment.io.writers import read_output
from augment.measures.quality import leave_one_out_threshold, nearest_real
from augment.run.checkpoint import checkpoint_path
from augment.run.generators import load_generators

pytestmark = pytest.mark.slow  # every test here trains generators end to end through the CLI

# 30 steps are two chunks (25 + 5), so an interruption can fall inside a class's training.
OPTIONS = [
    "--mode",
    "generator",
    "--steps",
    "30",
    "--n",
    "9",
    "--seed",
    "1",
    "--checkpoint-every",
    "0",
    "--quiet",
    "--no-quality-gate",  # 30 steps make blurry samples; the gate has its own tests
]


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def leaves(path: pathlib.Path, name: str) -> list[np.ndarray]:
    return jax.tree_util.tree_leaves(load_generators(path).generators[name].params)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One uninterrupted generator-mode run with its saved generators."""
    folder = tmp_path_factory.mktemp("generator")
    result = invoke("synth", SAMPLES, "--out", folder / "g.h5", "--save-generator", folder / "gen", *OPTIONS)
    assert result.exit_code == 0, result.output
    return folder


def test_generator_mode_writes_the_dataset_and_the_generators(trained):
    written = read_output(trained / "g.h5")
    assert written.images.shape == (9, 8, 8, 1) and written.images.dtype == np.uint8
    assert written.labels.tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    assert np.all(np.isfinite(written.realness)) and np.all((written.realness > -1) & (written.realness < 2))
    p = written.provenance
    assert p["mode"] == "generator"
    assert p["config"]["steps"] == 30 and p["config"]["z_dim"] == 64 and p["config"]["batch_size"] == 64
    assert p["classes"][0]["loss"]["steps"] == 30 and p["classes"][0]["loss"]["problems"] == 1
    manifest = (trained / "gen" / "generator.json").read_bytes()
    assert p["generator"] == {
        "path": str((trained / "gen").resolve()),
        "manifest_sha256": hashlib.sha256(manifest).hexdigest(),
    }
    saved = load_generators(trained / "gen")
    assert list(saved.generators) == ["digit-0", "digit-1", "digit-7"]
    training = saved.manifest["provenance"]
    assert training["run_id"] == p["run_id"] and training["inputs"] == p["inputs"] and training["seed"] == 1
    assert "quality" not in training and "format" not in training  # how it was trained, not the output
    # the images written are the saved generators' first samples (of whole batches of 64) that keep
    # the novelty floor (generator mode's default up to 16 px, direct mode's: the 60th percentile of
    # the real images' nearest distances), polished by 50 direct-mode steps under the same floor
    floor = p["novelty_floor"]
    real = load_folder(SAMPLES, size=8)
    assert floor["percentile"] == 60.0 and floor["too_close"] == 0
    assert floor["distance"] == pytest.approx(leave_one_out_threshold(stored_form(real.images, 8), 60.0))
    assert p["config"]["polish_steps"] == 50
    sample_key = jax.random.split(jax.random.fold_in(jax.random.PRNGKey(1), 2))[1]
    pool = sample(saved.generators["digit-7"], 64, jax.random.split(sample_key)[0])
    sevens = real.images[real.labels == 2]
    far_enough = pool[nearest_real(pool, sevens)[1] >= floor["distance"]]
    polish_key = jax.random.fold_in(sample_key, POLISH_STREAM)
    polished = polish(far_enough[:3], 3, sevens, 50, polish_key, floor["distance"])
    np.testing.assert_array_equal(written.images[6:], to_integer_pixels(polished, 8))
    assert not np.array_equal(written.images[6:], to_integer_pixels(far_enough[:3], 8))
    shown = invoke("inspect", trained / "g.h5")
    assert "mode generator" in shown.stdout and f"generator: {(trained / 'gen').resolve()}" in shown.stdout


def test_an_interrupted_generator_run_resumes_to_the_uninterrupted_result(trained, tmp_path, monkeypatch):
    original, calls = augment.run.synth.save_checkpoint, []

    def save_then_stop(path, fingerprint, finished, current):
        original(path, fingerprint, finished, current)
        calls.append(current)
        if len(calls) == 4:  # class 0: after 25 steps, 30 steps, finished; class 1: after 25 steps
            raise KeyboardInterrupt

    out = tmp_path / "g.h5"
    monkeypatch.setattr(augment.run.synth, "save_checkpoint", save_then_stop)
    result = invoke("synth", SAMPLES, "--out", out, "--save-generator", tmp_path / "gen", *OPTIONS)
    assert result.exit_code == 130
    assert not out.exists() and not (tmp_path / "gen").exists()
    class_under_way, snapshot, _ = calls[-1]
    assert class_under_way == 1 and len(snapshot.history) == 25
    monkeypatch.undo()

    result = invoke(
        "synth", SAMPLES, "--out", out, "--save-generator", tmp_path / "gen", "--resume", *OPTIONS
    )
    assert result.exit_code == 0, result.output
    assert not checkpoint_path(out).exists()
    resumed, whole = read_output(out), read_output(trained / "g.h5")
    np.testing.assert_array_equal(resumed.images, whole.images)
    np.testing.assert_array_equal(resumed.realness, whole.realness)
    assert resumed.provenance["resumed"] is True
    for name in ("digit-0", "digit-1", "digit-7"):
        for a, b in zip(leaves(tmp_path / "gen", name), leaves(trained / "gen", name), strict=True):
            np.testing.assert_array_equal(a, b)


def test_sample_draws_the_same_images_for_the_same_seed_and_links_the_generator(trained, tmp_path):
    gen = trained / "gen"
    for name, seed in (("a.h5", 3), ("b.h5", 3), ("c.h5", 4)):
        result = invoke("sample", gen, "--n", 7, "--out", tmp_path / name, "--seed", seed, "--quiet")
        assert result.exit_code == 0, result.output
    a, b, c = (read_output(tmp_path / name) for name in ("a.h5", "b.h5", "c.h5"))
    np.testing.assert_array_equal(a.images, b.images)
    assert not np.array_equal(a.images, c.images)
    assert a.labels.tolist() == [0, 0, 0, 1, 1, 2, 2]  # 7 split by the training counts (6, 6, 6)
    saved = load_generators(gen)
    expected = sample(saved.generators["digit-1"], 2, jax.random.fold_in(jax.random.PRNGKey(3), 1))
    np.testing.assert_array_equal(a.images[3:5], to_integer_pixels(expected, 8))
    assert np.all(np.isnan(a.realness)) and np.all(a.nearest_real_index == -1) and not a.near_copy.any()
    assert a.real_sources.shape == (0, 2)
    p = a.provenance
    assert p["mode"] == "sample" and p["seed"] == 3 and p["working_size"] == [8, 8, 1]
    assert p["generator"]["path"] == str(gen.resolve())
    assert (
        p["generator"]["manifest_sha256"] == hashlib.sha256((gen / "generator.json").read_bytes()).hexdigest()
    )
    assert p["generator"]["training"] == saved.manifest["provenance"]
    assert p["quality"]["computed"] is False

    result = invoke("sample", gen, "--per-class", 2, "--out", tmp_path / "pngs", "--quiet")
    assert result.exit_code == 0, result.output
    assert sorted(str(f.relative_to(tmp_path / "pngs")) for f in (tmp_path / "pngs").rglob("*.png")) == [
        "digit-0/digit-0_00000.png", "digit-0/digit-0_00001.png", "digit-1/digit-1_00000.png",
        "digit-1/digit-1_00001.png", "digit-7/digit-7_00000.png", "digit-7/digit-7_00001.png",
    ]  # fmt: skip
    shown = invoke("inspect", tmp_path / "pngs")
    assert "mode sample" in shown.stdout and "2 synthetic from 6 real" in shown.stdout
    assert "quality: not computed (sampled without the real data" in shown.stdout
    # the novelty figures come from evaluate against the training folder
    figures = json.loads(invoke("evaluate", tmp_path / "a.h5", "--real", SAMPLES, "--json").stdout)
    assert figures["privacy"]["near_copy_fraction"] == 0.0


def test_generator_mistakes_are_one_clear_line(trained, tmp_path):
    gen = trained / "gen"
    cases = [
        (["synth", SAMPLES, "--out", tmp_path / "o.h5", "--save-generator", tmp_path / "g"],
         "error: --save-generator needs --mode generator (direct mode trains no generator)\n"),
        (["synth", SAMPLES, "--out", tmp_path / "o.h5", "--mode", "generator", "--no-novelty-stop"],
         "error: --novelty-stop does not apply to --mode generator\n"),
        (["synth", SAMPLES, "--out", tmp_path / "o.h5", "--mode", "gan"],
         "error: --mode must be direct or generator, got 'gan'\n"),
        (["synth", SAMPLES, "--out", tmp_path / "o.h5", "--mode", "generator", "--save-generator", gen],
         f"error: {gen} already exists; pass --overwrite to replace it\n"),
        (["synth", SAMPLES, "--out", tmp_path / "o.h5", "--mode", "generator", "--save-generator", SAMPLES,
          "--overwrite"], f"error: {SAMPLES} was not written by augment; refusing to replace it\n"),
        (["sample", SAMPLES, "--out", tmp_path / "o.h5"],
         f"error: {SAMPLES} is not a saved generator (no generator.json)\n"),
        (["sample", gen, "--out", trained / "g.h5"],
         f"error: {trained / 'g.h5'} already exists; pass --overwrite to replace it\n"),
        (["sample", gen, "--out", tmp_path / "o.h5", "--n", 0], "error: --n must be at least 1, got 0\n"),
        (["sample", gen, "--out", tmp_path / "o.h5", "--n", 3, "--per-class", 1],
         "error: give --n or --per-class, not both\n"),
    ]  # fmt: skip
    for args, message in cases:
        result = invoke(*args)
        assert (result.exit_code, result.stderr) == (1, message), args
    assert list(tmp_path.iterdir()) == []

    damaged = tmp_path / "damaged"
    damaged.mkdir()
    for f in gen.iterdir():
        (damaged / f.name).write_bytes(f.read_bytes())
    weights = damaged / "class-1.npz"
    weights.write_bytes(weights.read_bytes()[:-10])
    result = invoke("sample", damaged, "--out", tmp_path / "o.h5")
    assert result.exit_code == 1
    assert result.stderr == f"error: {weights} is damaged or was replaced (sha256 differs)\n"
    assert not (tmp_path / "o.h5").exists()


@pytest.mark.skipif(unwritable_even_for_root() is None, reason="no folder refuses writes here")
def test_a_generator_folder_that_cannot_be_written_is_caught_before_any_work(tmp_path):
    folder = unwritable_even_for_root() / "gen"
    result = invoke("synth", SAMPLES, "--out", tmp_path / "o.h5", "--save-generator", folder, *OPTIONS)
    assert (result.exit_code, result.stderr) == (1, f"error: cannot write {folder}: Permission denied\n")
    assert list(tmp_path.iterdir()) == []  # refused before any training
