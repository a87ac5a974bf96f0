"""Volumes: NIfTI files and DICOM series read as slices, kept together by scan.

Every volume and series is built here with nibabel and pydicom: a known volume's slices must come
back in order, in the documented orientation and with their world coordinates; bad volumes are
one clear line naming the file; the scan is what evaluate keeps apart."""

from __future__ import annotations

import gzip
import json
import pathlib
import shutil

import h5py
import nibabel as nib
import numpy as np
import pydicom
import pytest
from cli_options import TINY
from typer.testing import CliRunner

from augment.cli.app import app
from augment.errors import AugmentError
from augment.evaluation import evaluate, recorded_reading
from augment.io.folder import find_images, load_folder
from augment.io.readers import DEFAULT_READING, ReadSettings, parse_window, reader_for
from augment.io.readers.nifti import decode
from augment.measures.privacy import membership_inference, per_scan

MR_SMALL = pathlib.Path(pydicom.__file__).parent / "data" / "test_files" / "MR_small.dcm"


def labelled_volume(shape=(12, 10, 8)) -> np.ndarray:
    """(x, y, z) float32: voxel (i, j, k) holds 100 k + 10 j + i / 10 inside a margin, 0 outside
    (so a slice and a pixel name themselves), with the first and last axial slice empty."""
    i, j, k = np.meshgrid(*(np.arange(n) for n in shape), indexing="ij")
    volume = (100.0 * k + 10.0 * j + i / 10.0 + 1.0).astype(np.float32)
    volume[..., 0] = 0
    volume[..., -1] = 0
    return volume


def save(volume: np.ndarray, path: pathlib.Path, affine=None) -> pathlib.Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    nib.save(nib.Nifti1Image(volume, np.eye(4) if affine is None else affine), str(path))
    return path


IDENTITY_WINDOW = ReadSettings("axial", (0.0, 1000.0))  # values / 1000: a pixel's value names it


def test_nii_gz_is_found_by_its_two_suffixes_and_nii_by_one(tmp_path):
    assert reader_for(tmp_path / "brain.nii.gz").name == "nifti"
    assert reader_for(tmp_path / "BRAIN.NII").name == "nifti"
    assert reader_for(tmp_path / "archive.tar.gz") is None
    save(labelled_volume(), tmp_path / "a" / "brain.nii.gz")
    (tmp_path / "a" / "notes.gz").write_bytes(gzip.compress(b"not a volume"))
    found, ignored = find_images(tmp_path)
    assert [p.name for p, _ in found] == ["brain.nii.gz"] and [p.name for p in ignored] == ["notes.gz"]


def test_axial_slices_come_in_order_with_their_world_coordinates_and_empty_ones_are_counted():
    volume = labelled_volume()
    affine = np.diag([1.0, 1.0, 2.5, 1.0])
    affine[:3, 3] = (-6.0, -5.0, -10.0)
    data = nib.Nifti1Image(volume, affine).to_bytes()
    decoded = decode(gzip.compress(data), IDENTITY_WINDOW)
    assert [f["slice"] for f in decoded.frame_info] == list(range(1, 7))
    assert [f["world_mm"] for f in decoded.frame_info] == [-10.0 + 2.5 * k for k in range(1, 7)]
    assert decoded.notes == ("2 empty axial slices of 8 skipped",)
    assert decoded.bit_depth == 16 and not decoded.colour
    for k, frame in zip(range(1, 7), decoded.frames, strict=True):
        # seen from above: rows from anterior (high y) down, columns from left (low x) to right
        expected = volume[:, :, k].T[::-1] / 1000.0
        np.testing.assert_allclose(frame[..., 0], expected, rtol=1e-6)
        assert frame[0, -1, 0] == pytest.approx((100 * k + 10 * 9 + 1.1 + 1) / 1000.0)  # top right: A, R


def test_a_volume_stored_left_posterior_inferior_reads_as_the_same_slices():
    volume = labelled_volume()
    flipped = volume[::-1, ::-1, ::-1].copy()  # stored from right to left, anterior to posterior ...
    affine = np.diag([-1.0, -1.0, -1.0, 1.0])
    affine[:3, 3] = (11.0, 9.0, 7.0)  # ... so voxel (0, 0, 0) is at world (11, 9, 7)
    canonical = decode(nib.Nifti1Image(volume, np.eye(4)).to_bytes(), IDENTITY_WINDOW)
    reoriented = decode(nib.Nifti1Image(flipped, affine).to_bytes(), IDENTITY_WINDOW)
    assert reoriented.frame_info == canonical.frame_info
    for a, b in zip(canonical.frames, reoriented.frames, strict=True):
        np.testing.assert_array_equal(a, b)


def test_coronal_and_sagittal_slices_have_superior_up():
    volume = labelled_volume()
    image = nib.Nifti1Image(volume, np.eye(4)).to_bytes()
    coronal = decode(image, ReadSettings("coronal", (0.0, 1000.0)))
    sagittal = decode(image, ReadSettings("sagittal", (0.0, 1000.0)))
    assert len(coronal.frames) == 10 and len(sagittal.frames) == 12
    np.testing.assert_allclose(coronal.frames[3][..., 0], volume[:, 3, :].T[::-1] / 1000.0, rtol=1e-6)
    np.testing.assert_allclose(sagittal.frames[5][..., 0], volume[5, :, :].T[::-1] / 1000.0, rtol=1e-6)
    assert coronal.frame_info[3] == {"slice": 3, "world_mm": 3.0}


def test_the_default_window_is_each_volumes_percentiles_and_a_fixed_one_is_shared():
    volume = labelled_volume()
    decoded = decode(nib.Nifti1Image(volume, np.eye(4)).to_bytes())
    low, high = np.percentile(volume, [0.5, 99.5])
    expected = np.clip((volume[:, :, 3].T[::-1] - low) / (high - low), 0, 1)
    np.testing.assert_allclose(decoded.frames[2][..., 0], expected, rtol=1e-5, atol=1e-6)
    hounsfield = decode(
        nib.Nifti1Image(volume - 500, np.eye(4)).to_bytes(), ReadSettings("axial", (-160.0, 240.0))
    )
    at = [f["slice"] for f in hounsfield.frame_info].index(5)  # slices 1 and 2 are below the window: empty
    assert hounsfield.notes == ("4 empty axial slices of 8 skipped",)
    np.testing.assert_allclose(
        hounsfield.frames[at][..., 0], np.clip((volume[:, :, 5].T[::-1] - 500 + 160) / 400, 0, 1), rtol=1e-5
    )


def test_a_4d_image_gives_its_first_volume_and_says_so():
    volume = labelled_volume()
    series = np.stack([volume, volume + 7, volume + 9], axis=-1)
    decoded = decode(nib.Nifti1Image(series, np.eye(4)).to_bytes(), IDENTITY_WINDOW)
    only = decode(nib.Nifti1Image(volume, np.eye(4)).to_bytes(), IDENTITY_WINDOW)
    assert decoded.notes[0] == "a 4-D image of 3 volumes: only the first was read"
    for a, b in zip(decoded.frames, only.frames, strict=True):
        np.testing.assert_array_equal(a, b)


def test_voxels_taller_than_wide_give_square_pixels():
    volume = np.ones((20, 10, 3), np.float32)
    decoded = decode(
        nib.Nifti1Image(volume, np.diag([1.0, 2.0, 1.0, 1.0])).to_bytes(), ReadSettings("axial", (0, 1))
    )
    assert decoded.frames[0].shape == (20, 20, 1)  # 10 rows of 2 mm become 20 of 1 mm


def header_only(shape, dtype=np.int16) -> bytes:
    """A NIfTI-1 file whose header declares ``shape`` of ``dtype`` and that holds no voxel."""
    header = nib.Nifti1Header()
    header.set_data_shape(shape)
    header.set_data_dtype(dtype)
    header["vox_offset"] = 352
    return header.binaryblock + b"\0" * 4


@pytest.mark.parametrize(
    "make, reason",
    [
        (lambda v: gzip.compress(nib.Nifti1Image(v, np.eye(4)).to_bytes())[:400], "truncated"),
        (
            lambda v: gzip.compress(nib.Nifti1Image(v, np.eye(4)).to_bytes())[:20] + b"\xff" * 300,
            "corrupt gzip",
        ),
        (lambda v: nib.Nifti1Image(v[:, :, 3], np.eye(4)).to_bytes(), "2-D image"),
        (
            lambda v: nib.Nifti1Image(v[..., None, None].repeat(2, 3).repeat(2, 4), np.eye(4)).to_bytes(),
            "5-D",
        ),
        (lambda v: nib.Nifti1Image(np.where(v > 500, np.nan, v), np.eye(4)).to_bytes(), "NaN or infinite"),
        (lambda v: nib.Nifti1Image(np.zeros_like(v), np.eye(4)).to_bytes(), "constant"),
        (lambda v: header_only((4096, 4096, 4096)), "more than augment reads"),
        (lambda v: b"\x00" * 400, "not a NIfTI file"),
    ],
    ids=["truncated", "corrupt", "2d", "5d", "nan", "constant", "huge", "garbage"],
)
def test_a_bad_volume_is_one_line_naming_the_file_or_is_skipped(tmp_path, make, reason):
    (tmp_path / "scans").mkdir()
    save(labelled_volume(), tmp_path / "scans" / "good.nii")
    (tmp_path / "scans" / "bad.nii.gz").write_bytes(make(labelled_volume()))
    with pytest.raises(AugmentError, match=r"bad\.nii\.gz: .*" + reason) as raised:
        load_folder(tmp_path / "scans", 8)
    assert "\n" not in str(raised.value)
    kept = load_folder(tmp_path / "scans", 8, on_bad_file="skip")
    assert len(kept.images) == 6 and [f.path for f in kept.skipped] == ["bad.nii.gz"]


def test_a_huge_volume_is_refused_from_its_header_alone():
    with pytest.raises(Exception, match=r"4096x4096x4096 volume of int16 \(128.0 GiB\)"):
        decode(header_only((4096, 4096, 4096)))


def test_settings_are_checked_and_the_window_is_parsed():
    assert parse_window("-160,240") == (-160.0, 240.0)
    for bad in ("240,-160", "1", "a,b", "nan,1"):
        with pytest.raises(AugmentError, match="`window` must be two finite numbers"):
            parse_window(bad)
    with pytest.raises(AugmentError, match="`slice_axis` must be one of axial, coronal, sagittal"):
        ReadSettings("transverse")


def test_a_volumes_slices_are_one_scan_with_their_slices_in_the_provenance_record(tmp_path):
    save(labelled_volume(), tmp_path / "a" / "one.nii.gz")
    save(labelled_volume() + 3, tmp_path / "a" / "two.nii")
    data = load_folder(tmp_path, 8, read_settings=IDENTITY_WINDOW)
    assert [s.name for s in data.scans] == ["a/one.nii.gz", "a/two.nii"]
    assert data.scan_of.tolist() == [0] * 6 + [1] * 6
    assert data.files[0].slices[0] == {"slice": 1, "world_mm": 1.0}
    assert data.notes == (
        "a/one.nii.gz: 2 empty axial slices of 8 skipped",
        "a/two.nii: 2 empty axial slices of 8 skipped",
    )


def series_file(path: pathlib.Path, pixels: np.ndarray, uid: str, position=None, instance=None) -> None:
    """A single-slice MR DICOM file of ``pixels`` (int16) in series ``uid``."""
    dataset = pydicom.dcmread(MR_SMALL)
    dataset.Rows, dataset.Columns = pixels.shape
    dataset.PixelData = pixels.astype(np.int16).tobytes()
    dataset.SeriesInstanceUID = uid
    dataset.RescaleSlope, dataset.RescaleIntercept = 1, 0
    for keyword in ("ImagePositionPatient", "InstanceNumber"):
        if keyword in dataset:
            delattr(dataset, keyword)
    dataset.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    if position is not None:
        dataset.ImagePositionPatient = [0.0, 0.0, float(position)]
    if instance is not None:
        dataset.InstanceNumber = instance
    path.parent.mkdir(parents=True, exist_ok=True)
    dataset.save_as(path)


def test_a_dicom_series_is_one_scan_in_slice_order_windowed_together(tmp_path):
    names = ["q.dcm", "b.dcm", "x.dcm", "a.dcm"]  # shuffled names; positions 30, 10, 20, 0 mm
    for name, z in zip(names, (30, 10, 20, 0), strict=True):
        series_file(tmp_path / "s" / name, np.full((16, 16), 100 + z, np.int16), "1.2.3", position=z)
    series_file(tmp_path / "s" / "other.dcm", np.full((16, 16), 50, np.int16), "9.9")
    data = load_folder(tmp_path, 8)
    paths = [data.files[int(i)].path for i in data.sources[:, 0]]
    assert paths == ["s/a.dcm", "s/b.dcm", "s/x.dcm", "s/q.dcm", "s/other.dcm"]  # by position
    series_scan = data.scans[data.scan_of[paths.index("s/a.dcm")]]
    assert series_scan.key == "series:1.2.3" and series_scan.name == "series 1.2.3 (4 files)"
    assert len(data.scans) == 2
    by_path = {f.path: f.slices[0] for f in data.files}
    assert by_path["s/x.dcm"] == {"series": "1.2.3", "position": [0.0, 0.0, 20.0], "slice": 2}
    # one window over the dataset: 50 (other series) is black, 130 white, 110 between
    values = {p: float(data.images[i, 0, 0, 0]) for i, p in enumerate(paths)}
    assert values["s/other.dcm"] == 0 and values["s/q.dcm"] == pytest.approx(1.0)
    assert values["s/b.dcm"] == pytest.approx(60 / 80)


def test_a_series_without_positions_is_ordered_by_instance_number(tmp_path):
    for name, instance in zip(["c.dcm", "a.dcm", "b.dcm"], (2, 3, 1), strict=True):
        series_file(tmp_path / "s" / name, np.full((8, 8), instance, np.int16), "4.5", instance=instance)
    data = load_folder(tmp_path, 8)
    assert [data.files[int(i)].path for i in data.sources[:, 0]] == ["s/b.dcm", "s/c.dcm", "s/a.dcm"]


def test_a_slice_of_another_size_in_a_series_is_a_bad_file(tmp_path):
    for z in range(3):
        series_file(tmp_path / "s" / f"{z}.dcm", np.full((16, 16), z, np.int16), "7.7", position=z)
    series_file(tmp_path / "s" / "odd.dcm", np.full((12, 16), 5, np.int16), "7.7", position=9)
    with pytest.raises(
        AugmentError, match=r"s/odd\.dcm: its slice is 12x16, the other slices of its series 7\.7"
    ):
        load_folder(tmp_path, 8)
    assert len(load_folder(tmp_path, 8, on_bad_file="skip").images) == 3


def test_multi_frame_dicom_stays_one_image_per_frame_and_one_scan(tmp_path):
    shutil.copy(pathlib.Path(MR_SMALL).parent / "rtdose.dcm", tmp_path / "dose.dcm")
    data = load_folder(tmp_path, 8)
    assert len(data.images) == 15 and len(data.scans) == 1 and data.files[0].slices == ()


def test_per_scan_scores_are_means_and_single_image_scans_change_nothing():
    np.testing.assert_allclose(per_scan(np.array([1.0, 3.0, 10.0]), np.array(["b", "b", "a"])), [10.0, 2.0])
    rng = np.random.default_rng(0)
    synthetic, members, others = rng.random((6, 4, 4, 1)), rng.random((5, 4, 4, 1)), rng.random((4, 4, 4, 1))
    by_image = membership_inference(synthetic, members, others)
    by_scan = membership_inference(synthetic, members, others, 0, np.arange(5), np.arange(4))
    assert by_scan["auc"] == by_image["auc"] and by_scan["unit"] == "scan" and by_image["unit"] == "image"


def two_scan_folders(tmp_path, shared: bool) -> tuple[pathlib.Path, pathlib.Path]:
    """Training: 3 volumes; held out: 3 others, or (shared) 2 others and a copy of a training one."""
    rng = np.random.default_rng(1)
    volumes = [labelled_volume() * rng.uniform(0.5, 1.5) + rng.normal(0, 40, (12, 10, 8)) for _ in range(6)]
    for i, volume in enumerate(volumes):
        part = "train" if i < 3 else "holdout"
        save(np.clip(volume, 0, None).astype(np.float32), tmp_path / part / "brain" / f"v{i}.nii.gz")
    if shared:
        shutil.copy(tmp_path / "train" / "brain" / "v0.nii.gz", tmp_path / "holdout" / "brain" / "v5.nii.gz")
    return tmp_path / "train", tmp_path / "holdout"


@pytest.mark.slow
def test_synth_and_evaluate_on_volumes_keep_scans_apart(tmp_path):
    train, holdout = two_scan_folders(tmp_path, shared=True)
    out = tmp_path / "out.h5"
    runner = CliRunner()
    common = TINY
    result = runner.invoke(app, ["synth", str(train), "--out", str(out), "--slice-axis", "coronal", *common])
    assert result.exit_code == 0, result.output
    with h5py.File(out) as f:
        provenance = json.loads(f["provenance"][()])
    assert provenance["config"]["slice_axis"] == "coronal" and provenance["config"]["window"] is None
    first = provenance["inputs"][0]
    assert first["path"] == "brain/v0.nii.gz" and len(first["sha256"]) == 64
    assert (
        first["slices"][0] == {"slice": 0, "world_mm": 0.0} and len(first["slices"]) == first["frames"] == 10
    )
    assert recorded_reading(provenance) == ReadSettings("coronal")

    evaluation = evaluate(out, train, holdout)  # reads the volumes coronally, as recorded
    assert evaluation.figures["counts"]["train"] == 30
    assert any("share 1 scan(s) (brain/v5.nii.gz)" in w for w in evaluation.warnings)
    attack = evaluation.figures["membership_inference"]
    assert attack["unit"] == "scan" and attack["members"] == 3 and attack["non_members"] == 2

    result = runner.invoke(app, ["evaluate", str(out), "--real", str(train), "--json", "--window", "0,900"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["counts"]["train"] == 30  # the recorded coronal axis kept
    assert evaluate(out, train, window=(0.0, 900.0)).figures["counts"]["train"] == 30
    result = runner.invoke(
        app, ["synth", str(train), "--out", str(tmp_path / "b.h5"), "--window", "9", *common]
    )
    assert result.exit_code == 1 and result.stderr == (
        "error: --window must be two finite numbers LOW,HIGH with LOW < HIGH, got '9'\n"
    )


def test_near_copies_name_their_scan_and_slice(tmp_path):
    train, _ = two_scan_folders(tmp_path, shared=False)
    real = load_folder(train, 8)
    out = tmp_path / "copies.h5"
    from augment.io.dataset import SyntheticDataset, to_integer_pixels
    from augment.io.writers import check_target, write_output

    dataset = SyntheticDataset(
        images=to_integer_pixels(real.images[[1, 2]], 16), labels=np.zeros(2, np.int64),
        class_names=("brain",), realness=np.zeros(2, np.float32),
        nearest_real_index=np.zeros(2, np.int64), nearest_real_distance=np.zeros(2, np.float32),
        near_copy=np.ones(2, bool), real_sources=real.sources,
        provenance={"config": {"slice_axis": "axial", "window": None}},
    )  # fmt: skip
    write_output(check_target(out, "h5", False), dataset, "h5")
    evaluation = evaluate(out, train)
    copies = evaluation.figures["privacy"]["near_copies"]
    assert {c["nearest_train_scan"] for c in copies} == {"brain/v0.nii.gz"}
    assert sorted(c["nearest_train_slice"]["slice"] for c in copies) == [1, 2]
    from augment.report import write_report

    page = write_report(evaluation, tmp_path / "report").read_text()
    assert "(nearest: brain/v0.nii.gz, slice 1)" in page and "(nearest: brain/v0.nii.gz, slice 2)" in page


def test_old_provenance_without_reading_settings_reads_with_the_defaults():
    assert recorded_reading({}) == DEFAULT_READING
    assert recorded_reading({"config": {"slice_axis": "oblique"}}) == DEFAULT_READING
    assert recorded_reading({"config": {"slice_axis": "sagittal", "window": [0, 5]}}) == ReadSettings(
        "sagittal", (0.0, 5.0)
    )
