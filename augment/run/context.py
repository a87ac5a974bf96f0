"""What the stages of one ``augment synth`` run share: :class:`RunContext`."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass

import numpy as np

from augment.gantk.resolution import Decision
from augment.io.folder import RealDataset
from augment.run.plan import Checked, RunPlan
from augment.run.request import Log, SynthRequest


@dataclass(frozen=True)
class RunContext:
    """One run, checked, read and planned (:func:`augment.run.synth.prepare`), as the later stages
    (synthesis, assembly, publishing) and the provenance see it.

    Attributes:
      request: what was asked.
      checked: the request as checked, its configuration sized for the working size.
      plan: the configuration as run (batches fitted to the memory budget) and its placement.
      dataset: the real images at the working size.
      counts: synthetic images per class.
      image_shape: (S, S, C), the working size and channels.
      novelty_floor: the novelty floor in force (a percentile), and ``floor_distance`` the RMS
        distance it gives on ``real_stored`` (None without a reference).
      defaults: every setting that depends on the working size, and the novelty floor, as run
        and why (:meth:`~augment.gantk.modes.base.Mode.resolve`; ``"set"`` where asked for).
      real_stored: (R, S, S, C) the real images as the output stores them.
      fingerprint: what the run computes (a checkpoint resumes only the same one).
      started: when the run started (UTC).
      say: the run's log.
    """

    request: SynthRequest
    checked: Checked
    plan: RunPlan
    dataset: RealDataset
    counts: list[int]
    image_shape: tuple[int, int, int]
    novelty_floor: float
    floor_distance: float | None
    defaults: tuple[Decision, ...]
    real_stored: np.ndarray
    fingerprint: str
    started: _dt.datetime
    say: Log
