"""Reading a folder of real images into one working size and channel count.

Layout: image files directly inside the folder form one class (named after the folder); each
sub-folder is a class named after the sub-folder. Files are read with Pillow (PNG, JPEG, TIFF,
BMP; 8- and 16-bit; L, LA, RGB, RGBA, I;16); hidden files are ignored.

Working size: each image is centre-cropped to a square (the shorter side) and resized to
``size x size`` with bilinear interpolation, on float pixels, so 16-bit inputs keep their
precision. Intensities are scaled per file type to [0, 1]: 8-bit by 255, 16-bit by 65535.
Channels: 1 (luminance) or 3 (RGB); ``auto`` is 3 only if some input is colour. Alpha is dropped.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from augment.errors import AugmentError

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp"}
_SIXTEEN_BIT_MODES = {"I;16", "I;16B", "I;16L", "I"}
_COLOUR_MODES = {"RGB", "RGBA", "P", "CMYK", "YCbCr"}


@dataclass(frozen=True)
class InputFile:
    """One real image file: its path relative to the input folder, class, sha256 and size."""

    path: str
    class_name: str
    sha256: str
    bytes: int


@dataclass(frozen=True)
class RealDataset:
    """Real images at the working size.

    Attributes:
      images: (n, size, size, channels) float32 in [0, 1].
      labels: (n,) int class index into ``class_names``.
      class_names: sorted class names.
      files: one entry per image, in the same order.
      bit_depth: 16 if any input was 16-bit, else 8.
    """

    images: np.ndarray
    labels: np.ndarray
    class_names: tuple[str, ...]
    files: tuple[InputFile, ...]
    bit_depth: int


def find_images(folder: Path) -> list[tuple[Path, str]]:
    """``(path, class name)`` for every image file, sorted; raises if there is none."""
    if not folder.exists():
        raise AugmentError(f"input folder not found: {folder}")
    if not folder.is_dir():
        raise AugmentError(f"input must be a folder of images, got a file: {folder}")

    def images_in(directory: Path) -> list[Path]:
        return sorted(
            p for p in directory.iterdir()
            if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in IMAGE_SUFFIXES
        )

    found = [(p, folder.name) for p in images_in(folder)]
    for sub in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
        found += [(p, sub.name) for p in images_in(sub)]
    if not found:
        raise AugmentError(
            f"no images in {folder} (looked for {', '.join(sorted(IMAGE_SUFFIXES))} directly "
            "inside it and in its sub-folders)"
        )
    return found


def _read(path: Path, data: bytes) -> tuple[np.ndarray, bool, int]:
    """Decode ``data`` (the bytes of ``path``): (H, W, 1 or 3) float32 in [0, 1], colour?, bit depth."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            mode = image.mode
            if mode in _SIXTEEN_BIT_MODES:
                pixels = np.asarray(image, dtype=np.float32) / 65535.0
                return np.clip(pixels, 0.0, 1.0)[..., None], False, 16
            colour = mode in _COLOUR_MODES
            converted = image.convert("RGB" if colour else "L")
            pixels = np.asarray(converted, dtype=np.float32) / 255.0
            return (pixels if colour else pixels[..., None]), colour, 8
    except (UnidentifiedImageError, OSError, ValueError) as error:
        reason = "empty file" if not data else f"not a readable image ({error})"
        raise AugmentError(f"cannot read {path}: {reason}") from None


def to_working_size(pixels: np.ndarray, size: int) -> np.ndarray:
    """(H, W, C) -> (size, size, C): centre square crop, then bilinear resize on float pixels."""
    h, w = pixels.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    square = pixels[top : top + side, left : left + side]
    channels = [
        np.asarray(Image.fromarray(square[..., c], mode="F").resize((size, size), Image.BILINEAR))
        for c in range(square.shape[-1])
    ]
    return np.clip(np.stack(channels, axis=-1), 0.0, 1.0).astype(np.float32)


def load_folder(folder: Path, size: int | None = None, channels: str = "auto") -> RealDataset:
    """Read every image under ``folder`` (layout in the module docstring).

    Args:
      folder: the input folder.
      size: the square working size; None picks the median shorter side, capped at 64.
      channels: "auto", "1" or "3".
    """
    if channels not in ("auto", "1", "3"):
        raise AugmentError(f"--channels must be auto, 1 or 3, got {channels!r}")
    entries = find_images(Path(folder))
    contents = {path: path.read_bytes() for path, _ in entries}
    read = [(path, class_name, *_read(path, contents[path])) for path, class_name in entries]
    if size is None:
        size = int(min(64, np.median([min(r[2].shape[:2]) for r in read])))
    if size < 1:
        raise AugmentError(f"--size must be positive, got {size}")
    colour = channels == "3" or (channels == "auto" and any(r[3] for r in read))
    class_names = tuple(sorted({class_name for _, class_name, *_ in read}))
    images, labels, files = [], [], []
    for path, class_name, pixels, _, _ in read:
        if colour and pixels.shape[-1] == 1:
            pixels = np.repeat(pixels, 3, axis=-1)
        elif not colour and pixels.shape[-1] == 3:
            pixels = (pixels @ np.array([0.299, 0.587, 0.114], np.float32))[..., None]
        images.append(to_working_size(pixels, size))
        labels.append(class_names.index(class_name))
        data = contents[path]
        files.append(
            InputFile(
                str(path.relative_to(folder)), class_name, hashlib.sha256(data).hexdigest(), len(data)
            )
        )
    return RealDataset(
        images=np.stack(images),
        labels=np.asarray(labels, np.int64),
        class_names=class_names,
        files=tuple(files),
        bit_depth=max(r[4] for r in read),
    )
