"""Synthesis modes behind one registry: :data:`MODES` (``direct``, ``generator``).

Every mode is a :class:`~augment.gantk.modes.base.Mode`; the run layer (:mod:`augment.run`)
asks only what that class defines. To add a mode, write a module with a ``Mode`` subclass and
register an instance here or from your own code (``docs/extending.md``).
"""

from __future__ import annotations

from augment.gantk.modes.base import ClassResult, ClassTask, MemoryNeed, Mode, Snapshot
from augment.gantk.modes.direct import DIRECT
from augment.gantk.modes.generator import GENERATOR
from augment.registry import Registry

MODES: Registry[Mode] = Registry("synthesis mode", parameter="mode")
MODES.register(DIRECT.name, DIRECT)
MODES.register(GENERATOR.name, GENERATOR)

__all__ = ["MODES", "ClassResult", "ClassTask", "MemoryNeed", "Mode", "Snapshot"]
