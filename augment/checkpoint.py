"""Checkpoints of an ``augment synth`` run, kept next to the target so ``--resume`` can continue.

One ``.npz`` file (``<target>.checkpoint.npz``) holds a JSON ``meta`` record (format, version,
the run's fingerprint, which classes are finished) and the arrays: every finished class's images,
realness and loss history (and, in generator mode, its generator's parameters), and the snapshot
of the class under way: a :class:`~augment.gantk.SynthesisSnapshot` in direct mode, a
:class:`~augment.gantk.generator.GeneratorSnapshot` in generator mode. It is rewritten
atomically (temporary name, then rename) after every chunk of steps, so a
kill at any moment leaves either the previous checkpoint or the new one, never a torn file.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from augment.atomic import move_into_place, remove, temporary_path
from augment.errors import AugmentError
from augment.gantk.direct import FinishedProblem, RunningProblem, SynthesisSnapshot
from augment.gantk.generator import GeneratorSnapshot

CHECKPOINT_FORMAT = "augment.checkpoint"
CHECKPOINT_VERSION = 3


@dataclass
class ClassResult:
    """A finished class: images (M, H, W, C) float32, realness (M,), loss_history (problems, steps),
    and in generator mode the trained generator's parameter leaves (``jax.tree_util`` order)."""

    images: np.ndarray
    realness: np.ndarray
    loss_history: np.ndarray
    seconds: float
    generator_leaves: list[np.ndarray] | None = None


def checkpoint_path(target: Path) -> Path:
    """Where the checkpoint of a run writing ``target`` lives."""
    return target.with_name(target.name + ".checkpoint.npz")


def save_checkpoint(
    path: Path,
    fingerprint: str,
    finished: dict[int, ClassResult],
    current: tuple[int, SynthesisSnapshot | GeneratorSnapshot, float] | None,
) -> None:
    """Atomically write the run's progress: finished classes and (class, snapshot, seconds) under way."""
    arrays: dict[str, np.ndarray] = {}
    for k, result in finished.items():
        arrays[f"class{k}.images"] = result.images
        arrays[f"class{k}.realness"] = result.realness
        arrays[f"class{k}.loss_history"] = result.loss_history
        for i, leaf in enumerate(result.generator_leaves or []):
            arrays[f"class{k}.generator.{i}"] = np.asarray(leaf)
    meta = {
        "format": CHECKPOINT_FORMAT,
        "version": CHECKPOINT_VERSION,
        "fingerprint": fingerprint,
        "finished": {
            str(k): {
                "seconds": r.seconds,
                "generator_leaves": None if r.generator_leaves is None else len(r.generator_leaves),
            }
            for k, r in finished.items()
        },
        "current": None,
    }
    if current is not None:
        k, snapshot, seconds = current
        meta["current"] = {"class": k, "seconds": seconds, **_snapshot_arrays(snapshot, arrays)}
    arrays["meta"] = np.array(json.dumps(meta))
    temporary = temporary_path(path)
    try:
        with open(temporary, "wb") as handle:
            np.savez(handle, **arrays)
        move_into_place(temporary, path)
    finally:
        remove(temporary)


def load_checkpoint(
    path: Path, fingerprint: str
) -> tuple[dict[int, ClassResult], tuple[int, SynthesisSnapshot | GeneratorSnapshot, float] | None]:
    """Read a checkpoint written by :func:`save_checkpoint` for the run with ``fingerprint``."""
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
        meta = json.loads(str(arrays["meta"]))
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as error:
        raise AugmentError(f"cannot read the checkpoint {path} ({error}); delete it to start again") from None
    if meta.get("format") != CHECKPOINT_FORMAT or meta.get("version") != CHECKPOINT_VERSION:
        raise AugmentError(f"{path} is not a checkpoint this augment can resume; delete it to start again")
    if meta["fingerprint"] != fingerprint:
        raise AugmentError(
            f"the checkpoint {path} belongs to a different run (other inputs or settings); "
            "run the original command with --resume, or delete the checkpoint to start again"
        )
    try:
        finished = {
            int(k): ClassResult(
                arrays[f"class{k}.images"],
                arrays[f"class{k}.realness"],
                arrays[f"class{k}.loss_history"],
                entry["seconds"],
                None
                if entry["generator_leaves"] is None
                else [arrays[f"class{k}.generator.{i}"] for i in range(entry["generator_leaves"])],
            )
            for k, entry in meta["finished"].items()
        }
        current = None
        if meta["current"] is not None:
            c = meta["current"]
            current = (c["class"], _snapshot_from(c, arrays), c["seconds"])
    except (KeyError, TypeError, ValueError) as error:
        raise AugmentError(f"the checkpoint {path} is incomplete ({error!r}); delete it to start again") from None
    return finished, current


def _snapshot_arrays(snapshot: SynthesisSnapshot | GeneratorSnapshot, arrays: dict[str, np.ndarray]) -> dict:
    """Put the snapshot's arrays into ``arrays``; return its JSON record."""
    if isinstance(snapshot, GeneratorSnapshot):
        for i, leaf in enumerate(snapshot.state):
            arrays[f"current.state.{i}"] = np.asarray(leaf)
        return {"kind": "generator", "state_leaves": len(snapshot.state), "history": list(snapshot.history)}
    for p, problem in snapshot.finished.items():
        arrays[f"current.finished.{p}.images"] = problem.images
        arrays[f"current.finished.{p}.realness"] = problem.realness
        arrays[f"current.finished.{p}.history"] = np.asarray(problem.history, np.float32)
    running = {}
    for p, problem in snapshot.running.items():
        for i, leaf in enumerate(problem.state):
            arrays[f"current.running.{p}.state.{i}"] = np.asarray(leaf)
        if problem.novel is not None:
            arrays[f"current.running.{p}.novel"] = problem.novel
        running[str(p)] = {
            "state_leaves": len(problem.state),
            "history": list(problem.history),
            "novel": problem.novel is not None,
        }
    return {"kind": "direct", "finished": sorted(snapshot.finished), "running": running}


def _snapshot_from(record: dict, arrays: dict[str, np.ndarray]) -> SynthesisSnapshot | GeneratorSnapshot:
    """The snapshot that :func:`_snapshot_arrays` recorded."""
    if record["kind"] == "generator":
        state = [arrays[f"current.state.{i}"] for i in range(record["state_leaves"])]
        return GeneratorSnapshot(state=state, history=record["history"])
    finished = {
        p: FinishedProblem(
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
    return SynthesisSnapshot(finished, running)
