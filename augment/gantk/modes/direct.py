"""Direct mode: the synthetic pixels themselves are optimised (:mod:`augment.gantk.direct`)."""

from __future__ import annotations

import dataclasses
import math
from typing import Any, TypeVar

import numpy as np

from augment.errors import AugmentError
from augment.gantk.augmentation import augmented_size, planned_augment_real_to
from augment.gantk.direct import plan_problems
from augment.gantk.direct.config import SynthesisConfig
from augment.gantk.direct.multiscale import (
    CoarseToFineSnapshot,
    schedule,
    synthesize_coarse_to_fine,
    total_work,
)
from augment.gantk.loop import GRAM_BLOCK
from augment.gantk.memory import MAX_LANES_PER_DEVICE
from augment.gantk.modes.base import (
    ClassResult,
    ClassTask,
    MemoryNeed,
    Mode,
    Resolution,
    Snapshot,
    schedule_record,
)
from augment.parameters import NOVELTY_FLOOR, SCAN_NOVELTY_FLOOR, SCAN_SIZE

T = TypeVar("T")


class DirectMode(Mode):
    name = "direct"
    config_type = SynthesisConfig
    description = "optimise the pixels"
    # with a posed real side; the real images themselves as the real side have their own
    # (SCAN_NOVELTY_FLOOR, resolve)
    novelty_floor = NOVELTY_FLOOR["direct"]

    def resolve(self, config: SynthesisConfig, image_size: int) -> Resolution:
        """The size's defaults (:func:`~augment.gantk.resolution.resolve`) and the novelty floor:
        :data:`~augment.parameters.SCAN_NOVELTY_FLOOR` where the real side is the
        real images themselves (above :data:`~augment.parameters.SCAN_SIZE` pixels unless
        ``augment_real_to`` was chosen), else :attr:`novelty_floor`."""
        return self.resolved_with_floor(
            config,
            image_size,
            SCAN_NOVELTY_FLOOR,
            (
                "with the real images themselves as the real side the floor is the only copy guard: each "
                "image is kept farther from every real image than that share of the real images are "
                "from their nearest other one"
            ),
            (
                "each image ends as its last version farther from the real images than that share of "
                "them are from their nearest other one: with the posed real side, a membership attack "
                "near chance for a little of the gain"
            ),
        )

    def keeps_novelty_floor(self, config: SynthesisConfig) -> bool:
        """The floor is the novelty stop's threshold: without the stop it is not kept."""
        return config.novelty_stop

    def memory_need(
        self, config: SynthesisConfig, real_counts: list[int], counts: list[int], platform: str, devices: int
    ) -> MemoryNeed:
        real_to = planned_augment_real_to(config.augment_real_to)
        n_real_total = max(augmented_size(real_to, n) for n in real_counts)
        sizes = [plan_problems(c, config.batch_size) for c in counts]
        problems, synthetic = max(p for p, _ in sizes), max(s for _, s in sizes)
        # a CPU device gains nothing from batching problems; an accelerator does while they fit
        max_lanes = 1 if platform == "cpu" else min(MAX_LANES_PER_DEVICE, -(-problems // devices))
        return MemoryNeed(n_real_total, synthetic, GRAM_BLOCK, max_lanes)

    def run_class(self, config: SynthesisConfig, task: ClassTask) -> ClassResult:
        result = synthesize_coarse_to_fine(
            task.real,
            task.count,
            config,
            task.key,
            task.progress,
            resume=_own_snapshot(task.resume, CoarseToFineSnapshot),
            checkpoint=task.checkpoint,
            floor_distance=task.floor_distance,
            novelty_floor=task.novelty_floor,
            placement=task.placement,
        )
        return ClassResult(result.images, result.realness, result.loss_history, 0.0)

    def total_work(self, config: SynthesisConfig, image_shape: tuple[int, int, int], count: int) -> int:
        return total_work(image_shape[0], config, count)

    def more(self, config: SynthesisConfig, task: ClassTask, first: ClassResult) -> ClassResult:
        """At least ``task.count`` more images, in problems of the size ``first``'s ran in, so
        that the compiled steps are reused."""
        _, per_problem = plan_problems(len(first.images), config.batch_size)
        count = math.ceil(task.count / per_problem) * per_problem
        return self.run_class(config, dataclasses.replace(task, count=count))

    def read_snapshot(self, record: dict[str, Any], arrays: dict[str, np.ndarray]) -> CoarseToFineSnapshot:
        return CoarseToFineSnapshot.from_arrays(record, arrays)

    def describe(self, config: SynthesisConfig, image_shape: tuple[int, int, int]) -> dict[str, Any]:
        levels = schedule(image_shape[0], config)  # config: resolved for the working size
        if config.start != "noise":
            rule = (
                f"{config.start} start: each image starts as a real image of its class, deformed until it "
                "is beyond the novelty floor (else from noise), and takes steps at the working size; "
                f"the default above {SCAN_SIZE} px, where the optimisation from noise ends as a blend "
                "of the noise or blur it started from and a fading copy"
            )
        else:
            rule = (
                "noise start, coarse to fine: steps at the coarsest size, refine_steps at each doubling; "
                "each level starts from the previous one's images resized up"
            )
        return {"schedule": schedule_record(config.discriminator, levels, image_shape[-1]), "rule": rule}


def _own_snapshot(snapshot: Snapshot | None, kind: type[T]) -> T | None:
    """The snapshot under way, checked to be this mode's."""
    if snapshot is not None and not isinstance(snapshot, kind):
        raise AugmentError("the checkpoint holds another mode's snapshot; delete it to start again")
    return snapshot


DIRECT = DirectMode()
