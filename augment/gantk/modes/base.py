"""What a synthesis mode is: the protocol every entry of :data:`augment.gantk.modes.MODES` meets,
and the data that passes between a mode and the run layer (:mod:`augment.run`).

A mode turns one class's real images into that class's synthetic images. The run layer reads the
folder, plans memory and devices, loops over the classes with checkpoints, and writes the
output; it asks the mode only what is listed here, so adding a mode touches no other file than
its own module and the registry.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

import jax
import numpy as np

from augment.errors import AugmentError
from augment.gantk.augmentation import is_scan_size
from augment.gantk.config import DiscriminatorConfig
from augment.gantk.placement import Placement
from augment.gantk.resolution import Decision, resolve
from augment.measures.quality import NEAR_COPY_PERCENTILE


@dataclass
class ClassResult:
    """A finished class.

    Attributes:
      images: (M, H, W, C) float32 in [0, 1].
      realness: (M,) the discriminator's "real" prediction for each image.
      loss_history: (problems, steps) losses; NaN after a problem ended early.
      seconds: wall time spent on the class (over every resumed run).
      model: a trained model's parameter leaves (``jax.tree_util`` order), for modes that train
        one (generator mode), else None.
      gate: the quality gate's record of the class (see :mod:`augment.run.gate`), or None.
    """

    images: np.ndarray
    realness: np.ndarray
    loss_history: np.ndarray
    seconds: float
    model: list[np.ndarray] | None = None
    gate: dict[str, Any] | None = None


class Snapshot(Protocol):
    """Where a class under way stands, to checkpoint it and resume it bit for bit."""

    @property
    def milestone(self) -> bool:
        """Whether this snapshot marks finished work worth saving at once (else saves are
        rationed by time)."""
        ...

    def to_arrays(self, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
        """Put its arrays into ``arrays`` (keys starting ``current.``) and return its JSON record,
        whose ``kind`` is the mode's name."""
        ...


StepProgress = Callable[[int, int, int, int, float], None]
"""``progress(steps_done, steps_total, problems_done, problems, last_loss)`` after every chunk."""


@dataclass(frozen=True)
class ClassTask:
    """One class to synthesise, as the run layer hands it to a mode.

    Attributes:
      real: (n, S, S, C) float32 in [0, 1]: the class's real images.
      count: the number of synthetic images wanted.
      key: the class's PRNG key.
      progress: see :data:`StepProgress`, or None.
      resume: the snapshot of an interrupted run of the same class, or None.
      checkpoint: called with a snapshot after every chunk of steps.
      floor_distance: RMS distance to the nearest real image of the class under which a synthetic image
        is too close to one: the ``novelty_floor`` of every class's real images' (as stored) distances
        to their nearest other one (:func:`augment.measures.quality.leave_one_out_threshold`; the rule
        is ``augment.run.synth.NOVELTY_RULE``), or None when there is no reference. Direct mode keeps
        every image's last version at least this far (its novelty stop); generator mode draws other
        samples instead of closer ones.
      placement: the devices and lanes the mode may use.
      novelty_floor: the percentile of the real images' leave-one-out nearest distances the
        floor was taken at (direct mode takes its coarser levels' floors at it).
    """

    real: np.ndarray
    count: int
    key: jax.Array
    progress: StepProgress | None
    resume: Snapshot | None
    checkpoint: Callable[[Snapshot], None]
    floor_distance: float | None
    placement: Placement
    novelty_floor: float = NEAR_COPY_PERCENTILE


@dataclass(frozen=True)
class MemoryNeed:
    """What the memory planner needs to know of a mode's steps (see :mod:`augment.gantk.memory`).

    Attributes:
      n_real_total: the largest real set a class's real batches are drawn from.
      synthetic_batch: synthetic images per step (the largest over the classes).
      gram_rows: rows of the real Gram matrix computed at once.
      max_lanes: problems that may share one device.
      one_device: the mode runs on one device of each process.
    """

    n_real_total: int
    synthetic_batch: int
    gram_rows: int
    max_lanes: int
    one_device: bool = False


class Resolution(NamedTuple):
    """A mode's configuration resolved for one working size (:meth:`Mode.resolve`)."""

    config: Any  # no size-dependent field left at None
    novelty_floor: float  # the mode's default novelty percentile at that size
    decisions: tuple[Decision, ...]  # each size-dependent setting and the floor: value and why


class Mode:
    """A synthesis mode (an entry of :data:`augment.gantk.modes.MODES`): subclass it and
    implement the methods that raise NotImplementedError; the others have defaults that fit
    most modes.

    Attributes:
      name: its registry name, as ``mode`` takes it (and the checkpoint's snapshot ``kind``).
      config_type: its configuration class (a frozen dataclass with a ``discriminator`` field,
        ``to_dict`` and ``from_dict``, whose defaults are the mode's; an option sets the field of
        its name, :meth:`configure`).
      description: one line for ``--help``.
      trains_model: whether it trains a generator that ``save_generator`` can keep: its
        :attr:`ClassResult.model` is then the generator's parameter arrays and its configuration
        has ``to_dict`` (the run layer writes them, :mod:`augment.io.saved_generator`).
      novelty_floor: its default novelty floor, as a percentile of the real images'
        leave-one-out nearest distances (see :class:`ClassTask`; measured per mode in
        ``benchmarks/RESULTS.md``).
    """

    name: str = ""
    config_type: type[Any] = object
    description: str = ""
    trains_model: bool = False
    novelty_floor: float = NEAR_COPY_PERCENTILE

    def configure(self, options: dict[str, Any]) -> Any:
        """Its configuration from the user's options (:data:`augment.parameters.PARAMETERS`, each
        given only when chosen: ``steps``, ``batch_size``, ``real_batch_size``, ...): each sets the
        configuration's field of its name, or its discriminator's. An option the configuration
        has no field for is an AugmentError naming it."""
        base = self.config_type()
        own = {f.name for f in dataclasses.fields(base)} - {"discriminator"}
        shared = {f.name for f in dataclasses.fields(base.discriminator)}
        refused = [name for name in options if name not in own and name not in shared]
        if refused:
            names = ", ".join(f"`{name}`" for name in refused)
            raise AugmentError(
                f"{names} {'does' if len(refused) == 1 else 'do'} not apply to `mode={self.name}`"
            )
        discriminator = dataclasses.replace(
            base.discriminator, **{k: v for k, v in options.items() if k in shared}
        )
        return dataclasses.replace(
            base, discriminator=discriminator, **{k: v for k, v in options.items() if k in own}
        )

    def resolve(self, config: Any, image_size: int) -> Resolution:
        """The configuration as it runs at a working size of ``image_size`` pixels, every default
        that depends on the size decided (:func:`~augment.gantk.resolution.resolve`), the mode's
        default novelty percentile there, and the reasons, so provenance records what ran and
        why. By default: ``config`` and :attr:`novelty_floor`."""
        floor = Decision("novelty_floor", self.novelty_floor, "the mode's")
        return Resolution(config, self.novelty_floor, (floor,))

    def resolved_with_floor(
        self, config: Any, image_size: int, scan_floor: float, scan_why: str, posed_why: str
    ) -> Resolution:
        """The size's defaults (:func:`~augment.gantk.resolution.resolve`) and the novelty floor:
        ``scan_floor`` where the real side is the real images themselves (above
        :data:`~augment.parameters.SCAN_SIZE` pixels unless ``augment_real_to`` was
        chosen), else :attr:`novelty_floor`, each with its reason."""
        sized, decisions = resolve(config, image_size)
        if is_scan_size(image_size) and sized.augment_real_to == 0:
            floor, why = scan_floor, scan_why
        else:
            floor, why = self.novelty_floor, posed_why
        return Resolution(sized, floor, (*decisions, Decision("novelty_floor", floor, why)))

    def memory_need(
        self, config: Any, real_counts: list[int], counts: list[int], platform: str, devices: int
    ) -> MemoryNeed:
        """Its step sizes for the memory planner, for classes of ``real_counts`` real images
        asking ``counts`` synthetic ones, on ``devices`` devices of ``platform``."""
        raise NotImplementedError

    def with_batches(self, config: Any, synthetic: int | None, real: int | None) -> Any:
        """``config`` with the memory plan's synthetic and real batch sizes (None: unchanged): its
        ``batch_size`` field and its discriminator's ``real_batch_size`` (a configuration without
        a ``batch_size`` keeps its own)."""
        discriminator = dataclasses.replace(
            config.discriminator, real_batch_size=real or config.discriminator.real_batch_size
        )
        batches = {"batch_size": synthetic} if synthetic and hasattr(config, "batch_size") else {}
        return dataclasses.replace(config, discriminator=discriminator, **batches)

    def run_class(self, config: Any, task: ClassTask) -> ClassResult:
        """Synthesise one class (``task.count`` images); resumable from ``task.resume``."""
        raise NotImplementedError

    def read_snapshot(self, record: dict[str, Any], arrays: dict[str, np.ndarray]) -> Snapshot:
        """The snapshot that its ``Snapshot.to_arrays`` recorded."""
        raise NotImplementedError

    def more(self, config: Any, task: ClassTask, first: ClassResult) -> ClassResult:
        """At least ``task.count`` more images of a class already synthesised as ``first`` (the
        quality gate's replacements), with ``task.key``. By default the class is synthesised
        again at that count; a mode that trains a model samples it instead."""
        return self.run_class(config, task)

    def describe(self, config: Any, image_shape: tuple[int, int, int]) -> dict[str, Any]:
        """What the provenance records of how this mode computes at this working size (by
        default the discriminator architecture that ``auto`` resolves to)."""
        return {"architecture": config.discriminator.resolved(image_shape[0], image_shape[-1])}

    def keeps_novelty_floor(self, config: Any) -> bool:
        """Whether its images keep the task's novelty floor with this configuration."""
        return True

    def total_work(self, config: Any, image_shape: tuple[int, int, int], count: int) -> int:
        """The ``steps_total`` its progress reports for a class of ``count`` images, announced
        before the run so a whole-run estimate can be made (work units of equal cost). By default
        one unit: the class is reported done or not."""
        return 1

    def progress_label(self, problems_done: int, problems: int) -> str:
        """What a progress bar shows beside the class name."""
        return f"batches {problems_done}/{problems} done"


def schedule_record(
    discriminator: DiscriminatorConfig, levels: list[tuple[int, int]], channels: int
) -> list[dict[str, Any]]:
    """The provenance's ``synthesis.schedule``: every level's ``size``, ``steps`` and the
    discriminator ``architecture`` it ran with, coarsest first (either mode's ``describe``)."""
    return [
        {"size": size, "steps": steps, "architecture": discriminator.resolved(size, channels)}
        for size, steps in levels
    ]
