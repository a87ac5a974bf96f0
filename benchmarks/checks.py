"""The checks benchmark: what the quality gate and the realism verdicts say of real images and of
obvious failures made from them, on every case of the suite (benchmarks/suite_data.py: MRI views,
H&E tiles, digits), per class. Nothing is synthesised: this measures the measuring stick.

Per class: the share of held-out real images the gate (:mod:`augment.run.gate`, referenced on the
class's training images) passes, and the share of each broken kind (:func:`suite_data.broken_kinds`)
it rejects. Per case: the realism verdict (:func:`augment.measures.realism.realism`, against the training
and held-out images) and the data-copying test (:func:`augment.measures.privacy.data_copying`) of the
held-out images scored as if synthetic (against the training images alone), of copies of the
training images, and of each broken kind.

    .venv/bin/python benchmarks/checks.py --out benchmarks/checks.json
"""

from __future__ import annotations

import argparse
import pathlib
import tempfile

import numpy as np
from harness import save
from sklearn.datasets import load_digits
from suite_data import MRI_CASES, broken_kinds, mri_reading, write_he, write_mri

from augment.io.dataset import stored_form
from augment.io.folder import RealDataset, load_folder
from augment.measures.privacy import data_copying
from augment.measures.quality import prdc
from augment.measures.realism import realism
from augment.run.gate import check, reference

SIZE = 64


def _classes(data: RealDataset) -> dict[str, np.ndarray]:
    images = stored_form(data.images, data.bit_depth)
    return {name: images[data.labels == k] for k, name in enumerate(data.class_names)}


def cases(root: pathlib.Path) -> dict[str, tuple[dict[str, np.ndarray], dict[str, np.ndarray]]]:
    """Each case's (training, held-out) images by class, as augment reads them at 64 px (digits at
    their own 8 px, 8-bit: 6 training and 30 held-out images of 0, 1 and 7)."""
    found = {}
    for case in MRI_CASES:
        train, holdout = write_mri(root / case, case)
        found[case] = tuple(
            _classes(load_folder(folder, SIZE, "1", read_settings=mri_reading(case)))
            for folder in (train, holdout)
        )
    train, holdout = write_he(root / "he")
    found["he"] = tuple(_classes(load_folder(folder, SIZE, "3")) for folder in (train, holdout))
    digits = load_digits()
    # stored at 8 bits, as the bundled samples are and as augment stores synthetic images
    images = (np.round(digits.images / 16.0 * 255) / 255)[..., None].astype(np.float32)
    found["digits"] = (
        {str(d): images[digits.target == d][:6] for d in (0, 1, 7)},
        {str(d): images[digits.target == d][6:36] for d in (0, 1, 7)},
    )
    return found  # type: ignore[return-value]


def _verdict(train: dict, holdout: dict, synthetic: dict, seed: int, with_holdout: bool = True) -> dict:
    """The realism record and the data-copying test of ``synthetic`` (by class), against the
    training and (``with_holdout``) held-out images, as ``augment evaluate`` computes them."""
    names = sorted(train)
    real = np.concatenate([*train.values(), *(holdout.values() if with_holdout else ())])
    made = np.concatenate([synthetic[n] for n in names])
    record = realism(
        real, made, prdc(real, made)["precision"], seed, [(n, train[n], synthetic[n]) for n in names]
    )
    copying = data_copying(made, np.concatenate(list(train.values())), np.concatenate(list(holdout.values())))
    return {
        "verdict": record["verdict"],
        "c2st_pixels": record["c2st"]["auc"],
        "c2st_texture": record["c2st_texture"]["auc"],
        "data_copying": copying["verdict"],
        "c_t": copying["c_t"],
        "authenticity": copying["authenticity"],
        "authenticity_holdout": copying["authenticity_holdout"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=pathlib.Path)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        found = cases(pathlib.Path(scratch))
    for case, (train, holdout) in found.items():
        kinds = {name: broken_kinds(images, args.seed) for name, images in train.items()}
        gate = {}
        for name in sorted(train):
            ref = reference(train[name])
            gate[name] = {
                "train": len(train[name]),
                "holdout": len(holdout[name]),
                "holdout_passed": float(check(holdout[name], ref)[0].mean()),
                "rejected": {
                    kind: float(1 - check(images, ref)[0].mean()) for kind, images in kinds[name].items()
                },
            }
        rng = np.random.default_rng(args.seed)
        copies = {
            n: np.clip(t + rng.normal(0, 0.002, t.shape), 0, 1).astype(np.float32) for n, t in train.items()
        }
        # the held-out images against the training images alone: in the real side too, each would
        # be its own twin
        verdicts = {"held-out real images": _verdict(train, holdout, holdout, args.seed, with_holdout=False)}
        verdicts["copies of the training images"] = _verdict(train, holdout, copies, args.seed)
        for kind in next(iter(kinds.values())):
            verdicts[kind] = _verdict(train, holdout, {n: kinds[n][kind] for n in train}, args.seed)
        rows.append({"case": case, "gate": gate, "verdicts": verdicts})
        print(
            case,
            {n: g["holdout_passed"] for n, g in gate.items()},
            verdicts["held-out real images"]["verdict"],
        )
    save({"size": SIZE, "seed": args.seed, "cases": rows}, args.out)


if __name__ == "__main__":
    main()
