"""Where a generator's training stands, as a snapshot that a checkpoint stores and a resumed run
continues bit for bit (:func:`augment.gantk.generator.training.train_generator`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass
class GeneratorSnapshot:
    """The training state (numpy leaves, ``jax.tree_util`` order) and losses so far, to resume."""

    state: list[np.ndarray]
    history: list[float]
    level: int = 0  # the level of :func:`generator_schedule` under way (its state)

    @property
    def milestone(self) -> bool:
        """False: a generator has no finished part before its end, so every save of its training
        is rationed by time alone (direct mode's snapshots mark a finished problem)."""
        return False

    def to_arrays(self, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
        """Put the state's leaves into ``arrays`` (keys ``current.state.*``); return the record."""
        for i, leaf in enumerate(self.state):
            arrays[f"current.state.{i}"] = np.asarray(leaf)
        return {
            "kind": "generator",
            "state_leaves": len(self.state),
            "history": list(self.history),
            "level": self.level,
        }

    @classmethod
    def from_arrays(cls, record: dict[str, Any], arrays: dict[str, np.ndarray]) -> GeneratorSnapshot:
        """The snapshot that :meth:`to_arrays` recorded (one without a level: level 0)."""
        if record.get("kind") != "generator":
            raise ValueError(f"the snapshot under way is of mode {record.get('kind')!r}, not generator")
        leaves = [arrays[f"current.state.{i}"] for i in range(record["state_leaves"])]
        return cls(leaves, record["history"], int(record.get("level", 0)))
