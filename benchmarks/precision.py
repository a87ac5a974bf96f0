"""Accuracy of the faster matmul precisions (``--matmul-precision``) against float32.

A GPU's tensor cores read TF32 (10 mantissa bits) or bfloat16 (7 bits) operands and add in
float32. This benchmark does the same rounding explicitly (``emulated-tensorfloat32`` /
``emulated-bfloat16``, see ``augment.ntk.stax.round_mantissa``), so it measures the numerical
effect on any machine; the speed needs a GPU. On digits (one class, 15 real images, 16x16):

- the NTK Gram matrix of the float32 run's synthetic images (the real digits, k/64 after the
  2x resize, are exact in 7 bits): largest error relative to its largest entry;
- the loss curve of the same synthesis (same seed): largest relative difference;
- the synthetic images: RMS pixel difference from the float32 images, next to the RMS difference
  between two float32 runs with different seeds (the scale of "a different result"), and the
  mean realness.

Run by hand (about 3 minutes on 2 CPU cores):

    .venv/bin/python benchmarks/precision.py --out benchmarks/precision.json
"""

from __future__ import annotations

import argparse
import dataclasses

import jax
import numpy as np
from harness import write
from sklearn.datasets import load_digits

from augment.gantk import SynthesisConfig, synthesize
from augment.gantk.architectures import discriminator

PRECISIONS = ("float32", "emulated-tensorfloat32", "emulated-bfloat16")


def real_images(size: int) -> np.ndarray:
    digits = load_digits()
    images = (digits.images[digits.target == 3][:15] / 16.0)[..., None]
    return np.asarray(jax.image.resize(images, (15, size, size, 1), "linear")).clip(0, 1).astype(np.float32)


def rms(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.sqrt(np.mean((a - b) ** 2)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=16)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--n", type=int, default=32)
    parser.add_argument("--out", help="write the figures as JSON here")
    args = parser.parse_args()
    real = real_images(args.size)
    config = SynthesisConfig(steps=args.steps, augment_real_to=100)
    results, grams = {}, {}
    for precision in PRECISIONS:
        results[precision] = synthesize(
            real, args.n, dataclasses.replace(config, matmul_precision=precision), jax.random.PRNGKey(0)
        )
    for precision in PRECISIONS:
        _, _, kernel_fn = discriminator(config.architecture, args.size, precision)
        grams[precision] = np.asarray(
            jax.jit(lambda x, k=kernel_fn: k(x, None, "ntk"))(results["float32"].images)
        )
    other_seed = synthesize(real, args.n, config, jax.random.PRNGKey(1))
    reference, gram = results["float32"], grams["float32"]
    rows = {}
    for precision in PRECISIONS:
        result = results[precision]
        ran = np.isfinite(reference.loss_history) & np.isfinite(result.loss_history)
        rows[precision] = {
            "gram_max_relative_error": float(np.abs(grams[precision] - gram).max() / np.abs(gram).max()),
            "loss_max_relative_difference": float(
                np.max(
                    np.abs(result.loss_history[ran] - reference.loss_history[ran])
                    / np.abs(reference.loss_history[ran])
                )
            ),
            "image_rms_vs_float32": rms(result.images, reference.images),
            "realness_mean": float(result.realness.mean()),
            "steps_run": result.steps_run.tolist(),
        }
    figures = {
        "size": args.size, "steps": args.steps, "n": args.n, "precisions": rows,
        "image_rms_float32_other_seed": rms(other_seed.images, reference.images),
        "device": str(jax.devices()[0]),
    }  # fmt: skip
    print("| precision | Gram max rel. error | loss max rel. diff. | image RMS vs float32 | mean realness |")
    print("|---|---|---|---|---|")
    for precision, r in rows.items():
        print(
            f"| {precision} | {r['gram_max_relative_error']:.1e} | {r['loss_max_relative_difference']:.1e} "
            f"| {r['image_rms_vs_float32']:.4f} | {r['realness_mean']:.3f} |"
        )
    print(f"float32 with another seed: image RMS {figures['image_rms_float32_other_seed']:.4f}")
    if args.out:
        write(figures, args.out)


if __name__ == "__main__":
    main()
