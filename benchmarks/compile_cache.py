"""What the persistent compilation cache saves: the README's main command (`augment synth
samples/digits --n 60`) run with an empty cache, then again with the cache the first run filled,
each in a process of its own, alternating; wall seconds of each.

    .venv/bin/python benchmarks/compile_cache.py --rounds 2 --out benchmarks/compile_cache.json
"""

from __future__ import annotations

import argparse
import os
import pathlib
import subprocess
import sys
import tempfile
import time

from harness import write

ROOT = pathlib.Path(__file__).resolve().parent.parent


def run(cache: pathlib.Path, out: pathlib.Path, extra: list[str]) -> float:
    env = {**os.environ, "AUGMENT_CACHE_DIR": str(cache)}
    command = [sys.executable, "-m", "augment.cli", "synth", str(ROOT / "samples" / "digits"), "--n", "60"]
    start = time.perf_counter()
    subprocess.run([*command, *extra, "--out", str(out), "--overwrite", "--quiet"], env=env, check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--out", help="write the seconds of every run as JSON here")
    args = parser.parse_args()
    cold, warm = [], []
    with tempfile.TemporaryDirectory() as scratch:
        for round_ in range(args.rounds):
            cache = pathlib.Path(scratch) / f"cache{round_}"
            out = pathlib.Path(scratch) / "o.h5"
            cold.append(run(cache, out, []))
            warm.append(run(cache, out, []))
    print("| run | wall s (per round) |\n|---|---|")
    print(f"| empty cache | {sum(cold) / len(cold):.1f} ({', '.join(f'{s:.1f}' for s in cold)}) |")
    print(
        f"| cache of the run before | {sum(warm) / len(warm):.1f} ({', '.join(f'{s:.1f}' for s in warm)}) |"
    )
    print(f"saved: {1 - sum(warm) / sum(cold):.0%}")
    write({"empty_cache_seconds": cold, "filled_cache_seconds": warm}, args.out)


if __name__ == "__main__":
    main()
