"""PNG, JPEG, TIFF and BMP through Pillow: 8- and 16-bit; modes 1 / L / LA / P / RGB / RGBA /
CMYK / I;16 (and 32-bit integer ``I`` images whose values fit in 16 bits). Every page of a
multi-page TIFF is one image; alpha is dropped; 32-bit float images are refused. Intensities go to
[0, 1] by the full range of the bit depth (255 or 65535)."""

from __future__ import annotations

import io
import re

import numpy as np
from PIL import Image, ImageSequence, UnidentifiedImageError

from augment.io.readers.base import BadFile, Decoded, Reader, ReadSettings, without_reprs

MAX_PIXELS = 2**26  # 67 megapixels (8192x8192): a larger image is a bad file, not an allocation
_SIXTEEN_BIT_MODES = {"I;16", "I;16B", "I;16L", "I;16N"}


def _frame(frame: Image.Image) -> tuple[np.ndarray, bool, int]:
    """One Pillow frame -> (H, W, 1 or 3) float32 in [0, 1], colour?, bit depth."""
    mode = frame.mode
    if mode in _SIXTEEN_BIT_MODES or mode == "I":
        pixels = np.asarray(frame, dtype=np.int64)
        if mode == "I" and (pixels.min() < 0 or pixels.max() > 65535):
            raise BadFile("unsupported image: 32-bit integer values outside 0..65535")
        return (pixels.astype(np.float32) / 65535.0)[..., None], False, 16
    if mode == "F":
        raise BadFile("unsupported image mode F (32-bit floating point)")
    if mode in ("1", "L", "LA"):
        return (np.asarray(frame.convert("L"), np.float32) / 255.0)[..., None], False, 8
    rgb = np.asarray(frame.convert("RGB"), np.float32) / 255.0
    colour = bool(np.any(rgb[..., 0] != rgb[..., 1]) or np.any(rgb[..., 0] != rgb[..., 2]))
    return (rgb if colour else rgb[..., :1]), colour, 8


def _checked_size(frame: Image.Image) -> Image.Image:
    """``frame`` if its declared size is within :data:`MAX_PIXELS` (checked before decoding, so a
    small file declaring a huge image is refused without allocating it)."""
    width, height = frame.size
    if width * height > MAX_PIXELS:
        raise BadFile(
            f"the image is {width}x{height} pixels ({width * height / 1e6:.0f} megapixels), "
            f"more than augment reads ({MAX_PIXELS / 1e6:.0f} megapixels)"
        )
    return frame


def decode(data: bytes, settings: ReadSettings | None = None) -> Decoded:
    """Every frame of an image file Pillow can open (``settings`` are for volumes)."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            read = [_frame(_checked_size(frame)) for frame in ImageSequence.Iterator(image)]
    except UnidentifiedImageError:
        raise BadFile("not an image file Pillow can read") from None
    except Image.DecompressionBombError as error:  # Pillow's own limit, met while opening
        declared = re.search(r"\((\d+) pixels\)", str(error))
        pixels = f"{int(declared.group(1)) / 1e6:.0f} megapixels" if declared else "too many pixels"
        raise BadFile(
            f"the image is {pixels}, more than augment reads ({MAX_PIXELS / 1e6:.0f} megapixels)"
        ) from None
    except (OSError, ValueError, SyntaxError) as error:
        raise BadFile(f"not a readable image ({without_reprs(str(error))})") from None
    return Decoded(
        [r[0] for r in read],
        any(r[1] for r in read),
        max(r[2] for r in read),
        dataset_scaled=False,
    )


_MAGICS = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"II*\x00", b"MM\x00*")


def recognise(head: bytes) -> bool:
    """PNG, JPEG or TIFF by their magic bytes."""
    return head.startswith(_MAGICS)


PILLOW = Reader("pillow", frozenset({".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp"}), decode, recognise)
