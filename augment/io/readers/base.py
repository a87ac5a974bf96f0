"""What a reader is: a function from a file's bytes (and the user's reading settings) to float
frames, and how files are matched."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from augment.errors import AugmentError
from augment.parameters import default

_REPR = re.compile(r"<[^<>]* at 0x[0-9a-fA-F]+>")


class BadFile(Exception):
    """A file that cannot be used; the message is the reason, written for the user."""


def without_reprs(message: str) -> str:
    """A library's error message without Python object reprs (``<_io.BytesIO object at 0x..>``)."""
    return " ".join(_REPR.sub("the file", message).split())


SLICE_AXES = ("axial", "coronal", "sagittal")
"""The planes a volume is cut into, in its canonical (RAS) orientation: along superior, anterior
and right respectively."""


@dataclass(frozen=True)
class ReadSettings:
    """How the readers of volumes cut and scale them (images without a third axis ignore it).

    Attributes:
      slice_axis: one of :data:`SLICE_AXES`.
      window: ``(low, high)`` intensities mapped to 0 and 1 for every volume (CT in Hounsfield
        units), or None: each volume by its own 0.5 and 99.5 percentiles.
    """

    slice_axis: str = default("slice_axis")
    window: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        if self.slice_axis not in SLICE_AXES:
            axes = ", ".join(SLICE_AXES)
            raise AugmentError(f"`slice_axis` must be one of {axes}, got {self.slice_axis!r}")
        if self.window is not None:
            check_window(*self.window, shown=f"{self.window[0]},{self.window[1]}")


def check_window(low: float, high: float, shown: str) -> None:
    """An AugmentError (showing the window as ``shown``) unless ``low < high``, both finite."""
    if not (math.isfinite(low) and math.isfinite(high) and high > low):
        raise AugmentError(f"`window` must be two finite numbers LOW,HIGH with LOW < HIGH, got {shown}")


DEFAULT_READING = ReadSettings()


def parse_window(text: str) -> tuple[float, float]:
    """``"LOW,HIGH"`` as two floats (checked by :class:`ReadSettings`)."""
    parts = text.split(",")
    try:
        low, high = (float(part) for part in parts) if len(parts) == 2 else (math.nan, math.nan)
    except ValueError:
        low, high = math.nan, math.nan
    check_window(low, high, repr(text))
    return low, high


@dataclass(frozen=True)
class SeriesSlice:
    """Where a single-slice DICOM file lies in its series.

    Attributes:
      uid: its SeriesInstanceUID.
      along_normal: its ImagePositionPatient projected on the slice normal (the cross product of
        ImageOrientationPatient's row and column directions), in mm; None when either is missing.
      instance: its InstanceNumber, or None.
    """

    uid: str
    along_normal: float | None
    instance: int | None


@dataclass
class Decoded:
    """The frames of one file before scaling to the working size.

    Attributes:
      frames: one (H, W, 1 or 3) float array per image in the file: values in [0, 1], or, when
        ``dataset_scaled``, raw values that the folder loader scales over the whole dataset.
      colour: whether any frame is colour (channels that differ somewhere).
      bit_depth: 8 or 16: the depth the outputs of this dataset are stored at.
      dataset_scaled: monochrome DICOM: scaled later by the dataset's window (see folder.py).
      frame_info: per frame, where it lies in its scan, for provenance (empty: nothing to say):
        a volume's ``slice`` index along the slice axis and ``world_mm``, the slice's coordinate
        on that axis; a DICOM slice's ``series`` and ``position`` (ImagePositionPatient).
      series: where a single-slice DICOM file lies in its series: files of one series form one
        scan, ordered by position (see folder.py). None: the file is a scan of its own.
      notes: what the reader left out that the user may not expect (empty slices, later volumes).
    """

    frames: list[np.ndarray]
    colour: bool
    bit_depth: int
    dataset_scaled: bool = False
    frame_info: list[dict[str, Any]] = field(default_factory=list)
    series: SeriesSlice | None = None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Reader:
    """A way to read one kind of image file.

    Attributes:
      name: the registry name ("pillow", "dicom").
      suffixes: lower-case suffixes this reader takes (".png").
      decode: ``decode(data, settings) -> Decoded`` (``settings`` a :class:`ReadSettings`);
        raises :class:`BadFile` with the reason.
      recognise: ``recognise(head)`` says from a file's first 132 bytes whether it is this
        reader's kind (the DICOM magic); a recognised file is read by this reader whatever its
        suffix, and a file without a suffix is found by it. None: suffixes only.
    """

    name: str
    suffixes: frozenset[str]
    decode: Callable[[bytes, ReadSettings], Decoded]
    recognise: Callable[[bytes], bool] | None = None
