"""One GA-NTK direct-mode setting on the digits protocol of quality_digits.py: gain, privacy, near-copies.

The sweep behind the defaults (benchmarks/RESULTS.md): each run takes SynthesisConfig overrides
as ``field=value`` arguments, makes 20 images per class for seeds 0-4 with the near-copy threshold
taken from the training images (as ``augment synth`` does), and prints one line: mean ± sd gain
over real only, privacy ratio, near-copy fraction (against the held-out images), mean steps run
per batch and wall time.

    .venv/bin/python benchmarks/defaults_sweep.py                          # the shipped defaults
    .venv/bin/python benchmarks/defaults_sweep.py augment_real_to=0 novelty_stop=False
"""

from __future__ import annotations

import dataclasses
import sys
import time

import jax
import numpy as np
from harness import SEEDS
from quality_digits import REAL_PER_CLASS, protocol
from sklearn.datasets import load_digits
from sklearn.svm import SVC

from augment.gantk import SynthesisConfig, synthesize
from augment.measures.quality import leave_one_out_threshold, privacy

PER_CLASS = 20


def parse(arguments: list[str]) -> SynthesisConfig:
    defaults = SynthesisConfig()
    overrides = {}
    for argument in arguments:
        name, value = argument.split("=", 1)
        kind = type(getattr(defaults, name))
        overrides[name] = (value == "True") if kind is bool else kind(value)
    return dataclasses.replace(defaults, **overrides)


def main() -> None:
    config = parse(sys.argv[1:])
    data = load_digits()
    images, labels = (data.images / 16.0)[..., None].astype(np.float32), data.target

    def flat(a):
        return np.asarray(a, np.float64).reshape(len(a), -1)

    rows, start = [], time.perf_counter()
    for seed in SEEDS:
        train, holdout = protocol(seed, images, labels)
        real, real_labels = images[train], labels[train]
        test_x, test_y = flat(images[holdout]), labels[holdout]
        baseline = SVC().fit(flat(real), real_labels).score(test_x, test_y)
        threshold = leave_one_out_threshold(real)
        results = [
            synthesize(
                real[real_labels == c],
                PER_CLASS,
                config,
                jax.random.fold_in(jax.random.PRNGKey(seed), c),
                floor_distance=threshold,
            )
            for c in range(10)
        ]
        extra = np.concatenate([r.images for r in results])
        fit_y = np.concatenate([real_labels, np.repeat(np.arange(10), PER_CLASS)])
        accuracy = SVC().fit(np.concatenate([flat(real), flat(extra)]), fit_y).score(test_x, test_y)
        figures = privacy(extra, real, images[holdout])
        steps = np.mean([r.steps_run.mean() for r in results])
        rows.append(
            (100 * (accuracy - baseline), figures["privacy_ratio"], figures["near_copy_fraction"], steps)
        )
    r = np.asarray(rows)
    print(
        f"{' '.join(sys.argv[1:]) or 'defaults'} ({REAL_PER_CLASS} real per class): "
        f"gain {r[:, 0].mean():+.2f} ± {r[:, 0].std(ddof=1):.2f}, privacy ratio {r[:, 1].mean():.2f}, "
        f"near-copies {100 * r[:, 2].mean():.1f} %, steps run {r[:, 3].mean():.0f}, "
        f"{time.perf_counter() - start:.0f} s"
    )


if __name__ == "__main__":
    main()
