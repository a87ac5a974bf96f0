"""The output formats: the committed golden file, HDF5 and PNG round trips, atomic writes."""

from __future__ import annotations

import json
import os
import pathlib

import h5py
import numpy as np
import pytest
from golden_output import golden_dataset
from PIL import Image

from augment.errors import AugmentError
from augment.io.dataset import SyntheticDataset, to_integer_pixels
from augment.io.writers import check_target, read_output, resolve_format, write_output
from augment.io.writers.h5 import write_h5
from augment.io.writers.png import write_png

GOLDEN = pathlib.Path(__file__).resolve().parent / "golden" / "synthetic-1.0.h5"


def assert_same(a: SyntheticDataset, b: SyntheticDataset) -> None:
    assert a.images.dtype == b.images.dtype
    np.testing.assert_array_equal(a.images, b.images)
    np.testing.assert_array_equal(a.labels, b.labels)
    assert tuple(a.class_names) == tuple(b.class_names)
    np.testing.assert_array_equal(a.realness, b.realness)
    np.testing.assert_array_equal(a.nearest_real_index, b.nearest_real_index)
    np.testing.assert_array_equal(a.nearest_real_distance, b.nearest_real_distance)
    assert a.near_copy.dtype == bool
    np.testing.assert_array_equal(a.near_copy, b.near_copy)
    np.testing.assert_array_equal(a.real_sources, b.real_sources)
    assert a.provenance == b.provenance


def test_the_committed_golden_file_reads_back_exactly():
    assert_same(read_output(GOLDEN), golden_dataset())


def test_the_golden_file_layout_is_what_docs_format_md_says():
    """Plain h5py, no augment: the names, dtypes and shapes a user's script relies on."""
    with h5py.File(GOLDEN) as f:
        assert f.attrs["format"] == "augment.synthetic" and f.attrs["format_version"] == "1.0"
        assert f["images"].dtype == np.uint8 and f["images"].shape == (5, 8, 8, 1)
        assert f["images"].compression == "gzip"
        assert f["labels"].dtype == np.int64
        assert [s.decode() for s in f["class_names"][:]] == ["benign", "malignant"]
        assert f["realness"].dtype == np.float32
        assert f["nearest_real_index"].dtype == np.int64
        assert f["nearest_real_distance"].dtype == np.float32
        assert f["real_sources"].shape == (4, 2)
        assert f["near_copy"].dtype == bool and f["near_copy"][:].tolist() == [
            False,
            False,
            True,
            True,
            False,
        ]
        assert json.loads(f["provenance"][()])["seed"] == 3


@pytest.mark.parametrize("bit_depth", [8, 16])
@pytest.mark.parametrize("channels", [1, 3])
def test_h5_round_trip(tmp_path, bit_depth, channels):
    rng = np.random.default_rng(0)
    base = golden_dataset()
    images = to_integer_pixels(rng.random((5, 6, 6, channels)), bit_depth)
    dataset = SyntheticDataset(**{**base.__dict__, "images": images})
    write_h5(tmp_path / "d.h5", dataset)
    assert_same(read_output(tmp_path / "d.h5"), dataset)


@pytest.mark.parametrize("bit_depth, channels", [(8, 1), (8, 3), (16, 1)])
def test_png_round_trip_and_image_folder_layout(tmp_path, bit_depth, channels):
    rng = np.random.default_rng(1)
    base = golden_dataset()
    dataset = SyntheticDataset(
        **{**base.__dict__, "images": to_integer_pixels(rng.random((5, 6, 6, channels)), bit_depth)}
    )
    out = tmp_path / "pngs"
    write_png(out, dataset)
    assert sorted(p.name for p in out.iterdir()) == ["benign", "malignant", "manifest.json"]
    assert sorted(p.name for p in (out / "malignant").iterdir()) == [
        "malignant_00000.png",
        "malignant_00001.png",
        "malignant_00002.png",
    ]
    with Image.open(out / "malignant" / "malignant_00001.png") as image:
        assert json.loads(image.text["augment"]) == {
            "run": "0123456789abcdef",
            "index": 3,
            "class": "malignant",
        }
    assert_same(read_output(out), dataset)


def test_png_refuses_sixteen_bit_colour(tmp_path):
    base = golden_dataset()
    dataset = SyntheticDataset(**{**base.__dict__, "images": np.zeros((5, 4, 4, 3), np.uint16)})
    with pytest.raises(AugmentError, match="PNG output cannot hold 16-bit colour"):
        write_png(tmp_path / "p", dataset)
    assert list(tmp_path.iterdir()) == []


def publish(out, fmt, dataset, overwrite=False):
    write_output(check_target(out, fmt, overwrite), dataset, fmt)


@pytest.mark.parametrize("fmt", ["h5", "png"])
def test_a_crash_mid_write_leaves_nothing_at_the_target(tmp_path, fmt):
    """The provenance is serialised last; making it fail is a crash after the images are written."""
    broken = SyntheticDataset(**{**golden_dataset().__dict__, "provenance": {"not json": {1, 2}}})
    with pytest.raises(TypeError):
        publish(tmp_path / "out", fmt, broken)
    assert list(tmp_path.iterdir()) == []


def test_overwrite_swaps_the_old_output_for_the_new(tmp_path):
    target = tmp_path / "d.h5"
    old = SyntheticDataset(**{**golden_dataset().__dict__, "provenance": {"seed": 1}})
    publish(target, "h5", old)
    publish(target, "h5", golden_dataset(), overwrite=True)
    assert read_output(target).provenance["seed"] == 3
    out = tmp_path / "pngs"
    publish(out, "png", golden_dataset())
    publish(out, "png", golden_dataset(), overwrite=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.h5", "pngs"]


def test_check_target(tmp_path):
    (tmp_path / "taken.h5").write_bytes(b"")
    with pytest.raises(AugmentError, match="already exists; pass `overwrite`"):
        check_target(tmp_path / "taken.h5", "h5", overwrite=False)
    with pytest.raises(AugmentError, match="was not written by augment; refusing to replace it"):
        check_target(tmp_path / "taken.h5", "h5", overwrite=True)
    (tmp_path / "user-folder").mkdir()
    with pytest.raises(AugmentError, match="was not written by augment; refusing to replace it"):
        check_target(tmp_path / "user-folder", "png", overwrite=True)
    write_png(tmp_path / "ours", golden_dataset())
    check_target(tmp_path / "ours", "png", overwrite=True)  # our own output may be replaced
    if os.geteuid() != 0:  # root can write anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        with pytest.raises(AugmentError, match="is not writable"):
            check_target(locked / "o.h5", "h5", overwrite=False)


def test_format_from_the_suffix():
    assert resolve_format(pathlib.Path("a.h5"), None) == "h5"
    assert resolve_format(pathlib.Path("a.HDF5"), None) == "h5"
    assert resolve_format(pathlib.Path("out/pngs"), None) == "png"
    assert resolve_format(pathlib.Path("a.h5"), "png") == "png"
    with pytest.raises(AugmentError, match=r"cannot tell the output format from 'a\.zip'"):
        resolve_format(pathlib.Path("a.zip"), None)
    with pytest.raises(AugmentError, match="`format` must be h5 or png, got 'tiff'"):
        resolve_format(pathlib.Path("a.h5"), "tiff")


def test_reading_something_else_is_a_clear_error(tmp_path):
    with pytest.raises(AugmentError, match="not found"):
        read_output(tmp_path / "missing.h5")
    (tmp_path / "x.h5").write_bytes(b"not hdf5")
    with pytest.raises(AugmentError, match="neither an HDF5 file nor an augment PNG folder"):
        read_output(tmp_path / "x.h5")
    with h5py.File(tmp_path / "other.h5", "w") as f:
        f.attrs["format"] = "someone.else"
    with pytest.raises(AugmentError, match="is not an augment output"):
        read_output(tmp_path / "other.h5")
    with h5py.File(tmp_path / "future.h5", "w") as f:
        f.attrs["format"] = "augment.synthetic"
        f.attrs["format_version"] = "2.0"
    with pytest.raises(AugmentError, match=r"has format version 2\.0; this augment reads version 1\.x"):
        read_output(tmp_path / "future.h5")
    with h5py.File(tmp_path / "cut.h5", "w") as f:
        f.attrs["format"] = "augment.synthetic"
        f.attrs["format_version"] = "1.0"
    with pytest.raises(AugmentError, match=r"is damaged or not augment.s: images is not a 4-d array"):
        read_output(tmp_path / "cut.h5")
