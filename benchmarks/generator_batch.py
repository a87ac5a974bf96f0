"""What a generator step costs by its batch at a scan size: seconds per training step of the
default GeneratorConfig at 64x64 (real side: 12 images, as the scans benchmark's classes have)
with 64, 32 and 16 samples per step, in one process, the batches alternating over ``--rounds``;
and each setting's training time for one class (steps x seconds per step).

    .venv/bin/python benchmarks/generator_batch.py --out benchmarks/generator_batch.json
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics

import jax
from harness import Timer, save

from augment.gantk.generator.config import GeneratorConfig
from augment.gantk.generator.training import compiled_generator
from augment.gantk.resolution import at_size

SETTINGS = ((64, 1000), (32, 2000), (16, 4000))  # (samples per step, steps): 1000 of 64 was the default


def seconds_per_step(size: int, batch: int, chunks: int) -> float:
    """Seconds per step over ``chunks`` compiled chunks, after one chunk of warm-up."""
    config = dataclasses.replace(at_size(GeneratorConfig(steps=1), size), batch_size=batch)
    compiled = compiled_generator(config, (size, size, 1))
    real = jax.random.uniform(jax.random.PRNGKey(1), (12, size, size, 1))
    gram = compiled.gram(real)
    state = compiled.init_state(jax.random.PRNGKey(0))
    state, losses = compiled.run_chunk(state, real, gram, 1000, config.chunk_steps)
    jax.block_until_ready(losses)
    with Timer() as timer:
        for _ in range(chunks):
            state, losses = compiled.run_chunk(state, real, gram, 1000, config.chunk_steps)
        jax.block_until_ready(losses)
    return timer.seconds / (chunks * config.chunk_steps)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--chunks", type=int, default=2, help="compiled chunks of steps timed per round")
    parser.add_argument("--out")
    args = parser.parse_args()
    per_step: dict[int, list[float]] = {batch: [] for batch, _ in SETTINGS}
    for _ in range(args.rounds):
        for batch, _ in SETTINGS:
            per_step[batch].append(seconds_per_step(args.size, batch, args.chunks))
    rows = [
        {
            "batch": batch,
            "steps": steps,
            "seconds_per_step": per_step[batch],
            "training_seconds_one_class": steps * statistics.median(per_step[batch]),
        }
        for batch, steps in SETTINGS
    ]
    first = rows[0]["training_seconds_one_class"]
    for row in rows:
        row["training_time_over_1000_of_64"] = row["training_seconds_one_class"] / first
    save({"size": args.size, "real_images": 12, "rows": rows}, args.out)


if __name__ == "__main__":
    main()
