"""The `augment synth` command end to end, through Typer's CliRunner, and its HDF5 output."""

from __future__ import annotations

import hashlib
import json
import pathlib

import h5py
import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from augment.cli.app import app
from augment.pipeline import split_across_classes

SAMPLES = pathlib.Path(__file__).resolve().parent.parent / "samples" / "digits"
FAST = ["--steps", "6", "--batch-size", "8", "--quiet"]


@pytest.fixture
def runner():
    return CliRunner()


def test_synth_on_the_bundled_samples_writes_a_complete_file(runner, tmp_path):
    out = tmp_path / "digits.h5"
    result = runner.invoke(app, ["synth", str(SAMPLES), "--n", "10", "--out", str(out), *FAST])
    assert result.exit_code == 0, result.output
    with h5py.File(out) as f:
        assert f.attrs["format"] == "augment.synthetic"
        assert f.attrs["format_version"] == "0.1"
        images, labels = f["images"][:], f["labels"][:]
        assert images.shape == (10, 8, 8, 1) and images.dtype == np.uint8
        assert [s.decode() for s in f["class_names"][:]] == ["digit-0", "digit-1", "digit-7"]
        assert sorted(np.bincount(labels).tolist()) == [3, 3, 4]  # 10 split over 6 + 6 + 6 real
        assert f["realness"].shape == (10,)
        provenance = json.loads(f["provenance"][()])
    assert provenance["seed"] == 0 and provenance["config"]["steps"] == 6
    assert provenance["working_size"] == [8, 8, 1]
    first = provenance["inputs"][0]
    data = (SAMPLES / first["path"]).read_bytes()
    assert first["sha256"] == hashlib.sha256(data).hexdigest() and first["class_name"] == "digit-0"
    assert len(provenance["inputs"]) == 18
    assert not list(tmp_path.glob(".*partial"))  # no temporary file left behind


def test_same_seed_gives_identical_images(runner, tmp_path):
    outs = [tmp_path / "a.h5", tmp_path / "b.h5"]
    for out in outs:
        result = runner.invoke(app, ["synth", str(SAMPLES), "--n", "6", "--out", str(out), "--seed", "3", *FAST])
        assert result.exit_code == 0, result.output
    with h5py.File(outs[0]) as a, h5py.File(outs[1]) as b:
        np.testing.assert_array_equal(a["images"][:], b["images"][:])


def test_existing_output_is_left_untouched_without_overwrite(runner, tmp_path):
    out = tmp_path / "taken.h5"
    out.write_bytes(b"precious")
    result = runner.invoke(app, ["synth", str(SAMPLES), "--n", "3", "--out", str(out), *FAST])
    assert result.exit_code == 1
    assert result.stderr == f"error: {out} already exists; pass --overwrite to replace it\n"
    assert out.read_bytes() == b"precious"


@pytest.mark.parametrize(
    "make, expected",
    [
        (lambda d: d / "missing", "error: input folder not found: {d}/missing\n"),
        (lambda d: (d / "file.png").write_bytes(b"x") and d / "file.png",
         "error: input must be a folder of images, got a file: {d}/file.png\n"),
        (lambda d: (d / "empty").mkdir() or d / "empty",
         "error: no images in {d}/empty (looked for .bmp, .jpeg, .jpg, .png, .tif, .tiff directly "
         "inside it and in its sub-folders)\n"),
    ],
    ids=["missing", "file", "empty"],
)
def test_bad_input_is_one_clear_line(runner, tmp_path, make, expected):
    path = make(tmp_path)
    result = runner.invoke(app, ["synth", str(path), "--out", str(tmp_path / "o.h5"), *FAST])
    assert result.exit_code == 1
    assert result.stderr == expected.format(d=tmp_path)
    assert "Traceback" not in result.output


def test_unreadable_file_is_named(runner, tmp_path):
    folder = tmp_path / "scans"
    folder.mkdir()
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(folder / "good.png")
    (folder / "broken.png").write_bytes(b"")
    result = runner.invoke(app, ["synth", str(folder), "--out", str(tmp_path / "o.h5"), *FAST])
    assert result.exit_code == 1
    assert result.stderr == f"error: cannot read {folder}/broken.png: empty file\n"


def test_non_positive_n_and_too_small_size(runner, tmp_path):
    result = runner.invoke(app, ["synth", str(SAMPLES), "--n", "0", "--out", str(tmp_path / "o.h5"), *FAST])
    assert result.exit_code == 1 and result.stderr == "error: --n must be at least 1, got 0\n"
    result = runner.invoke(
        app, ["synth", str(SAMPLES), "--size", "4", "--out", str(tmp_path / "o.h5"), *FAST]
    )
    assert result.exit_code == 1
    assert result.stderr == (
        "error: working size 4 is too small for the paper-gray discriminator (needs at least 8x8)\n"
    )
    assert not (tmp_path / "o.h5").exists()


def test_mixed_sizes_and_modes_are_brought_to_one_working_size(runner, tmp_path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (20, 12), dtype=np.uint8)).save(folder / "gray.png")
    Image.fromarray(rng.integers(0, 255, (16, 16, 3), dtype=np.uint8)).save(folder / "colour.png")
    Image.fromarray(rng.integers(0, 65535, (10, 14), dtype=np.uint16)).save(folder / "deep.png")
    out = tmp_path / "o.h5"
    result = runner.invoke(app, ["synth", str(folder), "--n", "2", "--size", "8", "--out", str(out), *FAST])
    assert result.exit_code == 0, result.output
    with h5py.File(out) as f:
        assert f["images"].shape == (2, 8, 8, 3)  # one colour input makes channels auto = 3
        assert f["images"].dtype == np.uint16  # a 16-bit input keeps 16-bit output
        assert [s.decode() for s in f["class_names"][:]] == ["mixed"]


def test_split_across_classes():
    assert split_across_classes(10, [6, 6, 6]) == [4, 3, 3]
    assert split_across_classes(100, [90, 10]) == [89, 11]
    assert split_across_classes(2, [5, 5, 5]) == [1, 1, 1]
    assert sum(split_across_classes(500, [3, 17, 120, 1])) == 500


def test_version(runner):
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.stdout.startswith("augment ")


def test_the_cli_folder_installs_as_augment_cli_not_as_a_top_level_module():
    import site

    import augment.cli

    assert pathlib.Path(augment.cli.__file__).parent.name == "cli"
    for directory in site.getsitepackages():
        assert not (pathlib.Path(directory) / "cli").exists()
        assert not (pathlib.Path(directory) / "cli.py").exists()


@pytest.mark.parametrize(
    "options, expected",
    [
        (["--channels", "2", "--out", "{d}/o.h5"], "error: --channels must be auto, 1 or 3, got '2'\n"),
        (["--out", "{d}/nowhere/o.h5"], "error: cannot write {d}/nowhere/o.h5: folder {d}/nowhere does not exist\n"),
        (["--out", "{d}", "--overwrite"], "error: {d} is a folder; give a file path ending in .h5\n"),
    ],
    ids=["channels", "missing-output-folder", "output-is-a-folder"],
)
def test_bad_options_and_unwritable_outputs_are_one_clear_line(runner, tmp_path, options, expected):
    options = [o.format(d=tmp_path) for o in options]
    result = runner.invoke(app, ["synth", str(SAMPLES), "--n", "3", *options, *FAST])
    assert result.exit_code == 1
    assert result.stderr == expected.format(d=tmp_path)
