"""How `augment synth` scales with --n: wall time and peak memory at 32x32 on the CPU.

Each --n runs as its own `python -m augment.cli synth` process on the same folder (two classes of
15 digits from scikit-learn, upscaled to 40x40 PNGs, worked at 32x32 against an augmented real
set of 200, the heavier real side), so peak memory is that
process's high-water mark (``os.wait4``). Reported: wall time, the synthesis seconds recorded in
the provenance (classes summed), peak RSS, seconds per image, and the exponent k of a least-squares
fit time ~ n^k on log-log axes (k = 1 is linear; fixed costs such as start-up and compilation pull
it below 1, so it is also given for the synthesis seconds).

Then the speedup from spreading the batches over 1, 2 and 4 devices (``--devices``) at one --n,
all in processes with 4 forced CPU devices (``XLA_FLAGS=--xla_force_host_platform_device_count=4``)
run one after the other, so the ratios compare like with like.

Run by hand (about 10 minutes on 2 CPU cores with --steps 30):

    .venv/bin/python benchmarks/scaling.py --steps 30 --out benchmarks/scaling.json
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import h5py
import numpy as np
from harness import write
from PIL import Image
from sklearn.datasets import load_digits

SIZES = (128, 256, 512, 1024)


def make_folder(root: Path) -> Path:
    digits = load_digits()
    folder = root / "scans"
    for digit in (3, 8):
        (folder / f"digit-{digit}").mkdir(parents=True)
        for i, image in enumerate(digits.images[digits.target == digit][:15]):
            pixels = (image / 16.0 * 255).astype(np.uint8)
            Image.fromarray(pixels).resize((40, 40), Image.BILINEAR).save(
                folder / f"digit-{digit}" / f"{i:02d}.png"
            )
    return folder


FORCED_DEVICES = 4


def run(folder: Path, out: Path, n: int, steps: int, devices: int | None = None) -> dict:
    command = [sys.executable, "-m", "augment.cli", "synth", str(folder), "--n", str(n), "--out", str(out),
               "--steps", str(steps), "--size", "32", "--quiet", "--device", "cpu",
               "--augment-real-to", "200"]  # fmt: skip  # the real side the stored rows had
    env = None
    if devices is not None:
        command += ["--devices", str(devices)]
        env = {**os.environ, "XLA_FLAGS": f"--xla_force_host_platform_device_count={FORCED_DEVICES}"}
    out.unlink(missing_ok=True)
    start = time.perf_counter()
    process = subprocess.Popen(command, env=env)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"{' '.join(command)} failed with status {status}")
    with h5py.File(out) as f:
        provenance = json.loads(f["provenance"][()])
    synthesis = sum(c["seconds"] for c in provenance["classes"])
    return {
        "n": n,
        "devices": devices or 1,
        "wall_seconds": wall,
        "synthesis_seconds": synthesis,
        "peak_rss_mib": usage.ru_maxrss / 1024,
        "seconds_per_image": wall / n,
    }


def exponent(ns, times) -> float:
    return float(np.polyfit(np.log(ns), np.log(times), 1)[0])


def fits(rows: list[dict]) -> dict:
    """Log-log exponents, an affine fit wall = fixed + per_image * n, and the marginal seconds per
    added image between consecutive sizes (constant when the cost is linear in n)."""
    ns, wall = [r["n"] for r in rows], [r["wall_seconds"] for r in rows]
    per_image, fixed = np.polyfit(ns, wall, 1)
    return {
        "wall_exponent": exponent(ns, wall),
        "synthesis_exponent": exponent(ns, [r["synthesis_seconds"] for r in rows]),
        "affine_fixed_seconds": float(fixed),
        "affine_seconds_per_image": float(per_image),
        "marginal_seconds_per_image": [
            (b["wall_seconds"] - a["wall_seconds"]) / (b["n"] - a["n"]) for a, b in itertools.pairwise(rows)
        ],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", nargs="*", type=int, default=list(SIZES))
    parser.add_argument(
        "--steps", type=int, default=60, help="steps per batch (the scaling in --n does not depend on it)"
    )
    parser.add_argument("--device-n", type=int, default=256, help="--n of the device comparison (0: skip it)")
    parser.add_argument("--out", help="write the rows and fits as JSON here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = make_folder(Path(tmp))
        rows = []
        for n in args.sizes:
            rows.append(run(folder, Path(tmp) / f"n{n}.h5", n, args.steps))
            print(json.dumps(rows[-1]), flush=True)
        device_rows = []
        for devices in (1, 2, 4) if args.device_n else ():
            device_rows.append(run(folder, Path(tmp) / "devices.h5", args.device_n, args.steps, devices))
            print(json.dumps(device_rows[-1]), flush=True)
    fitted = fits(rows)
    print("| --n | wall s | synthesis s | s per image | peak RSS MiB |\n|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['n']} | {r['wall_seconds']:.1f} | {r['synthesis_seconds']:.1f} "
            f"| {r['seconds_per_image']:.3f} | {r['peak_rss_mib']:.0f} |"
        )
    print(
        f"fitted exponent: wall {fitted['wall_exponent']:.3f}, synthesis {fitted['synthesis_exponent']:.3f}"
    )
    print(
        f"affine fit: {fitted['affine_fixed_seconds']:.1f} s "
        f"+ {fitted['affine_seconds_per_image']:.4f} s x n; "
        "marginal s per added image: " + ", ".join(f"{m:.4f}" for m in fitted["marginal_seconds_per_image"])
    )
    if device_rows:
        print(f"\n--n {args.device_n}, {FORCED_DEVICES} forced CPU devices on {os.cpu_count()} cores:")
        print(
            "| --devices | wall s | synthesis s | speedup (synthesis) | peak RSS MiB |\n|---|---|---|---|---|"
        )
        base = device_rows[0]["synthesis_seconds"]
        for r in device_rows:
            r["speedup"] = base / r["synthesis_seconds"]
            print(
                f"| {r['devices']} | {r['wall_seconds']:.1f} | {r['synthesis_seconds']:.1f} "
                f"| {r['speedup']:.2f} | {r['peak_rss_mib']:.0f} |"
            )
    if args.out:
        record = {
            "steps": args.steps,
            "cpu_cores": os.cpu_count(),
            "rows": rows,
            "fits": fitted,
            "devices": device_rows,
        }
        write(record, args.out)


if __name__ == "__main__":
    main()
