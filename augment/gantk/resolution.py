"""The defaults that depend on the working size, resolved in one step, with the reason for each.

A configuration leaves a size-dependent field at None: the discriminator's real side
(``augment_real_to``, both modes) and the fields its type lists in ``SIZE_DEFAULTS`` (direct
mode's ``steps`` and ``start``, generator mode's ``steps``, ``batch_size`` and ``polish_steps``),
each a :class:`SizeDefault`: one value up to :data:`~augment.parameters.SCAN_SIZE` pixels, one
above it, and why. :func:`resolve` is the one place they are decided. ``augment synth`` resolves
its configuration once, through its mode (:meth:`~augment.gantk.modes.base.Mode.resolve`, which
adds the novelty floor), and records every :class:`Decision` in the provenance (``defaults``); the
library's entry points (:func:`~augment.gantk.direct.synthesize`,
:func:`~augment.gantk.direct.multiscale.synthesize_coarse_to_fine`,
:func:`~augment.gantk.generator.train_generator`) apply the same step to a configuration given to
them unresolved. Nothing behind them decides a default again: they read the resolved fields and
:func:`check_resolved` refuses a configuration that still has a None.
"""

from __future__ import annotations

import dataclasses
from typing import Any, NamedTuple, TypeVar

from augment import parameters
from augment.errors import AugmentError


class SizeDefault(NamedTuple):
    """A default that depends on the working size: ``small`` up to
    :data:`~augment.parameters.SCAN_SIZE` pixels, ``large`` above it, and the reason for each."""

    small: Any
    large: Any
    why_small: str
    why_large: str


class Decision(NamedTuple):
    """One resolved setting: its ``name``, the ``value`` that runs, and ``why`` (``"set"`` for a
    value given by hand)."""

    name: str
    value: Any
    why: str


SET = "set"

REAL_SET = SizeDefault(
    parameters.AUGMENT_REAL_TO,
    0,
    "the discriminator's real side is posed copies of the real images, so the target is the class "
    "under small pose changes rather than the few images themselves",
    "the discriminator's real side is the real images themselves: against posed copies of a scan the "
    "image that scores real is their blurred average, and the novelty floor is the copy guard",
)
"""``augment_real_to``, both modes' real side of the loss."""

Config = TypeVar("Config")


def size_defaults(config: Any) -> dict[str, SizeDefault]:
    """Every size-dependent field of ``config`` (either mode's) and its rule."""
    return {"augment_real_to": REAL_SET, **getattr(type(config), "SIZE_DEFAULTS", {})}


def resolve(config: Config, image_size: int) -> tuple[Config, tuple[Decision, ...]]:
    """``config`` with every size-dependent field left at None decided for a working size of
    ``image_size`` pixels (a value set by hand is kept), and one :class:`Decision` per such
    field, in :func:`size_defaults` order."""
    scan = image_size > parameters.SCAN_SIZE
    where = f"above {parameters.SCAN_SIZE} px" if scan else f"up to {parameters.SCAN_SIZE} px"
    chosen: dict[str, Any] = {}
    decisions = []
    for name, rule in size_defaults(config).items():
        value = getattr(config, name)
        if value is None:
            value = chosen[name] = rule.large if scan else rule.small
            why = f"{where}: {rule.why_large if scan else rule.why_small}"
        else:
            why = SET
        decisions.append(Decision(name, value, why))
    resolved = dataclasses.replace(config, **chosen) if chosen else config  # type: ignore[type-var]
    return resolved, tuple(decisions)


def at_size(config: Config, image_size: int) -> Config:
    """``config`` resolved for ``image_size`` pixels (:func:`resolve`), without the reasons."""
    return resolve(config, image_size)[0]


def check_resolved(config: Any) -> None:
    """Refuse a configuration with a size-dependent field still at None, naming the fields."""
    missing = [name for name in size_defaults(config) if getattr(config, name) is None]
    if missing:
        names = ", ".join(f"`{name}`" for name in missing)
        raise AugmentError(
            f"{names} depend{'s' if len(missing) == 1 else ''} on the working size: resolve the "
            "configuration first (augment.gantk.resolution.at_size)"
        )
