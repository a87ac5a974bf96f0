"""The HTML report of ``augment evaluate --report``: plain verdicts first (utility, copies,
membership inference), then plots (nearest-training distances of synthetic and held-out images,
held-out accuracy per training set), the near-copy pairs, per-class grids, and every figure.

Plots are inline SVG (no plotting library); pictures of images are PNGs beside the page. The
folder also holds ``report.json`` (every figure and the verdicts), which marks it as augment's:
``--overwrite`` replaces only such a folder.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from augment.errors import AugmentError
from augment.evaluation import Evaluation, summary_lines
from augment.io.atomic import (
    Target,
    check_apart,
    check_replaceable,
    marked_folder,
    publish,
    remove,
    temporary_path,
)
from augment.io.strict_json import dumps as strict_dumps

UTILITY_TOLERANCE = 0.01  # held-out accuracy changes smaller than this are "kept"


def verdicts(figures: dict[str, Any]) -> dict[str, str]:
    """Plain-language verdicts on utility, realism, copies and membership inference (those that
    apply)."""
    said = {}
    utility = figures.get("utility")
    if (
        utility is not None
        and utility["svc"]["real"] is not None
        and utility["svc"]["real+synthetic"] is not None
    ):
        real, both = utility["svc"]["real"], utility["svc"]["real+synthetic"]
        alone = utility["svc"]["synthetic"]
        if both < real - UTILITY_TOLERANCE:
            said["utility"] = (
                f"adding these images lowered held-out accuracy from {real:.3f} to {both:.3f}: "
                "do not train on them as they are"
            )
        elif both > real + UTILITY_TOLERANCE:
            said["utility"] = f"adding these images raised held-out accuracy from {real:.3f} to {both:.3f}"
        else:
            said["utility"] = (
                f"adding these images kept held-out accuracy at {real:.3f} ({both:.3f} with them): "
                "they neither help nor harm a classifier here"
            )
        if alone is not None:
            said["utility"] += f"; trained on them alone, a classifier reaches {alone:.3f}"
        posed = utility["svc"].get("real+augmented")
        if posed is not None:
            if both > posed + UTILITY_TOLERANCE:
                compared = "beat"
            elif both < posed - UTILITY_TOLERANCE:
                compared = "fall short of"
            else:
                compared = "do no better than"
            said["utility"] += (
                f"; they {compared} plain augmentation (as many rotated and shifted copies of the "
                f"real images: {posed:.3f})"
            )
        said["utility"] += " (SVC on pixels)"
    real = figures.get("realism")
    if real is not None:
        said["realism"] = real["verdict"]
    copying = figures.get("data_copying")
    if copying is not None and copying.get("verdict") is not None:
        said["copying"] = (
            f"data-copying test: {copying['verdict']} (C_T {copying['c_t']:.2f}, z {copying['z']:.2f}: below "
            "0 the synthetic images sit closer to the training images than held-out real images do); "
            f"{copying['authenticity']:.0%} of them are farther from their nearest training image than it "
            f"is from its own nearest neighbour ({copying['authenticity_holdout']:.0%} of held-out images)"
        )
    privacy = figures["privacy"]
    flagged = len(privacy["near_copies"])
    total = figures["counts"]["synthetic"]
    if privacy["near_copy_threshold"] is None:
        said["copies"] = "with a single real image there is nothing to measure near-copies against"
    elif flagged == 0:
        said["copies"] = f"none of the {total} synthetic images is a near-copy of a training image"
    else:
        said["copies"] = (
            f"{flagged} of the {total} synthetic images ({flagged / total:.0%}) are near-copies of a "
            "training image: look at them below before sharing the set"
        )
    attack = figures.get("membership_inference")
    if attack is not None:
        low, high = attack["auc_interval"]
        unit = attack.get("unit", "image")  # scans: a volume or series is the member
        counted = (
            f", {attack['members']} training and {attack['non_members']} held-out {unit}s"
            if "members" in attack
            else ""
        )
        said["membership"] = (
            f"an attacker holding these synthetic images tells training {unit}s from others "
            f"{attack['verdict']} (AUC {attack['auc']:.2f}, 95 % interval {low:.2f}-{high:.2f}{counted})"
        )
    return said


def _nearest_scan(evaluation: Evaluation, index: int) -> str:
    """`` (nearest: <scan>, slice <k>)`` for a flagged near-copy whose nearest real image came from
    a scan of several slices (a volume or a series), else ""."""
    copy = next((c for c in evaluation.figures["privacy"]["near_copies"] if c["index"] == int(index)), None)
    if copy is None or "nearest_train_slice" not in copy:
        return ""
    where = copy["nearest_train_slice"].get("slice")
    return f" (nearest: {copy['nearest_train_scan']}{'' if where is None else f', slice {where}'})"


def _histogram_svg(
    groups: dict[str, np.ndarray], colours: list[str], width: int = 560, height: int = 220
) -> str:
    """Overlaid histograms (share of each group per bin) of non-negative values, as SVG."""
    values = np.concatenate([v for v in groups.values() if len(v)])
    top = float(values.max()) if len(values) and values.max() > 0 else 1.0
    edges = np.linspace(0.0, top, 21)
    left, bottom, plot_w, plot_h = 50, height - 40, width - 90, height - 75  # legend row above
    shares = {name: np.histogram(v, edges)[0] / max(len(v), 1) for name, v in groups.items()}
    peak = max(float(s.max()) for s in shares.values()) or 1.0
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img">']
    bar = plot_w / 20
    for (name, share), colour in zip(shares.items(), colours, strict=False):
        for i, s in enumerate(share):
            h = plot_h * s / peak
            parts.append(
                f'<rect x="{left + i * bar:.1f}" y="{bottom - h:.1f}" width="{bar - 1:.1f}" height="{h:.1f}" '
                f'fill="{colour}" fill-opacity="0.55"><title>{html.escape(name)}: {s:.0%} at '
                f"{edges[i]:.3f}-{edges[i + 1]:.3f}</title></rect>"
            )
    parts.append(f'<line x1="{left}" y1="{bottom}" x2="{left + plot_w}" y2="{bottom}" stroke="black"/>')
    for k in range(0, 21, 5):
        x = left + k * bar
        parts.append(
            f'<text x="{x:.1f}" y="{bottom + 15}" font-size="11" text-anchor="middle">{edges[k]:.3f}</text>'
        )
    parts.append(
        f'<text x="{left + plot_w / 2}" y="{height - 5}" font-size="12" text-anchor="middle">'
        "distance to the nearest training image (RMS, intensities 0-1)</text>"
    )
    for i, (name, colour) in enumerate(zip(groups, colours, strict=False)):
        parts.append(
            f'<rect x="{left + 260 * i}" y="6" width="10" height="10" fill="{colour}" fill-opacity="0.55"/>'
            f'<text x="{left + 15 + 260 * i}" y="15" font-size="12">{html.escape(name)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _accuracy_svg(utility: dict[str, Any], width: int = 720, height: int = 200) -> str:
    """Held-out accuracy bars per classifier and training set, as SVG."""
    sets = [s for s in ("real", "real+augmented", "real+synthetic", "synthetic") if s in utility["svc"]]
    colours = {
        "real": "#4c72b0",
        "real+augmented": "#8172b2",
        "real+synthetic": "#55a868",
        "synthetic": "#c44e52",
    }
    bars = len(sets)
    classifiers = [c for c in ("svc", "logistic") if c in utility]
    left, bottom, plot_h = 60, height - 30, height - 70  # legend row above
    group_w = (width - left - 10) / max(len(classifiers), 1)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img">']
    for g, classifier in enumerate(classifiers):
        for b, name in enumerate(sets):
            value = utility[classifier].get(name)
            if value is None:
                continue
            x = left + g * group_w + 10 + b * (group_w - 20) / bars
            h = plot_h * value
            parts.append(
                f'<rect x="{x:.1f}" y="{bottom - h:.1f}" width="{(group_w - 20) / bars - 4:.1f}" '
                f'height="{h:.1f}" '
                f'fill="{colours[name]}"><title>{classifier}, {name}: {value:.3f}</title></rect>'
                f'<text x="{x + (group_w - 20) / (2 * bars):.1f}" y="{bottom - h - 3:.1f}" font-size="11" '
                f'text-anchor="middle">{value:.3f}</text>'
            )
        parts.append(
            f'<text x="{left + g * group_w + group_w / 2:.1f}" y="{bottom + 18}" font-size="12" '
            f'text-anchor="middle">{classifier}</text>'
        )
    parts.append(f'<line x1="{left}" y1="{bottom}" x2="{width - 10}" y2="{bottom}" stroke="black"/>')
    parts.append(
        f'<text x="5" y="{bottom - plot_h}" font-size="11">1.0</text>'
        f'<text x="5" y="{bottom}" font-size="11">0</text>'
    )
    for i, name in enumerate(sets):
        parts.append(
            f'<rect x="{left + 165 * i}" y="6" width="10" height="10" fill="{colours[name]}"/>'
            f'<text x="{left + 15 + 165 * i}" y="15" font-size="11">trained on {name}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


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
    return marked_folder(folder, REPORT_MARKER, REPORT_FORMAT)


def check_report_target(folder: Path, overwrite: bool, inputs: dict[str, Path] | None = None) -> Target:
    """Refuse, before any work, a report folder that cannot or must not be written (one that
    exists without ``overwrite``, one augment did not write, one that is, holds or sits inside
    an input); return it as it is now, for :func:`write_report` to check again."""
    check_apart(Path(folder), "report", inputs or {})
    if Path(folder).is_file():
        raise AugmentError(f"{folder} is a file; `report` needs a folder path")
    return check_replaceable(Path(folder), overwrite, is_report)


def _class_sections(evaluation: Evaluation, folder: Path, per_class: int, cell: int) -> list[str]:
    """Per class, a picture in ``folder`` (a row of real images, two of synthetic) and its HTML."""
    sections = []
    for k, name in enumerate(evaluation.class_names):
        real = evaluation.train[evaluation.train_labels == k][:per_class]
        synthetic = evaluation.synthetic[evaluation.synthetic_labels == k][: per_class * 2]
        rows = [list(real), list(synthetic[:per_class]), list(synthetic[per_class:])]
        picture = f"class-{k}.png"
        grid_picture([r for r in rows if r], cell).save(folder / picture)
        sections.append(
            f"<h3>{html.escape(name)}</h3><p>top row: real (training) images; below: synthetic</p>"
            f'<img src="{picture}" alt="real and synthetic images of {html.escape(name)}">'
        )
    return sections


def _nearest_pictures(
    evaluation: Evaluation, folder: Path, per_class: int, cell: int
) -> tuple[str, str, list[list[np.ndarray]]]:
    """The flagged near-copies (or the closest images) beside their nearest real images, as
    ``folder/nearest.png``: the caption, their distances, and the pairs (none: no picture)."""
    worst = evaluation.near_copies[:per_class]
    shown = worst if len(worst) else np.argsort(evaluation.dcr, kind="stable")[:per_class]
    pairs = [[evaluation.synthetic[i], evaluation.train[evaluation.nearest[i]]] for i in shown]
    if pairs:
        grid_picture(pairs, cell).save(folder / "nearest.png")
    caption = "flagged near-copies" if len(worst) else "no near-copies flagged; the closest synthetic images"
    distances = ", ".join(f"#{int(i)}: {evaluation.dcr[i]:.4f}{_nearest_scan(evaluation, i)}" for i in shown)
    return caption, distances, pairs


def _verdict_items(said: dict[str, str]) -> str:
    """The verdicts as HTML list items, in the page's order."""
    return "".join(
        f'<li class="{key}"><b>{title}:</b> {html.escape(said[key])}</li>'
        for key, title in (
            ("utility", "Utility"),
            ("realism", "Realism"),
            ("copies", "Copies"),
            ("copying", "Data copying"),
            ("membership", "Membership"),
        )
        if key in said
    )


def _accuracy_section(utility: dict | None) -> str:
    """The held-out accuracy's chart, or why there is none."""
    return (
        f"<h2>Held-out accuracy</h2><p>Classifiers trained on the real images, on the real images with "
        f"as many rotated and shifted copies of them as there are synthetic images (plain augmentation), "
        "on real and synthetic together, and on synthetic alone, scored on the held-out images.</p>"
        f"{_accuracy_svg(utility)}"
        if utility is not None
        else "<h2>Held-out accuracy</h2><p>Not measured: pass <code>--holdout</code> with labelled "
        "real images that were not used for synthesis.</p>"
    )


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
        sections = _class_sections(evaluation, temporary, per_class, cell)
        caption, distances, pairs = _nearest_pictures(evaluation, temporary, per_class, cell)
        said = verdicts(evaluation.figures)
        verdict_items = _verdict_items(said)
        reference_name = (
            "held-out images"
            if evaluation.figures["holdout"] is not None
            else "training images (leave-one-out)"
        )
        histogram = _histogram_svg(
            {"synthetic images": evaluation.dcr, reference_name: evaluation.reference_dcr},
            ["#c44e52", "#4c72b0"],
        )
        accuracy = _accuracy_section(evaluation.figures.get("utility"))
        page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>augment evaluation</title>
<style>body{{font-family:sans-serif;max-width:70em;margin:2em auto;line-height:1.4}}
img{{image-rendering:pixelated}}ul.verdicts li{{margin:.4em 0}}
pre{{background:#f4f4f4;padding:1em;overflow:auto}}</style></head><body>
<h1>augment evaluation</h1>
<p>{html.escape(evaluation.figures["synthetic"])}: {evaluation.figures["counts"]["synthetic"]}
synthetic images against {evaluation.figures["counts"]["train"]} training images.</p>
<h2>Verdicts</h2>
<ul class="verdicts">{verdict_items}</ul>
<h2>How far the synthetic images are from the training images</h2>
<p>Distance of each synthetic image to its nearest training image, beside the same distance for
{reference_name}. Synthetic images piled up near 0 are copies; a synthetic histogram like the
reference one means the images are as new as fresh real images would be. Synthetic images far
beyond the reference are not thereby more private: an image that is blurred, noisy or broken is
far from every real image too; read the realism verdict above before taking distance for
novelty.</p>
{histogram}
{accuracy}
<h2>Closest to a real image</h2>
<p>{caption}: each row is a synthetic image (left) beside its nearest training image (right).
Distances (RMS, intensities in [0, 1]): {html.escape(distances)}.</p>
{'<img src="nearest.png" alt="synthetic images beside their nearest real images">' if pairs else ""}
<h2>Real and synthetic, per class</h2>
{"".join(sections)}
<h2>All figures</h2>
<pre>{html.escape(chr(10).join(summary_lines(evaluation)))}</pre>
<details><summary>every figure as JSON</summary>
<pre>{html.escape(strict_dumps(evaluation.figures, indent=1))}</pre></details>
</body></html>
"""
        (temporary / "index.html").write_text(page)
        marker = {"format": REPORT_FORMAT, "verdicts": said, "figures": evaluation.figures}
        (temporary / REPORT_MARKER).write_text(strict_dumps(marker, indent=1))
        publish(temporary, at, is_report)
    except OSError as error:
        raise AugmentError(f"cannot write {folder}: {error.strerror or error}") from None
    finally:
        remove(temporary)
    return folder / "index.html"
