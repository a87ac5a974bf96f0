"""What a reader is: a function from a file's bytes to float frames, and how files are matched."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

_REPR = re.compile(r"<[^<>]* at 0x[0-9a-fA-F]+>")


class BadFile(Exception):
    """A file that cannot be used; the message is the reason, written for the user."""


def without_reprs(message: str) -> str:
    """A library's error message without Python object reprs (``<_io.BytesIO object at 0x..>``)."""
    return " ".join(_REPR.sub("the file", message).split())


@dataclass
class Decoded:
    """The frames of one file before scaling to the working size.

    Attributes:
      frames: one (H, W, 1 or 3) float array per image in the file: values in [0, 1], or, when
        ``dataset_scaled``, raw values that the folder loader scales over the whole dataset.
      colour: whether any frame is colour (channels that differ somewhere).
      bit_depth: 8 or 16: the depth the outputs of this dataset are stored at.
      dataset_scaled: monochrome DICOM: scaled later by the dataset's window (see folder.py).
    """

    frames: list[np.ndarray]
    colour: bool
    bit_depth: int
    dataset_scaled: bool = False


@dataclass(frozen=True)
class Reader:
    """A way to read one kind of image file.

    Attributes:
      name: the registry name ("pillow", "dicom").
      suffixes: lower-case suffixes this reader takes (".png").
      decode: ``decode(data) -> Decoded``; raises :class:`BadFile` with the reason.
      recognise: ``recognise(head)`` says from a file's first 132 bytes whether it is this
        reader's kind (the DICOM magic); a recognised file is read by this reader whatever its
        suffix, and a file without a suffix is found by it. None: suffixes only.
    """

    name: str
    suffixes: frozenset[str]
    decode: Callable[[bytes], Decoded]
    recognise: Callable[[bytes], bool] | None = None
