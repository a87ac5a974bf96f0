"""The HDF5 form of a synthetic dataset: one file (layout in ``docs/format.md``)."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np

from augment.errors import AugmentError
from augment.io.atomic import move_into_place, remove, temporary_path
from augment.io.dataset import FORMAT_NAME, FORMAT_VERSION, SyntheticDataset, check_version
from augment.io.writers.base import Writer


def write_h5(path: Path, dataset: SyntheticDataset) -> None:
    """Write ``dataset`` to one HDF5 file at ``path``, atomically (layout in docs/format.md)."""
    temporary = temporary_path(path)
    try:
        with h5py.File(temporary, "w") as f:
            f.attrs["format"] = FORMAT_NAME
            f.attrs["format_version"] = FORMAT_VERSION
            gzip = {"compression": "gzip", "shuffle": True}
            f.create_dataset("images", data=dataset.images, chunks=True, **gzip)
            f.create_dataset("labels", data=np.asarray(dataset.labels, np.int64), **gzip)
            f.create_dataset("class_names", data=list(dataset.class_names), dtype=h5py.string_dtype())
            f.create_dataset("realness", data=np.asarray(dataset.realness, np.float32), **gzip)
            f.create_dataset(
                "nearest_real_index", data=np.asarray(dataset.nearest_real_index, np.int64), **gzip
            )
            f.create_dataset(
                "nearest_real_distance", data=np.asarray(dataset.nearest_real_distance, np.float32), **gzip
            )
            f.create_dataset("near_copy", data=np.asarray(dataset.near_copy, bool), **gzip)
            f.create_dataset(
                "real_sources", data=np.asarray(dataset.real_sources, np.int64).reshape(-1, 2), **gzip
            )
            f.create_dataset(
                "provenance", data=json.dumps(dataset.provenance, indent=1), dtype=h5py.string_dtype()
            )
        move_into_place(temporary, path)
    finally:
        remove(temporary)


def read_h5(path: Path) -> SyntheticDataset:
    """Read a file written by :func:`write_h5`."""
    try:
        with h5py.File(path, "r") as f:
            check_version(path, f.attrs.get("format"), f.attrs.get("format_version"))
            return SyntheticDataset(
                images=f["images"][:],
                labels=f["labels"][:],
                class_names=tuple(s.decode() if isinstance(s, bytes) else s for s in f["class_names"][:]),
                realness=f["realness"][:],
                nearest_real_index=f["nearest_real_index"][:],
                nearest_real_distance=f["nearest_real_distance"][:],
                near_copy=f["near_copy"][:].astype(bool),
                real_sources=f["real_sources"][:],
                provenance=json.loads(f["provenance"][()]),
            )
    except (OSError, KeyError, ValueError) as error:
        raise AugmentError(f"cannot read {path}: not a complete augment HDF5 file ({error})") from None


def is_h5(path: Path) -> bool:
    """An HDF5 file (whose format the reader then checks)."""
    return path.is_file() and bool(h5py.is_hdf5(path))


def is_h5_output(path: Path) -> bool:
    """An HDF5 file whose root says it is an augment output."""
    try:
        with h5py.File(path, "r") as f:
            return bool(f.attrs.get("format") == FORMAT_NAME)
    except (OSError, ValueError):
        return False


HDF5 = Writer("h5", "HDF5", (".h5", ".hdf5", ".he5"), False, write_h5, read_h5, is_h5, is_h5_output)
