"""Discriminator architectures, composed from :mod:`augment.ntk.stax` layers.

The two published GA-NTK discriminators (docs/design.md, "The method") are instances of one family:
strided 4x4 SAME convolutions with ReLU, Flatten, optional hidden dense layers with ReLU, then one
output unit; weight variance ``W_std**2 = 1.4615`` and bias variance ``b_std**2 = 0.1``. In kernel
space the widths do not change the kernel (only the depth, windows and variances do); they are
kept for the finite network that ``init_fn``/``apply_fn`` build.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

from augment.errors import AugmentError
from augment.ntk import stax
from augment.registry import Registry

W_STD = math.sqrt(1.4615)
B_STD = math.sqrt(0.1)


@dataclass(frozen=True)
class ConvDiscriminator:
    """Strided-convolution discriminator.

    Attributes:
      conv_channels: output channels of each 4x4, stride-2, SAME convolution.
      dense_widths: widths of the hidden dense layers after Flatten.
      description: one line for ``--help`` and provenance.
    """

    conv_channels: tuple[int, ...]
    dense_widths: tuple[int, ...]
    description: str

    @property
    def min_size(self) -> int:
        """Smallest square working size: every stride-2 convolution must leave at least 2x2."""
        return 2 ** (len(self.conv_channels) + 1)

    def layers(self, w_std: float = W_STD, b_std: float = B_STD):
        convs = [
            layer
            for channels in self.conv_channels
            for layer in (stax.Conv(channels, (4, 4), (2, 2), "SAME", w_std, b_std), stax.Relu())
        ]
        dense = [
            layer for width in self.dense_widths for layer in (stax.Dense(width, w_std, b_std), stax.Relu())
        ]
        return stax.serial(*convs, stax.Flatten(), *dense, stax.Dense(1, w_std, b_std))


ARCHITECTURES: Registry[ConvDiscriminator] = Registry("discriminator architecture", parameter="architecture")
ARCHITECTURES.register(
    "paper-gray",
    ConvDiscriminator((64, 128), (1024,), "GA-NTK's 28x28 grayscale discriminator: Conv 64/128, Dense 1024"),
)
ARCHITECTURES.register(
    "paper-rgb", ConvDiscriminator((64, 128, 256), (), "GA-NTK's 32x32 RGB discriminator: Conv 64/128/256")
)


def discriminator(name: str, image_size: int, precision: str = "float32"):
    """``(init_fn, apply_fn, kernel_fn)`` of a named architecture, checked against the size.

    Args:
      name: a key of :data:`ARCHITECTURES`.
      image_size: the square working size (pixels on a side).
      precision: the matmul precision of ``kernel_fn`` (see :mod:`augment.ntk.stax`).
    """
    architecture = ARCHITECTURES[name]
    if image_size < architecture.min_size:
        raise AugmentError(
            f"working size {image_size} is too small for the {name} discriminator "
            f"(needs at least {architecture.min_size}x{architecture.min_size}); "
            f"pass `size={architecture.min_size}` or larger"
        )
    init_fn, apply_fn, kernel_fn = architecture.layers()
    if precision == "float32":
        return init_fn, apply_fn, kernel_fn
    return init_fn, apply_fn, functools.partial(kernel_fn, precision=precision)
