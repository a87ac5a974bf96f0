"""The synthetic dataset in memory and what every stored form of it shares: the format name and
version (``docs/format.md``) and the integer pixel encoding."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from augment.errors import AugmentError

FORMAT_NAME = "augment.synthetic"
FORMAT_VERSION = "1.6"


@dataclass(frozen=True)
class SyntheticDataset:
    """A synthetic dataset in memory (what the writers take and the readers return).

    Attributes:
      images: (N, H, W, C) uint8, or uint16 when the inputs were 16-bit.
      labels: (N,) int64 index into ``class_names``.
      class_names: (K,) class names.
      realness: (N,) float32 discriminator "real" score of each image.
      nearest_real_index: (N,) int64 index of the closest real image (order of ``real_sources``).
      nearest_real_distance: (N,) float32 RMS pixel distance to it, in [0, 1] intensity units.
      near_copy: (N,) bool: closer to a real image than 95% of the real images are to each other
        (the threshold is in the provenance, ``quality.near_copy_threshold``).
      real_sources: (R, 2) int64: for each real image, its input file (index into
        ``provenance["inputs"]``) and frame.
      provenance: the JSON-serialisable record of how the dataset was made.
    """

    images: np.ndarray
    labels: np.ndarray
    class_names: tuple[str, ...]
    realness: np.ndarray
    nearest_real_index: np.ndarray
    nearest_real_distance: np.ndarray
    near_copy: np.ndarray
    real_sources: np.ndarray
    provenance: dict[str, Any]


def to_integer_pixels(images: np.ndarray, bit_depth: int) -> np.ndarray:
    """(N, H, W, C) float in [0, 1] -> uint8 (8-bit) or uint16 (16-bit), rounded."""
    dtype, top = (np.uint16, 65535) if bit_depth == 16 else (np.uint8, 255)
    return np.round(np.clip(images, 0.0, 1.0) * top).astype(dtype)


def stored_form(images: np.ndarray, bit_depth: int) -> np.ndarray:
    """``images`` (float in [0, 1]) as an output stores them and reads them back: rounded to
    ``bit_depth`` bits. Near-copies are measured between images in this form everywhere."""
    return from_integer_pixels(to_integer_pixels(images, bit_depth))


def from_integer_pixels(images: np.ndarray) -> np.ndarray:
    """uint8 or uint16 pixels -> float32 in [0, 1] (the inverse of :func:`to_integer_pixels`)."""
    top = 65535.0 if images.dtype == np.uint16 else 255.0
    return images.astype(np.float32) / top


def check_version(path: Path, name: object, version: object) -> None:
    """Refuse a file of another format, or of another major version of this one."""
    if name != FORMAT_NAME:
        raise AugmentError(f"{path} is not an augment output (format is {name!r}, expected {FORMAT_NAME!r})")
    major = str(version).split(".")[0]
    if major != FORMAT_VERSION.split(".")[0]:
        raise AugmentError(
            f"{path} has format version {version}; "
            f"this augment reads version {FORMAT_VERSION.split('.')[0]}.x"
        )
