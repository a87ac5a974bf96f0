"""DICOM through pydicom (``.dcm``/``.dicom``, or no suffix and the ``DICM`` magic at byte 128).

Every frame of a multi-frame file is one image; the modality LUT (rescale slope and intercept) is
applied; MONOCHROME1 is mirrored within the range its stored bits hold, so that bright means high
and the same picture stored as MONOCHROME1 or MONOCHROME2 reads the same; PALETTE COLOR goes
through its colour lookup table. Monochrome frames are scaled to [0, 1]
later, over the whole dataset (``Decoded.dataset_scaled``); colour frames by their bit depth.

A single-frame file says which series it belongs to and where in it (``Decoded.series``): the
folder loader makes the files of one series one scan, in order of position (folder.py).
"""

from __future__ import annotations

import io
import warnings

import numpy as np

from augment.io.readers.base import BadFile, Decoded, Reader, ReadSettings, SeriesSlice, without_reprs

MAGIC = b"DICM"


def recognise(head: bytes) -> bool:
    """The DICOM magic at byte 128."""
    return head[128:132] == MAGIC


def _numbers(value: object, count: int) -> list[float] | None:
    """``count`` finite floats from a multi-valued DICOM element, or None."""
    try:
        numbers = [float(v) for v in value]  # type: ignore[attr-defined]
    except (TypeError, ValueError):
        return None
    return numbers if len(numbers) == count and all(np.isfinite(numbers)) else None


def series_slice(dataset) -> tuple[SeriesSlice | None, dict]:
    """Where a single-frame file lies in its series, and its provenance record (``series``,
    ``position``, ``instance``); ``(None, {})`` without a SeriesInstanceUID."""
    uid = str(dataset.get("SeriesInstanceUID", "") or "").strip()
    if not uid:
        return None, {}
    position = _numbers(dataset.get("ImagePositionPatient"), 3)
    orientation = _numbers(dataset.get("ImageOrientationPatient"), 6)
    try:
        instance: int | None = int(dataset.get("InstanceNumber"))
    except (TypeError, ValueError):
        instance = None
    along = None
    if position is not None and orientation is not None:
        normal = np.cross(orientation[:3], orientation[3:])
        along = float(np.dot(normal, position)) if np.linalg.norm(normal) > 0 else None
    info: dict = {"series": uid}
    if position is not None:
        info["position"] = position
    if instance is not None:
        info["instance"] = instance
    return SeriesSlice(uid, along, instance), info


def decode(data: bytes, settings: ReadSettings | None = None) -> Decoded:
    """Every frame of a DICOM file, with its modality LUT applied (``settings`` are for volumes;
    a series is windowed with the whole dataset, folder.py)."""
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
            raise BadFile(f"unsupported DICOM pixel data ({without_reprs(str(error))})") from None
    frames = int(dataset.get("NumberOfFrames", 1) or 1)
    samples = int(dataset.get("SamplesPerPixel", 1) or 1)
    bits = int(dataset.get("BitsStored", 8) or 8)
    photometric = str(dataset.get("PhotometricInterpretation", "")).strip()
    if photometric == "PALETTE COLOR":
        from pydicom.pixels import apply_color_lut

        try:
            rgb = np.asarray(apply_color_lut(pixels, dataset))
        except (ValueError, KeyError, AttributeError, TypeError) as error:
            raise BadFile(f"unsupported DICOM palette ({without_reprs(str(error))})") from None
        top = float(np.iinfo(rgb.dtype).max) if rgb.dtype.kind == "u" else float(max(rgb.max(), 1))
        rgb = rgb[None] if frames == 1 else rgb
        return Decoded([np.clip(f.astype(np.float32) / top, 0, 1) for f in rgb], True, 16 if top > 255 else 8)
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
    if photometric == "MONOCHROME1":
        # the lowest value is shown white: mirror the values within the range the stored bits can
        # hold (after the modality LUT), so the same picture stored as MONOCHROME2 reads the same
        signed = int(dataset.get("PixelRepresentation", 0) or 0) == 1
        stored = (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) if signed else (0, 2**bits - 1)
        ends = np.asarray(apply_modality_lut(np.asarray(stored, pixels.dtype), dataset), np.float64)
        values = float(ends.min() + ends.max()) - values
    series, info = series_slice(dataset) if frames == 1 else (None, {})
    return Decoded(
        [f[..., None] for f in values],
        False,
        16 if bits > 8 else 8,
        dataset_scaled=True,
        frame_info=[info] if info else [],
        series=series,
    )


DICOM = Reader("dicom", frozenset({".dcm", ".dicom"}), decode, recognise)
