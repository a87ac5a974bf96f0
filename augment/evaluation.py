"""``augment evaluate``: how useful and how novel a synthetic dataset is, against real folders.

- Novelty / privacy in pixel space at the working size (see :mod:`augment.quality`): DCR to the
  training images, privacy ratio against the holdout (or leave-one-out among the training
  images), and the near-copies, listed closest first.
- Fidelity / diversity: precision, recall, density, coverage and KID, in pixel space and in the
  ``random-conv-v1`` feature space (:func:`augment.quality.random_conv_features`).
- Utility, when a labelled holdout is given and there are at least two classes: scikit-learn
  ``SVC()`` and ``LogisticRegression`` on pixels, trained on real only, real + synthetic and
  synthetic only, scored by accuracy on the holdout.

The real folders are read with the same rules as ``augment synth`` at the synthetic data's working
size and channel count, so distances compare like with like.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from augment.errors import AugmentError
from augment.io.atomic import (
    Target,
    check_apart,
    check_writable_folder,
    publish,
    remove,
    target,
    temporary_path,
)
from augment.io.dataset import from_integer_pixels, stored_form
from augment.io.folder import RealDataset, load_folder
from augment.io.strict_json import dumps as strict_dumps
from augment.io.untrusted import read_limited
from augment.io.writers import read_output
from augment.quality import FEATURES, kid, prdc, privacy, random_conv_features


@dataclass
class Evaluation:
    """Figures (JSON-serialisable ``figures``) plus the arrays a report draws from."""

    figures: dict
    synthetic: np.ndarray  # (N, S, S, C) float in [0, 1]
    synthetic_labels: np.ndarray  # (N,)
    train: np.ndarray  # (R, S, S, C)
    train_labels: np.ndarray  # (R,) indices into class_names, -1 for a class not in the synthetic set
    class_names: tuple[str, ...]
    dcr: np.ndarray  # (N,)
    nearest: np.ndarray  # (N,) indices into train
    near_copies: np.ndarray  # indices into synthetic, closest first
    warnings: list[str] = field(default_factory=list)  # what the user should know about the inputs


def _labels_in(real: RealDataset, class_names: tuple[str, ...]) -> np.ndarray:
    index = {name: i for i, name in enumerate(class_names)}
    return np.array([index.get(real.class_names[k], -1) for k in real.labels], np.int64)


def _utility(train, train_labels, synthetic, synthetic_labels, holdout, holdout_labels, seed: int) -> dict:
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import SVC

    def flat(a):
        return np.asarray(a, np.float64).reshape(len(a), -1)

    sets = {
        "real": (flat(train), train_labels),
        "real+synthetic": (
            np.concatenate([flat(train), flat(synthetic)]),
            np.concatenate([train_labels, synthetic_labels]),
        ),
        "synthetic": (flat(synthetic), synthetic_labels),
    }
    classifiers = {
        "svc": lambda: SVC(),
        "logistic": lambda: LogisticRegression(max_iter=2000, random_state=seed),
    }
    result: dict[str, dict[str, float | None]] = {}
    for name, make in classifiers.items():
        result[name] = {}
        for set_name, (x, y) in sets.items():
            if len(np.unique(y)) < 2:
                result[name][set_name] = None  # a classifier needs two classes to train
                continue
            result[name][set_name] = float(make().fit(x, y).score(flat(holdout), holdout_labels))
    return result


def evaluate(
    synthetic_path: Path,
    real_folder: Path,
    holdout_folder: Path | None = None,
    *,
    on_bad_file: str = "fail",
    seed: int = 0,
) -> Evaluation:
    """Compute every figure of the module docstring (``holdout_folder`` enables utility)."""
    synthetic_data = read_output(synthetic_path)
    synthetic = from_integer_pixels(synthetic_data.images)
    if len(synthetic) == 0:
        raise AugmentError(f"{synthetic_path} holds no images")
    size, channels = synthetic.shape[1], synthetic.shape[-1]
    class_names = tuple(synthetic_data.class_names)
    train_data = load_folder(real_folder, size, str(channels), on_bad_file)
    # the real images as an output of theirs would store them: synth flags near-copies against
    # these, so both give the same count on the same file
    train = stored_form(train_data.images, train_data.bit_depth)
    train_labels = _labels_in(train_data, class_names)
    holdout = holdout_labels = None
    if holdout_folder is not None:
        holdout_data = load_folder(holdout_folder, size, str(channels), on_bad_file)
        holdout = stored_form(holdout_data.images, holdout_data.bit_depth)
        holdout_labels = _labels_in(holdout_data, class_names)
    warnings = _input_warnings(synthetic_data.provenance, train_data, real_folder)

    novelty = privacy(synthetic, train, holdout)
    pixel = {**prdc(train, synthetic), **kid(train, synthetic, seed=seed)}
    features_train = random_conv_features(train, seed)
    features_synthetic = random_conv_features(synthetic, seed)
    feature = {
        **prdc(features_train, features_synthetic),
        **kid(features_train, features_synthetic, seed=seed),
    }
    figures = {
        "synthetic": str(synthetic_path),
        "real": str(real_folder),
        "holdout": None if holdout_folder is None else str(holdout_folder),
        "working_size": [size, size, channels],
        "counts": {
            "synthetic": len(synthetic),
            "train": len(train),
            "holdout": None if holdout is None else len(holdout),
        },
        "privacy": {
            "reference": novelty["reference"],
            "dcr_median": novelty["dcr_median"],
            "reference_dcr_median": novelty["reference_dcr_median"],
            "privacy_ratio": novelty["privacy_ratio"],
            "near_copy_threshold": novelty["near_copy_threshold"],
            "near_copy_fraction": novelty["near_copy_fraction"],
            "near_copies": [
                {
                    "index": int(i),
                    "class": class_names[int(synthetic_data.labels[i])],
                    "dcr": float(novelty["dcr"][i]),
                    "nearest_train_file": train_data.files[
                        int(train_data.sources[novelty["nearest"][i], 0])
                    ].path,
                }
                for i in novelty["near_copies"]
            ],
        },
        "pixel": pixel,
        "features": {"space": FEATURES, **feature},
        "utility": None,
    }
    if (
        holdout is not None
        and holdout_labels is not None
        and len(class_names) >= 2
        and np.any(holdout_labels >= 0)
    ):
        known_train, known_holdout = train_labels >= 0, holdout_labels >= 0
        figures["utility"] = {
            "metric": "accuracy on the holdout",
            **_utility(
                train[known_train], train_labels[known_train], synthetic, synthetic_data.labels,
                holdout[known_holdout], holdout_labels[known_holdout], seed,
            ),
        }  # fmt: skip
    return Evaluation(
        figures=figures,
        synthetic=synthetic,
        synthetic_labels=synthetic_data.labels,
        train=train,
        train_labels=train_labels,
        class_names=class_names,
        dcr=novelty["dcr"],
        nearest=novelty["nearest"],
        near_copies=novelty["near_copies"],
        warnings=warnings,
    )


def _input_warnings(provenance: dict, real: RealDataset, folder: Path) -> list[str]:
    """A warning when none of the synthetic set's recorded inputs is in the real folder (by sha256):
    the figures then compare it with images it was not made from."""
    inputs = provenance.get("inputs")
    recorded = {i.get("sha256") for i in inputs if isinstance(i, dict)} if isinstance(inputs, list) else set()
    recorded.discard(None)
    if not recorded:
        return []
    present = {f.sha256 for f in real.files} & recorded
    if present:
        return []
    return [
        f"none of the {len(real.files)} files in {folder} is among the {len(recorded)} real images this "
        "synthetic set was made from; the privacy figures compare it with other images"
    ]


def summary_lines(evaluation: Evaluation) -> list[str]:
    """The figures, one per line, for the terminal."""
    f = evaluation.figures
    p, px, ft = f["privacy"], f["pixel"], f["features"]
    ratio = "n/a" if p["privacy_ratio"] is None else f"{p['privacy_ratio']:.3f}"
    reference = p["reference_dcr_median"]
    lines = [
        f"{f['synthetic']}: {f['counts']['synthetic']} synthetic vs {f['counts']['train']} training images"
        + ("" if f["holdout"] is None else f" ({f['counts']['holdout']} held out)"),
        f"privacy ratio {ratio} (median DCR {p['dcr_median']:.4f} vs {p['reference']} "
        f"{reference if reference is None else round(reference, 4)})",
        f"near-copies: {len(p['near_copies'])} ({p['near_copy_fraction']:.1%})",
    ]
    for name, figures in (("pixels", px), (ft["space"], ft)):
        lines.append(
            f"{name}: precision {figures['precision']:.3f}, recall {figures['recall']:.3f}, density "
            f"{figures['density']:.3f}, coverage {figures['coverage']:.3f} (k={figures['k']}); "
            f"KID {figures['kid']:.4g} ± {figures['kid_std']:.2g} (subsets of {figures['subset_size']})"
        )
    if f["utility"] is not None:
        for name in ("svc", "logistic"):
            scores = f["utility"][name]
            shown = ", ".join(f"{k} {'n/a' if v is None else f'{v:.3f}'}" for k, v in scores.items())
            lines.append(f"utility ({name}, holdout accuracy): {shown}")
    return lines


# --- the HTML report ---------------------------------------------------------------------------

_CELL = 64  # pixels per image side in the report pictures, at least


def _tile(image: np.ndarray, cell: int) -> Image.Image:
    """(S, S, C) float in [0, 1] -> an 8-bit Pillow image upscaled (nearest) to ``cell`` pixels."""
    pixels = np.round(np.clip(image, 0, 1) * 255).astype(np.uint8)
    tile = Image.fromarray(pixels[..., 0] if pixels.shape[-1] == 1 else pixels)
    return tile.convert("RGB").resize((cell, cell), Image.Resampling.NEAREST)


def grid_picture(rows: list[list[np.ndarray]], cell: int, gap: int = 4) -> Image.Image:
    """Images laid out in rows (each (S, S, C) in [0, 1]), on a white background."""
    columns = max((len(r) for r in rows), default=1)
    picture = Image.new("RGB", (columns * (cell + gap) + gap, len(rows) * (cell + gap) + gap), "white")
    for r, row in enumerate(rows):
        for c, image in enumerate(row):
            picture.paste(_tile(image, cell), (gap + c * (cell + gap), gap + r * (cell + gap)))
    return picture


REPORT_MARKER = "report.json"  # every figure, and the sign that augment wrote the folder
REPORT_FORMAT = "augment.report"


def is_report(folder: Path) -> bool:
    """A folder (not a link) that :func:`write_report` wrote: it holds our ``report.json``."""
    if folder.is_symlink() or not folder.is_dir():
        return False
    try:
        return bool(json.loads(read_limited(folder / REPORT_MARKER)).get("format") == REPORT_FORMAT)
    except (AugmentError, ValueError, AttributeError):
        return False


def check_report_target(folder: Path, overwrite: bool, inputs: dict[str, Path] | None = None) -> Target:
    """Refuse, before any work, a report folder that cannot or must not be written (one that
    exists without ``overwrite``, one augment did not write, one that is, holds or sits inside
    an input); return it as it is now, for :func:`write_report` to check again."""
    folder = Path(folder)
    check_apart(folder, "report", inputs or {})
    if folder.exists() or folder.is_symlink():
        if not overwrite:
            raise AugmentError(f"{folder} already exists; pass `overwrite` to replace it")
        if folder.is_file():
            raise AugmentError(f"{folder} is a file; `report` needs a folder path")
        if not is_report(folder):
            raise AugmentError(f"{folder} was not written by augment; refusing to replace it")
    check_writable_folder(folder)
    return target(folder)


def write_report(
    evaluation: Evaluation,
    folder: Path,
    overwrite: bool = False,
    per_class: int = 8,
    at: Target | None = None,
) -> Path:
    """Write ``folder/index.html`` with per-class real-vs-synthetic grids and the worst near-copies,
    and ``folder/report.json`` with every figure.

    Pictures are PNGs beside the page; the folder is built under a temporary name and published
    (:func:`augment.io.atomic.publish`) against ``at``, the folder as checked before the work
    (:func:`check_report_target`; None checks it now).
    """
    folder = Path(folder)
    if at is None:
        at = check_report_target(folder, overwrite)
    size = evaluation.synthetic.shape[1]
    cell = max(_CELL, size)
    temporary = temporary_path(folder)
    remove(temporary)
    temporary.mkdir(parents=True)
    try:
        sections = []
        for k, name in enumerate(evaluation.class_names):
            real = evaluation.train[evaluation.train_labels == k][:per_class]
            synthetic = evaluation.synthetic[evaluation.synthetic_labels == k][: per_class * 2]
            rows = [list(real), list(synthetic[:per_class]), list(synthetic[per_class:])]
            picture = f"class-{k}.png"
            grid_picture([r for r in rows if r], cell).save(temporary / picture)
            sections.append(
                f"<h3>{html.escape(name)}</h3><p>top row: real (training) images; below: synthetic</p>"
                f'<img src="{picture}" alt="real and synthetic images of {html.escape(name)}">'
            )
        worst = evaluation.near_copies[:per_class]
        shown = worst if len(worst) else np.argsort(evaluation.dcr, kind="stable")[:per_class]
        pairs = [[evaluation.synthetic[i], evaluation.train[evaluation.nearest[i]]] for i in shown]
        if pairs:
            grid_picture(pairs, cell).save(temporary / "nearest.png")
        caption = (
            "flagged near-copies" if len(worst) else "no near-copies flagged; the closest synthetic images"
        )
        distances = ", ".join(f"#{int(i)}: {evaluation.dcr[i]:.4f}" for i in shown)
        page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>augment evaluation</title>
<style>body{{font-family:sans-serif;max-width:70em;margin:2em auto}}img{{image-rendering:pixelated}}
pre{{background:#f4f4f4;padding:1em;overflow:auto}}</style></head><body>
<h1>augment evaluation</h1>
<pre>{html.escape(chr(10).join(summary_lines(evaluation)))}</pre>
<h2>Real and synthetic, per class</h2>
{"".join(sections)}
<h2>Closest to a real image</h2>
<p>{caption}: each row is a synthetic image (left) beside its nearest training image (right).
Distances (RMS, intensities in [0, 1]): {html.escape(distances)}.</p>
{'<img src="nearest.png" alt="synthetic images beside their nearest real images">' if pairs else ""}
<h2>All figures</h2>
<pre>{html.escape(strict_dumps(evaluation.figures, indent=1))}</pre>
</body></html>
"""
        (temporary / "index.html").write_text(page)
        marker = {"format": REPORT_FORMAT, "figures": evaluation.figures}
        (temporary / REPORT_MARKER).write_text(strict_dumps(marker, indent=1))
        publish(temporary, at, is_report)
    except OSError as error:
        raise AugmentError(f"cannot write {folder}: {error.strerror or error}") from None
    finally:
        remove(temporary)
    return folder / "index.html"
