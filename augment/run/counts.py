"""How many synthetic images each class gets: ``n`` split by the real counts, or ``per_class``."""

from __future__ import annotations

import math

from augment import parameters
from augment.errors import AugmentError

MAX_SYNTHETIC = 1_000_000  # more images per run is a mistake, not a request (weeks on a CPU)


def check_count_options(n: int | None, per_class: int | None) -> None:
    """``n`` / ``per_class`` on their own, before any work: from 1 to :data:`MAX_SYNTHETIC`,
    not both."""
    if per_class is not None:
        if n is not None:
            raise AugmentError("give `n` or `per_class`, not both")
        if per_class < 1:
            raise AugmentError(f"`per_class` must be at least 1, got {per_class}")
        if per_class > MAX_SYNTHETIC:
            raise AugmentError(f"`per_class` must be at most {MAX_SYNTHETIC}, got {per_class}")
    elif n is not None and n < 1:
        raise AugmentError(f"`n` must be at least 1, got {n}")
    elif n is not None and n > MAX_SYNTHETIC:
        raise AugmentError(f"`n` must be at most {MAX_SYNTHETIC}, got {n}")


def split_across_classes(total: int, real_counts: list[int]) -> list[int]:
    """Split ``total`` images in proportion to the real counts, at least one per class.

    Largest-remainder rounding, so the parts add up to ``total`` (or to the number of classes
    when ``total`` is smaller than that).
    """
    check_count_options(total, None)
    k = len(real_counts)
    if total <= k:
        return [1] * k
    spare = total - k  # one per class is already given
    shares = [spare * c / sum(real_counts) for c in real_counts]
    parts = [math.floor(s) for s in shares]
    by_remainder = sorted(range(k), key=lambda i: shares[i] - parts[i], reverse=True)
    for i in by_remainder[: spare - sum(parts)]:
        parts[i] += 1
    return [p + 1 for p in parts]


def synthetic_counts(n: int | None, per_class: int | None, real_counts: list[int]) -> list[int]:
    """Images per class for ``n`` (split by the real counts, default :data:`~augment.parameters.DEFAULT_N`) or
    ``per_class``."""
    check_count_options(n, per_class)
    if per_class is not None:
        if per_class * len(real_counts) > MAX_SYNTHETIC:
            raise AugmentError(
                f"`per_class={per_class}` over {len(real_counts)} classes is more than {MAX_SYNTHETIC} images"
            )
        return [per_class] * len(real_counts)
    return split_across_classes(parameters.DEFAULT_N if n is None else n, real_counts)
