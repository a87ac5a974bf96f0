"""JSON that strict parsers accept: a non-finite float (NaN, infinity) is written as ``null``.

Python's ``json`` writes ``NaN`` and ``Infinity`` by default, which JavaScript, jq and most other
parsers reject. Every JSON augment writes (provenance, manifests, reports, ``--json`` output) goes
through :func:`dumps`; readers turn ``null`` back into NaN where a number is expected
(:func:`number`).
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np


def finite_or_none(value: Any) -> Any:
    """``value`` with every non-finite float (also inside dicts, lists, tuples) replaced by None."""
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite_or_none(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite_or_none(v) for v in value]
    return value


def dumps(value: Any, **options: Any) -> str:
    """``json.dumps`` of ``value`` with non-finite floats as ``null`` (never NaN or Infinity)."""
    return json.dumps(finite_or_none(value), allow_nan=False, **options)


def number(value: Any) -> float:
    """A float read back from JSON: ``null`` is NaN."""
    return math.nan if value is None else float(value)
