"""The HDF5 form of a synthetic dataset: one file (layout in ``docs/format.md``)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import h5py
import numpy as np

from augment.errors import AugmentError
from augment.io.dataset import FORMAT_NAME, FORMAT_VERSION, SyntheticDataset, check_version
from augment.io.strict_json import dumps as strict_dumps
from augment.io.untrusted import safe_name
from augment.io.writers.base import Writer


def write_h5(path: Path, dataset: SyntheticDataset) -> None:
    """Write ``dataset`` to a new HDF5 file at ``path`` (layout in docs/format.md).

    The file is built in memory and then written with ordinary file writes: when the disk is full
    or a file-size limit is hit, HDF5 writing to disk itself can crash the process on closing;
    a plain write fails with an OSError that the caller reports.
    """
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as f:
        f.attrs["format"] = FORMAT_NAME
        f.attrs["format_version"] = FORMAT_VERSION
        gzip = {"compression": "gzip", "shuffle": True}
        f.create_dataset("images", data=dataset.images, chunks=True, **gzip)
        f.create_dataset("labels", data=np.asarray(dataset.labels, np.int64), **gzip)
        f.create_dataset("class_names", data=list(dataset.class_names), dtype=h5py.string_dtype())
        f.create_dataset("realness", data=np.asarray(dataset.realness, np.float32), **gzip)
        f.create_dataset("nearest_real_index", data=np.asarray(dataset.nearest_real_index, np.int64), **gzip)
        f.create_dataset(
            "nearest_real_distance", data=np.asarray(dataset.nearest_real_distance, np.float32), **gzip
        )
        f.create_dataset("near_copy", data=np.asarray(dataset.near_copy, bool), **gzip)
        f.create_dataset(
            "real_sources", data=np.asarray(dataset.real_sources, np.int64).reshape(-1, 2), **gzip
        )
        f.create_dataset(
            "provenance", data=strict_dumps(dataset.provenance, indent=1), dtype=h5py.string_dtype()
        )
    with open(path, "xb") as handle:
        handle.write(buffer.getbuffer())


MAX_ARRAY_BYTES = 2**34  # 16 GiB: a larger array in an output is refused before it is read
# name -> (dtype kinds allowed, dimensions); every array but class_names and real_sources has N rows
_ARRAYS = {
    "images": ("u", 4),
    "labels": ("iu", 1),
    "realness": ("f", 1),
    "nearest_real_index": ("iu", 1),
    "nearest_real_distance": ("f", 1),
    "near_copy": ("bu", 1),
    "real_sources": ("iu", 2),
}


def _array(f: h5py.File, name: str, path: Path) -> np.ndarray:
    kinds, dims = _ARRAYS[name]
    node = f.get(name)
    if not isinstance(node, h5py.Dataset) or node.dtype.kind not in kinds or node.ndim != dims:
        raise AugmentError(f"{path} is damaged or not augment's: {name} is not a {dims}-d array as written")
    if node.size * node.dtype.itemsize > MAX_ARRAY_BYTES:  # checked before anything is allocated
        raise AugmentError(
            f"{path}: {name} declares {node.size * node.dtype.itemsize} bytes, more than augment reads"
        )
    return np.asarray(node[()])


def read_h5(path: Path) -> SyntheticDataset:
    """Read a file written by :func:`write_h5`, checking every array's type and shape, the labels,
    the class names and the provenance before use."""
    try:
        with h5py.File(path, "r") as f:
            check_version(path, f.attrs.get("format"), f.attrs.get("format_version"))
            arrays = {name: _array(f, name, path) for name in _ARRAYS}
            names, text = f.get("class_names"), f.get("provenance")
            if not isinstance(names, h5py.Dataset) or names.ndim != 1 or names.dtype.kind not in "OSU":
                raise AugmentError(f"{path} is damaged or not augment's: class_names is not a list of names")
            if not isinstance(text, h5py.Dataset) or text.ndim != 0 or text.dtype.kind not in "OSU":
                raise AugmentError(f"{path} is damaged or not augment's: provenance is not a JSON text")
            class_names = tuple(s.decode() if isinstance(s, bytes) else str(s) for s in names[()])
            provenance_text = text[()]
    except (OSError, KeyError, ValueError, UnicodeDecodeError) as error:
        raise AugmentError(f"cannot read {path}: not a complete augment HDF5 file ({error})") from None
    for name in class_names:
        safe_name(name, "a class name", path)
    images, labels = arrays["images"], arrays["labels"]
    rows = images.shape[0]
    if (
        images.shape[-1] not in (1, 3)
        or any(arrays[k].shape[0] != rows for k in ("labels", "realness", "nearest_real_index", "near_copy"))
        or arrays["nearest_real_distance"].shape[0] != rows
    ):
        raise AugmentError(f"{path} is damaged or not augment's: its arrays do not describe the same images")
    if rows and (labels.min() < 0 or labels.max() >= len(class_names)):
        raise AugmentError(f"{path} is damaged or not augment's: a label is not a class index")
    if arrays["real_sources"].shape[1:] != (2,):
        raise AugmentError(f"{path} is damaged or not augment's: real_sources must hold pairs")
    try:
        provenance = json.loads(provenance_text)
    except (ValueError, UnicodeDecodeError) as error:
        raise AugmentError(f"cannot read the provenance in {path}: {error}") from None
    if not isinstance(provenance, dict):
        raise AugmentError(f"{path} is damaged or not augment's: its provenance is not a JSON object")
    return SyntheticDataset(
        images=images,
        labels=labels.astype(np.int64),
        class_names=class_names,
        realness=arrays["realness"],
        nearest_real_index=arrays["nearest_real_index"].astype(np.int64),
        nearest_real_distance=arrays["nearest_real_distance"],
        near_copy=arrays["near_copy"].astype(bool),
        real_sources=arrays["real_sources"].astype(np.int64),
        provenance=provenance,
    )


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
