"""Generator mode's settings: :class:`GeneratorConfig`, its learning-rate schedules and its
discriminator. Settings follow the published GA-NTKg code (Adam with beta1 0.5, global-norm
clipping, a cosine learning-rate schedule), with the departures and their reasons in
docs/design.md ("The method", "Sharp scans"); those that depend on the working size are
``GeneratorConfig.SIZE_DEFAULTS``, each with its reason."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import jax
import jax.numpy as jnp
import optax

from augment.errors import AugmentError
from augment.gantk.augmentation import POSE_ROTATION, POSE_SHIFT
from augment.gantk.config import DiscriminatorConfig, FlatRecord, check
from augment.gantk.resolution import SizeDefault
from augment.parameters import (
    DIRECT_BATCH,
    GENERATOR,
    GENERATOR_BATCH,
    GENERATOR_STEPS,
    POLISH_STEPS,
    REAL_BATCH,
    SCAN_GENERATOR_BATCH,
    SCAN_GENERATOR_STEPS,
)

Array = jax.Array


def _constant(learning_rate: float, steps: int | Array) -> optax.ScalarOrSchedule:
    return learning_rate


def _cosine(learning_rate: float, steps: int | Array) -> optax.ScalarOrSchedule:
    """``learning_rate`` at step 0, falling along half a cosine to 0 at ``steps`` (the same values
    as ``optax.cosine_decay_schedule(learning_rate, steps)``, with ``steps`` allowed to be traced,
    so one compiled chunk serves every length of training)."""

    def schedule(count: Array) -> Array:
        total = jnp.asarray(steps, jnp.float32)
        done = jnp.minimum(jnp.asarray(count, jnp.float32), total)
        return learning_rate * (0.5 * (1 + jnp.cos(jnp.pi * done / total)))

    return schedule


LEARNING_RATE_SCHEDULES: dict[str, Callable[[float, int | Array], optax.ScalarOrSchedule]] = {
    "constant": _constant,
    "cosine": _cosine,
}
"""``schedule(learning_rate, steps)``: the learning rate, or a function of Adam's step count, for a
training of ``steps`` steps. One entry here adds a schedule (``learning_rate_schedule``)."""


GENERATOR_REAL_BATCH = REAL_BATCH[GENERATOR]
"""Real images the discriminator sees per generator step, drawn at random from its real side: as
good on the digits protocol as the whole augmented set of 200, and faster (docs/design.md)."""


def _generator_discriminator() -> DiscriminatorConfig:
    """The published GA-NTKg discriminator (diag_reg 1e-4; direct mode's is 1e-5), on a random
    real batch of :data:`GENERATOR_REAL_BATCH` per step."""
    return DiscriminatorConfig(diag_reg=1e-4, real_batch_size=GENERATOR_REAL_BATCH)


@dataclass(frozen=True)
class GeneratorConfig(FlatRecord):
    """Everything that decides what generator training computes (recorded in provenance).

    ``steps`` and ``batch_size`` left at None are resolved by the working size
    (:data:`SIZE_DEFAULTS`, :func:`~augment.gantk.resolution.resolve`): 1000 steps of 64
    samples up to 16 pixels, 4000 of 16 above.
    ``chunk_steps`` only sets how many steps run in one compiled loop, and so how often progress
    is reported and a checkpoint may be written; it does not change the result.
    With ``augment_real_to > 0`` the discriminator's real side is an augmented real set of that
    many random small rotations and shifts of the class's images, as in direct mode
    (:func:`~augment.gantk.augmentation.discriminator_real_set`); left at None it is resolved by
    the working size (:func:`~augment.gantk.resolution.resolve`): 200 up to 16 pixels,
    the real images themselves above.
    ``polish_steps`` does not change training: it is how many direct-mode steps each sample takes
    against the class's real images before ``augment synth`` writes it, in problems of
    ``polish_batch_size`` samples (:mod:`augment.gantk.modes.polish`); left at None, 50 up to 16
    pixels (where it was measured) and 0 above. Samples drawn without the real data (``augment
    sample``) are not polished.
    """

    SIZE_DEFAULTS: ClassVar[dict[str, SizeDefault]] = {
        "steps": SizeDefault(
            GENERATOR_STEPS,
            SCAN_GENERATOR_STEPS,
            "training steps of the published settings' length",
            "more steps of smaller batches: together they take less time at these sizes than the small "
            "sizes' steps and batches would, for images as hard to tell from real ones",
        ),
        "batch_size": SizeDefault(
            GENERATOR_BATCH,
            SCAN_GENERATOR_BATCH,
            "samples per training step",
            "smaller batches, for more steps in the same time",
        ),
        "polish_steps": SizeDefault(
            POLISH_STEPS,
            0,
            "each sample takes direct-mode steps against its class's real images before it is written",
            "samples are written as drawn: the polish was measured at small sizes only",
        ),
    }

    discriminator: DiscriminatorConfig = dataclasses.field(default_factory=_generator_discriminator)
    z_dim: int = 64
    base_channels: int = 128
    batch_size: int | None = None  # None: by working size (SIZE_DEFAULTS, resolution.resolve)
    steps: int | None = None  # None: by working size (SIZE_DEFAULTS, resolution.resolve)
    learning_rate: float = 2e-3
    learning_rate_schedule: str = "cosine"
    beta1: float = 0.5
    clip_norm: float = 5.0
    chunk_steps: int = 25
    augment_real_to: int | None = None  # None: AUGMENT_REAL_TO up to SCAN_SIZE, 0 above (resolution)
    augment_rotation: float = POSE_ROTATION
    augment_shift: float = POSE_SHIFT
    coarse_size: int = 0  # 0: one level; else trains at this size first (docs/design.md, "Sharp scans")
    refine_steps: int = 200
    polish_steps: int | None = None  # direct-mode steps per sample synth writes; None: by size
    polish_batch_size: int = DIRECT_BATCH  # samples per polish problem; the memory plan may lower it

    def __post_init__(self) -> None:
        check(
            [
                (
                    self.coarse_size >= 0 and self.refine_steps >= 1 and (self.polish_steps or 0) >= 0,
                    "`coarse_size` and `polish_steps` must not be negative and `refine_steps` must be "
                    "at least 1",
                ),
                (
                    min(
                        self.z_dim,
                        self.base_channels,
                        self.batch_size or 1,
                        self.steps or 1,
                        self.chunk_steps,
                        self.polish_batch_size,
                    )
                    >= 1,
                    "`z_dim`, `base_channels`, `batch_size`, `steps`, `chunk_steps` and `polish_batch_size` "
                    "must be at least 1",
                ),
                (
                    self.learning_rate > 0 and self.clip_norm > 0,
                    "`learning_rate` and `clip_norm` must be positive",
                ),
                (
                    self.learning_rate_schedule in LEARNING_RATE_SCHEDULES,
                    f"`learning_rate_schedule` must be one of {', '.join(LEARNING_RATE_SCHEDULES)}, "
                    f"got {self.learning_rate_schedule!r}",
                ),
                (
                    (self.augment_real_to is None or self.augment_real_to >= 0)
                    and self.augment_rotation >= 0
                    and self.augment_shift >= 0,
                    "the real-set augmentation's size, rotation and shift (`augment_real_to`, "
                    "`augment_rotation`, `augment_shift`) must not be negative",
                ),
            ]
        )


def sized(value: int | None, name: str) -> int:
    """A size-dependent field (``steps``, ``batch_size``) once :func:`~augment.gantk.resolution.resolve`
    decided it for a working size: the library resolves it before training, sampling or planning."""
    if value is None:
        raise AugmentError(
            f"`{name}` depends on the working size: resolve the configuration first "
            "(augment.gantk.resolution.at_size)"
        )
    return value
