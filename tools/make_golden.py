"""Make the golden kernel values in tests/golden/ with neural-tangents 0.6.5 (not a dependency).

neural-tangents does not import on current JAX (docs/design.md, "The kernel engine"), so this script runs in a
separate, throw-away environment:

    python3.11 -m venv /tmp/ntenv
    /tmp/ntenv/bin/pip install "jax==0.4.23" "jaxlib==0.4.23" "numpy<2" "scipy<1.13" frozendict
    /tmp/ntenv/bin/pip install --no-deps neural-tangents==0.6.5
    /tmp/ntenv/bin/python tools/make_golden.py

It reads tests/golden/architectures.json and writes tests/golden/kernels.npz: for every
architecture, the inputs x1 and x2 and the NNGP and NTK of (x1, x1) and (x1, x2), computed in
float64. It also writes the closed-form NTK-GP mean prediction (predict.gradient_descent_mse) on
one GA-NTK problem, which pins the training-time normalisation and the diagonal regulariser.
"""

import json
import pathlib
import sys
import types

# neural_tangents.experimental imports TensorFlow; nothing here needs it.
sys.modules["neural_tangents.experimental"] = types.ModuleType("neural_tangents.experimental")

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)  # this is a throw-away script process, not the library

import neural_tangents as nt  # noqa: E402
import numpy as np  # noqa: E402
from neural_tangents import stax  # noqa: E402

GOLDEN = pathlib.Path(__file__).resolve().parent.parent / "tests" / "golden"


def build(layers):
    return stax.serial(*[getattr(stax, name)(**kwargs) for name, kwargs in layers])


def make_inputs(rng, shape1, shape2, levels=None):
    if len(shape1) == 2:
        x1 = rng.standard_normal(shape1)
        x2 = rng.standard_normal(shape2)
    else:
        # image-like: uniform pixels with a black border, as in scans and digits
        x1 = rng.uniform(0.0, 1.0, shape1)
        x2 = rng.uniform(0.0, 1.0, shape2)
        if levels is not None:  # few grey levels: a fixture of large images stays small compressed
            x1 = np.round(x1 * (levels - 1)) / (levels - 1)
            x2 = np.round(x2 * (levels - 1)) / (levels - 1)
        x1[:, :1] = 0.0
        x2[:, :, :1] = 0.0
    x2[0] = x1[0]  # an identical pair in the cross kernel: the ReLU kernel's diagonal case
    return x1, x2


def main():
    spec = json.loads((GOLDEN / "architectures.json").read_text())
    rng = np.random.default_rng(20260101)
    arrays = {}
    for name, arch in spec.items():
        if name.startswith("_"):
            continue
        _, _, kernel_fn = build(arch["layers"])
        x1, x2 = make_inputs(rng, *arch["inputs"], levels=arch.get("levels"))
        arrays[f"{name}/x1"] = x1
        arrays[f"{name}/x2"] = x2
        for tag, second in (("self", None), ("cross", x2)):
            nngp, ntk = kernel_fn(x1, second, ("nngp", "ntk"))
            arrays[f"{name}/{tag}/nngp"] = np.asarray(nngp)
            arrays[f"{name}/{tag}/ntk"] = np.asarray(ntk)
        print(name, "ok", arrays[f"{name}/self/ntk"].shape)

    # The GA-NTK discriminator: 4 "real" and 4 "synthetic" images, one-hot labels (real = class 1).
    _, _, kernel_fn = build(spec["paper_28x28_gray"]["layers"])
    x = rng.uniform(0.0, 1.0, (8, 28, 28, 1))
    y = np.zeros((8, 2))
    y[:4, 1] = 1.0
    y[4:, 0] = 1.0
    k = np.asarray(kernel_fn(x, None, "ntk"))
    for diag_reg in (1e-5, 1e-4):
        predict = nt.predict.gradient_descent_mse(k, y, learning_rate=1e-2, diag_reg=diag_reg)
        arrays[f"gantk/prediction/diag_reg={diag_reg}"] = np.asarray(predict(65536 * 2, 0.0))
    arrays["gantk/x"] = x
    arrays["gantk/y"] = y
    arrays["gantk/ntk"] = k
    np.savez_compressed(GOLDEN / "kernels.npz", **arrays)
    print("wrote", GOLDEN / "kernels.npz", f"(neural-tangents {nt.__version__}, jax {jax.__version__})")


if __name__ == "__main__":
    main()
