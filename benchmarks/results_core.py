"""What every part of the results generator shares (:mod:`results`): a stored result file
(:class:`Source`), a question it answers (:class:`Question`), and the helpers tables are made with."""

from __future__ import annotations

import json
import math
import pathlib
import re
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass

HERE = pathlib.Path(__file__).resolve().parent
RESULTS = HERE / "RESULTS.md"
NOTES = HERE / "notes"  # what was concluded from each question's data (Question.notes)
WIDTH = 100  # the prose's line length


@dataclass(frozen=True)
class Source:
    """One stored result file (relative to ``benchmarks/``) and what a table takes from it.

    ``label`` names its row where a file is one row; ``methods`` picks rows of a file that holds
    several methods; ``measured`` says when and on what a file made before results recorded their
    provenance (``made``) was measured."""

    path: str
    label: str = ""
    methods: tuple[str, ...] | None = None
    measured: str = ""


@dataclass(frozen=True)
class Question:
    title: str
    about: str
    commands: tuple[str, ...]
    sources: tuple[Source, ...]
    table: Callable[[Sequence[tuple[Source, dict]]], str]

    @property
    def notes(self) -> pathlib.Path:
        """Where what was concluded from its data lives: ``notes/<the title, lower case, dashed>.md``,
        a list written by hand with the result it speaks of (none: no notes)."""
        return NOTES / (re.sub(r"[^a-z0-9]+", "-", self.title.lower()).strip("-") + ".md")


def load(source: Source) -> dict:
    return json.loads((HERE / source.path).read_text())


def measured(source: Source, data: dict) -> str:
    """``date, commit, processor (cores)`` of a result, from its ``made`` record."""
    made = data.get("made")
    if made is None:
        return source.measured or "not recorded"
    commit = (made.get("commit") or "?")[:7] + ("+" if made.get("dirty") else "")
    machine = made.get("machine") or {}
    where = f"{machine.get('cpu', '?')} ({machine.get('cores', '?')} cores)"
    return f"{made.get('date', '?')[:10]}, {commit}, {where}"


def markdown(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def mean_se(values: Sequence[float]) -> tuple[float, float]:
    """Mean and its standard error (0 for one value)."""
    if len(values) < 2:
        return values[0], 0.0
    return statistics.mean(values), statistics.stdev(values) / math.sqrt(len(values))


def pair(values: Sequence[float], digits: int = 2, sign: bool = False) -> str:
    mean, se = mean_se(values)
    return f"{mean:+.{digits}f} ± {se:.{digits}f}" if sign else f"{mean:.{digits}f} ± {se:.{digits}f}"


# ----------------------------------------------------------------------------- digits
