"""Direct mode's configuration: everything that decides what its synthesis computes
(recorded in provenance), and its novelty floor for scans."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

from augment import parameters
from augment.errors import one_of
from augment.gantk.augmentation import POSE_ROTATION, POSE_SHIFT
from augment.gantk.config import DiscriminatorConfig, FlatRecord, check
from augment.gantk.direct.starts import STARTS
from augment.gantk.resolution import SizeDefault

OPTIMIZERS = ("adam", "gd")


@dataclass(frozen=True)
class SynthesisConfig(FlatRecord):
    """Everything that decides what direct-mode synthesis computes (recorded in provenance).

    The discriminator follows the published GA-NTK settings; the optimiser is Adam on pixels
    (clean images within a few hundred steps, docs/design.md). ``start`` is where the images
    start (:data:`~augment.gantk.direct.starts.STARTS`); it and ``steps`` are left at None to be decided
    by the working size (:data:`SIZE_DEFAULTS`, :func:`~augment.gantk.resolution.resolve`):
    300 steps from noise up to :data:`~augment.parameters.SCAN_SIZE` pixels, 50 steps from
    deformed real images above it (docs/design.md, "Where the images start"). ``chunk_steps`` is
    how often the novelty stop looks at a batch (and progress is reported): it changes the result.
    From noise, above ``coarse_size`` pixels a side, synthesis runs coarse to fine: ``steps`` at
    the coarsest level, ``refine_steps`` at each doubling (:mod:`augment.gantk.direct.multiscale`; 0: one
    level); a start that is an image already runs at the working size alone. With
    ``convergence_stop`` a batch ends once its loss fell by less than ``convergence_tolerance``
    (relative) over its last ``convergence_window`` steps, checked after every chunk; a level with
    no more steps than the window never stops early. ``None`` (the default) turns it on for runs
    coarse to fine, where it saves a tenth of a long run, and off for a single level of 32 pixels
    or less, where runs are short and the last steps still add accuracy (docs/design.md).
    With ``pixel_envelope`` (the default) every pixel is kept within the range the discriminator's
    real side spans at it (:func:`~augment.gantk.direct.pixel_bounds`) instead of [0, 1], so a
    pixel dark in every real image stays dark: without it, on scans, the novelty stop left stray
    bright pixels of the starting noise in the background (docs/design.md, "Sharp scans").
    """

    SIZE_DEFAULTS: ClassVar[dict[str, SizeDefault]] = {
        "start": SizeDefault(
            "noise",
            parameters.SCAN_DIRECT_START,
            "uniform noise, the published start: the novelty stop writes sharp images from it",
            "each image starts as a real image of its class, smoothly deformed until it is beyond the "
            "novelty floor (else noise): from noise the novelty stop wrote a blend of the noise and a "
            "fading copy",
        ),
        "steps": SizeDefault(
            parameters.DIRECT_STEPS,
            parameters.SCAN_DIRECT_STEPS,
            "the steps from noise to sharp images",
            "a deformed real image is an image already: the steps sharpen it towards its class",
        ),
    }

    discriminator: DiscriminatorConfig = dataclasses.field(default_factory=DiscriminatorConfig)
    optimizer: str = "adam"
    learning_rate: float = 0.01
    noise: float = 0.0
    start: str | None = None  # None: by working size (SIZE_DEFAULTS, resolution.resolve)
    steps: int | None = None  # None: by working size (SIZE_DEFAULTS, resolution.resolve)
    batch_size: int = parameters.DIRECT_BATCH
    chunk_steps: int = 10
    augment_real_to: int | None = None  # None: AUGMENT_REAL_TO up to SCAN_SIZE, 0 above (resolution)
    augment_rotation: float = POSE_ROTATION
    augment_shift: float = POSE_SHIFT
    novelty_stop: bool = parameters.PARAMETERS["novelty_stop"].per_mode[parameters.DIRECT]
    pixel_envelope: bool = True
    max_near_copy_fraction: float = 1.0
    coarse_size: int = parameters.COARSE_SIZE
    refine_steps: int = 40
    convergence_stop: bool | None = None  # None: on coarse to fine, off for one level
    convergence_window: int = 50
    convergence_tolerance: float = 1e-3

    def __post_init__(self) -> None:
        check(
            [
                (
                    self.optimizer in OPTIMIZERS,
                    f"`optimizer` must be {one_of(OPTIMIZERS)}, got {self.optimizer!r}",
                ),
                (
                    self.start is None or self.start in STARTS,
                    f"`start` must be {one_of(tuple(STARTS))}, got {self.start!r}",
                ),
                (self.steps is None or self.steps >= 1, f"`steps` must be at least 1, got {self.steps}"),
                (
                    self.batch_size >= 1,
                    f"`batch_size` must be at least 1, got {self.batch_size}",
                ),
                (self.chunk_steps >= 1, f"`chunk_steps` must be at least 1, got {self.chunk_steps}"),
                (self.learning_rate > 0, "`learning_rate` must be positive"),
                (self.noise >= 0, "`noise` must not be negative"),
                (
                    (self.augment_real_to is None or self.augment_real_to >= 0)
                    and self.augment_rotation >= 0
                    and self.augment_shift >= 0,
                    "the real-set augmentation's size, rotation and shift (`augment_real_to`, "
                    "`augment_rotation`, `augment_shift`) must not be negative",
                ),
                (
                    0 <= self.max_near_copy_fraction <= 1,
                    "`max_near_copy_fraction` must be between 0 and 1",
                ),
                (self.coarse_size >= 0, f"`coarse_size` must not be negative, got {self.coarse_size}"),
                (self.refine_steps >= 1, f"`refine_steps` must be at least 1, got {self.refine_steps}"),
                (
                    self.convergence_window >= 1 and self.convergence_tolerance >= 0,
                    "`convergence_window` must be at least 1 and `convergence_tolerance` not negative",
                ),
            ]
        )
