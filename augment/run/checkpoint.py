"""Checkpoints of an ``augment synth`` run, kept next to the target so a run with ``resume``
can continue it.

One ``.npz`` file (``<target>.checkpoint.npz``) holds a JSON ``meta`` record (format, version,
the run's fingerprint, which classes are finished) and the arrays: every finished class's images,
realness and loss history (and, in generator mode, its generator's parameters, stored as
``class<k>.generator.<i>``), and the snapshot of the class under way, which its mode writes and
reads (:class:`~augment.gantk.modes.base.Snapshot`; ``meta.current.kind`` names the mode). It is
rewritten
atomically (temporary name, then rename) after every chunk of steps, so a
kill at any moment leaves either the previous checkpoint or the new one, never a torn file.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from augment.errors import AugmentError
from augment.gantk.modes.base import ClassResult, Snapshot
from augment.io.atomic import move_into_place, remove, temporary_path

CHECKPOINT_FORMAT = "augment.checkpoint"
CHECKPOINT_VERSION = 4

SnapshotReader = Callable[[dict[str, Any], dict[str, np.ndarray]], Snapshot]
"""``read(record, arrays)``: the snapshot that ``Snapshot.to_arrays`` recorded (the mode's)."""


def checkpoint_path(target: Path) -> Path:
    """Where the checkpoint of a run writing ``target`` lives."""
    return target.with_name(target.name + ".checkpoint.npz")


def save_checkpoint(
    path: Path,
    fingerprint: str,
    finished: dict[int, ClassResult],
    current: tuple[int, Snapshot, float] | None,
) -> None:
    """Atomically write the run's progress: finished classes and (class, snapshot, seconds) under way."""
    arrays: dict[str, np.ndarray] = {}
    for k, result in finished.items():
        arrays[f"class{k}.images"] = result.images
        arrays[f"class{k}.realness"] = result.realness
        arrays[f"class{k}.loss_history"] = result.loss_history
        for i, leaf in enumerate(result.model or []):
            arrays[f"class{k}.generator.{i}"] = np.asarray(leaf)
    meta: dict[str, Any] = {
        "format": CHECKPOINT_FORMAT,
        "version": CHECKPOINT_VERSION,
        "fingerprint": fingerprint,
        "finished": {
            str(k): {
                "seconds": r.seconds,
                "generator_leaves": None if r.model is None else len(r.model),
                "gate": r.gate,
            }
            for k, r in finished.items()
        },
        "current": None,
    }
    if current is not None:
        k, snapshot, seconds = current
        meta["current"] = {"class": k, "seconds": seconds, **snapshot.to_arrays(arrays)}
    arrays["meta"] = np.array(json.dumps(meta))
    temporary = temporary_path(path)
    try:
        with open(temporary, "wb") as handle:
            np.savez(handle, **arrays)  # type: ignore[arg-type]  # numpy's stub mistakes **arrays for its flags
        move_into_place(temporary, path)
    except OSError as error:
        kept = "; the previous checkpoint is kept" if path.exists() else ""
        raise AugmentError(f"cannot write the checkpoint {path}: {error.strerror or error}{kept}") from None
    finally:
        remove(temporary)


def load_checkpoint(
    path: Path, fingerprint: str, read_snapshot: SnapshotReader
) -> tuple[dict[int, ClassResult], tuple[int, Snapshot, float] | None]:
    """Read a checkpoint written by :func:`save_checkpoint` for the run with ``fingerprint``;
    ``read_snapshot`` is the run's mode's reader of the snapshot under way."""
    if not path.is_file():
        raise AugmentError(f"the checkpoint {path} is not a file; delete it to start again")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
        meta = json.loads(str(arrays["meta"]))
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as error:
        raise AugmentError(f"cannot read the checkpoint {path} ({error}); delete it to start again") from None
    if not isinstance(meta, dict):
        raise AugmentError(f"{path} is not a checkpoint this augment can resume; delete it to start again")
    if meta.get("format") != CHECKPOINT_FORMAT or meta.get("version") != CHECKPOINT_VERSION:
        raise AugmentError(f"{path} is not a checkpoint this augment can resume; delete it to start again")
    problem = _meta_problem(meta, arrays)
    if problem:
        raise AugmentError(f"the checkpoint {path} is damaged ({problem}); delete it to start again")
    if meta["fingerprint"] != fingerprint:
        raise AugmentError(
            f"the checkpoint {path} belongs to a different run (other inputs or settings); "
            "run the original command with `resume`, or delete the checkpoint to start again"
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
                entry.get("gate"),
            )
            for k, entry in meta["finished"].items()
        }
        current = None
        if meta["current"] is not None:
            c = meta["current"]
            current = (c["class"], read_snapshot(c, arrays), c["seconds"])
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as error:
        raise AugmentError(
            f"the checkpoint {path} is incomplete ({error!r}); delete it to start again"
        ) from None
    return finished, current


def _meta_problem(meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> str | None:
    """What is wrong with a checkpoint's record and finished arrays, or None."""
    if not isinstance(meta.get("fingerprint"), str) or not isinstance(meta.get("finished"), dict):
        return "no fingerprint or finished classes"
    for k, entry in meta["finished"].items():
        if not (isinstance(k, str) and k.isdigit() and isinstance(entry, dict)):
            return f"finished class {k!r}"
        if not isinstance(entry.get("seconds"), int | float) or not (
            entry.get("generator_leaves") is None or isinstance(entry.get("generator_leaves"), int)
        ):
            return f"finished class {k}'s record"
        shapes = {name: arrays.get(f"class{k}.{name}") for name in ("images", "realness", "loss_history")}
        dims = {"images": 4, "realness": 1, "loss_history": 2}
        if any(a is None or a.ndim != dims[n] or a.dtype.kind != "f" for n, a in shapes.items()):
            return f"class {k}'s arrays"
    current = meta.get("current")
    if current is not None and not (
        isinstance(current, dict)
        and isinstance(current.get("class"), int)
        and isinstance(current.get("seconds"), int | float)
    ):
        return "the class under way"
    return None
