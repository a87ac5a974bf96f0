"""Coarse-to-fine direct synthesis: most steps at a coarse size, a few at each doubling.

A step's cost is linear in the pixels (docs/design.md, "Measured facts"), so synthesising at
128x128 costs 16 times as much per step as at 32x32. Above ``config.coarse_size`` the working
size S is reached by levels: the coarsest is S halved until it is at most ``coarse_size`` (at
least the discriminator's smallest size), and each level doubles it, the last being S itself.

- Level 0 runs :func:`~augment.gantk.direct.synthesize` for ``config.steps`` steps from its start on
  the real images resized to its size (antialiased), with its own augmented real set, Gram matrix
  and novelty stop (its floor the same percentile of the real images' leave-one-out distances at
  that size).
- Each finer level starts from the previous level's images resized up (linear), with a fresh
  optimiser, and runs ``config.refine_steps`` steps; the discriminator grows with the size
  (``auto`` architecture, see :mod:`augment.gantk.architectures`).
- The last level uses the caller's novelty floor and gives the realness.

Every level uses the same problems (the same partition of the images into batches), so a
problem's image at one level is the start of the same problem's image at the next. At or below
``coarse_size`` (and with ``coarse_size=0``) there is one level and this is exactly
:func:`~augment.gantk.direct.synthesize`. Checkpoints hold the level, the images it started from
and its :class:`~augment.gantk.direct.snapshot.SynthesisSnapshot`; a resumed run equals an uninterrupted
one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jax
import numpy as np

from augment.errors import AugmentError
from augment.gantk.direct.config import SynthesisConfig
from augment.gantk.direct.snapshot import SynthesisSnapshot
from augment.gantk.direct.synthesis import ProgressFn, SynthesisResult, plan_problems, synthesize
from augment.gantk.levels import LEVEL_STREAM, level_sizes, level_weights, level_work, resize
from augment.gantk.placement import Placement
from augment.gantk.resolution import at_size, check_resolved
from augment.measures.quality import NEAR_COPY_PERCENTILE, leave_one_out_threshold

Array = jax.Array


def schedule(image_size: int, config: SynthesisConfig) -> list[tuple[int, int]]:
    """``(size, steps)`` of every level: ``config.steps`` at the coarsest, ``config.refine_steps``
    at each finer one, of a configuration resolved for ``image_size``
    (:func:`~augment.gantk.resolution.resolve`). A start other than noise is an image at the
    working size already: one level."""
    check_resolved(config)
    assert config.steps is not None  # checked
    coarse_size = config.coarse_size if config.start == "noise" else 0
    sizes = level_sizes(image_size, coarse_size, config.discriminator.min_size)
    return [(size, config.steps if k == 0 else config.refine_steps) for k, size in enumerate(sizes)]


def total_work(image_size: int, config: SynthesisConfig, count: int) -> int:
    """A class's work in coarsest-step units: problems x sum over levels of steps x weight."""
    levels = schedule(image_size, config)
    problems, _ = plan_problems(count, config.batch_size)
    return problems * level_work(levels)


@dataclass
class CoarseToFineSnapshot:
    """Where the coarse-to-fine synthesis of one class stands.

    Attributes:
      level: the level under way (index into :func:`schedule`).
      start: the images this level started from (None at level 0: noise).
      current: the level's own snapshot.
      losses: (problems, steps of the finished levels) their loss histories, or None at level 0.
      level_done: True right after a level finished (a milestone).
    """

    level: int
    start: np.ndarray | None
    current: SynthesisSnapshot
    losses: np.ndarray | None = None
    level_done: bool = False

    @property
    def milestone(self) -> bool:
        """A finished problem or a finished level: worth saving at once."""
        return self.level_done or self.current.milestone

    def to_arrays(self, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
        """Put its arrays into ``arrays`` (keys ``current.*``); return its JSON record."""
        if self.start is not None:
            arrays["current.start"] = self.start
        if self.losses is not None:
            arrays["current.losses"] = self.losses
        return {
            "kind": "direct",
            "level": self.level,
            "start": self.start is not None,
            "losses": self.losses is not None,
            "problems": self.current.to_arrays(arrays),
        }

    @classmethod
    def from_arrays(cls, record: dict[str, Any], arrays: dict[str, np.ndarray]) -> CoarseToFineSnapshot:
        """The snapshot that :meth:`to_arrays` recorded."""
        if record.get("kind") != "direct":
            raise ValueError(f"the snapshot under way is of mode {record.get('kind')!r}, not direct")
        start = arrays["current.start"] if record["start"] else None
        losses = arrays["current.losses"] if record["losses"] else None
        current = SynthesisSnapshot.from_arrays(record["problems"], arrays)
        return cls(int(record["level"]), start, current, losses)


def _where_to_resume(
    resume: CoarseToFineSnapshot | None, levels: list[tuple[int, int]], problems: int, total: int
) -> tuple[int, np.ndarray | None, np.ndarray]:
    """The level to start at, the images it starts from (None: its own start) and the losses of
    the levels before it, (problems, their steps): from ``resume``, checked against the schedule
    (``total`` images in ``problems`` problems), or a run's beginning."""
    if resume is None:
        return 0, None, np.zeros((problems, 0), np.float32)
    if not 0 <= resume.level < len(levels):
        raise AugmentError("the checkpoint does not match this request (its level is not in the schedule)")
    first, start = resume.level, resume.start
    done = resume.losses if resume.losses is not None else np.zeros((problems, 0), np.float32)
    steps_before = sum(steps for _, steps in levels[:first])
    if first > 0 and (
        start is None
        or start.shape[0] != total
        or start.shape[1] != levels[first][0]
        or done.shape != (problems, steps_before)
    ):
        raise AugmentError("the checkpoint does not match this request (the images of its level differ)")
    return first, start, done


def synthesize_coarse_to_fine(
    real_images: Any,
    n_synthetic: int,
    config: SynthesisConfig,
    key: Array,
    progress: ProgressFn | None = None,
    *,
    resume: CoarseToFineSnapshot | None = None,
    checkpoint: Callable[[CoarseToFineSnapshot], None] | None = None,
    floor_distance: float | None = None,
    novelty_floor: float = NEAR_COPY_PERCENTILE,
    placement: Placement | None = None,
) -> SynthesisResult:
    """Synthesise ``n_synthetic`` images of one class at the real images' size, level by level.

    Arguments as :func:`~augment.gantk.direct.synthesize` (``resume`` and ``checkpoint`` take and
    give :class:`CoarseToFineSnapshot`; ``progress`` counts work in coarsest-step units,
    :func:`level_weights`, so that its rate gives a true remaining time). Returns the last level's
    images and realness, and the loss history of every level side by side: (problems, sum of the
    levels' steps). ``floor_distance`` is the last level's novelty floor; each coarser level
    keeps its images at least the ``novelty_floor`` of its own real images' leave-one-out
    distances from them, so that the images a finer level starts from keep the same floor.
    """
    real = np.asarray(real_images, np.float32)
    if real.ndim != 4 or real.shape[1] != real.shape[2] or real.shape[0] < 1:
        raise AugmentError(f"real images must be (n, S, S, C) with n >= 1, got shape {real.shape}")
    # the library's entry (a configuration given unresolved); every level takes the working size's real side
    config = at_size(config, real.shape[1])
    levels = schedule(real.shape[1], config)
    problems, per_problem = plan_problems(n_synthetic, config.batch_size)
    total = problems * per_problem
    first, start, done = _where_to_resume(resume, levels, problems, total)
    weights = level_weights(levels)
    work_before = [level_work(levels, k) for k in range(len(levels))]
    all_work = level_work(levels)
    result: SynthesisResult | None = None
    for k in range(first, len(levels)):
        size, steps = levels[k]
        last = k == len(levels) - 1
        level_key = key if k == 0 else jax.random.fold_in(key, LEVEL_STREAM + k)
        stop = config.convergence_stop if config.convergence_stop is not None else len(levels) > 1
        level_config = dataclasses.replace(config, steps=steps, convergence_stop=stop)

        def level_checkpoint(
            snapshot: SynthesisSnapshot, k: int = k, start: np.ndarray | None = start, done: np.ndarray = done
        ) -> None:
            if checkpoint is not None:
                checkpoint(CoarseToFineSnapshot(k, start, snapshot, done if k > 0 else None))

        def level_progress(
            done: int, _total: int, problems_done: int, count: int, loss: float, k: int = k
        ) -> None:
            if progress is not None:
                work = problems * work_before[k] + done * weights[k]
                progress(work, problems * all_work, problems_done, count, loss)

        level_real = resize(real, size)
        result = synthesize(
            level_real,
            n_synthetic if last else total,
            level_config,
            level_key,
            level_progress,
            resume=resume.current if resume is not None and k == first else None,
            checkpoint=level_checkpoint,
            floor_distance=(floor_distance if last else leave_one_out_threshold(level_real, novelty_floor)),
            placement=placement,
            initial=start,
        )
        done = np.concatenate([done, result.loss_history], axis=1)
        if not last:
            start = resize(result.images, levels[k + 1][0])
            if checkpoint is not None:
                checkpoint(CoarseToFineSnapshot(k + 1, start, SynthesisSnapshot(), done, level_done=True))
    assert result is not None  # there is at least one level
    return result._replace(loss_history=done)
