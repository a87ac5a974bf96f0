"""Reading a folder of real images into one working size and channel count.

Layout: image files directly inside the folder form one class (named after the folder); each
sub-folder is a class named after the sub-folder. Hidden files and folders are ignored; so are
files that are neither an image type nor DICOM (they are listed in ``RealDataset.ignored``).

Readers:

- PNG, JPEG, TIFF, BMP through Pillow, 8- and 16-bit, modes 1 / L / LA / P / RGB / RGBA / CMYK /
  I;16 (and 32-bit integer ``I`` images whose values fit in 16 bits). Every page of a multi-page
  TIFF is one image. Alpha is dropped. 32-bit float images are refused as unsupported.
- DICOM (``.dcm``/``.dicom``, or any file without a suffix that has the ``DICM`` magic) through
  pydicom: every frame of a multi-frame file is one image; the modality LUT (rescale slope and
  intercept) is applied; MONOCHROME1 is inverted so that bright means high.

Intensities, to [0, 1]:

- Pillow images and colour DICOM: by the full range of their bit depth (255, or 65535 for
  16-bit), the same fixed rule for every image.
- Monochrome DICOM: *per dataset*: after the modality LUT, the minimum and maximum over every
  monochrome DICOM frame of the folder map to 0 and 1 (recorded as ``dicom_window``), so relative
  intensities (Hounsfield units in CT) are kept across scans.

Working size: each image is centre-cropped to a square (the shorter side) and resized to
``size x size`` with Pillow's antialiased bilinear filter, on float32 pixels, so 16-bit inputs keep
their precision. Channels: 1 (ITU-R 601 luminance) or 3 (grey repeated); ``auto`` is 3 only if some
input is colour (an RGB image whose channels differ somewhere).

Unreadable files (empty, corrupt, truncated, unsupported) raise an :class:`AugmentError` naming
the file and the reason, or with ``on_bad_file="skip"`` are left out and listed with the reason.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageSequence, UnidentifiedImageError

from augment.errors import AugmentError

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp"}
DICOM_SUFFIXES = {".dcm", ".dicom"}
DEFAULT_MAX_SIZE = 32  # default working size cap: minutes on a laptop CPU for tens of images
_SIXTEEN_BIT_MODES = {"I;16", "I;16B", "I;16L", "I;16N"}
_LUMA = np.array([0.299, 0.587, 0.114], np.float32)
BAD_FILE_POLICIES = ("fail", "skip")


@dataclass(frozen=True)
class InputFile:
    """One input file: path relative to the input folder, class, sha256, size and what came of it.

    ``frames`` is the number of images taken from the file (0 when skipped); ``skipped`` is the
    reason the file was left out, or None.
    """

    path: str
    class_name: str
    sha256: str
    bytes: int
    frames: int
    skipped: str | None = None


@dataclass(frozen=True)
class RealDataset:
    """Real images at the working size.

    Attributes:
      images: (n, size, size, channels) float32 in [0, 1].
      labels: (n,) int64 class index into ``class_names``.
      class_names: sorted class names (classes whose files were all skipped are dropped).
      sources: (n, 2) int64: for each image, the index of its file in ``files`` and the frame.
      files: every candidate input file, read or skipped, in folder order.
      bit_depth: 16 if any input was more than 8-bit, else 8.
      dicom_window: (low, high) of the per-dataset monochrome DICOM scaling, or None.
      ignored: paths (relative) of files that are not images and were not read.
    """

    images: np.ndarray
    labels: np.ndarray
    class_names: tuple[str, ...]
    sources: np.ndarray
    files: tuple[InputFile, ...]
    bit_depth: int
    dicom_window: tuple[float, float] | None = None
    ignored: tuple[str, ...] = field(default=())

    @property
    def skipped(self) -> tuple[InputFile, ...]:
        return tuple(f for f in self.files if f.skipped is not None)


class _BadFile(Exception):
    """Internal: a file that cannot be used, with the reason as its message."""


@dataclass
class _Decoded:
    """Frames of one file before scaling: (H, W, 1 or 3) float arrays."""

    frames: list[np.ndarray]
    colour: bool
    bit_depth: int
    dataset_scaled: bool  # monochrome DICOM: scaled later over the whole dataset


def _is_dicom(path: Path, head: bytes | None = None) -> bool:
    """A DICOM suffix, or no suffix and the ``DICM`` magic at byte 128 (read from ``head`` if given)."""
    if path.suffix.lower() in DICOM_SUFFIXES:
        return True
    if path.suffix:
        return False
    if head is None:
        with path.open("rb") as handle:
            head = handle.read(132)
    return head[128:132] == b"DICM"


def find_images(folder: Path) -> tuple[list[tuple[Path, str]], list[Path]]:
    """``(path, class name)`` for every image or DICOM file, sorted, and the other files ignored.

    Raises AugmentError if the folder is missing, is a file, or holds no candidate file.
    """
    if not folder.exists():
        raise AugmentError(f"input folder not found: {folder}")
    if not folder.is_dir():
        raise AugmentError(f"input must be a folder of images, got a file: {folder}")
    found: list[tuple[Path, str]] = []
    ignored: list[Path] = []

    def scan(directory: Path, class_name: str) -> None:
        for path in sorted(p for p in directory.iterdir() if p.is_file() and not p.name.startswith(".")):
            if path.suffix.lower() in IMAGE_SUFFIXES or _is_dicom(path):
                found.append((path, class_name))
            else:
                ignored.append(path)

    scan(folder, folder.name)
    for sub in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
        scan(sub, sub.name)
    if not found:
        raise AugmentError(
            f"no images in {folder} (looked for "
            f"{', '.join(sorted(IMAGE_SUFFIXES | DICOM_SUFFIXES))} and DICOM files directly inside it "
            "and in its sub-folders)"
        )
    return found, ignored


def _pillow_frame(frame: Image.Image) -> tuple[np.ndarray, bool, int]:
    """One Pillow frame -> (H, W, 1 or 3) float32 in [0, 1], colour?, bit depth."""
    mode = frame.mode
    if mode in _SIXTEEN_BIT_MODES or mode == "I":
        pixels = np.asarray(frame, dtype=np.int64)
        if mode == "I" and (pixels.min() < 0 or pixels.max() > 65535):
            raise _BadFile("unsupported image: 32-bit integer values outside 0..65535")
        return (pixels.astype(np.float32) / 65535.0)[..., None], False, 16
    if mode == "F":
        raise _BadFile("unsupported image mode F (32-bit floating point)")
    if mode in ("1", "L", "LA"):
        return (np.asarray(frame.convert("L"), np.float32) / 255.0)[..., None], False, 8
    rgb = np.asarray(frame.convert("RGB"), np.float32) / 255.0
    colour = bool(np.any(rgb[..., 0] != rgb[..., 1]) or np.any(rgb[..., 0] != rgb[..., 2]))
    return (rgb if colour else rgb[..., :1]), colour, 8


def _decode_pillow(data: bytes) -> _Decoded:
    try:
        with Image.open(io.BytesIO(data)) as image:
            read = [_pillow_frame(frame) for frame in ImageSequence.Iterator(image)]
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as error:
        raise _BadFile(f"not a readable image ({error})") from None
    return _Decoded(
        [r[0] for r in read],
        any(r[1] for r in read),
        max(r[2] for r in read),
        dataset_scaled=False,
    )


def _decode_dicom(data: bytes) -> _Decoded:
    import pydicom
    from pydicom.errors import InvalidDicomError
    from pydicom.pixels import apply_modality_lut

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            dataset = pydicom.dcmread(io.BytesIO(data), force=True)
        except (
            InvalidDicomError,
            EOFError,
            OSError,
            ValueError,
            KeyError,
            TypeError,
        ) as error:
            raise _BadFile(f"not a readable DICOM file ({error})") from None
        if len(dataset) == 0:
            raise _BadFile("not a readable DICOM file (no DICOM elements found)")
        if "PixelData" not in dataset:
            raise _BadFile("DICOM file has no pixel data")
        try:
            pixels = np.asarray(dataset.pixel_array)
        except (ValueError, EOFError) as error:
            raise _BadFile(f"truncated or corrupt DICOM pixel data ({str(error).split(' - ')[0]})") from None
        except (RuntimeError, NotImplementedError, AttributeError, TypeError) as error:
            raise _BadFile(f"unsupported DICOM pixel data ({str(error).splitlines()[0]})") from None
    frames = int(dataset.get("NumberOfFrames", 1) or 1)
    samples = int(dataset.get("SamplesPerPixel", 1) or 1)
    bits = int(dataset.get("BitsStored", 8) or 8)
    if frames == 1:
        pixels = pixels[None]
    if samples == 3:
        top = float(2**bits - 1)
        return _Decoded(
            [np.clip(f.astype(np.float32) / top, 0, 1) for f in pixels],
            True,
            16 if bits > 8 else 8,
            False,
        )
    if samples != 1:
        raise _BadFile(f"unsupported DICOM with {samples} samples per pixel")
    values = np.asarray(apply_modality_lut(pixels, dataset), np.float64)
    if str(dataset.get("PhotometricInterpretation", "")).strip() == "MONOCHROME1":
        values = -values  # inverted display: the dataset window maps the new range to [0, 1]
    return _Decoded(
        [f[..., None] for f in values],
        False,
        16 if bits > 8 else 8,
        dataset_scaled=True,
    )


def _decode(path: Path, data: bytes) -> _Decoded:
    if not data:
        raise _BadFile("empty file (0 bytes)")
    return _decode_dicom(data) if _is_dicom(path, data) else _decode_pillow(data)


def to_working_size(pixels: np.ndarray, size: int) -> np.ndarray:
    """(H, W, C) -> (size, size, C): centre square crop, then antialiased bilinear resize."""
    h, w = pixels.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    square = np.asarray(pixels[top : top + side, left : left + side], np.float32)
    channels = [
        np.asarray(Image.fromarray(square[..., c], mode="F").resize((size, size), Image.BILINEAR))
        for c in range(square.shape[-1])
    ]
    return np.clip(np.stack(channels, axis=-1), 0.0, 1.0).astype(np.float32)


def default_size(shorter_sides: list[int], minimum: int = 1) -> int:
    """The default working size: the median shorter side, at most 32 and at least ``minimum``."""
    return int(max(minimum, min(DEFAULT_MAX_SIZE, np.median(shorter_sides))))


def load_folder(
    folder: Path,
    size: int | None = None,
    channels: str = "auto",
    on_bad_file: str = "fail",
    min_size: int = 1,
) -> RealDataset:
    """Read every image under ``folder`` (layout, readers and scaling in the module docstring).

    Args:
      folder: the input folder.
      size: the square working size; None picks :func:`default_size`.
      channels: "auto", "1" or "3".
      on_bad_file: "fail" raises on the first unreadable file; "skip" leaves them out.
      min_size: the smallest working size the caller can use (the default size is raised to it).
    """
    if channels not in ("auto", "1", "3"):
        raise AugmentError(f"--channels must be auto, 1 or 3, got {channels!r}")
    if on_bad_file not in BAD_FILE_POLICIES:
        raise AugmentError(f"--on-bad-file must be fail or skip, got {on_bad_file!r}")
    if size is not None and size < 1:
        raise AugmentError(f"--size must be positive, got {size}")
    folder = Path(folder)
    entries, ignored = find_images(folder)

    files: list[InputFile] = []
    decoded: list[_Decoded | None] = []
    for path, class_name in entries:
        data = path.read_bytes()
        relative = str(path.relative_to(folder))
        digest = hashlib.sha256(data).hexdigest()
        try:
            result = _decode(path, data)
        except _BadFile as bad:
            if on_bad_file == "fail":
                raise AugmentError(
                    f"cannot read {path}: {bad} (pass --on-bad-file skip to leave unreadable files out)"
                ) from None
            files.append(InputFile(relative, class_name, digest, len(data), 0, str(bad)))
            decoded.append(None)
            continue
        files.append(InputFile(relative, class_name, digest, len(data), len(result.frames)))
        decoded.append(result)

    if all(d is None for d in decoded):
        first = files[0]
        raise AugmentError(
            f"no readable images in {folder}: all {len(files)} image files were skipped "
            f"(first: {first.path}: {first.skipped})"
        )

    window = None
    dicom_values = [f for d in decoded if d is not None and d.dataset_scaled for f in d.frames]
    if dicom_values:
        low = float(min(f.min() for f in dicom_values))
        high = float(max(f.max() for f in dicom_values))
        window = (low, high)

    def scaled(frame: np.ndarray, d: _Decoded) -> np.ndarray:
        if not d.dataset_scaled:
            return frame
        low, high = window
        return ((frame - low) / (high - low) if high > low else np.zeros_like(frame)).astype(np.float32)

    usable = [d for d in decoded if d is not None]
    if size is None:
        size = default_size([min(f.shape[:2]) for d in usable for f in d.frames], min_size)
    colour = channels == "3" or (channels == "auto" and any(d.colour for d in usable))
    class_names = tuple(sorted({f.class_name for f, d in zip(files, decoded) if d is not None}))
    images, labels, sources = [], [], []
    for index, (file, d) in enumerate(zip(files, decoded)):
        if d is None:
            continue
        for frame_index, frame in enumerate(d.frames):
            pixels = scaled(frame, d)
            if colour and pixels.shape[-1] == 1:
                pixels = np.repeat(pixels, 3, axis=-1)
            elif not colour and pixels.shape[-1] == 3:
                pixels = (pixels @ _LUMA)[..., None]
            images.append(to_working_size(pixels, size))
            labels.append(class_names.index(file.class_name))
            sources.append((index, frame_index))
    return RealDataset(
        images=np.stack(images),
        labels=np.asarray(labels, np.int64),
        class_names=class_names,
        sources=np.asarray(sources, np.int64).reshape(-1, 2),
        files=tuple(files),
        bit_depth=max(d.bit_depth for d in usable),
        dicom_window=window,
        ignored=tuple(str(p.relative_to(folder)) for p in ignored),
    )
