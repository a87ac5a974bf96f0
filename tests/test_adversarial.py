"""What an adversarial user or a crafted file tries: outputs placed on inputs, tampered saved
generators and checkpoints, absurd requests, seeds past 32 bits, a file-size limit, folders with
surprises. Each ends in one clear error (or warning) and touches nothing of the user's."""

from __future__ import annotations

import json
import os
import pathlib
import resource
import shutil
import subprocess
import sys

import jax
import numpy as np
import pytest
from cli_options import FAST, SAMPLES
from typer.testing import CliRunner

from augment.cli.app import app
from augment.errors import AugmentError
from augment.gantk.generator.config import GeneratorConfig
from augment.gantk.generator.training import TrainedGenerator, parameter_layout
from augment.gantk.modes.base import ClassResult
from augment.io.folder import load_folder
from augment.run import synth as synth_module
from augment.run.checkpoint import load_checkpoint, save_checkpoint
from augment.run.generators import load_generators, save_generators
from augment.run.seed import MAX_SEED, root_key


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def copy_of_samples(tmp_path: pathlib.Path) -> pathlib.Path:
    folder = tmp_path / "scans"
    shutil.copytree(SAMPLES, folder)
    return folder


# -- outputs never land on inputs ----------------------------------------------------------------


def test_an_output_that_is_an_input_file_is_refused_and_the_input_kept(tmp_path):
    folder = copy_of_samples(tmp_path)
    victim = folder / "digit-0" / "0_00.png"
    before = victim.read_bytes()
    result = invoke("synth", folder, "--out", victim, "--format", "h5", "--overwrite", *FAST)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: --out {victim} is inside the input folder {folder}")
    assert victim.read_bytes() == before


@pytest.mark.parametrize("where", ["inside", "same", "holds"])
def test_an_output_inside_holding_or_equal_to_the_input_folder_is_refused(tmp_path, where):
    folder = copy_of_samples(tmp_path)
    out = {"inside": folder / "out.h5", "same": folder, "holds": tmp_path}[where]
    result = invoke("synth", folder, "--out", out, "--format", "h5" if where == "inside" else "png", *FAST)
    assert result.exit_code == 1 and result.stderr.startswith("error: --out ")
    assert "write somewhere else" in result.stderr


def test_a_report_inside_the_real_folder_is_refused(tmp_path):
    folder = copy_of_samples(tmp_path)
    result = invoke("evaluate", tmp_path / "any.h5", "--real", folder, "--report", folder / "report")
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: --report {folder}/report is inside the real folder {folder}; write somewhere else\n"
    )


# -- saved generators -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> pathlib.Path:
    """A saved generator of two classes (untrained weights: loading is what is tested)."""
    config = GeneratorConfig(steps=1)
    template, treedef = parameter_layout((8, 8, 1), config)
    params = jax.tree_util.tree_unflatten(treedef, [np.zeros(t.shape, np.float32) for t in template])
    generator = TrainedGenerator(params, (8, 8, 1), config, np.zeros(1, np.float32))
    folder = tmp_path_factory.mktemp("gen") / "gen"
    save_generators(folder, {"a": generator, "b": generator}, {"classes": [{"class_name": "a", "real": 3}]})
    return folder


def tampered(saved: pathlib.Path, tmp_path: pathlib.Path, change) -> pathlib.Path:
    folder = tmp_path / "gen"
    shutil.copytree(saved, folder)
    manifest = json.loads((folder / "generator.json").read_text())
    change(manifest, folder)
    (folder / "generator.json").write_text(json.dumps(manifest))
    return folder


def _class_name(value):
    return lambda m, folder: m["classes"][0].update(name=value)


def _weight_file(value):
    return lambda m, folder: m["classes"][0].update(file=value)


def _link_to_device(m, folder):
    os.symlink("/dev/zero", folder / "zero.npz")
    m["classes"][0]["file"] = "zero.npz"


@pytest.mark.parametrize(
    "change, message",
    [
        (_class_name("../../escape"), "class name '../../escape' is not a plain name"),
        (_class_name(".."), "is not a plain name"),
        (_class_name(7), "classes\\[0\\].name must be a str"),
        (_weight_file("/etc/passwd"), "is not a plain name"),
        (_weight_file("../gen/class-0.npz"), "is not a plain name"),
        (_link_to_device, "leads outside"),
        (lambda m, folder: m.pop("classes"), "has no 'classes'"),
        (lambda m, folder: m.update(image_shape=[8, 8, 7]), "image_shape"),
        (lambda m, folder: m.update(provenance="x"), "provenance must be a dict"),
        (lambda m, folder: m["classes"].append(dict(m["classes"][0])), "a class is listed twice"),
    ],
)
def test_a_tampered_saved_generator_is_one_clear_error(saved, tmp_path, change, message):
    folder = tampered(saved, tmp_path, change)
    with pytest.raises(AugmentError, match=message):
        load_generators(folder)


def test_sample_with_a_tampered_class_name_writes_nothing_outside_out(saved, tmp_path):
    folder = tampered(saved, tmp_path, _class_name("../../escape"))
    out = tmp_path / "deep" / "out"
    out.parent.mkdir()
    result = invoke("sample", folder, "--out", out, "--n", 2, "--format", "png")
    assert result.exit_code == 1 and "is not a plain name" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["deep", "gen"] and not out.exists()


def test_sample_into_the_generator_folder_is_refused(saved, tmp_path):
    result = invoke("sample", saved, "--out", saved / "more.h5", "--n", 2)
    assert result.exit_code == 1 and "is inside the generator folder" in result.stderr


# -- checkpoints ----------------------------------------------------------------------------------


def checkpoint(tmp_path: pathlib.Path) -> pathlib.Path:
    path = tmp_path / "o.h5.checkpoint.npz"
    result = ClassResult(
        np.zeros((2, 8, 8, 1), np.float32), np.zeros(2, np.float32), np.zeros((1, 3), np.float32), 1.0
    )
    save_checkpoint(path, "f" * 16, {0: result}, None)
    return path


def rewrite_meta(path: pathlib.Path, change) -> None:
    with np.load(path) as data:
        arrays = {k: data[k] for k in data.files}
    meta = json.loads(str(arrays["meta"]))
    arrays["meta"] = np.array(json.dumps(change(meta)))
    np.savez(path, **arrays)


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda m: [1, 2], "is not a checkpoint this augment can resume"),
        (lambda m: {**m, "fingerprint": 7}, "damaged \\(no fingerprint"),
        (lambda m: {**m, "finished": {"x": {}}}, "damaged \\(finished class 'x'\\)"),
        (
            lambda m: {**m, "finished": {"0": {"seconds": "soon", "generator_leaves": None}}},
            "class 0's record",
        ),
        (lambda m: {**m, "finished": {"3": m["finished"]["0"]}}, "class 3's arrays"),
        (lambda m: {**m, "current": {"class": "zero"}}, "the class under way"),
    ],
)
def test_a_crafted_checkpoint_is_one_clear_error(tmp_path, change, message):
    path = checkpoint(tmp_path)
    assert load_checkpoint(path, "f" * 16, lambda c, a: None)[0][0].images.shape == (2, 8, 8, 1)
    rewrite_meta(path, change)
    with pytest.raises(AugmentError, match=message):
        load_checkpoint(path, "f" * 16, lambda c, a: None)


# -- requests -------------------------------------------------------------------------------------


def test_seeds_are_distinct_over_64_bits_and_keep_their_32_bit_streams():
    assert np.array_equal(root_key(5), jax.random.PRNGKey(5))
    assert np.array_equal(root_key(2**32 - 1), jax.random.PRNGKey(2**32 - 1))
    keys = {
        tuple(np.asarray(root_key(s)).tolist()) for s in (0, 1, 2**32, 2**32 + 1, 2**63 - 1, 2**63, MAX_SEED)
    }
    assert len(keys) == 7


@pytest.mark.parametrize("seed", [-1, 2**64])
def test_a_seed_outside_64_bits_is_one_clear_line(tmp_path, seed):
    result = invoke("synth", SAMPLES, "--seed", seed, "--out", tmp_path / "o.h5", *FAST)
    assert result.exit_code == 1
    assert result.stderr == f"error: --seed must be a whole number from 0 to {MAX_SEED}, got {seed}\n"


def test_absurd_requests_are_refused_before_any_work(tmp_path, monkeypatch):
    def no_reading(*args, **kwargs):
        raise AssertionError("an absurd request went on to read or synthesise")

    monkeypatch.setattr(synth_module, "load_folder", no_reading)
    result = invoke("synth", SAMPLES, "--n", 10**9, "--out", tmp_path / "o.h5", *FAST)
    assert result.exit_code == 1 and result.stderr == "error: --n must be at most 1000000, got 1000000000\n"
    monkeypatch.undo()  # the per-class total is checked against the classes the folder holds ...
    monkeypatch.setattr(synth_module, "synthesize_classes", no_reading)  # ... before any synthesis
    result = invoke("synth", SAMPLES, "--per-class", 900_000, "--out", tmp_path / "o.h5", *FAST)
    assert result.exit_code == 1 and "is more than 1000000 images" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_class_named_like_the_png_manifest_fails_before_any_work(tmp_path):
    folder = tmp_path / "scans"
    shutil.copytree(SAMPLES / "digit-0", folder / "manifest.json")
    shutil.copytree(SAMPLES / "digit-1", folder / "one")
    result = invoke("synth", folder, "--out", tmp_path / "out", *FAST)
    assert result.exit_code == 1
    assert result.stderr == (
        "error: a class is named 'manifest.json', which PNG output uses for its own file; rename that "
        "folder or choose another --format\n"
    )


def test_empty_class_folders_and_broken_links_are_named(tmp_path):
    folder = copy_of_samples(tmp_path)
    (folder / "digit-9").mkdir()
    os.symlink(tmp_path / "gone.png", folder / "digit-0" / "lost.png")
    data = load_folder(folder)
    assert data.class_names == ("digit-0", "digit-1", "digit-7")
    assert data.notes == (
        "folder digit-9 holds no image; it is not a class",
        f"digit-0/lost.png is a link to nothing ({tmp_path}/gone.png); left out",
    )


@pytest.mark.slow
def test_a_file_size_limit_is_one_clear_line_and_keeps_the_run(tmp_path):
    out = tmp_path / "o.h5"

    def limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (6000, 6000))

    env = {**os.environ, "AUGMENT_CACHE_DIR": str(tmp_path / "cache")}
    command = [
        sys.executable,
        "-c",
        "from augment.cli.app import main; main()",
        "synth",
        str(SAMPLES),
        "--n",
        "30",
        "--out",
        str(out),
    ]
    result = subprocess.run([*command, *FAST], preexec_fn=limit, env=env, capture_output=True, text=True)
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "File too large" in lines[0]
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if ".partial" in p.name or p.name.endswith(".lock")]
