"""Generator mode's speed: training one class with the default GeneratorConfig (1000 steps) at
8x8 and at 32x32, and `sample` throughput after loading, on the digits (5 real images of one
class; 32x32 is the same digits resized). Also the step inside `lax.fori_loop` / `lax.scan`
against the step dispatched from Python, which is why training runs its steps from Python.

    .venv/bin/python benchmarks/generator_speed.py --out benchmarks/generator_speed.json
"""

from __future__ import annotations

import argparse
import json
import time

import jax
import jax.numpy as jnp
from sklearn.datasets import load_digits

from augment.gantk.generator import GeneratorConfig, _compiled, sample, train_generator


def real_images(size: int) -> jax.Array:
    digits = load_digits()
    real = jnp.asarray((digits.images[digits.target == 3][:5] / 16.0)[..., None], jnp.float32)
    return real if size == 8 else jax.image.resize(real, (5, size, size, 1), "bilinear")


def loop_against_python(size: int, steps: int = 10) -> dict:
    """Seconds per step: the compiled step called from Python, and the same steps in a fori_loop."""
    config = GeneratorConfig(steps=1)
    compiled = _compiled(config, (size, size, 1))
    real = real_images(size)
    gram = compiled.gram(real)
    state = compiled.init_state(jax.random.PRNGKey(0))
    jax.block_until_ready(compiled.run_chunk(state, real, gram, 2)[1])
    start = time.perf_counter()
    jax.block_until_ready(compiled.run_chunk(state, real, gram, steps)[1])
    python = (time.perf_counter() - start) / steps
    step = compiled.run_chunk  # one step from Python, wrapped in a loop XLA compiles whole:

    @jax.jit
    def in_loop(state):
        return jax.lax.fori_loop(0, steps, lambda i, s: step(s, real, gram, 1)[0], state)

    jax.block_until_ready(in_loop(state).params)
    start = time.perf_counter()
    jax.block_until_ready(in_loop(state).params)
    return {"python_s_per_step": python, "fori_loop_s_per_step": (time.perf_counter() - start) / steps}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out")
    args = parser.parse_args()
    results: dict = {"devices": [str(d) for d in jax.devices()]}
    for size in (8, 32):
        real = real_images(size)
        start = time.perf_counter()
        generator = train_generator(real, GeneratorConfig(), jax.random.PRNGKey(0))
        seconds = time.perf_counter() - start
        sample(generator, 1000, jax.random.PRNGKey(1))  # compiles the sampler
        start = time.perf_counter()
        n = 20000
        sample(generator, n, jax.random.PRNGKey(2))
        rate = n / (time.perf_counter() - start)
        results[f"{size}x{size}"] = {
            "train_seconds_one_class_1000_steps": seconds,
            "final_loss": float(generator.loss_history[-1]),
            "sample_images_per_second": rate,
            **loop_against_python(size),
        }
        print(json.dumps({size: results[f"{size}x{size}"]}), flush=True)
    if args.out:
        with open(args.out, "w") as handle:
            json.dump(results, handle, indent=1)


if __name__ == "__main__":
    main()
