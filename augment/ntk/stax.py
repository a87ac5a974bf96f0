"""A neural-tangents-compatible ``stax``: analytic NNGP / NTK kernels of infinitely wide networks.

Every layer is a function returning ``(init_fn, apply_fn, kernel_fn)``, with the same names,
arguments and numbers as ``neural_tangents.stax`` (version 0.6.5, standard "ntk"
parameterisation), so an architecture written for one runs on the other:

- ``init_fn(key, input_shape) -> (output_shape, params)`` and ``apply_fn(params, x)`` build and run
  a finite-width network of the same architecture (weights ``N(0, 1)``, scaled by
  ``W_std / sqrt(fan_in)`` in the forward pass; biases scaled by ``b_std``);
- ``kernel_fn(x1, x2=None, get=None)`` returns the infinite-width kernels between the inputs
  ``x1`` (n1, H, W, C) or (n1, D) and ``x2`` (n2, ...) (``x2=None`` means ``x1``): ``get='nngp'``
  or ``'ntk'`` gives an (n1, n2) array, a tuple of names gives a tuple of arrays in that order,
  and ``None`` gives ``(nngp, ntk)``.

Kernel recursions (per pair of inputs, per spatial position; docs/design.md, "The kernel engine"):

- input: ``nngp = <x, x'> / C`` over channels at each position, ``ntk = 0``;
- ``Dense`` / ``Conv``: ``nngp <- W_std**2 * A(nngp) + b_std**2``, ``ntk <- W_std**2 * A(ntk) +
  nngp_new``, with ``A`` the identity for Dense and, for Conv, the mean over the filter window
  (zero padding for SAME: the window sum divided by the full filter size), subsampled by the stride;
- ``Relu`` / ``LeakyRelu`` / ``Erf``: the closed-form Gaussian expectations, ``ntk <- ntk * E[phi'
  phi']``; they do not add ``nngp`` to ``ntk`` (the next affine layer does);
- ``Flatten``: the mean over spatial positions. Only same-position covariances are ever needed
  ("diagonal spatial"), so the cost is linear in H * W.

``GlobalAvgPool`` is available for finite networks only: its kernel needs the full
position-by-position covariance, (H*W)**2 times more memory and time, which is not affordable at
the sizes this tool works at; its ``kernel_fn`` raises an error that names ``Flatten`` instead.

Numerics: the dtype of the inputs is kept (float32 by default); dot products use the highest
matmul precision, so GPUs do not silently drop to TF32, unless ``kernel_fn(..., precision=)``
asks for the faster "tensorfloat32" or "bfloat16" (operands rounded to 10 or 7 mantissa bits,
float32 accumulation; GPU only) for the products of the inputs, or their "emulated-" versions
(the same rounding done explicitly, on any device, to measure its effect); the ReLU kernel uses a
written-out derivative that stays finite at ``x1 == x2`` (see :mod:`augment.ntk.linalg`).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from augment.errors import AugmentError
from augment.ntk.linalg import arc_cosine

Array = jax.Array
InitFn = Callable[[Array, tuple[int, ...]], tuple[tuple[int, ...], Any]]
ApplyFn = Callable[..., Array]

_HIGHEST = lax.Precision.HIGHEST
_CONV_DIMENSIONS = ("NHWC", "HWIO", "NHWC")
_KERNEL_NAMES = ("nngp", "ntk")
MATMUL_PRECISIONS = ("float32", "tensorfloat32", "bfloat16")
_DOT_ALGORITHMS: dict[str, lax.Precision | lax.DotAlgorithmPreset] = {
    "float32": _HIGHEST,
    "tensorfloat32": lax.DotAlgorithmPreset.TF32_TF32_F32,
    "bfloat16": lax.DotAlgorithmPreset.BF16_BF16_F32,
}
_MANTISSA_BITS = {"tensorfloat32": 10, "bfloat16": 7}
EMULATED = "emulated-"
PRECISION_NAMES = MATMUL_PRECISIONS + tuple(EMULATED + name for name in _MANTISSA_BITS)
"""Every ``precision`` a ``kernel_fn`` accepts: the real ones and the emulated roundings."""


def round_mantissa(x: Array, bits: int) -> Array:
    """float32 ``x`` rounded (to nearest, ties to even) to ``bits`` explicit mantissa bits, as a
    tensor core reads its TF32 (10) or bfloat16 (7) operands; the result is still float32."""
    drop = 23 - bits
    u = lax.bitcast_convert_type(x.astype(jnp.float32), jnp.uint32)
    u = u + (((u >> drop) & 1) + jnp.uint32((1 << (drop - 1)) - 1))
    return lax.bitcast_convert_type(u & jnp.uint32(~((1 << drop) - 1) & 0xFFFFFFFF), jnp.float32)


@functools.partial(jax.custom_jvp, nondiff_argnums=(1,))
def _rounded_operand(x: Array, bits: int) -> Array:
    """:func:`round_mantissa` with the identity as derivative, as a tensor core's operand is for
    the gradient (the bit manipulation itself has none)."""
    return round_mantissa(x, bits)


@_rounded_operand.defjvp
def _rounded_operand_jvp(bits, primals, tangents):
    return _rounded_operand(primals[0], bits), tangents[0]


def _check_precision(precision: str) -> None:
    if precision not in PRECISION_NAMES:
        raise ValueError(
            f"precision must be one of {MATMUL_PRECISIONS} or emulated-tensorfloat32/bfloat16, "
            f"got {precision!r}"
        )


def _dot(spec: str, a: Array, b: Array, precision: str) -> Array:
    """``einsum(spec, a, b)`` at a matmul precision (see the module notes on numerics)."""
    if precision.startswith(EMULATED):
        bits = _MANTISSA_BITS[precision.removeprefix(EMULATED)]
        return jnp.einsum(spec, _rounded_operand(a, bits), _rounded_operand(b, bits), precision=_HIGHEST)
    return jnp.einsum(spec, a, b, precision=_DOT_ALGORITHMS[precision])


class Kernel(NamedTuple):
    """The kernel state that flows from layer to layer inside ``kernel_fn``.

    While ``nngp`` is None the state is *lazy*: ``x1`` (n1, ...) and ``x2`` (n2, ...) hold the raw
    inputs, so that a first ``Conv`` can work on image patches instead of building the
    input-resolution covariance. Once materialised:

    - ``nngp``: (*spatial, n1, n2) covariance of one channel's pre-activations at the same position;
    - ``ntk``: (*spatial, n1, n2), or None when only the NNGP was asked for;
    - ``var1``: (*spatial, n1) and ``var2``: (*spatial, n2) the variances, or None when ``is_self``
      (``x2`` is ``x1``): then they are read from the diagonal of ``nngp``, which keeps
      ``k11 * k22 - k12**2`` exactly 0 on the diagonal.

    The spatial axes lead ("spatial-major"): a first convolution's per-position products come
    out in this order, a window mean is a product over the leading axes, and every per-pair
    elementwise loop reads contiguous memory. With the pairs leading instead, XLA transposed the
    full-size arrays inside the fused ReLU loops, which made those loops several times slower.
    """

    nngp: Array | None
    ntk: Array | None
    var1: Array | None
    var2: Array | None
    x1: Array | None
    x2: Array | None
    is_self: bool
    want_ntk: bool
    precision: str = "float32"  # of the products of the inputs (see _dot)

    @classmethod
    def from_inputs(cls, x1: Array, x2: Array | None, want_ntk: bool, precision: str = "float32") -> Kernel:
        return cls(None, None, None, None, x1, x2, x2 is None, want_ntk, precision)

    @property
    def cov(self) -> Array:
        """``nngp`` of a materialised state (the layers call :func:`_materialise` first)."""
        if self.nngp is None:
            raise RuntimeError("the kernel state is still lazy; materialise it first")
        return self.nngp

    @property
    def inputs(self) -> tuple[Array, Array]:
        """``(x1, x2)`` of a lazy state (``x2`` is ``x1`` for a self-kernel)."""
        x1, x2 = self.x1, self.x1 if self.is_self else self.x2
        if x1 is None or x2 is None:
            raise RuntimeError("the kernel state is no longer lazy: its inputs are gone")
        return x1, x2


KernelUpdate = Callable[[Kernel], Kernel]


def _materialise(k: Kernel) -> Kernel:
    """Turn a lazy input state into per-position covariances ``<x, x'> / C``."""
    if k.nngp is not None:
        return k
    x1, x2 = k.inputs
    channels = x1.shape[-1]
    nngp = _dot("n...c,m...c->...nm", x1, x2, k.precision) / channels
    var1 = var2 = None
    if not k.is_self:
        var1 = jnp.moveaxis(jnp.mean(x1 * x1, axis=-1), 0, -1)
        var2 = jnp.moveaxis(jnp.mean(x2 * x2, axis=-1), 0, -1)
    ntk = jnp.zeros_like(nngp) if k.want_ntk else None
    return Kernel(nngp, ntk, var1, var2, None, None, k.is_self, k.want_ntk, k.precision)


def _self_variances(nngp: Array) -> Array:
    """(*spatial, n, n) -> (*spatial, n): the diagonal of a self-kernel."""
    return jnp.diagonal(nngp, axis1=-2, axis2=-1)


def _pair_variances(k: Kernel) -> tuple[Array, Array]:
    """``k11`` (*spatial, n1, 1) and ``k22`` (*spatial, 1, n2), broadcastable against ``k.nngp``."""
    if k.is_self:
        var = _self_variances(k.cov)
        return var[..., :, None], var[..., None, :]
    if k.var1 is None or k.var2 is None:
        raise RuntimeError("a materialised cross-kernel state carries both variances")
    return k.var1[..., :, None], k.var2[..., None, :]


def _diagonal_mask(k: Kernel) -> Array | None:
    """(1, ..., 1, n, n) boolean identity for a self-kernel, None for a cross-kernel."""
    if not k.is_self:
        return None
    n = k.cov.shape[-1]
    return jnp.eye(n, dtype=bool).reshape((1,) * (k.cov.ndim - 2) + (n, n))


def _kernel_fn(update: KernelUpdate) -> Callable:
    """Wrap a ``Kernel -> Kernel`` update into the public ``kernel_fn(x1, x2=None, get=None,
    precision="float32")``."""

    def kernel_fn(x1, x2=None, get=None, precision="float32"):
        if isinstance(x1, Kernel):
            return update(x1)
        names = _KERNEL_NAMES if get is None else ((get,) if isinstance(get, str) else tuple(get))
        unknown = [name for name in names if name not in _KERNEL_NAMES]
        if unknown or not names:
            raise ValueError(f"get must name 'nngp' and/or 'ntk', got {get!r}")
        x1 = jnp.asarray(x1)
        x2 = None if x2 is None else jnp.asarray(x2)
        _check_inputs(x1, x2)
        _check_precision(precision)
        k = _materialise(update(Kernel.from_inputs(x1, x2, "ntk" in names, precision)))
        if k.nngp.ndim != 2:
            raise AugmentError(
                "the network's output still has spatial dimensions; end it with Flatten() "
                "before the last Dense layer"
            )
        values = {"nngp": k.nngp, "ntk": k.ntk}
        return values[names[0]] if isinstance(get, str) else tuple(values[name] for name in names)

    kernel_fn.update = update  # type: ignore[attr-defined]
    return kernel_fn


def _check_inputs(x1: Array, x2: Array | None) -> None:
    if x1.ndim not in (2, 4):
        raise ValueError(f"inputs must be (n, D) or (n, H, W, C), got shape {x1.shape}")
    if not jnp.issubdtype(x1.dtype, jnp.floating):
        raise ValueError(f"inputs must be floating point, got {x1.dtype}")
    if x2 is not None and (x2.shape[1:] != x1.shape[1:] or x2.dtype != x1.dtype):
        raise ValueError(
            f"x1 {x1.shape} {x1.dtype} and x2 {x2.shape} {x2.dtype} must agree in all but the batch size"
        )


def _layer(init_fn: InitFn, apply_fn: ApplyFn, update: KernelUpdate):
    return init_fn, apply_fn, _kernel_fn(update)


# ---------------------------------------------------------------------------------------------
# Combinator


def serial(*layers):
    """Compose layers in sequence, like ``neural_tangents.stax.serial``."""
    init_fns, apply_fns, kernel_fns = zip(*layers, strict=True) if layers else ((), (), ())

    def init_fn(key: Array, input_shape: tuple[int, ...]):
        params = []
        for init in init_fns:
            key, layer_key = jax.random.split(key)
            input_shape, layer_params = init(layer_key, input_shape)
            params.append(layer_params)
        return input_shape, tuple(params)

    def apply_fn(params, x: Array, **kwargs) -> Array:
        for apply, layer_params in zip(apply_fns, params, strict=True):
            x = apply(layer_params, x, **kwargs)
        return x

    def update(k: Kernel) -> Kernel:
        for kernel_fn in kernel_fns:
            k = kernel_fn.update(k)
        return k

    return _layer(init_fn, apply_fn, update)


# ---------------------------------------------------------------------------------------------
# Affine layers


def _affine_update(k: Kernel, w_var: float, b_var: float, spatial_op: Callable[[Array], Array]) -> Kernel:
    """``nngp <- w_var * A(nngp) + b_var``; ``ntk <- w_var * A(ntk) + nngp_new``."""
    nngp = w_var * spatial_op(k.cov) + b_var
    ntk = None if k.ntk is None else w_var * spatial_op(k.ntk) + nngp
    var1 = None if k.var1 is None else w_var * spatial_op(k.var1) + b_var
    var2 = None if k.var2 is None else w_var * spatial_op(k.var2) + b_var
    return k._replace(nngp=nngp, ntk=ntk, var1=var1, var2=var2)


def _variances_of(W_std: float, b_std: float | None) -> tuple[float, float]:
    return W_std**2, (0.0 if b_std is None else b_std**2)


def Dense(out_dim: int, W_std: float = 1.0, b_std: float | None = None):
    """Fully connected layer on the last (channel) axis; ``b_std=None`` means no bias."""
    w_var, b_var = _variances_of(W_std, b_std)

    def init_fn(key, input_shape):
        w_key, b_key = jax.random.split(key)
        weights = jax.random.normal(w_key, (input_shape[-1], out_dim))
        bias = None if b_std is None else jax.random.normal(b_key, (out_dim,))
        return (*tuple(input_shape[:-1]), out_dim), (weights, bias)

    def apply_fn(params, x, **kwargs):
        weights, bias = params
        out = jnp.matmul(x, weights, precision=_HIGHEST) * (W_std / math.sqrt(weights.shape[0]))
        return out if bias is None else out + b_std * bias

    def update(k: Kernel) -> Kernel:
        return _affine_update(_materialise(k), w_var, b_var, lambda a: a)

    return _layer(init_fn, apply_fn, update)


def _normalise_conv_args(
    filter_shape: Sequence[int], strides: Sequence[int] | None, padding: str
) -> tuple[tuple[int, int], tuple[int, int], str]:
    window = tuple(int(s) for s in filter_shape)
    steps = (1,) * len(window) if strides is None else tuple(int(s) for s in strides)
    padding = padding.upper()
    if len(window) != 2 or len(steps) != 2:
        raise ValueError("Conv supports 2-D images: filter_shape and strides need two entries")
    if padding not in ("SAME", "VALID"):
        raise ValueError(f"padding must be 'SAME' or 'VALID', got {padding!r}")
    return (window[0], window[1]), (steps[0], steps[1]), padding


def _lax_conv(x: Array, weights: Array, strides, padding) -> Array:
    return lax.conv_general_dilated(
        x, weights, strides, padding, dimension_numbers=_CONV_DIMENSIONS, precision=_HIGHEST
    )


@functools.partial(jax.custom_vjp, nondiff_argnums=(2,))
def _conv_stride_one(x: Array, weights: Array, pads: tuple[tuple[int, int], tuple[int, int]]) -> Array:
    """A stride-1 convolution of (n, H, W, C) by (kh, kw, C, O) weights with explicit zero
    ``pads`` ((top, bottom), (left, right)), whose backward pass is written out as two
    convolutions in the same NHWC x HWIO -> NHWC form.

    XLA's CPU backend runs a convolution through its fast (Eigen) kernel only in that form. The
    backward pass JAX derives computes the weight gradient as a convolution with batch and feature
    dimensions swapped (``f01b_i01o->01bf``); outside a loop XLA rewrites it into the fast form,
    inside a ``while`` loop it does not and runs a generic loop instead, many times slower
    (``benchmarks/RESULTS.md``). With the transposes written here, steps run as fast inside
    ``lax.fori_loop`` as dispatched one by one, with the same values.
    """
    return _lax_conv(x, weights, (1, 1), pads)


def _conv_stride_one_forward(x, weights, pads):
    return _conv_stride_one(x, weights, pads), (x, weights)


def _conv_stride_one_backward(pads, residuals, cotangent):
    x, weights = residuals
    kh, kw = weights.shape[:2]
    (top, bottom), (left, right) = pads
    # d/dx: the cotangent convolved with the flipped kernel, input and output channels swapped
    flipped = jnp.flip(weights, (0, 1)).transpose(0, 1, 3, 2)
    dx = _lax_conv(
        cotangent, flipped, (1, 1), ((kh - 1 - top, kh - 1 - bottom), (kw - 1 - left, kw - 1 - right))
    )
    # d/dw[p, q, c, o] = sum over n, h, w of x_padded[n, h + p, w + q, c] * cotangent[n, h, w, o]:
    # a convolution with the channels as its batch and the images as its features
    dw = _lax_conv(x.transpose(3, 1, 2, 0), cotangent.transpose(1, 2, 0, 3), (1, 1), pads)
    return dx, dw.transpose(1, 2, 0, 3)


_conv_stride_one.defvjp(_conv_stride_one_forward, _conv_stride_one_backward)


def _window_matrix(size: int, window: int, stride: int, pad: tuple[int, int]) -> np.ndarray:
    """(size, out) matrix whose column j averages input rows ``stride*j - pad[0] + [0, window)``.

    Rows that fall into the zero padding are absent, but the divisor stays ``window``.
    """
    out = (size + pad[0] + pad[1] - window) // stride + 1
    matrix = np.zeros((size, out), np.float64)
    for j in range(out):
        rows = np.arange(stride * j - pad[0], stride * j - pad[0] + window)
        matrix[rows[(rows >= 0) & (rows < size)], j] = 1.0 / window
    return matrix


def _window_mean(x: Array, filter_shape: tuple[int, int], strides: tuple[int, int], padding: str) -> Array:
    """(H, W, ...) -> (H', W', ...): the mean over each filter window, zero-padded for SAME.

    The 2-D window mean is separable: one small constant matmul along H, then one along W, each
    over the leading (spatial) axes of a spatial-major array. On CPU this is several times
    faster, forward and backward, than ``lax.reduce_window``.
    """
    spatial = x.shape[:2]
    _check_spatial(spatial, filter_shape, padding)
    pads = lax.padtype_to_pads(spatial, filter_shape, strides, padding)
    rows, cols = (
        jnp.asarray(_window_matrix(n, f, s, pad), x.dtype)
        for n, f, s, pad in zip(spatial, filter_shape, strides, pads, strict=True)
    )
    x = jnp.einsum("hi,hw...->iw...", rows, x, precision=_HIGHEST)
    # batched over the output rows i, so that the result comes out (i, j, ...) without a transpose
    # (a plain contraction of the middle axis made XLA copy the whole array twice)
    cols_per_row = jnp.broadcast_to(cols.T, (x.shape[0], *cols.T.shape))
    return jnp.einsum("ijw,iw...->ij...", cols_per_row, x, precision=_HIGHEST)


def _check_spatial(spatial, filter_shape, padding) -> None:
    if padding == "VALID" and any(s < f for s, f in zip(spatial, filter_shape, strict=True)):
        raise AugmentError(
            f"image size {tuple(spatial)} is smaller than a {filter_shape} VALID convolution "
            "window: use larger images or a discriminator with fewer or smaller layers"
        )


def Conv(
    out_chan: int,
    filter_shape: Sequence[int],
    strides: Sequence[int] | None = None,
    padding: str = "VALID",
    W_std: float = 1.0,
    b_std: float | None = None,
):
    """2-D convolution on NHWC inputs with HWIO weights; ``b_std=None`` means no bias."""
    filter_shape, strides, padding = _normalise_conv_args(filter_shape, strides, padding)
    w_var, b_var = _variances_of(W_std, b_std)
    window = lambda a: _window_mean(a, filter_shape, strides, padding)  # noqa: E731

    def conv(x, weights):
        if strides != (1, 1):
            return _lax_conv(x, weights, strides, padding)
        pads = lax.padtype_to_pads(x.shape[1:3], filter_shape, strides, padding)
        return _conv_stride_one(x, weights, tuple((int(lo), int(hi)) for lo, hi in pads))

    def init_fn(key, input_shape):
        w_key, b_key = jax.random.split(key)
        _check_spatial(input_shape[1:3], filter_shape, padding)
        weights = jax.random.normal(w_key, (*filter_shape, input_shape[-1], out_chan))
        bias = None if b_std is None else jax.random.normal(b_key, (out_chan,))
        out = jax.eval_shape(conv, jax.ShapeDtypeStruct(tuple(input_shape), jnp.float32), weights)
        return out.shape, (weights, bias)

    def apply_fn(params, x, **kwargs):
        weights, bias = params
        fan_in = math.prod(weights.shape[:3])
        out = conv(x, weights) * (W_std / math.sqrt(fan_in))
        return out if bias is None else out + b_std * bias

    def update(k: Kernel) -> Kernel:
        if k.nngp is None:
            return _conv_on_inputs(k, filter_shape, strides, padding, w_var, b_var)
        return _affine_update(k, w_var, b_var, window)

    return _layer(init_fn, apply_fn, update)


def _conv_on_inputs(k: Kernel, filter_shape, strides, padding, w_var, b_var) -> Kernel:
    """The first convolution, computed from image patches.

    The window mean of the input covariance at an output position is the dot product of the two
    zero-padded patches there divided by their size, so the input-resolution (H, W, n1, n2)
    covariance is never built: one (n1, K) x (K, n2) matmul per output position instead.
    """
    x1, x2 = k.inputs
    if x1.ndim != 4:
        raise ValueError(f"Conv needs (n, H, W, C) inputs, got shape {x1.shape}")
    _check_spatial(x1.shape[1:3], filter_shape, padding)

    def patches(x):
        return lax.conv_general_dilated_patches(
            x, filter_shape, strides, padding, dimension_numbers=_CONV_DIMENSIONS, precision=_HIGHEST
        )

    p1 = patches(x1)
    p2 = p1 if k.is_self else patches(x2)
    size = p1.shape[-1]
    nngp = w_var * _dot("nhwk,mhwk->hwnm", p1, p2, k.precision) / size + b_var
    var1 = var2 = None
    if not k.is_self:
        var1 = w_var * jnp.einsum("nhwk,nhwk->hwn", p1, p1, precision=_HIGHEST) / size + b_var
        var2 = w_var * jnp.einsum("nhwk,nhwk->hwn", p2, p2, precision=_HIGHEST) / size + b_var
    ntk = nngp if k.want_ntk else None
    return Kernel(nngp, ntk, var1, var2, None, None, k.is_self, k.want_ntk, k.precision)


# ---------------------------------------------------------------------------------------------
# Nonlinearities

PairUpdate = Callable[[Array, Array, Array, Array, Array | None], tuple[Array, Array]]


def _elementwise(fn: Callable[[Array], Array], pair_update: PairUpdate, var_fn: Callable[[Array], Array]):
    """A pointwise nonlinearity from its closed-form Gaussian expectations.

    Args:
      fn: the nonlinearity itself, for ``apply_fn``.
      pair_update: ``(k12, k11, k22, ntk, diagonal_mask) -> (E[phi(u) phi(v)], ntk * E[phi'(u)
        phi'(v)])`` for ``(u, v)`` centred Gaussian with covariance ``[[k11, k12], [k12, k22]]``;
        ``k11`` (..., n1, 1) and ``k22`` (..., 1, n2) broadcast against ``k12`` (..., n1, n2).
      var_fn: ``k -> E[phi(u)**2]`` for ``u ~ N(0, k)``.
    """

    def init_fn(key, input_shape):
        return input_shape, ()

    def apply_fn(params, x, **kwargs):
        return fn(x)

    def update(k: Kernel) -> Kernel:
        k = _materialise(k)
        k11, k22 = _pair_variances(k)
        ntk_in = jnp.zeros_like(k.cov) if k.ntk is None else k.ntk
        nngp, ntk = pair_update(k.cov, k11, k22, ntk_in, _diagonal_mask(k))
        var1 = None if k.var1 is None else var_fn(k.var1)
        var2 = None if k.var2 is None else var_fn(k.var2)
        return k._replace(nngp=nngp, ntk=None if k.ntk is None else ntk, var1=var1, var2=var2)

    return _layer(init_fn, apply_fn, update)


def _unbroadcast(g: Array, shape: tuple[int, ...]) -> Array:
    """Sum a cotangent over the axes along which an input of ``shape`` was broadcast."""
    axes = tuple(i for i, (gs, s) in enumerate(zip(g.shape, shape, strict=True)) if s == 1 and gs != 1)
    return jnp.sum(g, axis=axes, keepdims=True).reshape(shape)


def _inverse_root(var: Array) -> Array:
    """``1 / sqrt(var)`` of variances (n, ...), 0 where a variance is 0 (a constant-zero unit)."""
    positive = var > 0
    return jnp.where(positive, lax.rsqrt(jnp.where(positive, var, 1.0)), 0.0)


def _reciprocal(var: Array) -> Array:
    """``1 / var`` of variances (n, ...), 0 where a variance is 0."""
    positive = var > 0
    return jnp.where(positive, 1.0 / jnp.where(positive, var, 1.0), 0.0)


def _ab_relu_pair_fn(a: float, b: float, masked: bool) -> Callable:
    """``(k12, k11, k22, ntk[, mask]) -> (nngp_new, ntk_new)`` for ``a * min(x, 0) + b * max(x, 0)``.

    With the correlation ``rho = k12 / sqrt(k11 k22)`` (1 where ``mask``, or where a variance is
    0), ``theta = arccos(rho)``, ``s = sqrt(k11 k22 - k12**2) = sqrt(k11 k22) sin(theta)``,
    ``c = (b - a)**2`` and ``D = a b + c (pi - theta) / (2 pi)``:

        nngp_new = a b k12 + c (s + (pi - theta) k12) / (2 pi),      ntk_new = ntk * D.

    Its reverse-mode derivative is written out (``custom_vjp``): XLA's own derivative of this
    elementwise chain materialises many full-size intermediates. The closed forms are
    ``d nngp/d k12 = D``, ``d nngp/d k11 = c s / (4 pi k11)``, ``d D/d k12 = c / (2 pi s)`` and
    ``d D/d k11 = -c k12 / (4 pi s k11)``; the ``1/s`` terms are 0 where ``s == 0``.

    Per pair everything is multiplications, additions and selections (:func:`arc_cosine`; the
    square roots of the variances are taken once per image): XLA's CPU fusion then evaluates the
    whole chain inside the loops that write the outputs, where a division or square root per
    pair made it write five full-size intermediates and read them back. The backward pass
    recomputes the angle from the inputs instead of keeping per-pair residuals, which saves their
    memory too.
    """
    c = (b - a) ** 2
    two_pi = 2 * math.pi

    def angle(k12, k11, k22, mask):
        """theta, s and 1/s per pair; the variances' square roots are taken per image."""
        inv_root1, inv_root2 = _inverse_root(k11), _inverse_root(k22)
        scale = inv_root1 * inv_root2
        rho = jnp.where(scale > 0, jnp.clip(k12 * scale, -1.0, 1.0), 1.0)
        if mask is not None:
            rho = jnp.where(mask, 1.0, rho)
        theta, sine, inv_sine = arc_cosine(rho)
        # sqrt(k11 k22) sin(theta); where a variance is 0, rho = 1 makes sin(theta) 0
        return theta, (k11 * inv_root1) * (k22 * inv_root2) * sine, inv_sine * scale

    def forward(k12, k11, k22, ntk, mask):
        theta, sine, _ = angle(k12, k11, k22, mask)
        derivative_product = a * b + c * (math.pi - theta) / two_pi
        nngp = a * b * k12 + c * (sine + (math.pi - theta) * k12) / two_pi
        return nngp, ntk * derivative_product

    def backward(residuals, cotangents):
        k12, k11, k22, ntk, mask = residuals
        g_nngp, g_ntk = cotangents
        theta, sine, inv_sine = angle(k12, k11, k22, mask)
        derivative_product = a * b + c * (math.pi - theta) / two_pi
        g_theta_part = g_ntk * ntk * c * inv_sine / (2 * two_pi)  # times -k12 / k_ii below
        g_sine_part = g_nngp * c * sine / (2 * two_pi)  # times 1 / k_ii below
        g_k12 = g_nngp * derivative_product + 2 * g_theta_part
        per_variance = g_sine_part - g_theta_part * k12
        return (
            g_k12,
            _unbroadcast(per_variance, k11.shape) * _reciprocal(k11),
            _unbroadcast(per_variance, k22.shape) * _reciprocal(k22),
            g_ntk * derivative_product,
        )

    if masked:

        @jax.custom_vjp
        def masked_pair(k12, k11, k22, ntk, mask):
            return forward(k12, k11, k22, ntk, mask)

        def masked_pair_fwd(k12, k11, k22, ntk, mask):
            return forward(k12, k11, k22, ntk, mask), (k12, k11, k22, ntk, mask)

        masked_pair.defvjp(masked_pair_fwd, lambda res, g: (*backward(res, g), None))
        return masked_pair

    @jax.custom_vjp
    def pair(k12, k11, k22, ntk):
        return forward(k12, k11, k22, ntk, None)

    def pair_fwd(k12, k11, k22, ntk):
        return forward(k12, k11, k22, ntk, None), (k12, k11, k22, ntk, None)

    pair.defvjp(pair_fwd, backward)
    return pair


def _ab_relu(a: float, b: float):
    """``phi(x) = a * min(x, 0) + b * max(x, 0)``."""
    pair_masked = _ab_relu_pair_fn(a, b, masked=True)
    pair_plain = _ab_relu_pair_fn(a, b, masked=False)

    def pair_update(k12, k11, k22, ntk, diagonal_mask):
        if diagonal_mask is None:
            return pair_plain(k12, k11, k22, ntk)
        return pair_masked(k12, k11, k22, ntk, diagonal_mask)

    def var_fn(var):
        return var * (a * a + b * b) / 2

    def fn(x):
        return jnp.where(x > 0, b * x, a * x)

    return _elementwise(fn, pair_update, var_fn)


def Relu():
    """``max(x, 0)``."""
    return _ab_relu(0.0, 1.0)


def LeakyRelu(alpha: float):
    """``alpha * min(x, 0) + max(x, 0)``."""
    return _ab_relu(float(alpha), 1.0)


def ABRelu(a: float, b: float):
    """``a * min(x, 0) + b * max(x, 0)``."""
    return _ab_relu(float(a), float(b))


def Erf(a: float = 1.0, b: float = 1.0, c: float = 0.0):
    """``a * erf(b * x) + c``."""
    scale = 2 * a * a / math.pi
    two_b2 = 2 * b * b

    def pair_update(k12, k11, k22, ntk, diagonal_mask):
        p1 = 1 + two_b2 * k11
        p2 = 1 + two_b2 * k22
        nngp = scale * jnp.arcsin(two_b2 * k12 * lax.rsqrt(p1 * p2)) + c * c
        derivative_product = (4 * a * a * b * b / math.pi) * lax.rsqrt(p1 * p2 - (two_b2 * k12) ** 2)
        return nngp, ntk * derivative_product

    def var_fn(var):
        return scale * jnp.arcsin(two_b2 * var / (1 + two_b2 * var)) + c * c

    def fn(x):
        return a * jax.scipy.special.erf(b * x) + c

    return _elementwise(fn, pair_update, var_fn)


# ---------------------------------------------------------------------------------------------
# Shape layers


def Flatten():
    """Flatten all non-batch axes; in kernel space, the mean over spatial positions."""

    def init_fn(key, input_shape):
        return (input_shape[0], math.prod(input_shape[1:])), ()

    def apply_fn(params, x, **kwargs):
        return x.reshape(x.shape[0], -1)

    def update(k: Kernel) -> Kernel:
        k = _materialise(k)
        if k.cov.ndim == 2:
            return k

        def mean_pair(a):  # (*spatial, n1, n2) -> (n1, n2)
            return None if a is None else jnp.mean(a, axis=tuple(range(a.ndim - 2)))

        def mean_single(a):  # (*spatial, n) -> (n,)
            return None if a is None else jnp.mean(a, axis=tuple(range(a.ndim - 1)))

        return k._replace(
            nngp=mean_pair(k.nngp),
            ntk=mean_pair(k.ntk),
            var1=mean_single(k.var1),
            var2=mean_single(k.var2),
        )

    return _layer(init_fn, apply_fn, update)


def GlobalAvgPool():
    """Mean over spatial positions. Finite networks only: see the module docstring."""

    def init_fn(key, input_shape):
        return (input_shape[0], input_shape[-1]), ()

    def apply_fn(params, x, **kwargs):
        return jnp.mean(x, axis=tuple(range(1, x.ndim - 1)))

    def update(k: Kernel) -> Kernel:
        raise AugmentError(
            "GlobalAvgPool has no kernel here: it needs the full (H*W)^2 spatial covariance, "
            "which is not affordable; use Flatten() instead"
        )

    return _layer(init_fn, apply_fn, update)


# ---------------------------------------------------------------------------------------------
# Finite-width only: layers for generator networks (their kernels are not needed)


def _finite_only(name: str) -> KernelUpdate:
    def update(k: Kernel) -> Kernel:
        raise AugmentError(f"{name} is for finite networks (generators) only; it has no kernel here")

    return update


def Reshape(shape: Sequence[int]):
    """Reshape the non-batch axes to ``shape`` (for example a Dense output to (h, w, c))."""
    shape = tuple(int(d) for d in shape)

    def init_fn(key, input_shape):
        if math.prod(input_shape[1:]) != math.prod(shape):
            raise AugmentError(f"cannot reshape {tuple(input_shape[1:])} to {shape}")
        return (input_shape[0], *shape), ()

    def apply_fn(params, x, **kwargs):
        return x.reshape(x.shape[0], *shape)

    return _layer(init_fn, apply_fn, _finite_only("Reshape"))


def Upsample(factor: int = 2):
    """Nearest-neighbour upsampling of (n, H, W, C) by ``factor`` along H and W."""

    def init_fn(key, input_shape):
        n, h, w, c = input_shape
        return (n, h * factor, w * factor, c), ()

    def apply_fn(params, x, **kwargs):
        return jnp.repeat(jnp.repeat(x, factor, axis=1), factor, axis=2)

    return _layer(init_fn, apply_fn, _finite_only("Upsample"))


# (phase, row of a 2x2 window, tap of the 3-tap filter): after nearest upsampling by 2, output row
# 2i (phase 0) sees input rows (i-1, i, i) through the taps (0, 1, 2), and output row 2i+1 (phase 1)
# rows (i, i, i+1). Each phase sees two input rows: a 2x2 window of the input padded by one, whose
# window j covers input rows (j-1, j). Phase 0 of row i is window i, with the taps (0 | 1+2); phase 1
# is window i+1, with (0+1 | 2). Listed phase 1 first, so that window j's two outputs are output
# rows 2j-1 and 2j (see UpsampleConv); the same holds along columns.
_WINDOW_TAPS = np.array([[[1, 1, 0], [0, 0, 1]], [[1, 0, 0], [0, 1, 1]]], np.float32)


def UpsampleConv(out_chan: int, W_std: float = 1.0, b_std: float | None = None):
    """``serial(Upsample(2), Conv(out_chan, (3, 3), padding="SAME", W_std, b_std))``, the same
    function and parameters (HWIO weights (3, 3, C, out_chan), bias), computed at the input's
    resolution without building the (n, 2H, 2W, C) upsampled array.

    Each output pixel of a 2x2 block sees a 2x2 window of the input, so the four are one 2x2
    convolution of the (n, H, W, C) input padded by one, with 4 * out_chan outputs whose weights
    are sums of the original taps: (n, H+1, W+1, 2, 2, out_chan), window (j, k) holding output
    pixels (2j-1 .. 2j, 2k-1 .. 2k). Laid out as (n, 2H+2, 2W+2, out_chan) the output is its
    centre. That is 16 (H+1)(W+1) C multiply-adds per output channel instead of 36 H W C; on a CPU
    the generator network ran faster at ``sample``'s batch sizes than with the 3x3 form it
    replaced (``benchmarks/RESULTS.md``). The input is padded before the convolution, not by it:
    XLA's CPU convolution computed the weight gradient of a padded 2x2 convolution far slower."""

    def init_fn(key, input_shape):
        n, h, w, c = input_shape
        w_key, b_key = jax.random.split(key)
        weights = jax.random.normal(w_key, (3, 3, c, out_chan))
        bias = None if b_std is None else jax.random.normal(b_key, (out_chan,))
        return (n, 2 * h, 2 * w, out_chan), (weights, bias)

    def apply_fn(params, x, **kwargs):
        weights, bias = params
        n, h, w, c = x.shape
        taps = jnp.asarray(_WINDOW_TAPS, weights.dtype)
        # (2, 2, C, 2, 2, out): window row p, window column q, for output phase (a, b)
        windows = jnp.einsum("api,bqj,ijco->pqcabo", taps, taps, weights, precision=_HIGHEST)
        padded = jnp.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
        out = _conv_stride_one(padded, windows.reshape(2, 2, c, 4 * out_chan), ((0, 0), (0, 0)))
        out = out.reshape(n, h + 1, w + 1, 2, 2, out_chan).transpose(0, 1, 3, 2, 4, 5)
        out = out.reshape(n, 2 * h + 2, 2 * w + 2, out_chan)[:, 1 : 2 * h + 1, 1 : 2 * w + 1]
        out = out * (W_std / math.sqrt(9 * c))
        return out if bias is None else out + b_std * bias

    return _layer(init_fn, apply_fn, _finite_only("UpsampleConv"))


def CenterCrop(size: int):
    """Crop (n, H, W, C) to the central (size, size) square."""

    def init_fn(key, input_shape):
        n, h, w, c = input_shape
        if size > min(h, w):
            raise AugmentError(f"cannot crop {h}x{w} to {size}x{size}")
        return (n, size, size, c), ()

    def apply_fn(params, x, **kwargs):
        top, left = (x.shape[1] - size) // 2, (x.shape[2] - size) // 2
        return x[:, top : top + size, left : left + size]

    return _layer(init_fn, apply_fn, _finite_only("CenterCrop"))


def Sigmoid():
    """Elementwise logistic function, mapping to (0, 1): the output layer of an image generator."""

    def init_fn(key, input_shape):
        return tuple(input_shape), ()

    def apply_fn(params, x, **kwargs):
        return jax.nn.sigmoid(x)

    return _layer(init_fn, apply_fn, _finite_only("Sigmoid"))
