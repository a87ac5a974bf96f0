"""Writing a synthetic dataset to HDF5, atomically, with its provenance.

Layout (``format = "augment.synthetic"``, ``format_version = "0.1"`` root attributes):

- ``images`` (N, H, W, C) uint8, or uint16 when the inputs were 16-bit;
- ``labels`` (N,) int64 index into ``class_names`` (K,) UTF-8 strings;
- ``realness`` (N,) float32: the discriminator's "real" prediction for each image;
- ``provenance``: one UTF-8 JSON string (a dataset: HDF5 attributes must stay small) with the
  tool and library versions, device, configuration, seed, command line, times, working size and
  every input file with its sha256.

The file is written under a temporary name in the target folder and renamed when complete, so the
target path never holds a half-written file; an existing target is never replaced unless asked.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import h5py
import numpy as np

from augment.errors import AugmentError

FORMAT_NAME = "augment.synthetic"
FORMAT_VERSION = "0.1"


def check_target(path: Path, overwrite: bool) -> None:
    """Fail early, before any work, if the output cannot or must not be written."""
    if path.exists() and not overwrite:
        raise AugmentError(f"{path} already exists; pass --overwrite to replace it")
    if path.is_dir():
        raise AugmentError(f"{path} is a folder; give a file path ending in .h5")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise AugmentError(f"cannot write {path}: folder {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise AugmentError(f"cannot write {path}: folder {parent} is not writable")


def to_integer_pixels(images: np.ndarray, bit_depth: int) -> np.ndarray:
    """(N, H, W, C) float in [0, 1] -> uint8 (8-bit) or uint16 (16-bit), rounded."""
    dtype, top = (np.uint16, 65535) if bit_depth == 16 else (np.uint8, 255)
    return np.round(np.clip(images, 0.0, 1.0) * top).astype(dtype)


def write_h5(
    path: Path,
    *,
    images: np.ndarray,
    labels: np.ndarray,
    class_names: tuple[str, ...],
    realness: np.ndarray,
    provenance: dict,
    overwrite: bool,
) -> None:
    """Write the dataset to ``path`` atomically (see the module docstring)."""
    check_target(path, overwrite)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        with h5py.File(temporary, "w") as f:
            f.attrs["format"] = FORMAT_NAME
            f.attrs["format_version"] = FORMAT_VERSION
            f.create_dataset("images", data=images, compression="gzip", chunks=True)
            f.create_dataset("labels", data=np.asarray(labels, np.int64))
            f.create_dataset("class_names", data=list(class_names), dtype=h5py.string_dtype())
            f.create_dataset("realness", data=np.asarray(realness, np.float32))
            f.create_dataset("provenance", data=json.dumps(provenance, indent=1), dtype=h5py.string_dtype())
        os.replace(temporary, path)
    finally:
        if temporary.exists():
            temporary.unlink()
