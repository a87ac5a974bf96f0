"""Generator mode's speed: training one class with the default GeneratorConfig (1000 steps) at
8x8 and at 32x32, and `sample` throughput after loading, on the digits (5 real images of one
class; 32x32 is the same digits resized). Also, side by side in the same run, the levers:

- the steps of a chunk inside one ``lax.fori_loop`` against the same steps dispatched one by one;
- each upsampling and the convolution after it as one layer (``stax.UpsampleConv``) against the
  two layers (``Upsample(2)`` then ``Conv``), for sampling and for the generator's gradient;
- why the loop used to be slow: a convolution's weight update inside ``fori_loop`` with JAX's
  derived backward pass (lax) against the written-out one (``stax._conv_stride_one``), and the
  dimension orders of the convolutions XLA compiled in each.

    .venv/bin/python benchmarks/generator_speed.py --out benchmarks/generator_speed.json
"""

from __future__ import annotations

import argparse
import json
import math
import time

import jax
import jax.numpy as jnp
from sklearn.datasets import load_digits

from augment.gantk.augmentation import discriminator_real_set
from augment.gantk.generator import GeneratorConfig, _compiled, sample, train_generator
from augment.ntk import stax


def real_images(size: int) -> jax.Array:
    digits = load_digits()
    real = jnp.asarray((digits.images[digits.target == 3][:5] / 16.0)[..., None], jnp.float32)
    return real if size == 8 else jax.image.resize(real, (5, size, size, 1), "bilinear")


def seconds(run, repeats: int) -> float:
    """Seconds per call of ``run()`` after one warm-up call."""
    jax.block_until_ready(run())
    start = time.perf_counter()
    for _ in range(repeats):
        jax.block_until_ready(run())
    return (time.perf_counter() - start) / repeats


def loop_against_python(size: int, steps: int = 10) -> dict:
    """Seconds per training step (the default config, on its augmented real set of 200): ``steps``
    steps in one compiled chunk, and the same steps as ``steps`` chunks of one step."""
    config = GeneratorConfig(steps=1)
    compiled = _compiled(config, (size, size, 1))
    real = discriminator_real_set(
        jax.random.PRNGKey(0), real_images(size), config.augment_real_to, config.augment_rotation,
        config.augment_shift,
    )  # fmt: skip
    gram = compiled.gram(real)
    state = compiled.init_state(jax.random.PRNGKey(0))

    def one_by_one():
        current = state
        for _ in range(steps):
            current, _ = compiled.run_chunk(current, real, gram, 1)
        return current

    python = seconds(one_by_one, 2) / steps
    in_loop = seconds(lambda: compiled.run_chunk(state, real, gram, steps), 2) / steps
    return {"one_step_per_call_s_per_step": python, "fori_loop_s_per_step": in_loop}


def two_layer_network(size: int, base_channels: int = 128):
    """The generator as it was built before ``UpsampleConv``: ``Upsample(2)`` then ``Conv``."""
    doublings = max(0, math.floor(math.log2(size / 4)))
    start, width = math.ceil(size / 2**doublings), base_channels
    layers = [
        stax.Dense(start * start * width, W_std=math.sqrt(2.0), b_std=1.0),
        stax.Relu(),
        stax.Reshape((start, start, width)),
    ]
    for _ in range(doublings):
        width = max(32, width // 2)
        conv = stax.Conv(width, (3, 3), padding="SAME", W_std=math.sqrt(2.0), b_std=1.0)
        layers += [stax.Upsample(2), conv, stax.Relu()]
    layers += [stax.Conv(1, (3, 3), padding="SAME", W_std=1.0, b_std=1.0), stax.Sigmoid()]
    return stax.serial(*layers)[:2]


def layers_compared(size: int) -> dict:
    """Images per second (batches of 1024) and seconds per gradient (batch 64) of the generator
    network, written with ``UpsampleConv`` and with the two layers it replaces."""
    from augment.gantk.generator import generator_network

    out = {}
    z = jax.random.normal(jax.random.PRNGKey(1), (1024, 64))
    for name, (init_fn, apply_fn) in (
        ("upsample_then_conv", two_layer_network(size)),
        ("upsample_conv", generator_network(size, 1)),
    ):
        _, params = init_fn(jax.random.PRNGKey(0), (-1, 64))
        forward = jax.jit(apply_fn)
        gradient = jax.jit(jax.grad(lambda p, z, f=apply_fn: jnp.sum(f(p, z) ** 2)))
        out[name] = {
            "images_per_second": 1024 / seconds(lambda f=forward, p=params: f(p, z), 5),
            "gradient_s_batch_64": seconds(lambda g=gradient, p=params: g(p, z[:64]), 10),
        }
    return out


def conv_update_in_loop(steps: int = 10) -> dict:
    """A 3x3 convolution's weight update (64 images of 16x16x64, 64 outputs) in ``fori_loop`` and
    called step by step, with lax's convolution and with the written-out backward pass."""
    x = jax.random.normal(jax.random.PRNGKey(0), (64, 16, 16, 64))
    weights = 0.05 * jax.random.normal(jax.random.PRNGKey(1), (3, 3, 64, 64))
    pads = ((1, 1), (1, 1))
    out = {}
    for name, conv in (
        ("lax", lambda x, w: stax._lax_conv(x, w, (1, 1), pads)),
        ("written_out", lambda x, w: stax._conv_stride_one(x, w, pads)),
    ):

        def update(w, conv=conv):
            return w - 1e-4 * jax.grad(lambda w: jnp.sum(jnp.tanh(conv(x, w))))(w)

        one = jax.jit(update)
        loop = jax.jit(lambda w, update=update: jax.lax.fori_loop(0, steps, lambda i, w: update(w), w))

        def one_by_one(one=one):
            w = weights
            for _ in range(steps):
                w = one(w)
            return w

        compiled = loop.lower(weights).compile().as_text() or ""
        out[name] = {
            "one_step_per_call_s_per_step": seconds(one_by_one, 2) / steps,
            "fori_loop_s_per_step": seconds(lambda loop=loop: loop(weights), 2) / steps,
            "dimension_orders_in_loop": sorted(
                {
                    line.split("dim_labels=")[1].split(",")[0]
                    for line in compiled.splitlines()
                    if " convolution(" in line
                }
            ),
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out")
    args = parser.parse_args()
    results: dict = {"devices": [str(d) for d in jax.devices()], "conv_update_in_loop": conv_update_in_loop()}
    print(json.dumps(results["conv_update_in_loop"]), flush=True)
    for size in (8, 32):
        real = real_images(size)
        start = time.perf_counter()
        generator = train_generator(real, GeneratorConfig(), jax.random.PRNGKey(0))
        train_seconds = time.perf_counter() - start
        sample(generator, 2048, jax.random.PRNGKey(1))  # compiles the sampler for its batches of 1024
        start = time.perf_counter()
        n = 20000
        sample(generator, n, jax.random.PRNGKey(2))
        rate = n / (time.perf_counter() - start)
        results[f"{size}x{size}"] = {
            "train_seconds_one_class_1000_steps": train_seconds,
            "final_loss": float(generator.loss_history[-1]),
            "sample_images_per_second": rate,
            **loop_against_python(size),
            "layers": layers_compared(size),
        }
        print(json.dumps({size: results[f"{size}x{size}"]}), flush=True)
    if args.out:
        with open(args.out, "w") as handle:
            json.dump(results, handle, indent=1)


if __name__ == "__main__":
    main()
