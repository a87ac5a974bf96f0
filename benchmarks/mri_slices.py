"""Real MRI slices for the scans benchmark, from the MNI152 T1 template that nilearn's wheel ships
(no download). Install it for benchmarks only: ``.venv/bin/pip install nilearn``.

Two classes of axial slices (233x197, 8-bit PNG): ``cerebellum`` (MNI z = -42 ... -23 mm) and
``upper`` (above the ventricles, z = +38 ... +57 mm); of each class's 20 slices, 12 go to the
training folder and 8, interleaved with them, to the held-out folder.

    .venv/bin/python benchmarks/mri_slices.py /tmp/mri
"""

from __future__ import annotations

import argparse
import pathlib

import numpy as np
from PIL import Image

CLASSES = {"cerebellum": range(30, 50), "upper": range(110, 130)}  # voxel z indices (1 mm, z0 = -72 mm)
# a harder split: two adjacent bands (z = -32 ... -13 mm and -12 ... +7 mm), whose slices near the
# boundary look alike; real-only held-out accuracy is below 1 here (SVC 0.875 at 64 px)
ADJACENT = {"lower": range(40, 60), "higher": range(60, 80)}
SPLITS = {"distant": CLASSES, "adjacent": ADJACENT}


def write_slices(root: pathlib.Path, split: str = "distant") -> tuple[pathlib.Path, pathlib.Path]:
    """Write ``root/train/<class>/*.png`` (24) and ``root/holdout/<class>/*.png`` (16) for the
    classes of ``split`` (:data:`SPLITS`)."""
    from nilearn.datasets import load_mni152_template

    volume = np.asarray(load_mni152_template(resolution=1).get_fdata())  # (197, 233, 189) in [0, 1]
    for name, zs in SPLITS[split].items():
        for part in ("train", "holdout"):
            (root / part / name).mkdir(parents=True, exist_ok=True)
        for i, z in enumerate(zs):
            part = "train" if i % 5 in (0, 1, 3) else "holdout"
            pixels = np.round(np.clip(volume[:, :, z].T[::-1], 0, 1) * 255).astype(np.uint8)  # (233, 197)
            Image.fromarray(pixels).save(root / part / name / f"z{z:03d}.png")
    return root / "train", root / "holdout"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=pathlib.Path)
    train, holdout = write_slices(parser.parse_args().root)
    for folder in (train, holdout):
        print(folder, {c.name: len(list(c.glob("*.png"))) for c in sorted(folder.iterdir())})
