"""Where the direct-mode synthesis of one class stands: its solved problems and those under way,
as a snapshot that a checkpoint stores and a resumed run continues bit for bit
(:func:`augment.gantk.direct.synthesize`)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from augment.errors import AugmentError
from augment.gantk.loop import checked_leaves


class FinishedProblem(NamedTuple):
    """A solved problem: (per_problem, H, W, C) images, (per_problem,) realness, its losses."""

    images: np.ndarray
    realness: np.ndarray
    history: list[float]


@dataclass
class RunningProblem:
    """A problem under way.

    Attributes:
      state: the leaves of its :class:`ProblemState` (numpy, ``jax.tree_util`` order).
      history: its losses so far.
      novel: with the novelty stop, (per_problem, H, W, C) each image's last version that was not
        a near-copy; None without the stop.
    """

    state: list[np.ndarray]
    history: list[float]
    novel: np.ndarray | None = None


@dataclass
class SynthesisSnapshot:
    """Where the synthesis of one class stands, to checkpoint and resume it bit for bit.

    Problems are keyed by their index, so a snapshot does not depend on how many ran at once: a
    run may resume on another number of devices.

    Attributes:
      finished: the solved problems.
      running: the problems under way.
      milestone: True when a problem finished since the previous call of ``checkpoint`` (not saved;
        tells a caller that rations its writes that this one is worth keeping).
    """

    finished: dict[int, FinishedProblem] = dataclasses.field(default_factory=dict)
    running: dict[int, RunningProblem] = dataclasses.field(default_factory=dict)
    milestone: bool = False

    def copy(self) -> SynthesisSnapshot:
        """A copy that later chunks do not change (``checkpoint`` gets the live snapshot)."""
        running = {
            p: RunningProblem(list(r.state), list(r.history), r.novel) for p, r in self.running.items()
        }
        return SynthesisSnapshot(dict(self.finished), running, self.milestone)

    def to_arrays(self, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
        """Put the snapshot's arrays into ``arrays`` (keys ``current.*``); return its JSON record."""
        for p, problem in self.finished.items():
            arrays[f"current.finished.{p}.images"] = problem.images
            arrays[f"current.finished.{p}.realness"] = problem.realness
            arrays[f"current.finished.{p}.history"] = np.asarray(problem.history, np.float32)
        running = {}
        for p, run in self.running.items():
            for i, leaf in enumerate(run.state):
                arrays[f"current.running.{p}.state.{i}"] = np.asarray(leaf)
            if run.novel is not None:
                arrays[f"current.running.{p}.novel"] = run.novel
            running[str(p)] = {
                "state_leaves": len(run.state),
                "history": list(run.history),
                "novel": run.novel is not None,
            }
        return {"kind": "direct", "finished": sorted(self.finished), "running": running}

    @classmethod
    def from_arrays(cls, record: dict[str, Any], arrays: dict[str, np.ndarray]) -> SynthesisSnapshot:
        """The snapshot that :meth:`to_arrays` recorded (KeyError, TypeError or ValueError when
        the record is incomplete)."""
        if record.get("kind") != "direct":
            raise ValueError(f"the snapshot under way is of mode {record.get('kind')!r}, not direct")
        finished = {
            int(p): FinishedProblem(
                arrays[f"current.finished.{p}.images"],
                arrays[f"current.finished.{p}.realness"],
                arrays[f"current.finished.{p}.history"].tolist(),
            )
            for p in record["finished"]
        }
        running = {
            int(p): RunningProblem(
                [arrays[f"current.running.{p}.state.{i}"] for i in range(entry["state_leaves"])],
                entry["history"],
                arrays[f"current.running.{p}.novel"] if entry["novel"] else None,
            )
            for p, entry in record["running"].items()
        }
        return cls(finished, running)


CheckpointFn = Callable[[SynthesisSnapshot], None]
"""``checkpoint(snapshot)``, called after every chunk of steps."""


def checked_snapshot(
    resume: SynthesisSnapshot | None,
    template: RunningProblem,
    problems: int,
    per_problem: int,
    image_shape: tuple[int, ...],
    guarded: bool,
    steps: int,
) -> SynthesisSnapshot:
    """A working copy of ``resume`` (or a new snapshot), checked against this request."""
    if resume is None:
        return SynthesisSnapshot()
    mismatch = AugmentError(
        "the checkpoint does not match this request (problem count, image shape or state differ)"
    )
    finished = dict(resume.finished)
    if any(
        not 0 <= p < problems or f.images.shape != (per_problem, *image_shape) for p, f in finished.items()
    ):
        raise mismatch
    running = {}
    for p, run in resume.running.items():
        novel_matches = (run.novel is None) == (not guarded) and (
            run.novel is None or (template.novel is not None and run.novel.shape == template.novel.shape)
        )
        if not (0 <= p < problems and p not in finished and novel_matches and len(run.history) < steps):
            raise mismatch
        state = checked_leaves(template.state, run.state, "optimiser state")
        running[p] = RunningProblem(state, list(run.history), run.novel)
    return SynthesisSnapshot(finished, running)
