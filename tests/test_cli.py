"""`augment synth` and `augment inspect` end to end through Typer's CliRunner: outputs, options,
and one exact error line (exit code 1, no traceback) for every user mistake."""

from __future__ import annotations

import hashlib
import json
import os
import pathlib
import shutil

import h5py
import jax
import numpy as np
import pydicom
import pytest
from cli_options import FAST, SAMPLES
from PIL import Image
from typer.testing import CliRunner
from unwritable import unwritable_even_for_root

from augment.cli.app import app
from augment.gantk.direct import synthesis as direct_synthesis
from augment.io.dataset import FORMAT_VERSION
from augment.run.checkpoint import checkpoint_path
from augment.run.counts import split_across_classes

DICOM_FILES = pathlib.Path(pydicom.__file__).parent / "data" / "test_files"
# --n 3 over the three sample classes is one image per class: every test below that uses it with
# FAST shares one compilation (one synthetic image against six real ones).


@pytest.fixture
def runner():
    return CliRunner()


def synth(runner, *args):
    return runner.invoke(app, ["synth", *map(str, args)])


@pytest.mark.slow
def test_synth_on_the_bundled_samples_writes_a_complete_file(runner, tmp_path):
    out = tmp_path / "digits.h5"
    result = synth(runner, SAMPLES, "--n", 3, "--out", out, *FAST)
    assert result.exit_code == 0, result.output
    # --quiet: nothing but the warning a run ends with for each class whose images are mostly broken
    # (six steps leave noise)
    assert result.stdout == "" and result.stderr == "".join(
        f"warning: class 'digit-{d}': 1 of its 1 images (100%) are blurred (0) or noisy (1): most of what it "
        "makes is broken; look at the images before using them\n"
        for d in (0, 1, 7)
    )
    with h5py.File(out) as f:
        assert f.attrs["format"] == "augment.synthetic"
        assert f.attrs["format_version"] == FORMAT_VERSION
        images, labels = f["images"][:], f["labels"][:]
        assert images.shape == (3, 8, 8, 1) and images.dtype == np.uint8
        assert labels.tolist() == [0, 1, 2]
        assert [s.decode() for s in f["class_names"][:]] == ["digit-0", "digit-1", "digit-7"]
        assert f["realness"].shape == (3,)
        assert f["real_sources"].shape == (18, 2)
        nearest, distance = f["nearest_real_index"][:], f["nearest_real_distance"][:]
        provenance = json.loads(f["provenance"][()])
    # the stored nearest-real figures agree with a brute-force search over the real files
    real = np.stack(
        [np.asarray(Image.open(SAMPLES / i["path"]), np.float64) / 255 for i in provenance["inputs"]]
    )
    brute = np.sqrt(((images[:, None, ..., 0] / 255.0 - real[None]) ** 2).mean(axis=(2, 3)))
    np.testing.assert_array_equal(nearest, brute.argmin(1))
    np.testing.assert_allclose(distance, brute.min(1), rtol=1e-5)

    assert provenance["seed"] == 0 and provenance["config"]["steps"] == 6 and provenance["mode"] == "direct"
    assert set(provenance["versions"]) >= {"augment", "jax", "jaxlib", "numpy", "python"}
    assert provenance["working_size"] == [8, 8, 1] and provenance["device"] == str(jax.devices()[0])
    assert provenance["command_line"][0] == "augment"  # then this process's arguments (pytest's here)
    first = provenance["inputs"][0]
    data = (SAMPLES / first["path"]).read_bytes()
    assert first == {
        "path": "digit-0/0_00.png",
        "class_name": "digit-0",
        "sha256": hashlib.sha256(data).hexdigest(),
        "bytes": len(data),
        "frames": 1,
    }
    assert len(provenance["inputs"]) == 18
    loss = provenance["classes"][0]["loss"]
    assert loss["steps"] == 6 and loss["curve"][-1][0] == 6 and loss["final"] == loss["curve"][-1][1]
    assert provenance["started"] <= provenance["finished"]
    # direct mode's novelty floor: the 60th percentile of the real images' nearest-other distances
    floor = provenance["novelty_floor"]
    assert floor["percentile"] == 60.0 and floor["too_close"] == 0 and floor["applied"] is True
    between = np.sqrt(((real[:, None] - real[None]) ** 2).mean(axis=(2, 3)))
    np.fill_diagonal(between, np.inf)
    assert floor["distance"] == pytest.approx(np.percentile(between.min(1), 60.0), rel=1e-5)
    assert floor["distance"] > provenance["quality"]["near_copy_threshold"]  # the 5th percentile's
    assert (distance >= floor["distance"]).all()
    assert not list(tmp_path.glob(".*")) and not checkpoint_path(out).exists()  # nothing left behind


@pytest.mark.slow
def test_same_seed_gives_identical_images(runner, tmp_path):
    outs = [tmp_path / "a.h5", tmp_path / "b.h5", tmp_path / "c.h5"]
    for out, seed in zip(outs, [3, 3, 4], strict=True):
        result = synth(runner, SAMPLES, "--n", 3, "--out", out, "--seed", seed, *FAST)
        assert result.exit_code == 0, result.output
    with h5py.File(outs[0]) as a, h5py.File(outs[1]) as b, h5py.File(outs[2]) as c:
        np.testing.assert_array_equal(a["images"][:], b["images"][:])
        assert not np.array_equal(a["images"][:], c["images"][:])


@pytest.mark.slow
def test_png_output_is_an_image_folder_and_inspect_reads_it(runner, tmp_path):
    out = tmp_path / "pngs"
    result = synth(runner, SAMPLES, "--per-class", 2, "--out", out, *FAST)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["digit-0", "digit-1", "digit-7", "manifest.json"]
    assert sorted(p.name for p in (out / "digit-1").iterdir()) == ["digit-1_00000.png", "digit-1_00001.png"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["provenance"]["config"]["per_class"] == 2 and len(manifest["images"]) == 6
    with Image.open(out / "digit-7" / "digit-7_00001.png") as image:
        assert image.size == (8, 8)
        tag = json.loads(image.text["augment"])
    assert tag == {"run": manifest["provenance"]["run_id"], "index": 5, "class": "digit-7"}

    shown = runner.invoke(app, ["inspect", str(out)])
    assert shown.exit_code == 0, shown.output
    assert f"{out}: augment.synthetic {FORMAT_VERSION} (PNG folder), mode direct" in shown.stdout
    assert "images: 6 of 8x8x1 uint8" in shown.stdout
    assert "  digit-1  2 synthetic from 6 real" in shown.stdout
    assert "inputs: 18 files, 0 skipped" in shown.stdout
    assert "quality: realness mean" in shown.stdout
    as_json = runner.invoke(app, ["inspect", str(out), "--json"])
    assert json.loads(as_json.stdout) == manifest["provenance"]


@pytest.mark.slow
def test_inspect_an_h5_file_and_the_default_output_name(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = synth(runner, SAMPLES, "--n", 3, *FAST)
    assert result.exit_code == 0, result.output
    out = tmp_path / "digits-synthetic.h5"
    assert out.is_file()
    shown = runner.invoke(app, ["inspect", str(out)])
    assert shown.exit_code == 0 and "(HDF5)" in shown.stdout and "seed: 0;" in shown.stdout
    assert "near-copies: " in shown.stdout and "privacy ratio" in shown.stdout
    with h5py.File(out) as f:
        assert json.loads(runner.invoke(app, ["inspect", str(out), "--json"]).stdout) == json.loads(
            f["provenance"][()]
        )
    bad = runner.invoke(app, ["inspect", str(tmp_path / "nothing.h5")])
    assert bad.exit_code == 1 and bad.stderr == f"error: not found: {tmp_path}/nothing.h5\n"


@pytest.mark.slow
def test_progress_summary_and_verbose(runner, tmp_path):
    options = ["--n", 3, "--steps", 6, "--batch-size", 8, "--verbose"]
    result = synth(runner, SAMPLES, "--out", tmp_path / "o.h5", *options, "--no-quality-gate")
    assert result.exit_code == 0, result.output
    assert "working size 8x8x1, 8-bit" in result.stderr
    assert "class digit-1: 6 real images -> 1 synthetic" in result.stderr
    assert "wrote" in result.stderr and "dropped" in result.stderr  # the summary table
    # six steps leave noise: the quality gate rejects every image, re-synthesis too, and says so
    gated = synth(runner, SAMPLES, "--out", tmp_path / "gated.h5", *options)
    assert gated.exit_code == 1 and not (tmp_path / "gated.h5").exists()
    assert gated.stderr.splitlines()[-1] == (
        "error: no synthetic image passed the quality gate (every one was blurred, noisy or unlike its "
        "class's real images); raise --steps, or pass --no-quality-gate to keep them anyway"
    )


@pytest.mark.slow
def test_existing_output_is_left_untouched_and_only_augments_own_is_overwritten(runner, tmp_path):
    out = tmp_path / "taken.h5"
    out.write_bytes(b"precious")
    result = synth(runner, SAMPLES, "--n", 3, "--out", out, *FAST)
    assert result.exit_code == 1
    assert result.stderr == f"error: {out} already exists; pass --overwrite to replace it\n"
    assert out.read_bytes() == b"precious"
    result = synth(runner, SAMPLES, "--n", 3, "--out", out, "--overwrite", *FAST)
    assert result.exit_code == 1  # not even with --overwrite: augment did not write it
    assert result.stderr == f"error: {out} was not written by augment; refusing to replace it\n"
    assert out.read_bytes() == b"precious"
    ours = tmp_path / "ours.h5"
    assert synth(runner, SAMPLES, "--n", 3, "--out", ours, *FAST).exit_code == 0
    result = synth(runner, SAMPLES, "--n", 3, "--out", ours, "--overwrite", "--seed", 1, *FAST)
    assert result.exit_code == 0 and h5py.File(ours)["images"].shape[0] == 3


@pytest.mark.parametrize(
    "make, expected",
    [
        (lambda d: d / "missing", "error: input folder not found: {d}/missing\n"),
        (
            lambda d: (d / "file.png").write_bytes(b"x") and d / "file.png",
            "error: input must be a folder of images, got a file: {d}/file.png\n",
        ),
        (
            lambda d: (d / "empty").mkdir() or d / "empty",
            "error: no images in {d}/empty (looked for .bmp, .dcm, .dicom, .jpeg, .jpg, .nii, .nii.gz, .png, "
            ".tif, .tiff and DICOM files directly inside it and in its sub-folders)\n",
        ),
        (
            lambda d: (d / "notes").mkdir() or ((d / "notes" / "a.txt").write_text("x") and d / "notes"),
            "error: no images in {d}/notes (looked for .bmp, .dcm, .dicom, .jpeg, .jpg, .nii, .nii.gz, .png, "
            ".tif, .tiff and DICOM files directly inside it and in its sub-folders)\n",
        ),
    ],
    ids=["missing", "file", "empty", "no-images"],
)
def test_bad_input_is_one_clear_line(runner, tmp_path, make, expected):
    path = make(tmp_path)
    result = synth(runner, path, "--out", tmp_path / "o.h5", *FAST)
    assert result.exit_code == 1
    assert result.stderr == expected.format(d=tmp_path)
    assert "Traceback" not in result.output


@pytest.mark.slow
def test_unreadable_files_stop_the_run_or_are_skipped_and_recorded(runner, tmp_path):
    folder = tmp_path / "scans"
    shutil.copytree(SAMPLES / "digit-0", folder / "zero")
    shutil.copytree(SAMPLES / "digit-1", folder / "one")
    (folder / "zero" / "broken.png").write_bytes(b"")
    shutil.copy(DICOM_FILES / "MR_truncated.dcm", folder / "one" / "cut.dcm")
    out = tmp_path / "o.h5"
    result = synth(runner, folder, "--n", 2, "--out", out, *FAST)
    assert result.exit_code == 1
    total = len(list(folder.rglob("*.*")))
    assert result.stderr == (  # every unreadable file in one line, so one fix-and-rerun is enough
        f"error: cannot read 2 of the {total} image files in {folder}: one/cut.dcm: truncated or corrupt "
        "DICOM pixel data (The number of bytes of pixel data is less than expected (8130 vs 8192 bytes)); "
        "zero/broken.png: empty file (0 bytes) (pass --on-bad-file skip to leave unreadable files out)\n"
    )
    assert not out.exists()
    result = synth(runner, folder, "--n", 2, "--out", out, "--on-bad-file", "skip", *FAST)
    assert result.exit_code == 0, result.output
    assert f"warning: skipped {folder}/zero/broken.png: empty file (0 bytes)\n" in result.stderr
    with h5py.File(out) as f:
        inputs = {i["path"]: i for i in json.loads(f["provenance"][()])["inputs"]}
    assert (
        inputs["zero/broken.png"]["skipped"] == "empty file (0 bytes)"
        and inputs["zero/broken.png"]["frames"] == 0
    )
    assert inputs["one/cut.dcm"]["skipped"].startswith("truncated or corrupt DICOM")
    assert "skipped" not in inputs["zero/0_00.png"]


@pytest.mark.slow
def test_dicom_classes_single_and_multi_frame(runner, tmp_path):
    folder = tmp_path / "dicom"
    (folder / "ct").mkdir(parents=True)
    (folder / "mr").mkdir()
    shutil.copy(DICOM_FILES / "CT_small.dcm", folder / "ct" / "a.dcm")
    shutil.copy(DICOM_FILES / "rtdose.dcm", folder / "ct" / "dose.dcm")  # 15 frames
    shutil.copy(DICOM_FILES / "MR_small.dcm", folder / "mr" / "IM0001")  # no suffix: found by magic
    out = tmp_path / "o.h5"
    result = synth(runner, folder, "--n", 2, "--size", 8, "--out", out, *FAST)
    assert result.exit_code == 0, result.output
    with h5py.File(out) as f:
        assert f["images"].dtype == np.uint16 and f["images"].shape == (2, 8, 8, 1)
        assert f["real_sources"].shape == (17, 2)
        provenance = json.loads(f["provenance"][()])
    frames = {i["path"]: i["frames"] for i in provenance["inputs"]}
    assert frames == {"ct/a.dcm": 1, "ct/dose.dcm": 15, "mr/IM0001": 1}
    assert [c["real"] for c in provenance["classes"]] == [16, 1]
    assert provenance["bit_depth"] == 16 and provenance["intensity"]["dicom_window"] is not None


@pytest.mark.slow
def test_mixed_sizes_and_modes_are_brought_to_one_working_size(runner, tmp_path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (20, 12), dtype=np.uint8)).save(folder / "gray.png")
    Image.fromarray(rng.integers(0, 255, (16, 16, 3), dtype=np.uint8)).save(folder / "colour.png")
    Image.fromarray(rng.integers(0, 65535, (10, 14), dtype=np.uint16)).save(folder / "deep.tif")
    Image.fromarray(rng.integers(0, 255, (9, 9, 4), dtype=np.uint8)).save(folder / "alpha.png")
    out = tmp_path / "o.h5"
    result = synth(runner, folder, "--n", 1, "--size", 8, "--out", out, *FAST)
    assert result.exit_code == 0, result.output
    with h5py.File(out) as f:
        assert f["images"].shape == (1, 8, 8, 3)  # one colour input makes channels auto = 3
        assert f["images"].dtype == np.uint16  # a 16-bit input keeps 16-bit output
        assert [s.decode() for s in f["class_names"][:]] == ["mixed"]


def test_non_positive_counts_and_too_small_size(runner, tmp_path):
    out = tmp_path / "o.h5"
    result = synth(runner, SAMPLES, "--n", 0, "--out", out, *FAST)
    assert result.exit_code == 1 and result.stderr == "error: --n must be at least 1, got 0\n"
    result = synth(runner, SAMPLES, "--per-class", 0, "--out", out, *FAST)
    assert result.exit_code == 1 and result.stderr == "error: --per-class must be at least 1, got 0\n"
    result = synth(runner, SAMPLES, "--per-class", 2, "--n", 5, "--out", out, *FAST)
    assert result.exit_code == 1 and result.stderr == "error: give --n or --per-class, not both\n"
    result = synth(runner, SAMPLES, "--size", 4, "--out", out, *FAST)
    assert result.exit_code == 1
    assert result.stderr == (
        "error: --size 4 is too small for the paper-gray discriminator (it needs at least 8); "
        "pass --size 8 or larger\n"
    )
    result = synth(runner, SAMPLES, "--size", 4096, "--out", out, *FAST)
    assert result.exit_code == 1
    assert result.stderr == "error: --size 4096 is too large: augment works at 256x256 at most\n"
    assert not out.exists()


@pytest.mark.skipif(bool(jax.devices()[0].platform == "gpu"), reason="this machine has a GPU")
def test_device_gpu_without_a_gpu_is_a_clear_error(runner, tmp_path):
    result = synth(runner, SAMPLES, "--device", "gpu", "--out", tmp_path / "o.h5", *FAST)
    assert result.exit_code == 1
    assert result.stderr == (
        "error: --device gpu: JAX finds no GPU on this machine (install JAX's CUDA build as the README "
        "says, or use --device cpu)\n"
    )


@pytest.mark.parametrize(
    "options, expected",
    [
        (["--channels", "2", "--out", "{d}/o.h5"], "error: --channels must be auto, 1 or 3, got '2'\n"),
        (["--device", "tpu9", "--out", "{d}/o.h5"], "error: --device must be auto, cpu or gpu, got 'tpu9'\n"),
        (
            ["--on-bad-file", "ignore", "--out", "{d}/o.h5"],
            "error: --on-bad-file must be fail or skip, got 'ignore'\n",
        ),
        (["--format", "tiff", "--out", "{d}/o.h5"], "error: --format must be h5 or png, got 'tiff'\n"),
        (
            ["--checkpoint-every", "-1", "--out", "{d}/o.h5"],
            "error: --checkpoint-every must not be negative, got -1.0\n",
        ),
        (
            ["--out", "{d}/o.zip"],
            "error: cannot tell the output format from 'o.zip'; end --out with .h5 for "
            "HDF5, give a folder name without a suffix for PNGs, or pass --format h5|png\n",
        ),
        (
            ["--out", "{d}/nowhere/o.h5"],
            "error: cannot write {d}/nowhere/o.h5: folder {d}/nowhere does not exist\n",
        ),
        (
            ["--out", "{d}/f.txt/o.h5"],
            "error: cannot write {d}/f.txt/o.h5: {d}/f.txt is a file, not a folder\n",
        ),
        (
            ["--out", "{d}", "--overwrite", "--format", "h5"],
            "error: {d} is a folder; give a file path ending in .h5\n",
        ),
        (
            ["--out", "{d}", "--overwrite"],
            "error: {d} was not written by augment; refusing to replace it\n",
        ),
        (
            ["--out", "{d}/f.txt", "--format", "png", "--overwrite"],
            "error: {d}/f.txt is a file; PNG output needs a folder path\n",
        ),
    ],
    ids=[
        "channels",
        "device",
        "on-bad-file",
        "format",
        "checkpoint-every",
        "suffix",
        "missing-folder",
        "parent-is-file",
        "h5-is-a-folder",
        "user-folder",
        "png-is-a-file",
    ],
)
def test_bad_options_and_unwritable_outputs_are_one_clear_line(runner, tmp_path, options, expected):
    (tmp_path / "f.txt").write_text("a user's file")
    options = [o.format(d=tmp_path) for o in options]
    result = synth(runner, SAMPLES, "--n", 3, *options, *FAST)
    assert result.exit_code == 1
    assert result.stderr == expected.format(d=tmp_path)
    assert (tmp_path / "f.txt").read_text() == "a user's file"


def test_png_output_inside_the_input_folder_is_refused(runner, tmp_path):
    folder = tmp_path / "scans"
    shutil.copytree(SAMPLES, folder)
    result = synth(runner, folder, "--out", folder / "synthetic", *FAST)
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: --out {folder}/synthetic is inside the input folder {folder}; write somewhere else\n"
    )


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into read-only folders")
def test_read_only_output_folder(runner, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    result = synth(runner, SAMPLES, "--out", locked / "o.h5", *FAST)
    assert result.exit_code == 1
    assert result.stderr == f"error: cannot write {locked}/o.h5: folder {locked} is not writable\n"


@pytest.mark.skipif(unwritable_even_for_root() is None, reason="no folder refuses writes here")
def test_an_output_folder_that_refuses_files_is_caught_before_any_work(runner):
    folder = unwritable_even_for_root()
    result = synth(runner, SAMPLES, "--out", folder / "o.h5", *FAST)
    assert result.exit_code == 1
    assert result.stderr == f"error: cannot write {folder}/o.h5: Permission denied\n"


class _NanAfterFirstChunk:
    """Wraps a compiled problem so that its second chunk of steps reports a NaN loss."""

    def __init__(self, compiled):
        self.compiled, self.calls = compiled, 0

    def __call__(self, *args):
        return self.compiled._replace(run_lanes=self.run_lanes)

    def run_lanes(self, mesh):
        def run(*inputs):
            self.calls += 1
            states, losses = self.compiled.run_lanes(mesh)(*inputs)
            return states, (losses * np.nan if self.calls == 2 else losses)

        return run


@pytest.mark.slow
def test_a_nan_loss_stops_with_a_clear_message_and_keeps_the_last_checkpoint(runner, tmp_path, monkeypatch):
    original = direct_synthesis.compiled_problem
    monkeypatch.setattr(direct_synthesis, "compiled_problem", lambda *a: _NanAfterFirstChunk(original(*a))())
    out = tmp_path / "o.h5"
    result = synth(runner, SAMPLES, "--n", 3, "--out", out, "--steps", 50, "--checkpoint-every", 0, "--quiet")
    assert result.exit_code == 1
    kept = checkpoint_path(out)
    assert result.stderr == (
        "error: class 'digit-0': the GA-NTK loss became nan at step 11 of problem 1; lower the learning "
        f"rate or raise diag_reg; the last checkpoint is kept in {kept}\n"
    )
    assert not out.exists() and kept.exists()
    with np.load(kept) as data:
        meta = json.loads(str(data["meta"]))
    current = meta["current"]  # the first chunk of class 0's only problem, before the NaN
    assert current["class"] == 0 and len(current["problems"]["running"]["0"]["history"]) == 10


@pytest.mark.slow
def test_a_checkpoint_is_resumed_only_when_asked_and_only_by_the_same_run(runner, tmp_path, monkeypatch):
    out = tmp_path / "o.h5"
    checkpoint = checkpoint_path(out)

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("augment.gantk.modes.direct.synthesize_coarse_to_fine", interrupt)
    result = synth(runner, SAMPLES, "--n", 3, "--out", out, *FAST)
    assert result.exit_code == 130
    assert result.stderr == "interrupted; nothing was written (run again with --resume to continue)\n"
    assert not out.exists() and list(tmp_path.iterdir()) == []
    monkeypatch.undo()

    checkpoint.write_bytes(b"left by an earlier run")
    result = synth(runner, SAMPLES, "--n", 3, "--out", out, *FAST)
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: {checkpoint} holds an interrupted run; "
        "pass --resume to continue it, or delete it to start again\n"
    )
    result = synth(runner, SAMPLES, "--n", 3, "--out", out, "--resume", *FAST)
    assert result.exit_code == 1 and result.stderr.startswith(
        f"error: cannot read the checkpoint {checkpoint}"
    )

    checkpoint.unlink()
    result = synth(
        runner, SAMPLES, "--n", 3, "--out", out, "--resume", *FAST
    )  # nothing to resume: a fresh run
    assert result.exit_code == 0, result.output
    with h5py.File(out) as f:
        first = f["images"][:]
    # a checkpoint of another run (another seed) is refused
    from augment.run.checkpoint import save_checkpoint

    save_checkpoint(checkpoint, "f" * 64, {}, None)
    result = synth(runner, SAMPLES, "--n", 3, "--out", tmp_path / "o.h5", "--resume", "--overwrite", *FAST)
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: the checkpoint {checkpoint} belongs to a different run (other inputs or settings); run the "
        "original command with --resume, or delete the checkpoint to start again\n"
    )
    with h5py.File(out) as f:
        np.testing.assert_array_equal(f["images"][:], first)


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


@pytest.mark.slow
def test_synth_flags_near_copies_and_warns(runner, tmp_path):
    """300 Adam steps on six real digits, without the copy-avoiding defaults, make near-copies
    (docs/design.md, "Copy guards"): flagged and warned."""
    out = tmp_path / "o.h5"
    result = synth(runner, SAMPLES, "--n", 3, "--out", out, "--steps", 300, "--batch-size", 8, "--quiet",
                   "--augment-real-to", 0, "--no-novelty-stop")  # fmt: skip
    assert result.exit_code == 0, result.output
    with h5py.File(out) as f:
        near, distance = f["near_copy"][:], f["nearest_real_distance"][:]
        provenance = json.loads(f["provenance"][()])
    quality, config = provenance["quality"], provenance["config"]
    assert config["augment_real_to"] == 0 and config["novelty_stop"] is False
    assert provenance["novelty_floor"]["applied"] is False  # the floor is the novelty stop's threshold
    assert provenance["classes"][0]["loss"]["steps_run"] == {"min": 300, "median": 300.0, "max": 300}
    assert near.all() and (distance < quality["near_copy_threshold"]).all()
    assert quality["near_copy_fraction"] == 1.0 and quality["privacy_reference"] == "leave-one-out"
    assert (
        "warning: 100% of the synthetic images are near-copies of a real image (closer than 95% of the real "
        "images are to each other); check them with augment evaluate before sharing the data\n"
    ) in result.stderr


@pytest.fixture
def holdout_digits(tmp_path, digits):
    """Held-out real digits of the sample classes (0, 1, 7), none of them in samples/."""
    images, labels = digits
    folder = tmp_path / "holdout"
    for digit in (0, 1, 7):
        (folder / f"digit-{digit}").mkdir(parents=True)
        for i, image in enumerate(images[labels == digit][20:40]):
            Image.fromarray(np.round(image[..., 0] * 255).astype(np.uint8)).save(
                folder / f"digit-{digit}" / f"{i}.png"
            )
    return folder


@pytest.mark.slow
def test_evaluate_prints_json_and_writes_a_report(runner, tmp_path, holdout_digits):
    out = tmp_path / "o.h5"
    assert synth(runner, SAMPLES, "--per-class", 4, "--out", out, *FAST).exit_code == 0
    result = runner.invoke(
        app, ["evaluate", str(out), "--real", str(SAMPLES), "--holdout", str(holdout_digits), "--json",
              "--report", str(tmp_path / "report")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    assert figures["counts"] == {"synthetic": 12, "train": 18, "holdout": 60}
    assert figures["privacy"]["reference"] == "holdout"
    assert figures["features"]["space"] == "random-conv-v1"
    for space in (figures["pixel"], figures["features"]):
        assert 0 <= space["precision"] <= 1 and 0 <= space["coverage"] <= 1 and space["subset_size"] == 12
    utility = figures["utility"]["svc"]
    assert set(utility) == {"real", "real+synthetic", "synthetic", "real+augmented"}
    assert 0.5 < utility["real"] <= 1 and 0.5 < utility["real+augmented"] <= 1
    assert result.stderr == f"report: {tmp_path}/report/index.html\n"

    # the report: a page, and pictures whose tiles are the images themselves (8x8 upscaled to 64)
    page = (tmp_path / "report" / "index.html").read_text()
    assert "class-0.png" in page and "nearest.png" in page and "privacy ratio" in page
    grid = np.asarray(Image.open(tmp_path / "report" / "class-1.png").convert("L"))
    assert grid.shape == (2 * 68 + 4, 6 * 68 + 4)  # rows: 6 real, then 4 synthetic; 4 px gaps
    first_real = np.asarray(Image.open(SAMPLES / "digit-1" / "1_00.png"))
    np.testing.assert_array_equal(grid[4:68, 4:68], np.kron(first_real, np.ones((8, 8), np.uint8)))
    pairs = np.asarray(Image.open(tmp_path / "report" / "nearest.png").convert("L"))
    assert pairs.shape[1] == 2 * 68 + 4

    summary = runner.invoke(app, ["evaluate", str(out), "--real", str(SAMPLES)])
    assert summary.exit_code == 0 and "privacy ratio" in summary.stdout and "leave-one-out" in summary.stdout
    # one definition of a near-copy: evaluate without a holdout flags what synth flagged in the file
    loo = json.loads(runner.invoke(app, ["evaluate", str(out), "--real", str(SAMPLES), "--json"]).stdout)
    with h5py.File(out) as f:
        assert len(loo["privacy"]["near_copies"]) == int(f["near_copy"][:].sum())
    # a folder augment did not write is never replaced, even with --overwrite
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "notes.txt").write_text("mine")
    refused = runner.invoke(
        app, ["evaluate", str(out), "--real", str(SAMPLES), "--report", str(notes), "--overwrite"]
    )
    assert refused.exit_code == 1
    assert refused.stderr == f"error: {notes} was not written by augment; refusing to replace it\n"
    assert (notes / "notes.txt").read_text() == "mine"
    again = runner.invoke(
        app, ["evaluate", str(out), "--real", str(SAMPLES), "--report", str(tmp_path / "report")]
    )
    assert again.exit_code == 1
    assert again.stderr == f"error: {tmp_path}/report already exists; pass --overwrite to replace it\n"
    replaced = runner.invoke(
        app,
        ["evaluate", str(out), "--real", str(SAMPLES), "--report", str(tmp_path / "report"), "--overwrite"],
    )
    assert replaced.exit_code == 0 and "privacy ratio" in (tmp_path / "report" / "index.html").read_text()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary or swapped-out folder
    missing = runner.invoke(app, ["evaluate", str(tmp_path / "none.h5"), "--real", str(SAMPLES)])
    assert missing.exit_code == 1 and missing.stderr == f"error: not found: {tmp_path}/none.h5\n"


@pytest.mark.slow
def test_far_more_synthetic_than_real_images_is_a_warning_with_the_ratio(runner, tmp_path):
    out = tmp_path / "many.h5"
    result = synth(
        runner, SAMPLES, "--n", 200, "--out", out, "--steps", 1, "--augment-real-to", 0, "--no-quality-gate"
    )
    assert result.exit_code == 0, result.output
    assert "warning: 200 synthetic images for 18 real ones (11.1 per real image)" in result.stderr
    assert "ask for fewer (--n)" in result.stderr.replace("\n", " ")


def test_help_shows_every_default(runner):
    help_text = runner.invoke(app, ["synth", "--help"], env={"COLUMNS": "200"}).stdout
    for default in (
        "(500)",
        "(32; generator mode 64, above 16 px 16)",
        "(300, above 16 px 50; generator mode 1000, above 16 px 4000)",
        "(200; above 16 px: 0)",
        "(60 (direct; 40 above 16 px) / 60 (generator; 50 above 16 px))",
        "(median shorter side, at most 64 on a CPU, 128 on a GPU)",
        "auto",
    ):
        assert f"[default: {default}]" in help_text, default


def test_flags_show_no_value_placeholder_in_help(runner):
    """A flag takes no value, so its help row has no type (Typer 0.29.0-0.29.2 wrote "<bool>")."""
    for command in ([], ["synth"], ["sample"], ["inspect"], ["evaluate"]):
        help_text = runner.invoke(app, [*command, "--help"], env={"COLUMNS": "200"}).stdout
        assert "--help" in help_text and "<bool>" not in help_text, command


@pytest.mark.slow
def test_images_shrunk_by_the_default_cap_say_so(runner, tmp_path, monkeypatch):
    """The cap is 64 on a CPU; lowered to 16 here so that 40-pixel images show the note cheaply."""
    import augment.run.synth as synth_module

    monkeypatch.setattr(synth_module, "default_size_cap", lambda platform: 16)
    folder = tmp_path / "large"
    folder.mkdir()
    rng = np.random.default_rng(1)
    for i in range(3):
        Image.fromarray(rng.integers(0, 255, (48, 40), dtype=np.uint8)).save(folder / f"{i}.png")
    out = tmp_path / "o.h5"
    result = synth(
        runner, folder, "--n", 1, "--out", out, "--steps", 1, "--augment-real-to", 0, "--no-quality-gate"
    )
    assert result.exit_code == 0, result.output
    assert (
        "working size 16x16: the images' median shorter side is 40, capped at 16 by default on this CPU; "
        "--size 32 keeps more detail and takes about twice as long per image"
    ) in result.stderr.replace("\n", " ")


def test_the_novelty_floor_is_a_percentage(runner, tmp_path):
    result = synth(runner, SAMPLES, "--n", 3, "--out", tmp_path / "o.h5", "--novelty-floor", 150)
    assert result.exit_code == 1 and not (tmp_path / "o.h5").exists()
    assert result.stderr == "error: --novelty-floor 150 must be between 0 and 100 (a percentage)\n"


def test_the_provenance_says_how_each_data_dependent_default_was_decided(runner, tmp_path):
    out, floor = tmp_path / "o.h5", tmp_path / "floor.h5"
    assert synth(runner, SAMPLES, "--n", 3, "--out", out, *FAST).exit_code == 0
    assert synth(runner, SAMPLES, "--n", 3, "--out", floor, "--novelty-floor", 50, *FAST).exit_code == 0
    with h5py.File(out) as f:
        made = json.loads(f["provenance"][()])
    with h5py.File(floor) as f:
        asked = {d["name"]: d for d in json.loads(f["provenance"][()])["defaults"]}
    defaults = {d["name"]: d for d in made["defaults"]}
    assert list(defaults) == ["augment_real_to", "start", "steps", "novelty_floor"]
    # the bundled digits are 8 px: the small sizes' rules, each with its reason
    assert defaults["augment_real_to"]["value"] == made["config"]["augment_real_to"] == 200
    assert defaults["augment_real_to"]["why"].startswith("up to 16 px: the discriminator's real side")
    assert defaults["start"]["value"] == made["config"]["start"] == "noise"
    assert defaults["steps"] == {"name": "steps", "value": 6, "why": "set"}  # --steps 6
    assert defaults["novelty_floor"]["value"] == made["novelty_floor"]["percentile"] == 60.0
    assert "membership" in defaults["novelty_floor"]["why"]
    assert asked["novelty_floor"] == {"name": "novelty_floor", "value": 50.0, "why": "set"}
