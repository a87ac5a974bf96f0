"""How far deformed real images get from the real images, against the novelty floor, per class of
every suite case (benchmarks/suite_data.py) at 64 px. Nothing is synthesised: this measures what
direct mode's ``warped`` start (augment.gantk.direct.starts) can reach.

Per class: the novelty floor direct mode uses above 16 px (the 40th percentile of the case's
distinct real images' leave-one-out nearest RMS distances, as stored); for each deformation strength, the
share of deformations (``DRAWS`` of each real image, each clipped to the pixel envelope as the
start is) beyond it, and how many of the real images have at least one deformation beyond it;
and the share of held-out real images beyond it (fresh images of the class: for the H&E tiles
also the CMU-1 tiles the training folder left out). A grid of the H&E tiles and their
deformations at each strength goes to ``--grid``.

    .venv/bin/python benchmarks/warp_reach.py --grid docs/warp_strengths_he.jpg \
        --out benchmarks/warp_reach.json
"""

from __future__ import annotations

import argparse
import pathlib
import tempfile

import jax
import numpy as np
from checks import cases
from harness import save
from PIL import Image
from suite_data import he_files, spread, tissue_tiles

from augment.gantk.direct.starts import warp
from augment.io.dataset import stored_form
from augment.io.folder import load_folder
from augment.measures.quality import leave_one_out_threshold, nearest_real
from augment.parameters import SCAN_NOVELTY_FLOOR

STRENGTHS = (1.0, 2.0, 4.0, 8.0)
DRAWS = 8  # deformations of each real image at each strength


def reach(real: np.ndarray, floor: float, key: jax.Array) -> list[dict]:
    """Per strength: the share of ``DRAWS`` deformations of each of ``real`` (n, S, S, C) beyond
    ``floor``, the real images with at least one, and the deformations' median nearest distance."""
    low, high = real.min(axis=0), real.max(axis=0)  # the pixel envelope of a plain real set
    sources = np.repeat(real, DRAWS, axis=0)
    rows = []
    for strength in STRENGTHS:
        deformed = np.clip(warp(jax.random.fold_in(key, int(strength * 16)), sources, strength), low, high)
        distance = nearest_real(deformed, real)[1]
        beyond = (distance >= floor).reshape(len(real), DRAWS)
        rows.append(
            {
                "strength": strength,
                "beyond": float(beyond.mean()),
                "sources_reaching": int(beyond.any(axis=1).sum()),
                "median_distance": float(np.median(distance)),
            }
        )
    return rows


def unused_cmu_tiles(train: np.ndarray) -> np.ndarray:
    """The CMU-1 tissue tiles the training folder left out (suite_data.write_he takes
    ``tissue_tiles(cmu, limit=12)``), at 64 px through augment's reader as the training tiles are."""
    tiles = tissue_tiles(he_files()[0])
    used = set(spread(len(tiles), len(train)))
    with tempfile.TemporaryDirectory() as folder:
        for i, tile in enumerate(t for j, t in enumerate(tiles) if j not in used):
            Image.fromarray(tile).save(pathlib.Path(folder) / f"tile{i:02d}.png")
        data = load_folder(pathlib.Path(folder), 64, "3")
    return stored_form(data.images, data.bit_depth)


def save_grid(real: np.ndarray, key: jax.Array, path: pathlib.Path) -> None:
    """Six real images above their deformations at each strength (rows)."""
    real = real[:6]
    rows = [real] + [np.clip(warp(jax.random.fold_in(key, 99), real, s), 0, 1) for s in STRENGTHS]
    grid = np.concatenate([np.concatenate(list(r), axis=1) for r in rows], axis=0)
    Image.fromarray(np.round(grid * 255).astype(np.uint8)).save(path, quality=90)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--grid", type=pathlib.Path)
    parser.add_argument("--out", type=pathlib.Path)
    args = parser.parse_args()
    key = jax.random.PRNGKey(args.seed)
    result: dict = {"seed": args.seed, "draws": DRAWS, "percentile": SCAN_NOVELTY_FLOOR, "classes": []}
    with tempfile.TemporaryDirectory() as root:
        for case, (train, holdout) in cases(pathlib.Path(root)).items():
            if case == "digits":  # 8 px: direct mode starts from noise there
                continue
            # one floor for the run, over every class's real images, as `augment synth` takes it
            floor = leave_one_out_threshold(np.concatenate(list(train.values())), SCAN_NOVELTY_FLOOR)
            assert floor is not None  # twelve distinct images a class
            for k, (name, real) in enumerate(train.items()):
                fresh = {"held-out": holdout[name]}
                if case == "he":
                    fresh["unused CMU-1 tiles"] = unused_cmu_tiles(real)
                    if args.grid:
                        save_grid(real, key, args.grid)
                result["classes"].append(
                    {
                        "case": case,
                        "class_name": name,
                        "real": len(real),
                        "floor": floor,
                        "strengths": reach(real, floor, jax.random.fold_in(key, k)),
                        "fresh": {
                            kind: {
                                "images": len(images),
                                "beyond": float(np.mean(nearest_real(images, real)[1] >= floor)),
                            }
                            for kind, images in fresh.items()
                        },
                    }
                )
    save(result, args.out)


if __name__ == "__main__":
    main()
