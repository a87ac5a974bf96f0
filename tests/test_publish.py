"""Publishing never replaces what augment did not write, nor what appeared during a run; crafted
output files are refused with one clear error before use."""

from __future__ import annotations

import itertools
import json
import multiprocessing
import os
import shutil

import h5py
import numpy as np
import pytest
from golden_output import golden_dataset

from augment.errors import AugmentError
from augment.io.atomic import _rename_without_replacing, publish, target
from augment.io.dataset import SyntheticDataset
from augment.io.strict_json import dumps
from augment.io.writers import check_target, read_output, write_output
from augment.io.writers.h5 import write_h5
from augment.io.writers.png import write_png


def with_provenance(provenance: dict) -> SyntheticDataset:
    return SyntheticDataset(**{**golden_dataset().__dict__, "provenance": provenance})


@pytest.mark.parametrize("fmt, name", [("h5", "out.h5"), ("png", "out")])
def test_a_target_that_appears_during_the_run_is_kept(tmp_path, fmt, name):
    out = tmp_path / name
    at = check_target(out, fmt, overwrite=False)
    out.mkdir() if fmt == "png" else out.write_bytes(b"thesis")  # the user's, created meanwhile
    if fmt == "png":
        (out / "thesis.txt").write_text("years of work")
    with pytest.raises(AugmentError, match="appeared while augment was running; nothing was replaced"):
        write_output(at, golden_dataset(), fmt)
    if fmt == "png":
        assert (out / "thesis.txt").read_text() == "years of work"
    else:
        assert out.read_bytes() == b"thesis"
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]  # no temporary, no lock left


def test_an_empty_folder_that_appears_is_not_replaced_either(tmp_path):
    out = tmp_path / "out"
    at = check_target(out, "png", overwrite=False)
    out.mkdir()
    with pytest.raises(AugmentError, match="appeared"):
        write_output(at, golden_dataset(), "png")
    assert list(out.iterdir()) == []


def test_overwrite_replaces_only_the_output_seen_at_the_start(tmp_path):
    out = tmp_path / "out.h5"
    write_output(check_target(out, "h5", False), with_provenance({"seed": 1}), "h5")
    at = check_target(out, "h5", overwrite=True)
    write_output(check_target(out, "h5", True), with_provenance({"seed": 2}), "h5")  # another run
    with pytest.raises(AugmentError, match="changed while augment was running"):
        write_output(at, with_provenance({"seed": 3}), "h5")
    assert read_output(out).provenance == {"seed": 2}


def test_a_file_augment_did_not_write_is_never_replaced(tmp_path):
    out = tmp_path / "results.h5"
    with h5py.File(out, "w") as f:
        f["mine"] = np.arange(3)
    with pytest.raises(AugmentError, match="was not written by augment; refusing to replace it"):
        check_target(out, "h5", overwrite=True)
    # and if it is swapped in after the check, publishing refuses it too
    other = tmp_path / "ours.h5"
    write_output(check_target(other, "h5", False), golden_dataset(), "h5")
    at = check_target(other, "h5", overwrite=True)
    temporary = tmp_path / ".new"
    write_h5(temporary, golden_dataset())
    with pytest.raises(AugmentError, match="was not written by augment"):
        publish(temporary, at._replace(path=out, identity=target(out).identity), lambda p: False)
    assert h5py.File(out, "r")["mine"][()].tolist() == [0, 1, 2]


def test_the_rename_never_replaces(tmp_path):
    for make in (lambda p: p.write_text("x"), lambda p: p.mkdir()):
        destination = tmp_path / "taken"
        make(destination)
        source = tmp_path / "new"
        source.write_text("new")
        with pytest.raises(FileExistsError):
            _rename_without_replacing(source, destination)
        assert source.exists()
        shutil.rmtree(destination) if destination.is_dir() else destination.unlink()
        source.unlink()
    folder = tmp_path / "folder"
    folder.mkdir()
    _rename_without_replacing(folder, tmp_path / "moved")
    assert (tmp_path / "moved").is_dir() and not folder.exists()


def _race(out: str, start, results) -> None:
    at = check_target(__import__("pathlib").Path(out), "h5", overwrite=False)
    start.wait()
    try:
        write_output(at, golden_dataset(), "h5")
        results.put("published")
    except AugmentError as error:
        results.put(str(error))


def test_of_concurrent_runs_on_one_target_exactly_one_publishes(tmp_path):
    context = multiprocessing.get_context("fork")
    start, results = context.Barrier(4), context.Queue()
    workers = [context.Process(target=_race, args=(str(tmp_path / "o.h5"), start, results)) for _ in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
    outcomes = [results.get(timeout=5) for _ in workers]
    assert outcomes.count("published") == 1
    assert all("appeared while augment was running" in o for o in outcomes if o != "published")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o.h5"]


def test_json_is_strict():
    text = dumps({"a": float("nan"), "b": [np.float32("inf"), 1.5], "c": -float("inf")})
    assert json.loads(text) == {"a": None, "b": [None, 1.5], "c": None}
    assert "NaN" not in text and "Infinity" not in text


def test_a_png_output_with_nan_reads_back_and_its_manifest_is_strict_json(tmp_path):
    dataset = SyntheticDataset(**{**golden_dataset().__dict__, "realness": np.full(5, np.nan, np.float32)})
    write_png(tmp_path / "p", dataset)
    text = (tmp_path / "p" / "manifest.json").read_text()
    json.loads(text, parse_constant=lambda c: pytest.fail(f"non-standard JSON constant {c}"))
    assert np.isnan(read_output(tmp_path / "p").realness).all()


def craft_png(tmp_path, change) -> str:
    out = tmp_path / "p"
    write_png(out, golden_dataset())
    manifest = json.loads((out / "manifest.json").read_text())
    change(manifest, out)
    (out / "manifest.json").write_text(json.dumps(manifest))
    return str(out)


def _set_row(key, value):
    def change(manifest, out):
        manifest["images"][0][key] = value

    return change


def _delete(key):
    return lambda manifest, out: manifest.pop(key)


def _other_size(manifest, out):
    from PIL import Image

    Image.fromarray(np.zeros((3, 3), np.uint8)).save(out / manifest["images"][0]["file"])


def _outside_link(manifest, out):
    secret = out.parent / "secret.png"
    shutil.copy(out / manifest["images"][0]["file"], secret)
    os.symlink(secret, out / "link.png")
    manifest["images"][0]["file"] = "link.png"


@pytest.mark.parametrize(
    "change, message",
    [
        (_delete("images"), "has no 'images'"),
        (_delete("provenance"), "has no 'provenance'"),
        (_set_row("file", "/etc/passwd"), "is not a plain name"),
        (_set_row("file", "../../secret.png"), "is not a plain name"),
        (_set_row("file", "benign/missing.png"), "missing or not a file"),
        (_set_row("label", 7), "a label is not a class index"),
        (_set_row("label", -1), "a label is not a class index"),
        (_set_row("realness", "high"), r"images\[0\].realness must be a number"),
        (_set_row("near_copy", None), r"images\[0\].near_copy must be a bool"),
        (lambda m, out: m.update(class_names=["../escape", "b"]), "is not a plain name"),
        (lambda m, out: m.update(provenance=[1, 2]), "provenance must be a dict"),
        (lambda m, out: m.update(image_shape=[8, 8]), r"image_shape \[8, 8\] is not"),
        (_other_size, "is 3x3x1, not the 8x8x1 its manifest says"),
        (_outside_link, "leads outside"),
    ],
)
def test_a_crafted_png_manifest_is_one_clear_error(tmp_path, change, message):
    with pytest.raises(AugmentError, match=message):
        read_output(craft_png(tmp_path, change))


def test_a_manifest_that_is_not_an_object_is_refused(tmp_path):
    out = tmp_path / "p"
    write_png(out, golden_dataset())
    (out / "manifest.json").write_text("[1, 2, 3]")
    with pytest.raises(AugmentError):
        read_output(out)


def craft_h5(tmp_path, change) -> str:
    out = tmp_path / "o.h5"
    write_h5(out, golden_dataset())
    with h5py.File(out, "r+") as f:
        change(f)
    return str(out)


def _replace(name, value):
    def change(f):
        del f[name]
        if isinstance(value, str) and value == "group":
            f.create_group(name)
        else:
            f[name] = value

    return change


def _huge_images(f):
    """An images array declaring 64 GiB (chunked and empty, so the file stays small)."""
    del f["images"]
    f.create_dataset("images", shape=(2**20, 256, 256, 1), dtype=np.uint8, chunks=(1, 256, 256, 1))


@pytest.mark.parametrize(
    "change, message",
    [
        (_replace("images", "group"), "images is not a 4-d array"),
        (_replace("labels", np.array([0, 0, 1, 1, -4])), "a label is not a class index"),
        (_replace("labels", np.array([0, 1])), "do not describe the same images"),
        (_replace("realness", np.array(["a"] * 5, dtype="S1")), "realness is not a 1-d array"),
        (_replace("provenance", "[1, 2]"), "provenance is not a JSON object"),
        (_replace("provenance", "7"), "provenance is not a JSON object"),
        (_replace("provenance", "{not json"), "cannot read the provenance"),
        (_replace("class_names", np.array([b"../x", b"y"])), "is not a plain name"),
        (_replace("real_sources", np.zeros((2, 3), np.int64)), "real_sources must hold pairs"),
        (_huge_images, r"images declares 68719476736 bytes, more than augment reads"),
    ],
)
def test_a_crafted_h5_output_is_one_clear_error(tmp_path, change, message):
    with pytest.raises(AugmentError, match=message):
        read_output(craft_h5(tmp_path, change))


@pytest.mark.parametrize("provenance", [{"classes": 5}, {"quality_gate": [1]}, {"versions": "x"}, {}])
def test_inspect_of_a_crafted_provenance_is_one_clear_line(tmp_path, provenance):
    from typer.testing import CliRunner

    from augment.cli.app import app

    out = tmp_path / "o.h5"
    write_h5(out, with_provenance(provenance))
    result = CliRunner().invoke(app, ["inspect", str(out)])
    assert result.exit_code in (0, 1), result.output
    assert "Traceback" not in result.output
    if result.exit_code == 1:
        assert result.stderr.startswith(f"error: {out}: its provenance is damaged or not augment's")
    assert CliRunner().invoke(app, ["inspect", str(out), "--json"]).exit_code == 0


def test_publishing_without_flock_uses_an_exclusive_lock_file(tmp_path, monkeypatch):
    """Where fcntl is missing (not POSIX), the lock is an exclusively created file."""
    from augment.io import atomic

    monkeypatch.setattr(atomic, "fcntl", None)
    out = tmp_path / "o.h5"
    at = check_target(out, "h5", overwrite=False)
    (tmp_path / ".o.h5.lock").write_text("")  # another run holds it ...
    clock = itertools.chain([0.0], itertools.repeat(100.0))  # a minute passes at the first wait
    monkeypatch.setattr(atomic.time, "monotonic", clock.__next__)
    with pytest.raises(AugmentError, match="is held by another run"):
        write_output(at, golden_dataset(), "h5")
    (tmp_path / ".o.h5.lock").unlink()  # ... and lets go
    write_output(at, golden_dataset(), "h5")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o.h5"]


def test_a_manifest_linking_outside_the_output_is_not_read(tmp_path):
    out = tmp_path / "p"
    write_png(out, golden_dataset())
    (out / "manifest.json").rename(tmp_path / "elsewhere.json")
    os.symlink(tmp_path / "elsewhere.json", out / "manifest.json")
    with pytest.raises(AugmentError, match="leads outside"):
        read_output(out)
    from augment.io.writers.png import is_png_output

    assert not is_png_output(out)  # so --overwrite will not replace it either


def test_overwriting_keeps_a_file_that_happens_to_have_the_swap_name(tmp_path):
    out = tmp_path / "o.h5"
    write_output(check_target(out, "h5", False), golden_dataset(), "h5")
    squatters = [tmp_path / f".o.h5.{os.getpid()}.old", tmp_path / f".o.h5.{os.getpid()}.0.old"]
    for squatter in squatters:
        squatter.write_text("not augment's")
    write_output(check_target(out, "h5", True), with_provenance({"seed": 9}), "h5")
    assert all(squatter.read_text() == "not augment's" for squatter in squatters)
    assert read_output(out).provenance == {"seed": 9}
