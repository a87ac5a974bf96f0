"""Discriminator architectures, composed from :mod:`augment.ntk.stax` layers.

The two published GA-NTK discriminators (docs/design.md, "The method") are instances of one family:
strided 4x4 SAME convolutions with ReLU, Flatten, optional hidden dense layers with ReLU, then one
output unit; weight variance ``W_std**2 = 1.4615`` and bias variance ``b_std**2 = 0.1``. In kernel
space the widths do not change the kernel (only the depth, windows and variances do); they are
kept for the finite network that ``init_fn``/``apply_fn`` build.

The *strided* members of the family grow with the working size: one more stride-2 convolution per
doubling, so the last feature map stays about 4x4 whatever the size (at 64x64: four convolutions,
at 128x128: five). A fixed-depth discriminator at 128x128 would end on a 32x32 map and average the
kernel over 1024 positions, where the anatomy's large-scale layout no longer counts. ``auto`` (the
default) picks the published ``paper-gray`` up to 32x32, as augment always has, and the strided
family above (:func:`resolve`).
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
    grows: bool = False

    @property
    def min_size(self) -> int:
        """Smallest square working size: every stride-2 convolution must leave at least 2x2."""
        return 2 ** (len(self.conv_channels) + 1)

    def convolutions(self, image_size: int) -> tuple[int, ...]:
        """Output channels of each convolution at ``image_size``: ``conv_channels``, and for a
        growing discriminator one more (of the last width) per doubling while the last map would
        be larger than 4x4."""
        if not self.grows:
            return self.conv_channels
        needed = max(len(self.conv_channels), math.ceil(math.log2(max(image_size, 1) / 4)))
        return self.conv_channels + (self.conv_channels[-1],) * (needed - len(self.conv_channels))

    def layers(self, image_size: int, w_std: float = W_STD, b_std: float = B_STD):
        """``(init_fn, apply_fn, kernel_fn)`` of the network at ``image_size``."""
        convs = [
            layer
            for channels in self.convolutions(image_size)
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
ARCHITECTURES.register(
    "strided-gray",
    ConvDiscriminator(
        (64, 128), (1024,), "paper-gray grown by one Conv per doubling to a last map of about 4x4", grows=True
    ),
)
ARCHITECTURES.register(
    "strided-rgb",
    ConvDiscriminator(
        (64, 128, 256), (), "paper-rgb grown by one Conv per doubling to a last map of about 4x4", grows=True
    ),
)

AUTO = "auto"
AUTO_FIXED_UP_TO = 32  # auto: the published paper-gray up to this working size, the strided family above


def resolve(name: str, image_size: int, channels: int) -> str:
    """The registered architecture that ``name`` stands for at this working size: itself, or for
    ``auto``, ``paper-gray`` up to 32x32 and ``strided-gray`` / ``strided-rgb`` above."""
    if name != AUTO:
        ARCHITECTURES[name]  # an unknown name is a clear error
        return name
    if image_size <= AUTO_FIXED_UP_TO:
        return "paper-gray"
    return "strided-rgb" if channels == 3 else "strided-gray"


def min_size(name: str) -> int:
    """The smallest working size ``name`` takes (for ``auto``: that of its choice at small sizes)."""
    return ARCHITECTURES[resolve(name, 1, 1)].min_size


def discriminator(name: str, image_size: int, precision: str = "float32", channels: int = 1):
    """``(init_fn, apply_fn, kernel_fn)`` of a named architecture, checked against the size.

    Args:
      name: a key of :data:`ARCHITECTURES`, or ``auto`` (:func:`resolve`).
      image_size: the square working size (pixels on a side).
      precision: the matmul precision of ``kernel_fn`` (see :mod:`augment.ntk.stax`).
      channels: the images' channels (``auto`` tells grey from colour by them).
    """
    name = resolve(name, image_size, channels)
    architecture = ARCHITECTURES[name]
    if image_size < architecture.min_size:
        raise AugmentError(
            f"working size {image_size} is too small for the {name} discriminator "
            f"(needs at least {architecture.min_size}x{architecture.min_size}); "
            f"pass `size={architecture.min_size}` or larger"
        )
    init_fn, apply_fn, kernel_fn = architecture.layers(image_size)
    if precision == "float32":
        return init_fn, apply_fn, kernel_fn
    return init_fn, apply_fn, functools.partial(kernel_fn, precision=precision)
