"""Writing and reading synthetic datasets: one HDF5 file, or a folder of PNGs with a manifest.

The layouts are specified in ``docs/format.md`` (format ``augment.synthetic``, version
:data:`FORMAT_VERSION`). Both writers put everything under a temporary name next to the target
and rename it into place only when complete, so the target path never holds a half-written
output; an existing target is replaced only when asked, and a folder only if it is itself an
``augment`` PNG output.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from augment.atomic import check_writable_folder, move_into_place, remove, temporary_path
from augment.errors import AugmentError

FORMAT_NAME = "augment.synthetic"
FORMAT_VERSION = "1.1"
FORMATS = ("h5", "png")
H5_SUFFIXES = (".h5", ".hdf5", ".he5")
MANIFEST = "manifest.json"
PNG_TEXT_KEY = "augment"


@dataclass(frozen=True)
class SyntheticDataset:
    """A synthetic dataset in memory (what the writers take and :func:`read_output` returns).

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
    provenance: dict


def resolve_format(out: Path, format: str | None) -> str:
    """The output format: ``format`` if given, else ``h5`` for an HDF5 suffix, ``png`` for none."""
    if format is not None:
        if format not in FORMATS:
            raise AugmentError(f"--format must be h5 or png, got {format!r}")
        return format
    if out.suffix.lower() in H5_SUFFIXES:
        return "h5"
    if not out.suffix:
        return "png"
    raise AugmentError(
        f"cannot tell the output format from {out.name!r}; end --out with .h5 for HDF5, give a "
        "folder name without a suffix for PNGs, or pass --format h5|png"
    )


def is_png_output(path: Path) -> bool:
    """True when ``path`` is a folder written by :func:`write_png` (it has our manifest)."""
    manifest = path / MANIFEST
    if not manifest.is_file():
        return False
    try:
        return json.loads(manifest.read_text()).get("format") == FORMAT_NAME
    except (OSError, ValueError, AttributeError):
        return False


def check_target(path: Path, format: str, overwrite: bool) -> None:
    """Fail early, before any work, if the output cannot or must not be written."""
    if path.exists() and not overwrite:
        raise AugmentError(f"{path} already exists; pass --overwrite to replace it")
    if format == "h5" and path.is_dir():
        raise AugmentError(f"{path} is a folder; give a file path ending in .h5")
    if format == "png" and path.is_dir() and not is_png_output(path):
        raise AugmentError(f"{path} is a folder that augment did not write; refusing to replace it")
    if format == "png" and path.is_file():
        raise AugmentError(f"{path} is a file; PNG output needs a folder path")
    check_writable_folder(path)


def to_integer_pixels(images: np.ndarray, bit_depth: int) -> np.ndarray:
    """(N, H, W, C) float in [0, 1] -> uint8 (8-bit) or uint16 (16-bit), rounded."""
    dtype, top = (np.uint16, 65535) if bit_depth == 16 else (np.uint8, 255)
    return np.round(np.clip(images, 0.0, 1.0) * top).astype(dtype)


def from_integer_pixels(images: np.ndarray) -> np.ndarray:
    """uint8 or uint16 pixels -> float32 in [0, 1] (the inverse of :func:`to_integer_pixels`)."""
    top = 65535.0 if images.dtype == np.uint16 else 255.0
    return images.astype(np.float32) / top


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
                "nearest_real_index",
                data=np.asarray(dataset.nearest_real_index, np.int64),
                **gzip,
            )
            f.create_dataset(
                "nearest_real_distance",
                data=np.asarray(dataset.nearest_real_distance, np.float32),
                **gzip,
            )
            f.create_dataset("near_copy", data=np.asarray(dataset.near_copy, bool), **gzip)
            f.create_dataset(
                "real_sources",
                data=np.asarray(dataset.real_sources, np.int64).reshape(-1, 2),
                **gzip,
            )
            f.create_dataset(
                "provenance",
                data=json.dumps(dataset.provenance, indent=1),
                dtype=h5py.string_dtype(),
            )
        move_into_place(temporary, path)
    finally:
        remove(temporary)


def png_name(class_name: str, index: int) -> str:
    """``<class>/<class>_<index>.png`` with the index zero-padded to 5 digits."""
    return f"{class_name}/{class_name}_{index:05d}.png"


def write_png(path: Path, dataset: SyntheticDataset) -> None:
    """Write ``dataset`` as ``path/<class>/<class>_<index>.png`` plus ``path/manifest.json``.

    Each PNG carries a text chunk ``augment`` = JSON ``{"run": ..., "index": ..., "class": ...}``.
    16-bit colour cannot be stored in a Pillow PNG: that case is refused (use HDF5).
    """
    images = dataset.images
    if images.dtype == np.uint16 and images.shape[-1] == 3:
        raise AugmentError("PNG output cannot hold 16-bit colour images; use --format h5 or --channels 1")
    run_id = dataset.provenance.get("run_id", "")
    temporary = temporary_path(path)
    try:
        temporary.mkdir()
        for name in dataset.class_names:
            (temporary / name).mkdir()
        table, within_class = [], {}
        for i, (image, label) in enumerate(zip(images, dataset.labels)):
            class_name = dataset.class_names[int(label)]
            index = within_class.get(class_name, 0)
            within_class[class_name] = index + 1
            name = png_name(class_name, index)
            info = PngInfo()
            info.add_text(
                PNG_TEXT_KEY,
                json.dumps({"run": run_id, "index": i, "class": class_name}),
            )
            Image.fromarray(image[..., 0] if image.shape[-1] == 1 else image).save(
                temporary / name, pnginfo=info
            )
            table.append(
                {
                    "file": name,
                    "label": int(label),
                    "class": class_name,
                    "realness": float(dataset.realness[i]),
                    "nearest_real_index": int(dataset.nearest_real_index[i]),
                    "nearest_real_distance": float(dataset.nearest_real_distance[i]),
                    "near_copy": bool(dataset.near_copy[i]),
                }
            )
        manifest = {
            "format": FORMAT_NAME,
            "format_version": FORMAT_VERSION,
            "class_names": list(dataset.class_names),
            "image_shape": list(images.shape[1:]),
            "dtype": str(images.dtype),
            "real_sources": np.asarray(dataset.real_sources).tolist(),
            "images": table,
            "provenance": dataset.provenance,
        }
        (temporary / MANIFEST).write_text(json.dumps(manifest, indent=1))
        move_into_place(temporary, path)
    finally:
        remove(temporary)


def write_output(path: Path, dataset: SyntheticDataset, format: str) -> None:
    """Write ``dataset`` in ``format`` ("h5" or "png") at ``path``; a failing write (disk full,
    permissions changed meanwhile) is an AugmentError naming the path."""
    try:
        (write_h5 if format == "h5" else write_png)(path, dataset)
    except OSError as error:
        raise AugmentError(f"cannot write {path}: {error.strerror or error}") from None


def _check_version(path: Path, name, version) -> None:
    if name != FORMAT_NAME:
        raise AugmentError(f"{path} is not an augment output (format is {name!r}, expected {FORMAT_NAME!r})")
    major = str(version).split(".")[0]
    if major != FORMAT_VERSION.split(".")[0]:
        raise AugmentError(
            f"{path} has format version {version}; this augment reads version {FORMAT_VERSION.split('.')[0]}.x"
        )


def _read_h5(path: Path) -> SyntheticDataset:
    try:
        with h5py.File(path, "r") as f:
            _check_version(path, f.attrs.get("format"), f.attrs.get("format_version"))
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


def _read_png(path: Path) -> SyntheticDataset:
    try:
        manifest = json.loads((path / MANIFEST).read_text())
    except (OSError, ValueError) as error:
        raise AugmentError(f"cannot read {path / MANIFEST}: {error}") from None
    _check_version(path, manifest.get("format"), manifest.get("format_version"))
    table = manifest["images"]
    try:
        images = []
        for row in table:
            with Image.open(path / row["file"]) as image:
                pixels = np.asarray(image)
            images.append(pixels[..., None] if pixels.ndim == 2 else pixels)
    except (OSError, ValueError) as error:
        raise AugmentError(f"cannot read an image of {path}: {error}") from None
    shape, dtype = tuple(manifest["image_shape"]), np.dtype(manifest["dtype"])
    stacked = np.stack(images).astype(dtype) if images else np.zeros((0, *shape), dtype)
    return SyntheticDataset(
        images=stacked,
        labels=np.asarray([r["label"] for r in table], np.int64),
        class_names=tuple(manifest["class_names"]),
        realness=np.asarray([r["realness"] for r in table], np.float32),
        nearest_real_index=np.asarray([r["nearest_real_index"] for r in table], np.int64),
        nearest_real_distance=np.asarray([r["nearest_real_distance"] for r in table], np.float32),
        near_copy=np.asarray([r["near_copy"] for r in table], bool),
        real_sources=np.asarray(manifest["real_sources"], np.int64).reshape(-1, 2),
        provenance=manifest["provenance"],
    )


def read_output(path: Path) -> SyntheticDataset:
    """Read an HDF5 file or PNG folder written by ``augment synth``."""
    path = Path(path)
    if not path.exists():
        raise AugmentError(f"not found: {path}")
    if path.is_dir():
        if not (path / MANIFEST).is_file():
            raise AugmentError(f"{path} is not an augment PNG output (no {MANIFEST})")
        return _read_png(path)
    if not h5py.is_hdf5(path):
        raise AugmentError(f"{path} is neither an HDF5 file nor an augment PNG folder")
    return _read_h5(path)
