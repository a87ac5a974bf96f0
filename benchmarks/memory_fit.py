"""Fit the memory model of a GA-NTK step (augment/gantk/memory.py) to what XLA allocates.

For a grid of configurations (both published architectures and the strided family, 8x8 to
128x128, real batches 32-256, synthetic batches 8-64), compiles direct mode's chunk of steps as
``augment synth`` runs it and reads XLA's temporary-buffer size (``memory_analysis()``). Then fits
``bytes = a * pair_positions * 4 + b * patch_values * 4 + c * gram_entries * 4 + d`` by
non-negative least squares on relative errors, and prints the coefficients, each
configuration's fit, and the worst ratios of the shipped model (with its margin) to XLA.

    .venv/bin/python benchmarks/memory_fit.py --out benchmarks/memory_fit.json
"""

from __future__ import annotations

import argparse
import itertools
import math

import numpy as np
from harness import write
from scipy.optimize import nnls

from augment.gantk.direct import xla_step_bytes
from augment.gantk.memory import FLOAT, conv_positions, step_bytes

CONFIGURATIONS = [
    (architecture, (size, size, channels), n_real, n_synthetic)
    for architecture, channels, sizes in (("paper-gray", 1, (8, 16, 24, 32)), ("paper-rgb", 3, (16, 24, 32)))
    for size in sizes
    for n_real, n_synthetic in itertools.product((32, 128, 256), (8, 32, 64))
    if not (size >= 32 and n_real == 256 and n_synthetic == 64)  # keep the run to minutes
] + [
    ("strided-gray", (64, 64, 1), 128, 32),
    ("strided-gray", (64, 64, 1), 200, 32),
    ("strided-rgb", (64, 64, 3), 64, 16),
    ("strided-gray", (128, 128, 1), 64, 16),
]


def features(architecture, shape, n_real, n_synthetic) -> list[float]:
    size, _, channels = shape
    pairs = (n_real * n_synthetic + n_synthetic**2) * conv_positions(architecture, size, channels)
    patches = (n_real + n_synthetic) * math.ceil(size / 2) ** 2 * 16 * channels
    return [pairs * FLOAT, patches * FLOAT, (n_real + n_synthetic) ** 2 * FLOAT, 1.0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", help="write the configurations, the fit and the ratios as JSON here")
    args = parser.parse_args()
    rows, measured = [], []
    for configuration in CONFIGURATIONS:
        measured.append(xla_step_bytes(*configuration))
        rows.append(features(*configuration))
    x, y = np.asarray(rows), np.asarray(measured, np.float64)
    # relative least squares: every row weighted by 1 / its measured size
    coefficients, _ = nnls(x / y[:, None], np.ones_like(y))
    fitted = x @ coefficients
    print("| architecture | shape | real | synthetic | XLA temp MiB | fit / XLA | shipped model / XLA |")
    print("|---|---|---|---|---|---|---|")
    shipped, records = [], []
    for configuration, xla, fit in zip(CONFIGURATIONS, y, fitted, strict=True):
        architecture, shape, n_real, n_synthetic = configuration
        ratio = step_bytes(*configuration) / xla
        shipped.append(ratio)
        records.append(
            {
                "architecture": architecture,
                "shape": list(shape),
                "n_real": n_real,
                "n_synthetic": n_synthetic,
                "xla_temp_bytes": float(xla),
                "fit_over_xla": float(fit / xla),
                "shipped_model_over_xla": float(ratio),
            }
        )
        print(
            f"| {architecture} | {shape[0]}x{shape[1]}x{shape[2]} | {n_real} | {n_synthetic} | "
            f"{xla / 2**20:.1f} | {fit / xla:.3f} | {ratio:.3f} |"
        )
    names = ("PER_PAIR_POSITION", "PER_PATCH_VALUE", "PER_GRAM_ENTRY", "FIXED")
    print("\n" + ", ".join(f"{name} = {value:.4g}" for name, value in zip(names, coefficients, strict=True)))
    print(f"fit / XLA: {np.min(fitted / y):.3f} to {np.max(fitted / y):.3f}")
    print(f"shipped model / XLA: {min(shipped):.3f} to {max(shipped):.3f}")
    fitted_coefficients = {name: float(v) for name, v in zip(names, coefficients, strict=True)}
    write({"configurations": records, "fitted_coefficients": fitted_coefficients}, args.out)


if __name__ == "__main__":
    main()
