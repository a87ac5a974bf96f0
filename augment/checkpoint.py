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
from augment.gantk import SynthesisSnapshot
from augment.gantk.generator import GeneratorSnapshot

CHECKPOINT_FORMAT = "augment.checkpoint"
CHECKPOINT_VERSION = 2


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
        generator = isinstance(snapshot, GeneratorSnapshot)
        done = [] if generator else list(zip(snapshot.images, snapshot.realness, snapshot.histories))
        for p, (images, realness, history) in enumerate(done):
            arrays[f"current.images.{p}"] = images
            arrays[f"current.realness.{p}"] = realness
            arrays[f"current.history.{p}"] = np.asarray(history, np.float32)
        for i, leaf in enumerate(snapshot.state or []):
            arrays[f"current.state.{i}"] = np.asarray(leaf)
        novel = None if generator else snapshot.novel
        if novel is not None:
            arrays["current.novel"] = novel
        meta["current"] = {
            "class": k,
            "kind": "generator" if generator else "direct",
            "seconds": seconds,
            "problems_done": len(done),
            "state_leaves": None if snapshot.state is None else len(snapshot.state),
            "history": list(snapshot.history),
            "novel": novel is not None,
        }
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
        state = (
            None
            if c["state_leaves"] is None
            else [arrays[f"current.state.{i}"] for i in range(c["state_leaves"])]
        )
        if c["kind"] == "generator":
            snapshot = GeneratorSnapshot(state=state, history=c["history"])
        else:
            done = range(c["problems_done"])
            snapshot = SynthesisSnapshot(
                images=[arrays[f"current.images.{p}"] for p in done],
                realness=[arrays[f"current.realness.{p}"] for p in done],
                histories=[arrays[f"current.history.{p}"].tolist() for p in done],
                state=state,
                history=c["history"],
                novel=arrays["current.novel"] if c["novel"] else None,
            )
        current = (c["class"], snapshot, c["seconds"])
    return finished, current
