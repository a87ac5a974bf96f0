"""``augment synth`` as a library call: every class is its own GA-NTK problem set."""

from __future__ import annotations

import dataclasses
import datetime as _dt
import math
import platform
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import jax
import numpy as np

import augment
from augment.data import RealDataset, load_folder
from augment.errors import AugmentError
from augment.gantk import SynthesisConfig, synthesize
from augment.output import FORMAT_NAME, FORMAT_VERSION, check_target, to_integer_pixels, write_h5


def split_across_classes(total: int, real_counts: list[int]) -> list[int]:
    """Split ``total`` images in proportion to the real counts, at least one per class.

    Largest-remainder rounding, so the parts add up to ``total`` (or to the number of classes
    when ``total`` is smaller than that).
    """
    if total < 1:
        raise AugmentError(f"--n must be at least 1, got {total}")
    k = len(real_counts)
    if total <= k:
        return [1] * k
    spare = total - k  # one per class is already given
    shares = [spare * c / sum(real_counts) for c in real_counts]
    parts = [math.floor(s) for s in shares]
    by_remainder = sorted(range(k), key=lambda i: shares[i] - parts[i], reverse=True)
    for i in by_remainder[: spare - sum(parts)]:
        parts[i] += 1
    return [p + 1 for p in parts]


@dataclass
class ClassSummary:
    class_name: str
    real: int
    synthetic: int
    final_loss: float
    seconds: float


ClassProgress = Callable[[str, int, int, int, int, float], None]
"""``progress(class_name, problem, problems, step, steps, loss)``."""


def synthesize_dataset(
    dataset: RealDataset,
    counts: list[int],
    config: SynthesisConfig,
    seed: int,
    progress: ClassProgress | None = None,
):
    """Synthesise ``counts[k]`` images for each class ``k``; returns images, labels, realness, summaries."""
    root = jax.random.PRNGKey(seed)
    images, labels, realness, summaries = [], [], [], []
    for k, (class_name, count) in enumerate(zip(dataset.class_names, counts)):
        real = dataset.images[dataset.labels == k]
        start = time.perf_counter()
        report = None
        if progress is not None:
            report = lambda p, ps, s, ss, loss, name=class_name: progress(name, p, ps, s, ss, loss)  # noqa: E731
        result = synthesize(real, count, config, jax.random.fold_in(root, k), report)
        images.append(result.images)
        labels.append(np.full(count, k, np.int64))
        realness.append(result.realness)
        summaries.append(
            ClassSummary(class_name, len(real), count, float(result.loss_history[:, -1].mean()),
                         time.perf_counter() - start)
        )
    return np.concatenate(images), np.concatenate(labels), np.concatenate(realness), summaries


def run_synth(
    input_folder: Path,
    out: Path,
    *,
    n: int,
    size: int | None,
    channels: str,
    config: SynthesisConfig,
    seed: int,
    overwrite: bool,
    command_line: list[str],
    progress: ClassProgress | None = None,
) -> list[ClassSummary]:
    """Read ``input_folder``, synthesise ``n`` images across its classes, write ``out`` (HDF5)."""
    check_target(out, overwrite)
    started = _dt.datetime.now(_dt.timezone.utc)
    dataset = load_folder(input_folder, size, channels)
    working_size = dataset.images.shape[1]
    counts = split_across_classes(n, [int(np.sum(dataset.labels == k)) for k in range(len(dataset.class_names))])
    images, labels, realness, summaries = synthesize_dataset(dataset, counts, config, seed, progress)
    provenance = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "mode": "direct",
        "versions": {
            "augment": augment.__version__,
            "jax": jax.__version__,
            "numpy": np.__version__,
            "python": platform.python_version(),
        },
        "device": str(jax.devices()[0]),
        "command_line": command_line,
        "seed": seed,
        "config": {**config.to_dict(), "n": n, "channels": channels},
        "working_size": [working_size, working_size, int(dataset.images.shape[-1])],
        "bit_depth": dataset.bit_depth,
        "started": started.isoformat(),
        "finished": _dt.datetime.now(_dt.timezone.utc).isoformat(),
        "inputs": [dataclasses.asdict(f) for f in dataset.files],
        "classes": [dataclasses.asdict(s) for s in summaries],
        "platform": sys.platform,
    }
    write_h5(
        out,
        images=to_integer_pixels(images, dataset.bit_depth),
        labels=labels,
        class_names=dataset.class_names,
        realness=realness,
        provenance=provenance,
        overwrite=overwrite,
    )
    return summaries
