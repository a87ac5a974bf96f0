"""How a run is recorded: the versions and platform, the run's fingerprint (what a checkpoint
resumes), per-class loss summaries, and the provenance record of a synth output
(``docs/format.md``)."""

from __future__ import annotations

import dataclasses
import datetime as _dt
import hashlib
import json
import platform
import sys
from importlib import metadata
from typing import Any

import numpy as np

import augment
from augment.io.folder import RealDataset
from augment.io.readers import DEFAULT_READING, ReadSettings
from augment.io.scans import InputFile
from augment.measures.quality import NEAR_COPY_PERCENTILE
from augment.run.context import RunContext


def versions() -> dict[str, str | None]:
    """Versions of augment, Python and the libraries that decide what is computed and written."""
    found: dict[str, str | None] = {"augment": augment.__version__, "python": platform.python_version()}
    for package in ("jax", "jaxlib", "numpy", "optax", "h5py", "pillow", "pydicom", "nibabel"):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = None
    return found


def platform_description() -> str:
    """The operating system and machine, as provenance records them."""
    return f"{platform.system()} {platform.machine()} ({sys.platform})"


def fingerprint(
    mode: str,
    config: Any,
    seed: int,
    dataset: RealDataset,
    counts: list[int],
    quality_gate: bool = True,
    novelty_floor: float = NEAR_COPY_PERCENTILE,
    read_settings: ReadSettings = DEFAULT_READING,
) -> str:
    """Identifies what a run computes: a checkpoint resumes only the run with the same one.

    ``config`` is the configuration as run (after the memory plan), since it decides the result.
    """
    record = {
        "mode": mode,
        "inputs": [(f.path, f.sha256, f.skipped is None) for f in dataset.files],
        "shape": list(dataset.images.shape[1:]),
        "config": config.to_dict(),
        "seed": seed,
        "counts": counts,
        **({} if quality_gate else {"quality_gate": False}),
        **({} if novelty_floor == NEAR_COPY_PERCENTILE else {"novelty_floor": novelty_floor}),
        **({} if read_settings == DEFAULT_READING else {"reading": reading_record(read_settings)}),
    }
    return hashlib.sha256(json.dumps(record, sort_keys=True).encode()).hexdigest()


def reading_record(settings: ReadSettings) -> dict[str, Any]:
    """How volumes were cut and windowed, as provenance records it (``augment evaluate`` reads the
    real folders the same way)."""
    window = None if settings.window is None else list(settings.window)
    return {"slice_axis": settings.slice_axis, "window": window}


def _input_record(f: InputFile) -> dict[str, Any]:
    """One input file in the provenance: its path, class, sha256, bytes and frames, with why it
    was skipped, where its images lie in their scan and what its reader left out where there is
    something to say."""
    record = dataclasses.asdict(f)
    for key in ("skipped", "slices", "notes"):
        if not record[key]:
            del record[key]
    if "slices" in record:
        record["slices"] = [dict(s) for s in record["slices"]]
    return record


def loss_summary(history: np.ndarray, points: int = 21) -> dict[str, Any]:
    """Per-class loss record for provenance: first/final/min and a coarse curve (mean over the
    problems still running at each step), and how many steps the problems ran (NaN losses mark
    the steps after a novelty stop).

    Args:
      history: (problems, steps) losses, NaN after a problem ended. Coarse to fine puts its levels
        side by side, so a problem that stopped early at one level has NaN up to the next level's
        first step: steps where no problem ran are left out of the curve.
    """
    finite = np.isfinite(history)
    ran = finite.sum(axis=1)
    running = finite.sum(axis=0)
    at = np.flatnonzero(running)  # the steps where some problem ran
    if at.size == 0:
        at = np.zeros(1, int)  # nothing ran: one NaN point, as the record always has one
    with np.errstate(invalid="ignore"):  # no problem ran at all: NaN, not a warning
        mean = np.where(finite, history, 0.0).sum(axis=0)[at] / running[at]
    # the last finite loss of each problem (coarse to fine leaves NaN between levels after a stop)
    lasts = [h[np.isfinite(h)][-1] for h, n in zip(history, ran, strict=True) if n > 0]
    final = np.mean(lasts) if lasts else np.nan
    shown = np.unique(np.linspace(0, len(at) - 1, min(points, len(at))).round().astype(int))
    return {
        "problems": int(history.shape[0]),
        "steps": int(history.shape[1]),
        "steps_run": {"min": int(ran.min()), "median": float(np.median(ran)), "max": int(ran.max())},
        "stopped_early": int(np.sum(ran < history.shape[1])),
        "first": float(mean[0]),
        "final": float(final),
        "min": float(np.min(mean)),
        "curve": [[int(at[i]) + 1, float(mean[i])] for i in shown],
    }


def synth_provenance(context: RunContext, classes: list[dict[str, Any]], resumed: bool) -> dict[str, Any]:
    """How the run was made (without the output's own format keys and quality figures)."""
    request, checked, plan, dataset = context.request, context.checked, context.plan, context.dataset
    counts, run_fingerprint, started = context.counts, context.fingerprint, context.started
    size, channels = dataset.images.shape[1], dataset.images.shape[-1]
    return {
        "run_id": run_fingerprint[:16],
        "mode": checked.mode.name,
        "versions": versions(),
        "device": str(plan.placement.devices[0]),
        "placement": plan.placement.describe(),
        "memory": {
            "budget_bytes": plan.memory.budget,
            "estimated_bytes_per_device": plan.memory.per_device,
            "rule": "estimated peak of a step (fitted to XLA's buffer sizes) within --memory "
            "(default: 90% of the free memory)",
        },
        "platform": platform_description(),
        "command_line": list(request.command_line),
        "seed": request.seed,
        "config": {
            **plan.config.to_dict(),
            "n": int(sum(counts)),
            "per_class": request.per_class,
            "size": request.size,
            "channels": request.channels,
            "on_bad_file": request.on_bad_file,
            **reading_record(request.read_settings),
            "device": request.device,
            "devices": request.devices,
            "memory": request.memory,
            "format": checked.format,
        },
        "working_size": [int(size), int(size), int(channels)],
        "defaults": [decision._asdict() for decision in context.defaults],
        "synthesis": checked.mode.describe(plan.config, (int(size), int(size), int(channels))),
        "bit_depth": dataset.bit_depth,
        "intensity": {
            "rule": "fixed by bit depth; monochrome DICOM by the dataset window",
            "dicom_window": dataset.dicom_window,
        },
        "resize": "centre square crop, then antialiased bilinear resize",
        "started": started.isoformat(),
        "finished": _dt.datetime.now(_dt.UTC).isoformat(),
        "resumed": resumed,
        "inputs": [_input_record(f) for f in dataset.files],
        "ignored_files": list(dataset.ignored),
        "classes": classes,
    }
