"""``augment sample`` as a library call: draw new images from saved generators, without the real data.

The output is an ordinary ``augment.synthetic`` dataset (HDF5 or PNG) of mode ``"sample"``. With no
real images at hand, the per-image figures that need them are absent: ``realness`` and
``nearest_real_distance`` are NaN, ``nearest_real_index`` is -1, ``near_copy`` is false and
``real_sources`` is empty; ``augment evaluate OUT --real FOLDER`` computes the novelty figures
against the training folder. The provenance links to the generator (its path and the sha256 of its
``generator.json``, which lists the sha256 of every weight file) and carries its training provenance.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
from pathlib import Path
from typing import Any

import jax
import numpy as np

from augment.gantk.generator.sampling import sample
from augment.io.atomic import check_apart
from augment.io.dataset import FORMAT_NAME, FORMAT_VERSION, SyntheticDataset, to_integer_pixels
from augment.io.writers import check_target, resolve_format, write_output
from augment.run.counts import check_count_options, synthetic_counts
from augment.run.devices import resolve_device
from augment.run.generators import load_generators
from augment.run.provenance import platform_description, versions
from augment.run.request import SampleReport, SampleRequest
from augment.run.seed import check_seed, root_key


def _training_real_counts(manifest: dict[str, Any], class_names: list[str]) -> list[int]:
    """Real images per class at training time (from the training provenance), 1 where unknown."""
    classes = manifest["provenance"].get("classes")
    recorded = {
        c.get("class_name"): c.get("real")
        for c in (classes if isinstance(classes, list) else [])
        if isinstance(c, dict) and isinstance(c.get("real"), int) and c["real"] >= 1
    }
    return [int(recorded.get(name) or 1) for name in class_names]


def run_sample(request: SampleRequest) -> SampleReport:
    """Load ``request.generator``, draw the requested images per class, write ``request.out``.

    Class k's images are ``sample(generator_k, count_k, fold_in(PRNGKey(seed), k))``: the same
    seed gives the same images.
    """
    out = Path(request.out)
    fmt = resolve_format(out, request.format)
    check_apart(out, "out", {"generator folder": Path(request.generator)})
    at = check_target(out, fmt, request.overwrite)
    device = resolve_device(request.device)
    check_count_options(request.n, request.per_class)
    check_seed(request.seed)
    started = _dt.datetime.now(_dt.UTC)
    generators, manifest, manifest_sha256 = load_generators(Path(request.generator))
    class_names = list(generators)
    counts = synthetic_counts(request.n, request.per_class, _training_real_counts(manifest, class_names))
    training = manifest.get("provenance", {})
    bit_depth = training.get("bit_depth") if training.get("bit_depth") in (8, 16) else 8
    root = root_key(request.seed)
    with jax.default_device(device):
        images = [
            sample(generators[name], count, jax.random.fold_in(root, k))
            for k, (name, count) in enumerate(zip(class_names, counts, strict=True))
        ]
    total = int(sum(counts))
    run = {"generator": manifest_sha256, "seed": request.seed, "counts": counts}
    provenance = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "run_id": hashlib.sha256(json.dumps(run, sort_keys=True).encode()).hexdigest()[:16],
        "mode": "sample",
        "versions": versions(),
        "device": str(device),
        "platform": platform_description(),
        "command_line": list(request.command_line),
        "seed": request.seed,
        "config": {"n": total, "per_class": request.per_class, "device": request.device, "format": fmt},
        "working_size": list(manifest["image_shape"]),
        "bit_depth": bit_depth,
        "started": started.isoformat(),
        "finished": _dt.datetime.now(_dt.UTC).isoformat(),
        "generator": {
            "path": str(Path(request.generator).resolve()),
            "manifest_sha256": manifest_sha256,
            "format_version": manifest.get("format_version"),
            "training": training,
        },
        "classes": [
            {"class_name": name, "synthetic": count} for name, count in zip(class_names, counts, strict=True)
        ],
        "quality": {
            "computed": False,
            "reason": "sampled without the real data; run augment evaluate OUT --real FOLDER",
        },
    }
    dataset = SyntheticDataset(
        images=to_integer_pixels(np.concatenate(images), bit_depth),
        labels=np.concatenate([np.full(count, k, np.int64) for k, count in enumerate(counts)]),
        class_names=tuple(class_names),
        realness=np.full(total, np.nan, np.float32),
        nearest_real_index=np.full(total, -1, np.int64),
        nearest_real_distance=np.full(total, np.nan, np.float32),
        near_copy=np.zeros(total, bool),
        real_sources=np.zeros((0, 2), np.int64),
        provenance=provenance,
    )
    write_output(at, dataset, fmt)
    return SampleReport(out, fmt, dict(zip(class_names, counts, strict=True)))
