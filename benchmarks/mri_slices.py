"""Real MRI slices for the scans benchmark, from the MNI152 T1 template that nilearn's wheel ships
(no download). Install it for benchmarks only: ``.venv/bin/pip install nilearn``.

Two classes of axial slices (233x197): ``cerebellum`` (MNI z = -42 ... -23 mm) and ``upper``
(above the ventricles, z = +38 ... +57 mm); of each class's 20 slices, 12 go to the training folder
and 8, interleaved with them, to the held-out folder. Each slice is written as a one-slice NIfTI
volume with the template's voxel-to-world transform (``form="nifti"``, the default: augment reads
it through its NIfTI reader with ``READING``, which keeps the template's [0, 1] intensities), or
as an 8-bit PNG (``form="png"``, how the rows recorded before 2026-12-06 were made).

    .venv/bin/python benchmarks/mri_slices.py /tmp/mri
"""

from __future__ import annotations

import argparse
import pathlib

import numpy as np
from PIL import Image

from augment.io.readers import ReadSettings

CLASSES = {"cerebellum": range(30, 50), "upper": range(110, 130)}  # voxel z indices (1 mm, z0 = -72 mm)
# a harder split: two adjacent bands (z = -32 ... -13 mm and -12 ... +7 mm), whose slices near the
# boundary look alike; real-only held-out accuracy is below 1 here (SVC 0.875 at 64 px)
ADJACENT = {"lower": range(40, 60), "higher": range(60, 80)}
SPLITS = {"distant": CLASSES, "adjacent": ADJACENT}
FORMS = ("nifti", "png")
READING = ReadSettings("axial", (0.0, 1.0))  # the template's own intensity range


def write_slices(
    root: pathlib.Path, split: str = "distant", form: str = "nifti"
) -> tuple[pathlib.Path, pathlib.Path]:
    """Write ``root/train/<class>/z*.nii.gz`` (24) and ``root/holdout/<class>/z*.nii.gz`` (16), or
    ``.png`` for ``form="png"``, for the classes of ``split`` (:data:`SPLITS`)."""
    import nibabel as nib
    from nilearn.datasets import load_mni152_template

    template = load_mni152_template(resolution=1)
    volume = np.asarray(template.get_fdata(), np.float32)  # (197, 233, 189) in [0, 1], RAS
    for name, zs in SPLITS[split].items():
        for part in ("train", "holdout"):
            (root / part / name).mkdir(parents=True, exist_ok=True)
        for i, z in enumerate(zs):
            part = "train" if i % 5 in (0, 1, 3) else "holdout"
            if form == "nifti":
                shift = np.eye(4)
                shift[2, 3] = z  # the slab's first voxel is the template's voxel z
                slab = nib.Nifti1Image(volume[:, :, z : z + 1], template.affine @ shift)
                nib.save(slab, root / part / name / f"z{z:03d}.nii.gz")
            else:
                pixels = np.round(np.clip(volume[:, :, z].T[::-1], 0, 1) * 255).astype(np.uint8)  # (233, 197)
                Image.fromarray(pixels).save(root / part / name / f"z{z:03d}.png")
    return root / "train", root / "holdout"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=pathlib.Path)
    train, holdout = write_slices(parser.parse_args().root)
    for folder in (train, holdout):
        print(folder, {c.name: len(list(c.iterdir())) for c in sorted(folder.iterdir())})
