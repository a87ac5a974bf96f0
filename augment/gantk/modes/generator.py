"""Generator mode: one generator per class, trained with the GA-NTK loss, then sampled
(:mod:`augment.gantk.generator.training`); the run layer can keep the generators
(:mod:`augment.run.generators`)."""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import numpy as np

from augment.gantk.augmentation import augmented_size, planned_augment_real_to
from augment.gantk.generator.config import GeneratorConfig
from augment.gantk.generator.snapshot import GeneratorSnapshot
from augment.gantk.generator.training import (
    TrainedGenerator,
    generator_schedule,
    parameter_layout,
    train_generator,
)
from augment.gantk.levels import level_work
from augment.gantk.loop import GRAM_BLOCK
from augment.gantk.modes.base import ClassResult, ClassTask, MemoryNeed, Mode, Resolution, schedule_record
from augment.gantk.modes.direct import _own_snapshot
from augment.gantk.modes.polish import polish_batch, polish_work, polished_samples
from augment.parameters import (
    GENERATOR_BATCH,
    NOVELTY_FLOOR,
    SCAN_GENERATOR_BATCH,
    SCAN_GENERATOR_NOVELTY_FLOOR,
)


class GeneratorMode(Mode):
    name = "generator"
    config_type = GeneratorConfig
    description = "train a generator per class and sample it"
    trains_model = True
    # with a posed real side; the real images themselves as the real side have their own
    # (SCAN_GENERATOR_NOVELTY_FLOOR, resolve)
    novelty_floor = NOVELTY_FLOOR["generator"]

    def resolve(self, config: GeneratorConfig, image_size: int) -> Resolution:
        """The size's defaults (:func:`~augment.gantk.resolution.resolve`: above
        :data:`~augment.parameters.SCAN_SIZE` pixels the real side is the real images
        themselves and the samples are not polished, unless chosen) and the novelty floor:
        :data:`~augment.parameters.SCAN_GENERATOR_NOVELTY_FLOOR` with the real images themselves
        as the real side, else :attr:`novelty_floor` (direct mode's: the polish is its steps)."""
        return self.resolved_with_floor(
            config,
            image_size,
            SCAN_GENERATOR_NOVELTY_FLOOR,
            (
                "with the real images themselves as the real side: samples nearer a real image than that "
                "share of the real images are to their nearest other one are drawn again"
            ),
            (
                "samples are cheap: those nearer a real image than that share of the real images are to "
                "their nearest other one are drawn again, and the polish keeps them that far"
            ),
        )

    def memory_need(
        self, config: GeneratorConfig, real_counts: list[int], counts: list[int], platform: str, devices: int
    ) -> MemoryNeed:
        real_to = planned_augment_real_to(config.augment_real_to)
        n_real = max(augmented_size(real_to, n) for n in real_counts)
        # before the working size is known, the larger of its batches
        batch = max(GENERATOR_BATCH, SCAN_GENERATOR_BATCH) if config.batch_size is None else config.batch_size
        batch = max(batch, polish_batch(config))  # the polish's problems run after the training
        return MemoryNeed(n_real, batch, min(GRAM_BLOCK, n_real), 1, one_device=True)

    def with_batches(
        self, config: GeneratorConfig, synthetic: int | None, real: int | None
    ) -> GeneratorConfig:
        """The memory plan's batches: the generator's, and the polish's no larger than the
        synthetic batch the plan left (the plan counts the larger of the two)."""
        planned = super().with_batches(config, synthetic, real)
        if synthetic is None:
            return planned
        return dataclasses.replace(planned, polish_batch_size=min(config.polish_batch_size, synthetic))

    def run_class(self, config: GeneratorConfig, task: ClassTask) -> ClassResult:
        train_key, sample_key = jax.random.split(task.key)
        report = task.progress
        size = int(task.real.shape[1])
        training = level_work(generator_schedule(size, config))
        total = self.total_work(config, (size, size, int(task.real.shape[3])), task.count)
        progress, polishing = None, None
        if report is not None:
            progress = lambda step, steps, loss: report(step, total, 0, 1, loss)  # noqa: E731
            polishing = lambda done, steps, p_done, p, loss: report(training + done, total, 0, 1, loss)  # noqa: E731
        trained = train_generator(
            task.real,
            config,
            train_key,
            progress,
            resume=_own_snapshot(task.resume, GeneratorSnapshot),
            checkpoint=task.checkpoint,
        )
        made = polished_samples(trained, task.count, task.real, sample_key, task.floor_distance, polishing)
        leaves = [np.asarray(leaf) for leaf in jax.tree_util.tree_leaves(trained.params)]
        return ClassResult(made.images, made.realness, trained.loss_history[None, :], 0.0, leaves)

    def more(self, config: GeneratorConfig, task: ClassTask, first: ClassResult) -> ClassResult:
        """Samples of the class's trained generator (no training)."""
        shape = (int(task.real.shape[1]), int(task.real.shape[2]), int(task.real.shape[3]))
        _, treedef = parameter_layout(shape, config)
        params = jax.tree_util.tree_unflatten(treedef, first.model or [])
        generator = TrainedGenerator(params, shape, config, first.loss_history[0])
        made = polished_samples(generator, task.count, task.real, task.key, task.floor_distance)
        return ClassResult(made.images, made.realness, first.loss_history, 0.0, first.model)

    def read_snapshot(self, record: dict[str, Any], arrays: dict[str, np.ndarray]) -> GeneratorSnapshot:
        return GeneratorSnapshot.from_arrays(record, arrays)

    def total_work(self, config: GeneratorConfig, image_shape: tuple[int, int, int], count: int) -> int:
        """A class's training in steps of the coarsest level (a finer step costs its pixels over
        the coarsest's), and the polish of its samples in direct-mode steps (one per problem and
        step); drawing the samples is not counted."""
        polish = polish_work(config, count)
        return level_work(generator_schedule(image_shape[0], config)) + polish

    def describe(self, config: GeneratorConfig, image_shape: tuple[int, int, int]) -> dict[str, Any]:
        """The discriminator at the working size (``architecture``, as before generators trained
        coarse to fine) and every level's size, steps and discriminator (``schedule``)."""
        levels = generator_schedule(image_shape[0], config)
        channels = image_shape[-1]
        record: dict[str, Any] = {
            "architecture": config.discriminator.resolved(image_shape[0], channels),
            "schedule": schedule_record(config.discriminator, levels, channels),
        }
        if len(levels) > 1:
            record["rule"] = (
                "coarse to fine: steps at the coarsest size, refine_steps at each doubling; each "
                "level's generator is the previous one's with one more upsampling layer, which "
                "starts as the identity"
            )
        return record

    def progress_label(self, problems_done: int, problems: int) -> str:
        return "generator"


GENERATOR = GeneratorMode()
