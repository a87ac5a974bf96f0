"""Generator mode's speed: training one class for 1000 steps of 64 samples against an augmented
real set of 200 (the digits' defaults; above 16 px the defaults train 4000 steps of 16 against the
real images themselves, timed by benchmarks/scans.py) at 8x8 and at 32x32, and `sample`
throughput after loading, on the digits (5 real images of one class; 32x32 is the same digits
resized). Also, side by side in the same run, the levers:

- the steps of a chunk inside one ``lax.fori_loop`` against the same steps dispatched one by one;
- each upsampling and the convolution after it as one layer (``stax.UpsampleConv``, a 2x2
  convolution per window) against its earlier 3x3 phase form and against the two layers
  (``Upsample(2)`` then ``Conv``) it replaced, for sampling and for the generator's gradient;
- ``sample``'s images per second by batch size (its default batch is ``sampling_batch``);
- a padded 2x2 convolution's weight gradient, with the padding inside the convolution and with the
  input padded first;
- why the loop used to be slow: a convolution's weight update inside ``fori_loop`` with JAX's
  derived backward pass (lax) against the written-out one (``stax._conv_stride_one``), and the
  dimension orders of the convolutions XLA compiled in each.

    .venv/bin/python benchmarks/generator_speed.py --out benchmarks/generator_speed.json
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import time

import jax
import jax.numpy as jnp
import numpy as np
from harness import write
from sklearn.datasets import load_digits

from augment import parameters
from augment.gantk.augmentation import discriminator_real_set
from augment.gantk.generator.config import GeneratorConfig
from augment.gantk.generator.network import _plan, generator_network, sampling_batch
from augment.gantk.generator.sampling import sample
from augment.gantk.generator.training import compiled_generator, train_generator
from augment.ntk import stax

DIGITS_TRAINING = GeneratorConfig(
    steps=parameters.GENERATOR_STEPS, batch_size=parameters.GENERATOR_BATCH,
    augment_real_to=parameters.AUGMENT_REAL_TO,
)  # fmt: skip
"""The training timed at both sizes: the defaults up to 16 px, so rows stay comparable over time."""


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
    """Seconds per training step (:data:`DIGITS_TRAINING`, on its augmented real set of 200): ``steps``
    steps in one compiled chunk, and the same steps as ``steps`` chunks of one step."""
    config = dataclasses.replace(DIGITS_TRAINING, steps=1)
    compiled = compiled_generator(config, (size, size, 1))
    real = discriminator_real_set(
        jax.random.PRNGKey(0), real_images(size), config.augment_real_to, config.augment_rotation,
        config.augment_shift,
    )  # fmt: skip
    gram = compiled.gram(real)
    state = compiled.init_state(jax.random.PRNGKey(0))

    def one_by_one():
        current = state
        for _ in range(steps):
            current, _ = compiled.run_chunk(current, real, gram, steps, 1)
        return current

    python = seconds(one_by_one, 2) / steps
    in_loop = seconds(lambda: compiled.run_chunk(state, real, gram, steps, steps), 2) / steps
    return {"one_step_per_call_s_per_step": python, "fori_loop_s_per_step": in_loop}


def network_of(size: int, doubling, base_channels: int = 128):
    """The generator network (the shipped widths; sizes that need no crop) with ``doubling(width)``,
    a list of layers, in place of each ``UpsampleConv(width)``."""
    start, widths = _plan(size, base_channels)
    layers = [
        stax.Dense(start * start * base_channels, W_std=math.sqrt(2.0), b_std=1.0),
        stax.Relu(),
        stax.Reshape((start, start, base_channels)),
    ]
    for width in widths:
        layers += [*doubling(width), stax.Relu()]
    layers += [stax.Conv(1, (3, 3), padding="SAME", W_std=1.0, b_std=1.0), stax.Sigmoid()]
    return stax.serial(*layers)[:2]


def upsample_then_conv(width: int) -> list:
    """The layers before ``UpsampleConv``: ``Upsample(2)`` then a 3x3 ``Conv``."""
    return [stax.Upsample(2), stax.Conv(width, (3, 3), padding="SAME", W_std=math.sqrt(2.0), b_std=1.0)]


# the 3x3 form of UpsampleConv before the 2x2 windows: (phase, low-resolution offset -1/0/+1, tap)
_PHASE_TAPS = np.array([[[1, 0, 0], [0, 1, 1], [0, 0, 0]], [[0, 0, 0], [1, 1, 0], [0, 0, 1]]], np.float32)


def phase_3x3(width: int) -> list:
    """``stax.UpsampleConv(width)`` as it was computed before: one 3x3 convolution of the input
    with 4 * width outputs, one per output phase (the same function and parameters)."""
    w_std = math.sqrt(2.0)
    init_fn, _, kernel_fn = stax.UpsampleConv(width, w_std, 1.0)

    def apply_fn(params, x, **kwargs):
        weights, bias = params
        n, h, w, c = x.shape
        taps = jnp.asarray(_PHASE_TAPS, weights.dtype)
        phased = jnp.einsum("api,bqj,ijco->pqcabo", taps, taps, weights, precision=jax.lax.Precision.HIGHEST)
        out = stax._conv_stride_one(x, phased.reshape(3, 3, c, 4 * width), ((1, 1), (1, 1)))
        out = out.reshape(n, h, w, 2, 2, width).transpose(0, 1, 3, 2, 4, 5)
        return out.reshape(n, 2 * h, 2 * w, width) * (w_std / math.sqrt(9 * c)) + bias

    return [(init_fn, apply_fn, kernel_fn)]


def layers_compared(size: int) -> dict:
    """Images per second (batches of 1024 and of ``sampling_batch``) and seconds per gradient
    (batch 64) of the generator network: with the 2x2-window ``UpsampleConv`` as shipped, with
    its earlier 3x3 phase form, and with the two layers it replaced; two rounds side by side."""
    z = jax.random.normal(jax.random.PRNGKey(1), (1024, 64))
    batch = sampling_batch(size, 1)
    networks = {
        "upsample_then_conv": network_of(size, upsample_then_conv),
        "phase_3x3": network_of(size, phase_3x3),
        "windows_2x2": generator_network(size, 1),
    }
    out: dict = {name: {} for name in networks}
    shipped_init, shipped_apply = networks["windows_2x2"]
    _, params = shipped_init(jax.random.PRNGKey(0), (-1, 64))
    # the same parameters make the same images in the earlier form
    out["phase_3x3"]["max_difference_from_shipped"] = float(
        jnp.abs(networks["phase_3x3"][1](params, z[:64]) - shipped_apply(params, z[:64])).max()
    )
    for round_ in range(2):
        for name, (init_fn, apply_fn) in networks.items():
            _, params = init_fn(jax.random.PRNGKey(0), (-1, 64))
            forward = jax.jit(apply_fn)
            gradient = jax.jit(jax.grad(lambda p, z, f=apply_fn: jnp.sum(f(p, z) ** 2)))
            repeats = max(5, 8192 // batch)
            out[name][f"round_{round_}"] = {
                "images_per_second_batch_1024": 1024 / seconds(lambda f=forward, p=params: f(p, z), 5),
                f"images_per_second_batch_{batch}": batch
                / seconds(lambda f=forward, p=params: f(p, z[:batch]), repeats),
                "gradient_s_batch_64": seconds(lambda g=gradient, p=params: g(p, z[:64]), 10),
            }
    return out


def sampling_batches(size: int) -> dict:
    """Images per second of the shipped network by batch size, two rounds side by side."""
    init_fn, apply_fn = generator_network(size, 1)
    _, params = init_fn(jax.random.PRNGKey(0), (-1, 64))
    forward = jax.jit(apply_fn)
    out: dict = {}
    for _ in range(2):
        for batch in (16, 32, 64, 128, 256, 512, 1024):
            z = jax.random.normal(jax.random.PRNGKey(1), (batch, 64))
            rate = batch / seconds(lambda z=z: forward(params, z), max(5, 16384 // batch))
            out.setdefault(str(batch), []).append(rate)
    return out


def padded_2x2_weight_gradient() -> dict:
    """Seconds for the weight gradient of a 2x2 convolution (64 images of 16x16x32, 128 outputs)
    padded by one: with the padding inside the convolution, and with the input padded first."""
    x = jax.random.normal(jax.random.PRNGKey(0), (64, 16, 16, 32))
    weights = jax.random.normal(jax.random.PRNGKey(1), (2, 2, 32, 128))
    none = ((0, 0), (0, 0))
    forms = {
        "padding_in_the_convolution": lambda w: stax._conv_stride_one(x, w, ((1, 1), (1, 1))),
        "input_padded_first": lambda w: stax._conv_stride_one(
            jnp.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0))), w, none
        ),
    }
    out = {}
    for name, conv in forms.items():
        gradient = jax.jit(jax.grad(lambda w, conv=conv: jnp.sum(conv(w) ** 2)))
        out[name] = seconds(lambda g=gradient: g(weights), 10)
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
    results: dict = {
        "devices": [str(d) for d in jax.devices()],
        "conv_update_in_loop": conv_update_in_loop(),
        "padded_2x2_weight_gradient_s": padded_2x2_weight_gradient(),
    }
    print(
        json.dumps({k: results[k] for k in ("conv_update_in_loop", "padded_2x2_weight_gradient_s")}),
        flush=True,
    )
    for size in (8, 32):
        real = real_images(size)
        start = time.perf_counter()
        generator = train_generator(real, DIGITS_TRAINING, jax.random.PRNGKey(0))
        train_seconds = time.perf_counter() - start
        sample(generator, 2048, jax.random.PRNGKey(1))  # compiles the sampler for its batches
        start = time.perf_counter()
        n = 20000
        sample(generator, n, jax.random.PRNGKey(2))
        rate = n / (time.perf_counter() - start)
        results[f"{size}x{size}"] = {
            "train_seconds_one_class_1000_steps": train_seconds,
            "final_loss": float(generator.loss_history[-1]),
            "sampling_batch": sampling_batch(size, 1),
            "sample_images_per_second": rate,
            **loop_against_python(size),
            "layers": layers_compared(size),
            "sampling_batches_images_per_second": sampling_batches(size),
        }
        print(json.dumps({size: results[f"{size}x{size}"]}), flush=True)
    if args.out:
        write(results, args.out)


if __name__ == "__main__":
    main()
