"""Reading real image folders: every mode and bit depth, DICOM, scaling, sizing, bad files."""

from __future__ import annotations

import pathlib
import shutil

import numpy as np
import pydicom
import pytest
from PIL import Image

from augment.errors import AugmentError
from augment.io.folder import default_size, find_images, load_folder, to_working_size

DICOM_FILES = pathlib.Path(pydicom.__file__).parent / "data" / "test_files"


def dicom(name: str) -> pathlib.Path:
    """A test file that ships inside the pydicom wheel (never one it would download)."""
    path = DICOM_FILES / name
    assert path.is_file(), f"{name} is not bundled with this pydicom"
    return path


def colour(channels: int = 3) -> np.ndarray:
    """An (8, 8, channels) uint8 image whose first three channels differ (alpha is opaque-ish)."""
    divisors = [1, 2, 3, 1][:channels]
    return (np.stack([ramp(8, 8, 255)] * channels, -1) // divisors).astype(np.uint8)


def ramp(height: int, width: int, top: int) -> np.ndarray:
    """A deterministic (height, width) gradient with values 0..top."""
    return np.round(np.linspace(0, top, height * width).reshape(height, width)).astype(np.int64)


@pytest.mark.parametrize(
    "mode, make, colour, bit_depth",
    [
        ("L", lambda: Image.fromarray(ramp(8, 8, 255).astype(np.uint8)), False, 8),
        ("1", lambda: Image.fromarray(ramp(8, 8, 255).astype(np.uint8)).convert("1"), False, 8),
        ("LA", lambda: Image.fromarray(ramp(8, 8, 255).astype(np.uint8)).convert("LA"), False, 8),
        ("P", lambda: Image.fromarray(ramp(8, 8, 255).astype(np.uint8)).convert("P"), False, 8),
        ("I;16", lambda: Image.fromarray(ramp(8, 8, 65535).astype(np.uint16)), False, 16),
        ("RGB", lambda: Image.fromarray(colour(3)), True, 8),
        ("RGBA", lambda: Image.fromarray(colour(4)), True, 8),
        ("grey-RGB", lambda: Image.fromarray(np.stack([ramp(8, 8, 255)] * 3, -1).astype(np.uint8)), False, 8),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
@pytest.mark.parametrize("suffix", [".png", ".tif", ".bmp"])
def test_every_mode_reads_to_unit_range(tmp_path, mode, make, colour, bit_depth, suffix):
    image = make()
    if suffix == ".bmp" and image.mode in ("I;16", "LA", "RGBA"):
        suffix = ".png"  # BMP cannot store these modes
    image.save(tmp_path / f"a{suffix}")
    data = load_folder(tmp_path, size=8)
    assert data.images.shape == (1, 8, 8, 3 if colour else 1)
    assert data.images.dtype == np.float32
    assert data.bit_depth == bit_depth
    assert 0.0 <= data.images.min() and data.images.max() <= 1.0
    if mode in ("L", "I;16", "grey-RGB"):  # the ramp's ends land on 0 and 1 exactly
        assert data.images.min() == 0.0 and data.images.max() == 1.0


def test_jpeg_is_read(tmp_path):
    Image.fromarray(ramp(16, 16, 255).astype(np.uint8)).save(tmp_path / "a.jpg", quality=95)
    data = load_folder(tmp_path, size=16)
    np.testing.assert_allclose(data.images[0, ..., 0], ramp(16, 16, 255) / 255.0, atol=0.03)


def test_sixteen_bit_precision_survives(tmp_path):
    values = (np.arange(64).reshape(8, 8) * 1000 + 7).astype(np.uint16)  # steps far below 1/255
    Image.fromarray(values).save(tmp_path / "deep.png")
    data = load_folder(tmp_path, size=8)
    np.testing.assert_allclose(data.images[0, ..., 0] * 65535.0, values, atol=0.02)


def test_multi_page_tiff_gives_one_image_per_page(tmp_path):
    pages = [Image.fromarray(np.full((8, 8), v, np.uint8)) for v in (0, 128, 255)]
    pages[0].save(tmp_path / "stack.tif", save_all=True, append_images=pages[1:])
    data = load_folder(tmp_path, size=8)
    assert data.images.shape == (3, 8, 8, 1) and data.files[0].frames == 3
    np.testing.assert_allclose(data.images[:, 0, 0, 0], [0, 128 / 255, 1], atol=1e-6)
    assert data.sources.tolist() == [[0, 0], [0, 1], [0, 2]]


def test_centre_crop_then_resize():
    pixels = np.zeros((10, 20, 1), np.float32)
    pixels[:, 5:15] = 1.0  # the central 10x10 square is all ones
    np.testing.assert_allclose(to_working_size(pixels, 5), np.ones((5, 5, 1)))
    tall = np.zeros((30, 10, 1), np.float32)
    tall[10:20] = 1.0
    np.testing.assert_allclose(to_working_size(tall, 10), np.ones((10, 10, 1)))


def test_default_size_is_the_median_shorter_side_capped():
    assert default_size([8, 8, 12]) == 8
    assert default_size([512, 256, 640]) == 64
    assert default_size([512, 256, 640], cap=128) == 128
    assert default_size([4, 4], minimum=8) == 8


def test_classes_from_sub_folders_and_ignored_files(tmp_path):
    for name in ("b-class", "a-class"):
        (tmp_path / name).mkdir()
        Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / name / "x.png")
    (tmp_path / "a-class" / "notes.txt").write_text("not an image")
    (tmp_path / ".hidden.png").write_bytes(b"")
    data = load_folder(tmp_path)
    assert data.class_names == ("a-class", "b-class")
    assert data.labels.tolist() == [0, 1]
    assert data.ignored == ("a-class/notes.txt",)
    assert [f.path for f in data.files] == ["a-class/x.png", "b-class/x.png"]


def test_channels_option(tmp_path):
    Image.fromarray(colour(3)).save(tmp_path / "c.png")
    assert load_folder(tmp_path, channels="1").images.shape[-1] == 1
    Image.fromarray(ramp(8, 8, 255).astype(np.uint8)).save(tmp_path / "g.png")
    assert load_folder(tmp_path, channels="3").images.shape[-1] == 3
    with pytest.raises(AugmentError, match="`channels` must be auto, 1 or 3"):
        load_folder(tmp_path, channels="rgb")


def test_dicom_rescale_is_applied_and_scaled_over_the_dataset(tmp_path):
    shutil.copy(dicom("CT_small.dcm"), tmp_path / "ct.dcm")
    dataset = pydicom.dcmread(dicom("CT_small.dcm"))
    hounsfield = dataset.pixel_array * float(dataset.RescaleSlope) + float(dataset.RescaleIntercept)
    data = load_folder(tmp_path, size=128)
    assert data.bit_depth == 16
    assert data.dicom_window == (float(hounsfield.min()), float(hounsfield.max()))
    expected = (hounsfield - hounsfield.min()) / (hounsfield.max() - hounsfield.min())
    np.testing.assert_allclose(data.images[0, ..., 0], expected, atol=1e-5)


def test_dicom_without_suffix_is_found_by_its_magic(tmp_path):
    shutil.copy(dicom("MR_small.dcm"), tmp_path / "IM0001")
    (tmp_path / "README").write_text("no magic here")
    found, ignored = find_images(tmp_path)
    assert [p.name for p, _ in found] == ["IM0001"] and [p.name for p in ignored] == ["README"]
    assert load_folder(tmp_path, size_cap=32).images.shape == (1, 32, 32, 1)  # 64x64 capped to 32


def test_monochrome1_is_inverted(tmp_path):
    plain = pydicom.dcmread(dicom("MR_small.dcm"))
    plain.save_as(tmp_path / "m2.dcm")
    inverted = pydicom.dcmread(dicom("MR_small.dcm"))
    inverted.PhotometricInterpretation = "MONOCHROME1"
    (tmp_path / "one").mkdir()
    inverted.save_as(tmp_path / "one" / "m1.dcm")
    two = load_folder(tmp_path / "one", size=64).images[0]
    (tmp_path / "one" / "m1.dcm").unlink()
    plain.save_as(tmp_path / "one" / "m2.dcm")
    one = load_folder(tmp_path / "one", size=64).images[0]
    np.testing.assert_allclose(two, 1.0 - one, atol=1e-6)


def test_one_picture_stored_as_monochrome1_and_monochrome2_reads_the_same(tmp_path):
    """MONOCHROME1 stores the picture mirrored within the stored range; read together in one
    folder, both files must give the same image (not two halves of the window)."""
    two = pydicom.dcmread(dicom("MR_small.dcm"))
    two.save_as(tmp_path / "m2.dcm")
    one = pydicom.dcmread(dicom("MR_small.dcm"))
    bits, signed = int(one.BitsStored), int(one.PixelRepresentation) == 1
    low, high = (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) if signed else (0, 2**bits - 1)
    pixels = one.pixel_array
    one.PixelData = ((low + high) - pixels.astype(np.int64)).astype(pixels.dtype).tobytes()
    one.PhotometricInterpretation = "MONOCHROME1"
    one.save_as(tmp_path / "m1.dcm")
    data = load_folder(tmp_path, size=64)
    np.testing.assert_allclose(data.images[0], data.images[1], atol=1e-6)
    assert data.images.min() == 0.0 and data.images.max() == 1.0


def test_palette_colour_dicom_goes_through_its_lookup_table(tmp_path):
    from pydicom.pixels import apply_color_lut

    shutil.copy(dicom("examples_palette.dcm"), tmp_path / "palette.dcm")
    data = load_folder(tmp_path, size=64)
    assert data.images.shape == (1, 64, 64, 3)
    source = pydicom.dcmread(dicom("examples_palette.dcm"))
    rgb = apply_color_lut(source.pixel_array, source).astype(np.float32) / 65535.0
    expected = to_working_size(rgb, 64)
    np.testing.assert_allclose(data.images[0], expected, atol=1e-5)
    assert np.ptp(data.images[0][..., 0] - data.images[0][..., 2]) > 0.05  # colour, not grey indices


def test_a_png_named_dcm_is_read_as_a_png(tmp_path):
    picture = (np.arange(64).reshape(8, 8) * 4).astype(np.uint8)
    Image.fromarray(picture).save(tmp_path / "scan.png")
    (tmp_path / "scan.png").rename(tmp_path / "scan.dcm")
    data = load_folder(tmp_path, size=8)
    np.testing.assert_allclose(data.images[0, ..., 0], picture / 255.0, atol=1e-6)


def huge_png(path: pathlib.Path, width: int, height: int) -> None:
    """A small PNG whose header declares ``width`` x ``height`` (its pixel data is cut short)."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    data = zlib.compress(b"\x00" * 1024)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize("width, height", [(100_000, 100_000), (20_000, 20_000)])
def test_a_huge_image_is_a_bad_file_that_can_be_skipped(tmp_path, width, height):
    huge_png(tmp_path / "bomb.png", width, height)
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / "good.png")
    assert (tmp_path / "bomb.png").stat().st_size < 2000
    with pytest.raises(
        AugmentError, match=rf"bomb\.png: the image is {width * height // 10**6} megapixels, more"
    ):
        load_folder(tmp_path)
    data = load_folder(tmp_path, on_bad_file="skip")
    assert data.images.shape[0] == 1 and "more than augment reads" in (data.skipped[0].skipped or "")


def test_every_unreadable_file_is_listed_in_one_error_without_object_reprs(tmp_path):
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / "good.png")
    for k in range(3):
        (tmp_path / f"bad{k}.png").write_bytes(b"not an image at all")
    with pytest.raises(AugmentError) as caught:
        load_folder(tmp_path)
    message = str(caught.value)
    assert all(f"bad{k}.png: not an image file Pillow can read" in message for k in range(3))
    assert "cannot read 3 of the 4 image files" in message
    assert " at 0x" not in message and "<_io" not in message


def test_multi_frame_dicom_gives_one_image_per_frame(tmp_path):
    shutil.copy(dicom("SC_rgb_rle_2frame.dcm"), tmp_path / "two.dcm")
    data = load_folder(tmp_path, size=16)
    assert data.images.shape == (2, 16, 16, 3) and data.files[0].frames == 2
    frames = pydicom.dcmread(dicom("SC_rgb_rle_2frame.dcm")).pixel_array
    assert not np.array_equal(frames[0], frames[1])
    assert not np.allclose(data.images[0], data.images[1])


def test_bad_files_fail_with_the_name_and_reason_or_are_skipped(tmp_path):
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / "good.png")
    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage" * 10)
    shutil.copy(dicom("MR_truncated.dcm"), tmp_path / "truncated.dcm")
    shutil.copy(dicom("rtplan.dcm"), tmp_path / "plan.dcm")
    Image.fromarray(np.ones((8, 8), np.float32)).save(tmp_path / "float.tif")
    with pytest.raises(
        AugmentError, match=r"cannot read 5 of the 6 image files in .*: corrupt\.png: not a readable image"
    ):
        load_folder(tmp_path)
    data = load_folder(tmp_path, on_bad_file="skip")
    assert data.images.shape[0] == 1
    reasons = {f.path: f.skipped for f in data.skipped}
    assert reasons["empty.png"] == "empty file (0 bytes)"
    assert reasons["corrupt.png"].startswith("not a readable image")
    assert reasons["truncated.dcm"].startswith("truncated or corrupt DICOM pixel data")
    assert reasons["plan.dcm"] == "DICOM file has no pixel data"
    assert reasons["float.tif"] == "unsupported image mode F (32-bit floating point)"
    assert all(f.frames == 0 for f in data.skipped)


def test_a_folder_of_only_bad_files_is_a_clear_error(tmp_path):
    (tmp_path / "a.png").write_bytes(b"")
    with pytest.raises(AugmentError, match=r"no readable images in .*: all 1 image files were skipped"):
        load_folder(tmp_path, on_bad_file="skip")


def test_a_dicom_needing_a_missing_decoder_names_every_way_to_read_it(tmp_path):
    shutil.copy(dicom("MR_small_jpeg_ls_lossless.dcm"), tmp_path / "jls.dcm")
    try:
        load_folder(tmp_path)
    except AugmentError as error:
        message = str(error)
        assert "unsupported DICOM pixel data (Unable to decompress 'JPEG-LS" in message
        assert all(plugin in message for plugin in ("gdcm", "pylibjpeg", "pyjpegls"))  # not cut off
        assert "\n" not in message
    else:  # a JPEG-LS decoder is installed here: the file simply reads
        assert load_folder(tmp_path).images.shape[0] == 1
