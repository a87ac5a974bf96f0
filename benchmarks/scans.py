"""The scans benchmark: `augment synth` on real MRI slices at a working size, timed, then judged by
`augment evaluate` against 16 held-out slices: held-out accuracy (SVC and logistic regression on
pixels) for real only, real + synthetic, synthetic only and real + classic augmentation, privacy
ratio, near-copies, the quality gate's counts, realism: the classifier two-sample tests (grouped
C2ST AUCs of logistic regressions on pixels and on texture, real training + held-out slices
against the synthetic ones), the high-frequency power ratio, each class's blurred and noisy images
and pixel precision (augment.measures.realism), the data-copying test (C_T and authenticity,
augment.measures.privacy), and the stray bright pixels in the background (``stray_background``).

Data: 24 axial slices (233x197) of the MNI152 T1 template in two classes, 16 held out, read
through augment's NIfTI reader (``--slices png``: as 8-bit PNGs, how rows before 2026-12-06 were
made; benchmarks/mri_slices.py; needs ``.venv/bin/pip install nilearn``, benchmarks only).

    .venv/bin/python benchmarks/scans.py --size 64 --n 120 --out benchmarks/scans_64.json

``--case`` runs a case of the suite instead (benchmarks/suite_data.py: ``axial``, ``coronal``,
``sagittal`` and the other MRI pairs through the NIfTI reader with their slice axis, or ``he``,
CMU-1 H&E tiles held out against stardist's H&E image, RGB):

    .venv/bin/python benchmarks/scans.py --case coronal --size 64 --n 24 --grid /tmp/coronal.png

``--mode generator`` runs generator mode instead of direct mode (its defaults, as ``augment synth
--mode generator``); ``--augment-real-to``, ``--novelty-floor`` and the other options override a
default, and ``--set FIELD=VALUE`` (``discriminator.FIELD=VALUE``) any field of the mode's
configuration: ``--set steps=2000``, ``--set discriminator.detail_weight=1.0``.
"""

from __future__ import annotations

import argparse
import dataclasses
import pathlib
import resource
import shutil
import tempfile
import time

import numpy as np
from harness import save
from mri_slices import FORMS, READING, write_slices
from suite_data import MRI_CASES, mri_reading, write_he, write_mri

from augment.evaluation import evaluate
from augment.gantk.modes import MODES
from augment.io.dataset import from_integer_pixels
from augment.io.folder import load_folder
from augment.io.readers import DEFAULT_READING
from augment.io.writers import read_output
from augment.report import grid_picture
from augment.run import SynthRequest, run_synth


def save_grid(
    path: pathlib.Path, synthetic, train: pathlib.Path, columns: int = 6, reading=READING, channels: str = "1"
) -> None:
    """Per class, a row of real training images and a row of synthetic ones, at the working size."""
    size = synthetic.images.shape[1]
    real = load_folder(train, size, channels, read_settings=reading)
    made = from_integer_pixels(synthetic.images)
    rows = []
    for k, name in enumerate(synthetic.class_names):
        rows.append(list(real.images[real.labels == real.class_names.index(name)][:columns]))
        rows.append(list(made[synthetic.labels == k][:columns]))
    grid_picture(rows, 128).save(path, optimize=True)  # every size shown at 128 px: the detail it keeps


DARK = 0.05
"""A pixel is dark below this share of the brightest real pixel."""

CLASS_FIELDS = (
    "class_name",
    "real",
    "synthetic",
    "checked",
    "rejected",
    "dropped",
    "blurred",
    "noisy",
    "too_close",
)
"""What a result keeps of each class's provenance entry."""


def stray_background(
    synthetic, train: pathlib.Path, holdout: pathlib.Path, reading=READING
) -> dict[str, int]:
    """Bright synthetic pixels where every real slice is dark: the pixels that are dark (below
    :data:`DARK` of the brightest real pixel) in every training and held-out slice of the image's
    class at the working size, and are not dark in the synthetic image. ``images``: how many images
    have one; ``pixels``: how many there are in all."""
    size = synthetic.images.shape[1]
    images = from_integer_pixels(synthetic.images)[..., 0]  # (N, S, S) in [0, 1]
    folders = [load_folder(folder, size, "1", read_settings=reading) for folder in (train, holdout)]
    brightest = max(float(real.images.max()) for real in folders)
    per_image = np.zeros(len(images), np.int64)
    for k, name in enumerate(synthetic.class_names):
        real = np.concatenate([f.images[f.labels == f.class_names.index(name)][..., 0] for f in folders])
        background = real.max(axis=0) < DARK * brightest
        mine = synthetic.labels == k
        per_image[mine] = ((images[mine] >= DARK * brightest) & background).sum(axis=(1, 2))
    return {"images": int((per_image > 0).sum()), "pixels": int(per_image.sum())}


def with_overrides(config, assignments: list[str]):
    """``config`` with each ``FIELD=VALUE`` (or ``discriminator.FIELD=VALUE``) applied, the value
    converted to the field's current type."""
    for assignment in assignments:
        field, _, text = assignment.partition("=")
        owner, _, name = field.rpartition(".")
        target = config.discriminator if owner == "discriminator" else config
        current = getattr(target, name)  # an unknown field is an AttributeError, as it should be
        if isinstance(current, bool):
            value: object = text.lower() in ("1", "true", "yes", "on")
        elif isinstance(current, (int, float, str)):
            value = type(current)(text)
        elif text.lower() in ("true", "false"):  # a switch left at None (e.g. convergence_stop)
            value = text.lower() == "true"
        else:  # a field left at None: a number, or a name (e.g. start)
            try:
                value = float(text) if "." in text else int(text)
            except ValueError:
                value = text
        target = dataclasses.replace(target, **{name: value})
        config = dataclasses.replace(config, discriminator=target) if owner else target
    return config


def _arguments() -> argparse.ArgumentParser:
    """The benchmark's options (the module docstring says what they do)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--n", type=int, default=120)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--mode", choices=sorted(MODES), default="direct")
    parser.add_argument("--no-quality-gate", action="store_true")
    parser.add_argument("--coarse-size", type=int, default=None, help="0: single scale")
    parser.add_argument("--refine-steps", type=int, default=None, help="steps at each finer level")
    parser.add_argument("--no-convergence-stop", action="store_true")
    parser.add_argument(
        "--real-batch-size", type=int, default=None, help="real images per step (a random subset)"
    )
    parser.add_argument(
        "--augment-real-to", type=int, default=None, help="the real side's posed copies (default: by size)"
    )
    parser.add_argument("--novelty-floor", type=float, default=None, help="percentile (default: by size)")
    parser.add_argument(
        "--case", choices=["template", *MRI_CASES, "he"], default="template",
        help="the data: the axial template slices of --split and --slices (as before), a suite case "
        "(benchmarks/suite_data.py), or H&E tiles",
    )  # fmt: skip
    parser.add_argument("--split", choices=["distant", "adjacent"], default="distant")
    parser.add_argument("--slices", choices=FORMS, default="nifti", help="how the slices are written")
    parser.add_argument(
        "--set", action="append", default=[], metavar="FIELD=VALUE",
        help="override a configuration field (discriminator.FIELD for the discriminator's); repeatable",
    )  # fmt: skip
    parser.add_argument("--out", type=pathlib.Path)
    parser.add_argument("--grid", type=pathlib.Path, help="save real vs synthetic images per class (PNG)")
    parser.add_argument("--keep", type=pathlib.Path, help="copy the synthetic dataset (HDF5) here")
    return parser


def _config(args: argparse.Namespace):
    """The mode's configuration the options ask for (None: its defaults)."""
    options: dict = {}  # the library's option names, as `augment synth` passes them
    if args.no_convergence_stop:
        options["convergence_stop"] = False
    if args.augment_real_to is not None:
        options["augment_real_to"] = args.augment_real_to
    if args.real_batch_size is not None:
        options["real_batch_size"] = args.real_batch_size
    levels = {"coarse_size": args.coarse_size, "refine_steps": args.refine_steps}
    levels = {k: v for k, v in levels.items() if v is not None}  # both modes' config fields
    config = MODES[args.mode].configure(options) if options or levels or args.set else None
    if levels:
        config = dataclasses.replace(config, **levels)
    config = with_overrides(config, args.set)
    return config


def _record(args: argparse.Namespace, provenance: dict, report, seconds: float, figures: dict, stray) -> dict:
    """What a run stores: its settings, times, gate counts and `augment evaluate`'s figures."""
    return {
        "size": args.size,
        "case": args.case,
        "split": args.split,
        "slices": args.slices,
        "n": args.n,
        "seed": args.seed,
        "mode": args.mode,
        "quality_gate": not args.no_quality_gate,
        "overrides": args.set,
        "schedule": provenance["synthesis"].get("schedule"),
        "start": provenance["config"].get("start"),
        "convergence_stop": not args.no_convergence_stop,
        "real_batch_size": provenance["config"]["real_batch_size"],
        "augment_real_to": provenance["config"]["augment_real_to"],
        "novelty_floor": provenance["novelty_floor"],
        "steps_run": [c["loss"].get("steps_run") for c in provenance["classes"]],
        "wall_seconds": seconds,
        "seconds_per_image": seconds / args.n,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "written": sum(c.synthetic for c in report.classes),
        "gate": provenance["quality_gate"],
        "classes": [{k: c.get(k) for k in CLASS_FIELDS} for c in provenance["classes"]],
        "utility": figures["utility"],
        "realism": {
            "c2st_auc": figures["realism"]["c2st"]["auc"],
            "c2st_interval": figures["realism"]["c2st"]["auc_interval"],
            "c2st_texture_auc": figures["realism"]["c2st_texture"]["auc"],
            "c2st_texture_interval": figures["realism"]["c2st_texture"]["auc_interval"],
            "per_class": {
                name: {k: counts[k] for k in ("images", "blurred", "noisy")}
                for name, counts in figures["realism"]["per_class"].items()
            },
            "high_frequency_ratio": figures["realism"]["high_frequency"]["ratio"],
            "pixel_precision": figures["pixel"]["precision"],
            "verdict": figures["realism"]["verdict"],
        },
        "stray_background": stray,
        "privacy_ratio": figures["privacy"]["privacy_ratio"],
        "near_copy_fraction": figures["privacy"]["near_copy_fraction"],
        "data_copying": {
            k: (figures["data_copying"] or {}).get(k)
            for k in ("c_t", "z", "verdict", "authenticity", "authenticity_holdout")
        },
        "membership_inference": {
            k: figures["membership_inference"][k] for k in ("auc", "auc_interval", "advantage", "verdict")
        },
    }


def main() -> None:
    args = _arguments().parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        root = pathlib.Path(scratch)
        reading, channels = READING, "1"
        if args.case in MRI_CASES:
            train, holdout = write_mri(root / args.case, args.case)
            reading = mri_reading(args.case)
        elif args.case == "he":
            train, holdout = write_he(root / "he")
            reading, channels = DEFAULT_READING, "3"
        else:
            train, holdout = write_slices(root / "mri", args.split, args.slices)
        out = root / "synthetic.h5"
        config = _config(args)
        request = SynthRequest(
            input_folder=train, out=out, mode=args.mode, n=args.n, size=args.size, seed=args.seed,
            config=config, quality_gate=not args.no_quality_gate, novelty_floor=args.novelty_floor,
            read_settings=reading, channels=channels,
        )  # fmt: skip
        start = time.perf_counter()
        report = run_synth(request)
        seconds = time.perf_counter() - start
        synthetic = read_output(out)
        provenance = synthetic.provenance
        if args.grid:
            save_grid(args.grid, synthetic, train, reading=reading, channels=channels)
        if args.keep:
            shutil.copyfile(out, args.keep)
        figures = evaluate(out, train, holdout).figures
        stray = None if channels == "3" else stray_background(synthetic, train, holdout, reading)
    result = _record(args, provenance, report, seconds, figures, stray)
    save(result, args.out)


if __name__ == "__main__":
    main()
