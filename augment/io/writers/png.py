"""The PNG form of a synthetic dataset: ``<class>/<class>_<index>.png`` plus ``manifest.json``
(layout in ``docs/format.md``)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from augment.errors import AugmentError
from augment.io.atomic import move_into_place, remove, temporary_path
from augment.io.dataset import FORMAT_NAME, FORMAT_VERSION, SyntheticDataset, check_version
from augment.io.writers.base import Writer

MANIFEST = "manifest.json"
PNG_TEXT_KEY = "augment"


def png_name(class_name: str, index: int) -> str:
    """``<class>/<class>_<index>.png`` with the index zero-padded to 5 digits."""
    return f"{class_name}/{class_name}_{index:05d}.png"


def is_png_output(path: Path) -> bool:
    """True when ``path`` is a folder written by :func:`write_png` (it has our manifest)."""
    manifest = path / MANIFEST
    if not manifest.is_file():
        return False
    try:
        return bool(json.loads(manifest.read_text()).get("format") == FORMAT_NAME)
    except (OSError, ValueError, AttributeError):
        return False


def write_png(path: Path, dataset: SyntheticDataset) -> None:
    """Write ``dataset`` as ``path/<class>/<class>_<index>.png`` plus ``path/manifest.json``.

    Each PNG carries a text chunk ``augment`` = JSON ``{"run": ..., "index": ..., "class": ...}``.
    16-bit colour cannot be stored in a Pillow PNG: that case is refused (use HDF5).
    """
    images = dataset.images
    if images.dtype == np.uint16 and images.shape[-1] == 3:
        raise AugmentError("PNG output cannot hold 16-bit colour images; use `format=h5` or `channels=1`")
    run_id = dataset.provenance.get("run_id", "")
    temporary = temporary_path(path)
    try:
        temporary.mkdir()
        for name in dataset.class_names:
            (temporary / name).mkdir()
        table: list[dict[str, object]] = []
        within_class: dict[str, int] = {}
        for i, (image, label) in enumerate(zip(images, dataset.labels, strict=True)):
            class_name = dataset.class_names[int(label)]
            index = within_class.get(class_name, 0)
            within_class[class_name] = index + 1
            name = png_name(class_name, index)
            info = PngInfo()
            info.add_text(PNG_TEXT_KEY, json.dumps({"run": run_id, "index": i, "class": class_name}))
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


def read_png(path: Path) -> SyntheticDataset:
    """Read a folder written by :func:`write_png`."""
    if not (path / MANIFEST).is_file():
        raise AugmentError(f"{path} is not an augment PNG output (no {MANIFEST})")
    try:
        manifest = json.loads((path / MANIFEST).read_text())
    except (OSError, ValueError) as error:
        raise AugmentError(f"cannot read {path / MANIFEST}: {error}") from None
    check_version(path, manifest.get("format"), manifest.get("format_version"))
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


def is_png_folder(path: Path) -> bool:
    """A folder (whose manifest the reader then checks)."""
    return path.is_dir()


PNG = Writer("png", "PNG", ("",), True, write_png, read_png, is_png_folder, is_png_output)
