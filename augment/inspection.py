"""Human-readable summary of a synthetic dataset (what ``augment inspect`` prints)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from augment.errors import AugmentError
from augment.io.dataset import SyntheticDataset


def describe_output(path: Path, dataset: SyntheticDataset) -> list[str]:
    """The summary ``augment inspect`` prints; a provenance without the fields augment writes (a
    crafted or damaged file) is an AugmentError, not a traceback."""
    try:
        return _describe_output(path, dataset)
    except (KeyError, TypeError, AttributeError, ValueError, IndexError) as error:
        raise AugmentError(
            f"{path}: its provenance is damaged or not augment's ({type(error).__name__}: {error})"
        ) from None


def _class_lines(dataset: SyntheticDataset, trained_on: dict, sampled: bool) -> list[str]:
    """A line per class: its synthetic and real counts, and what the gate and the floor did."""
    lines: list[str] = []
    entries = {
        entry["class_name"]: entry for entry in trained_on.get("classes", []) if isinstance(entry, dict)
    }
    counts = np.bincount(dataset.labels, minlength=len(dataset.class_names))
    width = max((len(name) for name in dataset.class_names), default=0)
    for name, count in zip(dataset.class_names, counts, strict=True):
        entry = entries.get(name, {})
        line = f"  {name:<{width}}  {count} synthetic from {entry.get('real', '?')} real"
        if "blurred" in entry and not sampled:  # older outputs lack these counts
            line += (
                f"; gate rejected {entry.get('rejected', 0)} of {entry.get('checked', 0)}, "
                f"{entry.get('blurred')} blurred, {entry.get('noisy')} noisy, "
                f"{entry.get('too_close', 0)} nearer than the floor"
            )
        lines.append(line)
    return lines


def _quality_lines(dataset: SyntheticDataset, quality: dict) -> list[str]:
    """The realness, the nearest-real distances, the near-copies and the privacy ratio."""
    n = len(dataset.images)
    lines: list[str] = []
    d = dataset.nearest_real_distance
    lines.append(
        f"quality: realness mean {float(np.mean(dataset.realness)):.3f}; nearest-real distance "
        f"min {float(d.min()):.3f}, median {float(np.median(d)):.3f}, max {float(d.max()):.3f} "
        "(RMS pixel difference, intensities in [0, 1])"
    )
    ratio, threshold = quality.get("privacy_ratio"), quality.get("near_copy_threshold")
    lines.append(
        f"near-copies: {int(np.sum(dataset.near_copy))} of {n}"
        + (f" (closer than {threshold:.4f} to a real image)" if threshold is not None else "")
        + "; privacy ratio "
        + (f"{ratio:.3f} ({quality.get('privacy_reference')} reference)" if ratio is not None else "n/a")
    )
    return lines


def _describe_output(path: Path, dataset: SyntheticDataset) -> list[str]:
    """Counts per class, size, dtype, seed, versions, inputs and quality figures, one fact per line."""
    p = dataset.provenance
    kind = "PNG folder" if Path(path).is_dir() else "HDF5"
    n, h, w, c = dataset.images.shape if dataset.images.ndim == 4 else (0, 0, 0, 0)
    lines = [
        f"{path}: {p.get('format')} {p.get('format_version')} ({kind}), mode {p.get('mode')}, "
        f"run {p.get('run_id')}",
        f"images: {n} of {h}x{w}x{c} {dataset.images.dtype}",
        "classes:",
    ]
    generator = p.get("generator")
    sampled = p.get("mode") == "sample"
    trained_on = (generator or {}).get("training", {}) if sampled else p
    lines += _class_lines(dataset, trained_on, sampled)
    versions = ", ".join(f"{k} {v}" for k, v in p.get("versions", {}).items() if v)
    lines += [
        f"seed: {p.get('seed')}; device: {_devices(p)}; started {p.get('started')}, "
        f"finished {p.get('finished')}",
        f"versions: {versions}",
        f"command: {' '.join(p.get('command_line', []))}",
    ]
    if generator is not None:
        lines.append(
            f"generator: {generator.get('path')} (generator.json sha256 {generator.get('manifest_sha256')})"
            + (f", trained by run {trained_on.get('run_id')}" if sampled else "")
        )
    inputs = trained_on.get("inputs", [])
    skipped = [i for i in inputs if i.get("skipped")]
    lines.append(
        f"{'training inputs' if sampled else 'inputs'}: {len(inputs)} files, {len(skipped)} skipped "
        "(sha256 of each in the provenance)"
    )
    lines += [f"  skipped {i['path']}: {i['skipped']}" for i in skipped]
    gate = p.get("quality_gate")
    if gate is not None:
        lines.append(
            f"quality gate: {gate.get('rejected')} rejected, {gate.get('dropped')} dropped"
            if gate.get("applied")
            else "quality gate: off"
        )
    floor = p.get("novelty_floor")
    if isinstance(floor, dict) and floor.get("applied") is False:
        lines.append("novelty floor: not applied (no novelty stop)")
    elif isinstance(floor, dict) and all(
        isinstance(floor.get(k), int | float) for k in ("distance", "percentile")
    ):
        lines.append(
            f"novelty floor: {floor['distance']:.4f} from every real image of the class "
            f"(percentile {floor['percentile']:g} of the real images' nearest-other distances)"
            + (f"; {floor.get('too_close')} images nearer" if floor.get("too_close") else "")
        )
    if sampled:
        lines.append(f"quality: not computed ({p.get('quality', {}).get('reason')})")
    elif n:
        lines += _quality_lines(dataset, p.get("quality", {}))
    return lines


def _devices(provenance: dict) -> str:
    """``cpu:0``, or ``4 devices (cpu:0 ... cpu:3), 2 processes`` for a spread run."""
    placement = provenance.get("placement")
    if not placement or (len(placement["devices"]) == 1 and placement.get("processes", 1) == 1):
        return str(provenance.get("device"))
    devices = placement["devices"]
    text = f"{len(devices)} devices ({devices[0]} ... {devices[-1]})"
    if placement.get("processes", 1) > 1:
        text += f", {placement['processes']} processes"
    return text
