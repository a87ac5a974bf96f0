"""The kernel engine against golden values from neural-tangents 0.6.5 (tools/make_golden.py)."""

from __future__ import annotations

import json
import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from augment.ntk import stax

GOLDEN = pathlib.Path(__file__).parent / "golden"
SPEC = {
    name: arch
    for name, arch in json.loads((GOLDEN / "architectures.json").read_text()).items()
    if not name.startswith("_")
}
REFERENCE = np.load(GOLDEN / "kernels.npz")

# float32 cancellation: for an identical pair in a cross kernel, k11*k22 - k12**2 is pure
# round-off (relative eps ~ 1.2e-7, placement of FMAs decided by XLA's fusion), so the ReLU angle
# is up to sqrt(2 eps) ~ 5e-4 instead of 0 and the NTK factor (pi - theta)/(2 pi) moves by up to
# ~1.6e-4 per ReLU layer. Measured: 1e-5 to 1.5e-4. Every other entry must meet the 1e-5 bound in
# float32 too.
COINCIDENT_PAIR_TOLERANCE_FLOAT32 = 5e-4


def build(layers):
    return stax.serial(*[getattr(stax, name)(**kwargs) for name, kwargs in layers])


def test_the_golden_fixture_covers_every_layer_padding_and_stride():
    layer_names = {name for arch in SPEC.values() for name, _ in arch["layers"]}
    assert {"Conv", "Dense", "Relu", "LeakyRelu", "Erf", "Flatten"} <= layer_names
    convs = [kw for arch in SPEC.values() for name, kw in arch["layers"] if name == "Conv"]
    assert {kw["padding"] for kw in convs} == {"SAME", "VALID"}
    assert {tuple(kw["strides"]) for kw in convs} >= {(1, 1), (2, 2)}
    shapes = [arch["inputs"][0] for arch in SPEC.values()]
    assert any(len(s) == 4 and s[1] != s[2] for s in shapes), "a non-square image"
    assert {s[-1] for s in shapes if len(s) == 4} >= {1, 3}
    assert len(SPEC) >= 5


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("pair", ["self", "cross"])
@pytest.mark.parametrize("name", sorted(SPEC))
def test_kernel_matches_neural_tangents(name, pair, dtype):
    _, _, kernel_fn = build(SPEC[name]["layers"])
    with jax.enable_x64(dtype == "float64"):
        x1 = jnp.asarray(REFERENCE[f"{name}/x1"], dtype)
        x2 = None if pair == "self" else jnp.asarray(REFERENCE[f"{name}/x2"], dtype)
        nngp, ntk = jax.jit(lambda a, b: kernel_fn(a, b, ("nngp", "ntk")))(x1, x2)
        assert nngp.dtype == ntk.dtype == jnp.dtype(dtype)
        for kind, value in (("nngp", nngp), ("ntk", ntk)):
            reference = REFERENCE[f"{name}/{pair}/{kind}"]
            assert value.shape == reference.shape
            relative = np.abs(np.asarray(value, np.float64) - reference) / np.abs(reference)
            if dtype == "float32" and pair == "cross":
                # x2[0] is x1[0] in the fixtures
                assert relative[0, 0] <= COINCIDENT_PAIR_TOLERANCE_FLOAT32
                relative[0, 0] = 0.0
            assert relative.max() <= 1e-5, (kind, relative.max())


def test_get_argument_forms():
    _, _, kernel_fn = build(SPEC["mlp_flat"]["layers"])
    x = jnp.asarray(REFERENCE["mlp_flat/x1"], jnp.float32)
    both = kernel_fn(x, None, ("nngp", "ntk"))
    reversed_order = kernel_fn(x, None, ("ntk", "nngp"))
    np.testing.assert_array_equal(both[0], reversed_order[1])
    np.testing.assert_array_equal(kernel_fn(x, None, "ntk"), both[1])
    np.testing.assert_array_equal(kernel_fn(x, None, "nngp"), both[0])
    default = kernel_fn(x)
    np.testing.assert_array_equal(default[1], both[1])
    with pytest.raises(ValueError, match="get must name"):
        kernel_fn(x, None, "cov")


def test_gantk_closed_form_matches_predict_gradient_descent_mse():
    """The training-time normalisation N = y.size and the relative diagonal regulariser."""
    from augment.gantk.discriminator import ntk_gp_train_prediction

    with jax.enable_x64(True):
        k = jnp.asarray(REFERENCE["gantk/ntk"])
        y = jnp.asarray(REFERENCE["gantk/y"])
        for diag_reg in (1e-5, 1e-4):
            got = ntk_gp_train_prediction(k, y, eta=1e-2, t=65536 * 2, diag_reg=diag_reg)
            expected = REFERENCE[f"gantk/prediction/diag_reg={diag_reg}"]
            np.testing.assert_allclose(np.asarray(got), expected, rtol=1e-7, atol=1e-10)


@pytest.mark.parametrize(
    "golden, architecture, size, channels",
    [("strided_64x64_gray", "auto", 64, 1), ("strided_128x128_rgb", "auto", 128, 3)],
)
def test_the_strided_goldens_are_what_auto_uses_at_that_size(golden, architecture, size, channels):
    """The golden strided networks are the registered family, at the depth ``auto`` picks there,
    so neural-tangents checks what runs."""
    from augment.gantk.architectures import ARCHITECTURES, resolve

    name = resolve(architecture, size, channels)
    assert name == ("strided-gray" if channels == 1 else "strided-rgb")
    registered = ARCHITECTURES[name]
    golden_convs = [kw["out_chan"] for layer, kw in SPEC[golden]["layers"] if layer == "Conv"]
    assert tuple(golden_convs) == registered.convolutions(size)
    assert size / 2 ** len(golden_convs) == 4  # the last map is 4x4
    assert SPEC[golden]["inputs"][0][1:] == [size, size, channels]
    golden_dense = [kw["out_dim"] for layer, kw in SPEC[golden]["layers"] if layer == "Dense"]
    assert (
        tuple(golden_dense[:-1]) == registered.dense_widths
    )  # the kernels: test_kernel_matches_neural_tangents
