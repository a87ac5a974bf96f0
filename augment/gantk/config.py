"""The discriminator's settings, shared by every synthesis mode: written and checked once.

Each mode's configuration (:class:`~augment.gantk.direct.config.SynthesisConfig`,
:class:`~augment.gantk.generator.GeneratorConfig`) holds one :class:`DiscriminatorConfig` as its
``discriminator`` field. Provenance and checkpoints record a mode's configuration as one flat
dictionary (:func:`flat_dict`), the discriminator's fields beside the mode's own, as the output
format has always stored them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import jax
import jax.numpy as jnp

from augment import parameters
from augment.errors import AugmentError, one_of
from augment.gantk import architectures
from augment.gantk.architectures import ARCHITECTURES, AUTO, discriminator
from augment.gantk.discriminator import ga_ntk_loss
from augment.gantk.losses import LOSSES
from augment.ntk.stax import MATMUL_PRECISIONS, PRECISION_NAMES

Array = jax.Array


def check(conditions: list[tuple[bool, str]]) -> None:
    """Raise the message of the first condition that does not hold."""
    for ok, message in conditions:
        if not ok:
            raise AugmentError(message)


@dataclass(frozen=True)
class DiscriminatorConfig:
    """The NTK-GP discriminator and its closed-form training (docs/design.md, "The method").

    Defaults are the published GA-NTK settings for direct synthesis; generator mode uses the
    published ``diag_reg=1e-4`` (see :class:`~augment.gantk.generator.GeneratorConfig`).

    Attributes:
      architecture: a name in :data:`~augment.gantk.architectures.ARCHITECTURES`, or ``auto``:
        the published ``paper-gray`` up to 32x32, above it the strided family that grows with
        the size (:func:`~augment.gantk.architectures.resolve`).
      loss: a name in :data:`~augment.gantk.losses.LOSSES`.
      similarity_weight: the weight of the similarity term of the "similarity" loss.
      eta, t: learning rate and training time of the closed-form discriminator.
      diag_reg: diagonal regulariser, relative to the mean of the Gram matrix's diagonal.
      real_batch_size: real images per step (the whole real set when it is smaller).
      matmul_precision: "float32", or on a GPU "tensorfloat32" / "bfloat16" (docs/usage.md).
      detail_weight: the weight of a second kernel on the images' fine detail (0: none):
        ``K(x, y) + detail_weight * K(detail(x), detail(y))``, :func:`with_detail`.
    """

    architecture: str = AUTO
    loss: str = "origin"
    similarity_weight: float = 0.1
    eta: float = 1e-2
    t: float = 65536.0 * 2
    diag_reg: float = 1e-5
    real_batch_size: int = parameters.REAL_BATCH[parameters.DIRECT]
    matmul_precision: str = parameters.MATMUL_PRECISION
    detail_weight: float = 0.0

    def __post_init__(self) -> None:
        check(
            [
                (
                    self.matmul_precision in PRECISION_NAMES,
                    f"`matmul_precision` must be {one_of(MATMUL_PRECISIONS)}, got {self.matmul_precision!r}",
                ),
                (
                    self.architecture == AUTO or self.architecture in ARCHITECTURES,
                    f"`architecture` must be {one_of([AUTO, *ARCHITECTURES])}, got {self.architecture!r}",
                ),
                (self.loss in LOSSES, f"`loss` must be {one_of(LOSSES)}, got {self.loss!r}"),
                (
                    self.real_batch_size >= 1,
                    f"`real_batch_size` must be at least 1, got {self.real_batch_size}",
                ),
                (self.eta > 0 and self.t > 0, "`eta` and `t` must be positive"),
                (self.diag_reg >= 0, "`diag_reg` must not be negative"),
                (self.detail_weight >= 0, "`detail_weight` must not be negative"),
            ]
        )

    @property
    def min_size(self) -> int:
        """The smallest working size the architecture takes."""
        return architectures.min_size(self.architecture)

    def resolved(self, image_size: int, channels: int) -> str:
        """The registered architecture used at this working size (``auto`` resolved)."""
        return architectures.resolve(self.architecture, image_size, channels)

    def kernel_fn(self, image_size: int, channels: int = 1) -> Callable[..., Array]:
        """The architecture's NTK ``kernel_fn`` at this size and matmul precision (with the detail
        kernel added when ``detail_weight`` is positive)."""
        kernel_fn = discriminator(self.architecture, image_size, self.matmul_precision, channels)[2]
        return kernel_fn if self.detail_weight == 0 else with_detail(kernel_fn, self.detail_weight)

    def loss_fn(
        self, kernel_fn: Callable[..., Array]
    ) -> Callable[[Array, Array, Array], tuple[Array, Array]]:
        """``loss_fn(synthetic, real, k_real_real) -> (loss, (n_s,) realness)``: the GA-NTK
        objective with these settings (:func:`~augment.gantk.discriminator.ga_ntk_loss`)."""

        def loss_fn(synthetic: Array, real: Array, k_real_real: Array) -> tuple[Array, Array]:
            return ga_ntk_loss(
                kernel_fn,
                synthetic,
                real,
                k_real_real,
                loss=self.loss,
                eta=self.eta,
                t=self.t,
                diag_reg=self.diag_reg,
                similarity_weight=self.similarity_weight,
            )

        return loss_fn


DETAIL_GAIN = 4.0  # detail(x) = DETAIL_GAIN * (x - blur(x)): its power near that of the image


def detail(images: jax.Array) -> jax.Array:
    """(n, H, W, C) -> (n, H, W, C): the images less a 3x3 binomial blur of them (edges
    repeated), times :data:`DETAIL_GAIN`: the fine detail, about the top half of the spectrum."""
    padded = jnp.pad(images, ((0, 0), (1, 1), (1, 1), (0, 0)), mode="edge")
    rows = (padded[:, :-2] + 2 * padded[:, 1:-1] + padded[:, 2:]) / 4
    blurred = (rows[:, :, :-2] + 2 * rows[:, :, 1:-1] + rows[:, :, 2:]) / 4
    return DETAIL_GAIN * (images - blurred)


def with_detail(kernel_fn: Callable[..., jax.Array], weight: float) -> Callable[..., jax.Array]:
    """``kernel_fn`` plus ``weight`` times the same kernel on the images' :func:`detail`: the sum
    of two kernels is one (symmetric, positive semi-definite), whose second part sees what the
    network's kernel weighs little, the fine texture that sets scans apart from smooth copies."""

    def detailed(x1, x2=None, get=None, **kwargs):
        fine = kernel_fn(detail(x1), None if x2 is None else detail(x2), get, **kwargs)
        return kernel_fn(x1, x2, get, **kwargs) + weight * fine

    return detailed


DISCRIMINATOR_FIELDS = tuple(f.name for f in dataclasses.fields(DiscriminatorConfig))

ModeConfig = TypeVar("ModeConfig")


def flat_dict(config: Any) -> dict[str, Any]:
    """A mode configuration as one flat dictionary: the discriminator's fields beside its own."""
    record = {
        f.name: getattr(config, f.name) for f in dataclasses.fields(config) if f.name != "discriminator"
    }
    return {**dataclasses.asdict(config.discriminator), **record}


def from_flat_dict(config_type: type[ModeConfig], record: dict[str, Any]) -> ModeConfig:
    """The inverse of :func:`flat_dict`; unknown keys are left out (a newer minor version's)."""
    own = {f.name for f in dataclasses.fields(config_type)}  # type: ignore[arg-type]
    discriminator_record = {k: v for k, v in record.items() if k in DISCRIMINATOR_FIELDS}
    default = config_type().discriminator  # type: ignore[attr-defined]
    mine = {k: v for k, v in record.items() if k in own and k != "discriminator"}
    return config_type(discriminator=dataclasses.replace(default, **discriminator_record), **mine)  # type: ignore[call-arg]


class FlatRecord:
    """Mixin for a mode's configuration dataclass (a ``discriminator`` field beside its own): its
    record in provenance, checkpoints and saved generators is one flat dictionary."""

    def to_dict(self) -> dict[str, Any]:
        """Flat: the discriminator's fields beside the mode's own (as provenance records them)."""
        return flat_dict(self)

    @classmethod
    def from_dict(cls: type[ModeConfig], record: dict[str, Any]) -> ModeConfig:
        """The configuration a flat record describes (keys it does not know are left out)."""
        return from_flat_dict(cls, record)
