"""DICOM through pydicom (``.dcm``/``.dicom``, or no suffix and the ``DICM`` magic at byte 128).

Every frame of a multi-frame file is one image; the modality LUT (rescale slope and intercept) is
applied; MONOCHROME1 is inverted so that bright means high. Monochrome frames are scaled to [0, 1]
later, over the whole dataset (``Decoded.dataset_scaled``); colour frames by their bit depth.
"""

from __future__ import annotations

import io
import warnings

import numpy as np

from augment.io.readers.base import BadFile, Decoded, Reader

MAGIC = b"DICM"


def recognise(head: bytes) -> bool:
    """The DICOM magic at byte 128."""
    return head[128:132] == MAGIC


def decode(data: bytes) -> Decoded:
    """Every frame of a DICOM file, with its modality LUT applied."""
    import pydicom
    from pydicom.errors import InvalidDicomError
    from pydicom.pixels import apply_modality_lut

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            dataset = pydicom.dcmread(io.BytesIO(data), force=True)
        except (InvalidDicomError, EOFError, OSError, ValueError, KeyError, TypeError) as error:
            raise BadFile(f"not a readable DICOM file ({error})") from None
        if len(dataset) == 0:
            raise BadFile("not a readable DICOM file (no DICOM elements found)")
        if "PixelData" not in dataset:
            raise BadFile("DICOM file has no pixel data")
        try:
            pixels = np.asarray(dataset.pixel_array)
        except (ValueError, EOFError) as error:
            raise BadFile(f"truncated or corrupt DICOM pixel data ({str(error).split(' - ')[0]})") from None
        except (RuntimeError, NotImplementedError, AttributeError, TypeError) as error:
            raise BadFile(f"unsupported DICOM pixel data ({str(error).splitlines()[0]})") from None
    frames = int(dataset.get("NumberOfFrames", 1) or 1)
    samples = int(dataset.get("SamplesPerPixel", 1) or 1)
    bits = int(dataset.get("BitsStored", 8) or 8)
    if frames == 1:
        pixels = pixels[None]
    if samples == 3:
        top = float(2**bits - 1)
        return Decoded(
            [np.clip(f.astype(np.float32) / top, 0, 1) for f in pixels],
            True,
            16 if bits > 8 else 8,
            False,
        )
    if samples != 1:
        raise BadFile(f"unsupported DICOM with {samples} samples per pixel")
    values = np.asarray(apply_modality_lut(pixels, dataset), np.float64)
    if str(dataset.get("PhotometricInterpretation", "")).strip() == "MONOCHROME1":
        values = -values  # inverted display: the dataset window maps the new range to [0, 1]
    return Decoded([f[..., None] for f in values], False, 16 if bits > 8 else 8, dataset_scaled=True)


DICOM = Reader("dicom", frozenset({".dcm", ".dicom"}), decode, recognise)
