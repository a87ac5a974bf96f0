"""Quality benchmark on the open digits protocol (docs/design.md, "Measured facts"): does
synthetic data help, and is it new?

Protocol: scikit-learn's bundled digits (8x8), 5 real images per class drawn with seeds 0-4, the
rest (about 1 747) held out; classifier ``SVC()`` on raw pixels in [0, 1]; 200 synthetic images
(20 per class) unless a method says otherwise. For every method and seed: holdout accuracy of
the SVC trained on real + extra images, its gain over real only, the privacy ratio (median
distance of the extra images to their closest training image over the same for the held-out
images), the near-copy fraction (extra images closer than the 5th percentile of the held-out
distances), the membership-inference AUC (the 50 training images as members, the held-out ones
as non-members; ``augment.measures.privacy``) with its bootstrap upper bound, and the wall time to make
the extra images.

The methods are registered in :data:`METHODS` (one ``METHODS.add`` each); each mode's defaults
come with four more draws of their synthetic images, so that a gain is judged over seeds x draws.
Run by hand; ``benchmarks/results.py`` lists the runs whose results RESULTS.md shows, e.g.

    .venv/bin/python benchmarks/quality_digits.py --methods "GA-NTK direct (defaults)" \
        "GA-NTK direct (defaults), draw 1" ... --out benchmarks/quality_digits_direct_draws.json

Methods measured before and dropped since (other settings, selections, ensembles) are in the git
history of this file and of RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import statistics

import jax
import numpy as np
from harness import SEEDS, Timer, write
from PIL import Image, ImageDraw
from quality_digits_methods import DCGAN_STEPS, METHODS, REAL_PER_CLASS, SAMPLING_SECONDS, dcgan
from sklearn.datasets import load_digits
from sklearn.svm import SVC

from augment.measures.privacy import membership_inference
from augment.measures.quality import privacy


def protocol(seed: int, images: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Training indices (5 per class, drawn with ``seed``) and the held-out rest."""
    rng = np.random.default_rng(seed)
    train = np.concatenate(
        [rng.choice(np.flatnonzero(labels == c), REAL_PER_CLASS, replace=False) for c in range(10)]
    )
    return train, np.setdiff1d(np.arange(len(labels)), train)


def run(method: str, seed: int, images, labels) -> dict:
    make, count = METHODS[method].make, METHODS[method].count
    train, holdout = protocol(seed, images, labels)
    real, real_labels = images[train], labels[train]
    made: tuple = (np.zeros((0, 8, 8, 1), np.float32), np.zeros(0, np.int64))
    with Timer() as timer:
        if make is not None:
            made = make(real, real_labels, count, seed)
    extra, extra_labels = made[0], made[1]
    seconds = made[2] if len(made) > 2 else timer.seconds

    def flat(a):
        return np.asarray(a, np.float64).reshape(len(a), 64)

    fit_x, fit_y = np.concatenate([flat(real), flat(extra)]), np.concatenate([real_labels, extra_labels])
    accuracy = SVC().fit(fit_x, fit_y).score(flat(images[holdout]), labels[holdout])
    row = {"method": method, "seed": seed, "accuracy": accuracy, "seconds": seconds, "extra": len(extra)}
    if method in SAMPLING_SECONDS:
        row["sample_1000_seconds"] = SAMPLING_SECONDS[method]
    if make is dcgan:
        row["dcgan_steps"] = DCGAN_STEPS[seed]
    if len(extra):
        figures = privacy(extra, real, images[holdout])
        # members: the 50 training images; non-members: the held-out images
        attack = membership_inference(extra, real, images[holdout], seed)
        row |= {
            "privacy_ratio": figures["privacy_ratio"],
            "near_copy_fraction": figures["near_copy_fraction"],
            "membership_auc": attack["auc"],
            "membership_auc_high": attack["auc_interval"][1],
        }
    return row


def summarise(rows: list[dict]) -> list[dict]:
    baseline = {r["seed"]: r["accuracy"] for r in rows if r["method"] == "real only"}
    table = []
    for method in METHODS:
        mine = [r for r in rows if r["method"] == method]
        if not mine:
            continue
        gains = [100 * (r["accuracy"] - baseline[r["seed"]]) for r in mine]

        def stats(values):
            values = [v for v in values if v is not None]
            if not values:
                return None, None
            return statistics.mean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)

        table.append(
            {
                "method": method,
                "what": METHODS[method].what,
                "seeds": len(mine),
                "accuracy": stats([r["accuracy"] for r in mine]),
                "gain_points": stats(gains),
                "privacy_ratio": stats([r.get("privacy_ratio") for r in mine]),
                "near_copy_fraction": stats([r.get("near_copy_fraction") for r in mine]),
                "membership_auc": stats([r.get("membership_auc") for r in mine]),
                "membership_auc_high": max(
                    (r["membership_auc_high"] for r in mine if "membership_auc_high" in r), default=None
                ),
                "seconds": stats([r["seconds"] for r in mine]),
            }
        )
    return table


def markdown(table: list[dict]) -> str:
    def show(pair, scale=1.0, digits=3, sign=False):
        if pair[0] is None:
            return "—"
        mean, sd = pair[0] * scale, pair[1] * scale
        return f"{mean:+.{digits}f} ± {sd:.{digits}f}" if sign else f"{mean:.{digits}f} ± {sd:.{digits}f}"

    lines = [
        "| method | accuracy | gain (points) | privacy ratio | near-copies "
        "| membership AUC (highest upper bound) | seconds |",
        "|---|---|---|---|---|---|---|",
    ]
    for t in table:
        high = t.get("membership_auc_high")
        lines.append(
            f"| {t['method']} | {show(t['accuracy'])} | {show(t['gain_points'], digits=2, sign=True)} | "
            f"{show(t['privacy_ratio'])} | {show(t['near_copy_fraction'], 100, 1)} % | "
            f"{show(t.get('membership_auc', (None, None)))}{'' if high is None else f' ({high:.3f})'} | "
            f"{show(t['seconds'], digits=1)} |"
        )
    return "\n".join(lines)


def figure(table: list[dict], path: str) -> None:
    """Accuracy gain (y) against privacy ratio (x), one labelled point per method, drawn with Pillow."""
    width, height, margin = 900, 560, 70
    picture = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(picture)
    points = [
        (t["privacy_ratio"][0], t["gain_points"][0], t["method"]) for t in table if t["privacy_ratio"][0]
    ]
    x_max = max(2.2, max(p[0] for p in points) * 1.1)
    gains = [p[1] for p in points] + [0.0, 4.0]
    y_min, y_max = min(gains) - 0.5, max(gains) + 0.5

    def at(x, y):
        return (
            margin + (width - 2 * margin) * x / x_max,
            height - margin - (height - 2 * margin) * (y - y_min) / (y_max - y_min),
        )

    draw.line([at(0, y_min), at(x_max, y_min)], fill="black")
    draw.line([at(0, y_min), at(0, y_max)], fill="black")
    draw.line([at(0.8, y_min), at(0.8, y_max)], fill=(200, 120, 120))  # privacy target
    draw.line([at(0, 4.0), at(x_max, 4.0)], fill=(120, 160, 200))  # gain target
    draw.text(at(0.81, y_max - 0.2), "privacy ratio 0.8", fill=(200, 120, 120))
    draw.text(at(x_max * 0.75, 4.1), "gain +4.0 points", fill=(120, 160, 200))
    for x in np.arange(0, x_max, 0.5):
        draw.text((at(x, y_min)[0] - 8, height - margin + 6), f"{x:.1f}", fill="black")
    for y in np.arange(np.ceil(y_min), y_max, 1.0):
        draw.text((margin - 40, at(0, y)[1] - 6), f"{y:+.0f}", fill="black")
    draw.text((width // 2 - 140, height - 30), "privacy ratio (median DCR synthetic / holdout)", fill="black")
    draw.text((10, 20), "holdout accuracy gain over real only (points)", fill="black")
    for x, y, name in points:
        cx, cy = at(x, y)
        draw.ellipse([cx - 5, cy - 5, cx + 5, cy + 5], fill=(40, 40, 160))
        draw.text((cx + 8, cy - 6), name, fill="black")
    picture.save(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--methods", nargs="*", default=list(METHODS), choices=list(METHODS))
    parser.add_argument("--seeds", nargs="*", type=int, default=list(SEEDS))
    parser.add_argument("--out", help="write rows and the summary table as JSON here")
    parser.add_argument("--figure", help="write the accuracy-vs-privacy figure (PNG) here")
    args = parser.parse_args()
    data = load_digits()
    images, labels = (data.images / 16.0)[..., None].astype(np.float32), data.target
    methods = ["real only", *[m for m in args.methods if m != "real only"]]
    rows = []
    for method in methods:
        for seed in args.seeds:
            rows.append(run(method, seed, images, labels))
            print(json.dumps(rows[-1]), flush=True)
    table = summarise(rows)
    print(markdown(table))
    if args.out:
        write({"rows": rows, "table": table, "devices": [str(d) for d in jax.devices()]}, args.out)
    if args.figure:
        figure(table, args.figure)


if __name__ == "__main__":
    main()
