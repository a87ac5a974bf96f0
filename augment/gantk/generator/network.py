"""The generator network of generator mode, composed from :mod:`augment.ntk.stax` layers and
sized from the working resolution, and how one for a size grows into one for twice the size.

``Dense -> Reshape(s0, s0, w) -> [UpsampleConv 3x3 -> ReLU] x k -> Conv 3x3 -> Sigmoid``
(``UpsampleConv``: a nearest upsampling by 2 and a 3x3 convolution, computed as one layer at the
lower resolution; then a centre crop when ``s0 * 2**k`` overshoots the size), with ``k =
floor(log2(size / 4))`` doublings and widths halving from ``base_channels`` (at least 32).
"""

from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np

from augment.errors import AugmentError
from augment.ntk import stax

RELU_STD = math.sqrt(2.0)  # the weight scale of the layers before a ReLU (Dense, UpsampleConv)


def _plan(size: int, base_channels: int) -> tuple[int, list[int]]:
    """``(start, widths)``: the generator's first map is ``start x start``, and each doubling after
    it has the next of ``widths`` channels (halving from ``base_channels``, at least 32)."""
    doublings = max(0, math.floor(math.log2(size / 4))) if size >= 4 else 0
    widths = [max(32, base_channels // 2 ** (i + 1)) for i in range(doublings)]
    return math.ceil(size / 2**doublings), widths


def generator_network(size: int, channels: int, base_channels: int = 128) -> tuple[stax.InitFn, stax.ApplyFn]:
    """``(init_fn, apply_fn)`` of the generator for ``size x size x channels`` images in (0, 1).

    ``apply_fn(params, z)`` maps (n, z_dim) noise to (n, size, size, channels) images; the noise
    dimension is set by ``init_fn(key, (-1, z_dim))``.
    """
    if size < 1 or channels not in (1, 3):
        raise AugmentError(f"a generator needs a positive size and 1 or 3 channels, got {size}, {channels}")
    start, widths = _plan(size, base_channels)
    layers = [
        stax.Dense(start * start * base_channels, W_std=RELU_STD, b_std=1.0),
        stax.Relu(),
        stax.Reshape((start, start, base_channels)),
    ]
    for width in widths:
        layers += [stax.UpsampleConv(width, W_std=RELU_STD, b_std=1.0), stax.Relu()]
    layers += [stax.Conv(channels, (3, 3), padding="SAME", W_std=1.0, b_std=1.0), stax.Sigmoid()]
    if start * 2 ** len(widths) != size:
        layers.append(stax.CenterCrop(size))
    init_fn, apply_fn, _ = stax.serial(*layers)
    return init_fn, apply_fn


SAMPLING_BATCH_BYTES = 16 * 2**20
"""``sample``'s default batch keeps the network's largest activation within about this many bytes,
so that a batch fits the processor's caches (benchmarks/RESULTS.md, generator mode's speed)."""


def sampling_batch(size: int, channels: int, base_channels: int = 128, platform: str = "cpu") -> int:
    """Rows per batch for :func:`sample`: on a CPU, the largest power of two from 8 to 1 024 whose
    largest activation (float32: the largest array one image makes in the network, times the rows)
    is at most :data:`SAMPLING_BATCH_BYTES`; on an accelerator (``platform`` "gpu", "tpu", ...),
    1 024, whose batches keep it busy."""
    if platform != "cpu":
        return 1024
    start, widths = _plan(size, base_channels)
    side, largest = start, start * start * base_channels
    for width in widths:
        side *= 2  # UpsampleConv's output, and the (side + 2)^2 array it is the centre of
        largest = max(largest, (side + 2) ** 2 * width)
    rows = SAMPLING_BATCH_BYTES // (4 * max(largest, side * side * channels))
    return int(min(1024, max(8, 2 ** math.floor(math.log2(max(rows, 1))))))


def grows_into(coarse: int, fine: int, base_channels: int) -> bool:
    """Whether the generator for ``fine`` is the one for ``coarse`` with one more UpsampleConv
    of the coarse network's last width."""
    coarse_start, coarse_widths = _plan(coarse, base_channels)
    fine_start, fine_widths = _plan(fine, base_channels)
    return (
        coarse_start == fine_start
        and bool(coarse_widths)
        and fine_widths == [*coarse_widths, coarse_widths[-1]]
    )


def grown_parameters(params: tuple, coarse: int, fine: int, base_channels: int) -> tuple:
    """The parameters of the generator for ``fine`` pixels made from those for ``coarse`` (a level
    below, :func:`generator_schedule`): every layer keeps its parameters, and the new
    UpsampleConv before the output layer starts as the identity (its centre tap the identity
    matrix, the other taps and the bias 0), so the grown network at first computes the coarse
    network's features upsampled by 2 (nearest) and applies the same output convolution to them.

    ``generator_network``'s layers are Dense, Relu, Reshape, then (UpsampleConv, Relu) per
    doubling, then Conv, Sigmoid and an optional CenterCrop (parameterless)."""
    if not grows_into(coarse, fine, base_channels):
        raise AugmentError(f"a generator for {coarse} pixels does not grow into one for {fine}")
    doublings = len(_plan(coarse, base_channels)[1])
    body = 3 + 2 * doublings  # Dense, Relu, Reshape and the coarse network's doublings
    weights, _ = params[body - 2]  # the last UpsampleConv: (3, 3, C_in, C)
    width = weights.shape[-1]
    centre = np.zeros((3, 3, width, width), np.float32)
    centre[1, 1] = np.eye(width, dtype=np.float32) * math.sqrt(9 * width) / RELU_STD
    identity = (jnp.asarray(centre), jnp.zeros((width,), jnp.float32))
    output_conv, sigmoid = params[body], params[body + 1]
    crop = () if _plan(fine, base_channels)[0] * 2 ** (doublings + 1) == fine else ((),)
    return (*params[:body], identity, (), output_conv, sigmoid, *crop)
