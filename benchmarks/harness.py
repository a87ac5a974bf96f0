"""What every benchmark shares: where a result came from (the commit, the machine, the command)
and how it is stored, so that a figure in RESULTS.md can be traced and remade.

    result = {...}
    save(result, args.out)   # adds "made": commit, dirty, machine, command, date

and what the seeded comparisons share: :data:`SEEDS`, :class:`Timer`, and the :class:`Methods`
registry a benchmark declares its methods in.

Benchmarks import it by name (they run as scripts from the repository root: ``benchmarks/`` is on
``sys.path``).
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import pathlib
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

ROOT = pathlib.Path(__file__).resolve().parent.parent


def commit() -> dict[str, Any]:
    """The repository's commit and whether the working tree had changes; outside git (a snapshot
    made with ``git archive``, so that edits do not disturb a long run) the commit named by
    ``$BENCHMARK_COMMIT``, else None."""
    if not (ROOT / ".git").exists():
        return {"commit": os.environ.get("BENCHMARK_COMMIT"), "dirty": None}
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT, capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return {"commit": None, "dirty": None}
    return {"commit": head, "dirty": bool(dirty)}


def machine() -> dict[str, Any]:
    """The processor, its cores, the operating system and the JAX devices a run used."""
    model = platform.processor() or platform.machine()
    try:
        for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import jax

    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "system": platform.platform(),
        "python": platform.python_version(),
        "jax": jax.__version__,
        "devices": [str(d) for d in jax.devices()],
    }


def made() -> dict[str, Any]:
    """The record of where a result came from."""
    return {
        **commit(),
        "machine": machine(),
        "command": " ".join([".venv/bin/python", *sys.argv]),
        "date": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
    }


def write(result: dict[str, Any], out: str | pathlib.Path | None) -> dict[str, Any]:
    """``result`` with its ``made`` record, written as JSON to ``out`` (when given)."""
    stamped = {**result, "made": made()}
    if out is not None:
        pathlib.Path(out).write_text(json.dumps(stamped, indent=1) + "\n")
    return stamped


def save(result: dict[str, Any], out: str | pathlib.Path | None) -> dict[str, Any]:
    """As :func:`write`, and printed."""
    stamped = write(result, out)
    print(json.dumps(stamped, indent=1))
    return stamped


SEEDS = (0, 1, 2, 3, 4)
"""The seeds every seeded benchmark runs over unless told otherwise."""


class Timer:
    """Wall-clock seconds of a ``with`` block: ``with Timer() as timer: ...; timer.seconds``."""

    seconds: float = 0.0

    def __enter__(self) -> Timer:
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self._start


@dataclass(frozen=True)
class Method:
    """One way of making extra training images, as a benchmark compares them.

    ``make(real, labels, count, seed)`` returns ``(images, labels)`` or ``(images, labels,
    seconds)`` (the seconds when the images took longer to make than the call, e.g. reused ones);
    None makes nothing (the real-only baseline)."""

    name: str
    make: Callable[..., tuple] | None
    count: int
    what: str


class Methods(dict[str, Method]):
    """A registry of :class:`Method` by name, in the order they were added: one ``add`` per
    method, so that a benchmark's ``--methods`` choices, its rows and its tables come from one
    place."""

    def add(self, name: str, make: Callable[..., tuple] | None, count: int, what: str) -> None:
        if name in self:
            raise ValueError(f"method {name!r} is already registered")
        self[name] = Method(name, make, count, what)
