"""The PNG form of a synthetic dataset: ``<class>/<class>_<index>.png`` plus ``manifest.json``
(layout in ``docs/format.md``)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from augment.errors import AugmentError
from augment.io.atomic import marked_folder
from augment.io.dataset import FORMAT_NAME, FORMAT_VERSION, SyntheticDataset, check_version
from augment.io.strict_json import dumps as strict_dumps
from augment.io.strict_json import number
from augment.io.untrusted import check_schema, file_inside, read_limited, safe_name
from augment.io.writers.base import Writer

MANIFEST = "manifest.json"
PNG_TEXT_KEY = "augment"


def png_name(class_name: str, index: int) -> str:
    """``<class>/<class>_<index>.png`` with the index zero-padded to 5 digits."""
    return f"{class_name}/{class_name}_{index:05d}.png"


def is_png_output(path: Path) -> bool:
    """True when ``path`` is a folder written by :func:`write_png` (it has our manifest)."""
    return marked_folder(path, MANIFEST, FORMAT_NAME)


def write_png(path: Path, dataset: SyntheticDataset) -> None:
    """Write ``dataset`` as ``path/<class>/<class>_<index>.png`` plus ``path/manifest.json``.

    Each PNG carries a text chunk ``augment`` = JSON ``{"run": ..., "index": ..., "class": ...}``.
    16-bit colour cannot be stored in a Pillow PNG: that case is refused (use HDF5).
    """
    images = dataset.images
    if images.dtype == np.uint16 and images.shape[-1] == 3:
        raise AugmentError("PNG output cannot hold 16-bit colour images; use `format=h5` or `channels=1`")
    run_id = dataset.provenance.get("run_id", "")
    path.mkdir()
    for name in dataset.class_names:
        (path / name).mkdir()
    table: list[dict[str, object]] = []
    within_class: dict[str, int] = {}
    for i, (image, label) in enumerate(zip(images, dataset.labels, strict=True)):
        class_name = dataset.class_names[int(label)]
        index = within_class.get(class_name, 0)
        within_class[class_name] = index + 1
        name = png_name(class_name, index)
        info = PngInfo()
        info.add_text(PNG_TEXT_KEY, json.dumps({"run": run_id, "index": i, "class": class_name}))
        Image.fromarray(image[..., 0] if image.shape[-1] == 1 else image).save(path / name, pnginfo=info)
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
    (path / MANIFEST).write_text(strict_dumps(manifest, indent=1))


_ROW = {
    "file": str,
    "label": int,
    "realness": float,
    "nearest_real_index": int,
    "nearest_real_distance": float,
    "near_copy": bool,
}
_MANIFEST_SCHEMA = {
    "class_names": [str],
    "image_shape": [int],
    "dtype": str,
    "real_sources": [[int]],
    "images": [_ROW],
    "provenance": dict,
}


def read_png(path: Path) -> SyntheticDataset:
    """Read a folder written by :func:`write_png`, checking its manifest and every file it names
    (each a PNG inside the folder, of the manifest's shape) before use."""
    source = path / MANIFEST
    if not source.is_file():
        raise AugmentError(f"{path} is not an augment PNG output (no {MANIFEST})")
    source = file_inside(path, MANIFEST, "its manifest", source)  # not a link leading elsewhere
    try:
        manifest = json.loads(read_limited(source))
    except ValueError as error:
        raise AugmentError(f"cannot read {source}: {error}") from None
    if not isinstance(manifest, dict):
        raise AugmentError(f"{source} is damaged or not augment's: it must hold an object")
    check_version(path, manifest.get("format"), manifest.get("format_version"))
    check_schema(manifest, _MANIFEST_SCHEMA, source)
    class_names = tuple(safe_name(c, "a class name", source) for c in manifest["class_names"])
    shape = tuple(manifest["image_shape"])
    if len(shape) != 3 or shape[0] < 1 or shape[1] < 1 or shape[2] not in (1, 3):
        raise AugmentError(
            f"{source} is damaged or not augment's: image_shape {list(shape)} is not (H, W, 1|3)"
        )
    if manifest["dtype"] not in ("uint8", "uint16"):
        raise AugmentError(f"{source} is damaged or not augment's: dtype {manifest['dtype']!r}")
    dtype = np.dtype(manifest["dtype"])
    table = manifest["images"]
    if any(not 0 <= row["label"] < len(class_names) for row in table):
        raise AugmentError(f"{source} is damaged or not augment's: a label is not a class index")
    if any(len(pair) != 2 for pair in manifest["real_sources"]):
        raise AugmentError(f"{source} is damaged or not augment's: real_sources must hold pairs")
    images = []
    for row in table:
        file = file_inside(path, row["file"], "an image file", source)
        try:
            with Image.open(file) as image:
                if image.format != "PNG":
                    raise AugmentError(f"{file} is not a PNG")
                pixels = np.asarray(image)
        except (OSError, ValueError) as error:
            raise AugmentError(f"cannot read {file}: {error}") from None
        pixels = pixels[..., None] if pixels.ndim == 2 else pixels
        if pixels.shape != shape:
            raise AugmentError(
                f"{file} is {'x'.join(map(str, pixels.shape))}, not the {'x'.join(map(str, shape))} "
                f"its manifest says"
            )
        images.append(pixels)
    stacked = np.stack(images).astype(dtype) if images else np.zeros((0, *shape), dtype)
    return SyntheticDataset(
        images=stacked,
        labels=np.asarray([r["label"] for r in table], np.int64),
        class_names=class_names,
        realness=np.asarray([number(r["realness"]) for r in table], np.float32),
        nearest_real_index=np.asarray([r["nearest_real_index"] for r in table], np.int64),
        nearest_real_distance=np.asarray([number(r["nearest_real_distance"]) for r in table], np.float32),
        near_copy=np.asarray([r["near_copy"] for r in table], bool),
        real_sources=np.asarray(manifest["real_sources"], np.int64).reshape(-1, 2),
        provenance=manifest["provenance"],
    )


def is_png_folder(path: Path) -> bool:
    """A folder (whose manifest the reader then checks)."""
    return path.is_dir()


PNG = Writer("png", "PNG", ("",), True, write_png, read_png, is_png_folder, is_png_output, (MANIFEST,))
