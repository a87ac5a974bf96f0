"""What the augmented real set costs per step: direct-mode step time against the real batch size.

One class of 15 real images, a synthetic batch of 32, SynthesisConfig() otherwise (novelty stop off,
so every run does all its steps). Per-step time is (t(30 steps) - t(10 steps)) / 20, after a
warm-up run that compiles, so neither compilation nor the Gram matrix counts.

    .venv/bin/python benchmarks/real_set_cost.py --sizes 16 32
"""

from __future__ import annotations

import argparse
import dataclasses
import time

import jax
import numpy as np

from augment.gantk import SynthesisConfig, synthesize

SETTINGS = {
    "15 real images (augment_real_to=0)": {"augment_real_to": 0},
    "augmented set of 200, real batch 64": {"real_batch_size": 64},
    "augmented set of 200, real batch 128": {"real_batch_size": 128},
    "augmented set of 200, all of it (defaults)": {},
}


def seconds(real, config, steps):
    start = time.perf_counter()
    synthesize(real, 32, dataclasses.replace(config, steps=steps), jax.random.PRNGKey(0))
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", nargs="*", type=int, default=[16, 32])
    args = parser.parse_args()
    print("| size | real side | s per step | ratio to 15 real |\n|---|---|---|---|")
    for size in args.sizes:
        real = np.random.default_rng(0).uniform(size=(15, size, size, 1)).astype(np.float32)
        base = None
        for name, overrides in SETTINGS.items():
            config = SynthesisConfig(novelty_stop=False, **overrides)
            seconds(real, config, 10)  # compile
            per_step = (seconds(real, config, 30) - seconds(real, config, 10)) / 20
            base = base or per_step
            print(f"| {size}\u00d7{size} | {name} | {per_step:.3f} | {per_step / base:.1f} |", flush=True)


if __name__ == "__main__":
    main()
