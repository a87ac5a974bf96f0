"""How much memory a GA-NTK step needs, and batch sizes that fit a budget.

The largest buffers of a step are the per-pair, per-position kernel maps of the convolutional
layers (forward values kept for the backward pass): one float per (real, synthetic) and
(synthetic, synthetic) pair at every position of every convolution's output. Next come the
first layer's image patches, and the (n_r + n_s)^2 Gram matrix with its eigendecomposition.
:func:`step_bytes` is a linear model in those three counts, fitted to the temporary-buffer sizes
XLA reports for the compiled chunk (``compiled.memory_analysis()``) and raised by a margin, so
that it is an upper bound. How far above XLA's own figure it lies, by configuration, is
measured by ``benchmarks/memory_fit.py`` (``benchmarks/RESULTS.md``); ``tests/test_scale.py``
checks that it stays above XLA's figure on configurations it was not fitted to.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass

import jax

from augment.errors import AugmentError
from augment.gantk.architectures import ARCHITECTURES, resolve

FLOAT = 4  # bytes, float32
# Fitted bytes per: pair-position float, first-layer patch float, Gram entry; and a fixed part.
PER_PAIR_POSITION = 6.52
PER_PATCH_VALUE = 2.41
PER_GRAM_ENTRY = 2.84
FIXED = 450_000
MARGIN = 1.15  # over the fitted model
GRAM_FORWARD_SHARE = 0.55  # of a step's bytes, for the forward-only Gram matrix
BUDGET_SHARE = 0.9  # of the free memory, by default
MIN_SYNTHETIC_BATCH = 8
MIN_REAL_BATCH = 32
MAX_LANES_PER_DEVICE = 16

_UNITS = {"": 1, "b": 1, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40}


def parse_memory(text: str) -> int:
    """``"8GiB"``, ``"512M"``, ``"1.5 GB"`` -> bytes (binary units: 1 G = 2**30 bytes)."""
    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([kmgt]?)(i?b)?\s*", text.lower())
    if not match or float(match.group(1)) <= 0:
        raise AugmentError(f"`memory` must be a size such as 8GiB or 512MiB, got {text!r}")
    return int(float(match.group(1)) * _UNITS[match.group(2)])


def format_bytes(count: float) -> str:
    return f"{count / 2**20:,.0f} MiB" if count < 2**30 else f"{count / 2**30:.1f} GiB"


def conv_positions(architecture: str, image_size: int, channels: int = 1) -> int:
    """Output positions summed over the convolutions (each halves the size, SAME padding)."""
    positions, size = 0, image_size
    for _ in ARCHITECTURES[resolve(architecture, image_size, channels)].convolutions(image_size):
        size = math.ceil(size / 2)
        positions += size * size
    return positions


def step_bytes(architecture: str, image_shape: tuple[int, int, int], n_real: int, n_synthetic: int) -> int:
    """Peak temporary memory of one problem's chunk of steps (bytes, with the margin).

    Args:
      architecture: a key of :data:`~augment.gantk.architectures.ARCHITECTURES`.
      image_shape: (S, S, C) working size.
      n_real, n_synthetic: the real and synthetic batch of the problem.
    """
    size, _, channels = image_shape
    pairs = (n_real * n_synthetic + n_synthetic * n_synthetic) * conv_positions(architecture, size, channels)
    first = math.ceil(size / 2) ** 2
    patches = (n_real + n_synthetic) * first * 16 * channels
    model = (
        PER_PAIR_POSITION * pairs * FLOAT
        + PER_PATCH_VALUE * patches * FLOAT
        + PER_GRAM_ENTRY * (n_real + n_synthetic) ** 2 * FLOAT
        + FIXED
    )
    return int(MARGIN * model)


def resident_bytes(image_shape: tuple[int, int, int], n_real_total: int) -> int:
    """What a device keeps while the problems run: the real set and its Gram matrix."""
    return n_real_total * math.prod(image_shape) * FLOAT + n_real_total**2 * FLOAT


def gram_building_bytes(
    architecture: str, image_shape: tuple[int, int, int], n_real_total: int, gram_rows: int
) -> int:
    """Peak of computing the real set's Gram matrix ``gram_rows`` rows at a time (before the
    problems run): forward only, counted as :data:`GRAM_FORWARD_SHARE` of :func:`step_bytes` for
    the same batches (docs/design.md, "Devices and memory")."""
    return int(
        GRAM_FORWARD_SHARE * step_bytes(architecture, image_shape, n_real_total, min(gram_rows, n_real_total))
    )


def free_bytes(device: jax.Device) -> int | None:
    """Free memory of ``device``: the allocator's limit minus its use on an accelerator, the
    available host memory on a CPU (shared by the host's CPU devices); None if unknown."""
    stats = device.memory_stats() if device.platform != "cpu" else None
    if stats and "bytes_limit" in stats:
        return int(stats["bytes_limit"] - stats.get("bytes_in_use", 0))
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def default_budget(devices: list[jax.Device]) -> int | None:
    """Per-device budget: a share of the first device's free memory (divided among CPU devices,
    which share the host's memory)."""
    free = free_bytes(devices[0])
    if free is None:
        return None
    sharing = len(devices) if devices[0].platform == "cpu" else 1
    return int(BUDGET_SHARE * free / sharing)


@dataclass(frozen=True)
class MemoryPlan:
    """Batch sizes and lanes that fit the budget, and what they need per device (bytes)."""

    real_batch: int
    synthetic_batch: int
    lanes_per_device: int
    per_device: int
    budget: int | None


def plan_memory(
    architecture: str,
    image_shape: tuple[int, int, int],
    n_real_total: int,
    real_batch: int,
    synthetic_batch: int,
    *,
    budget: int | None,
    gram_rows: int,
    fixed_synthetic: bool = False,
    fixed_real: bool = False,
    max_lanes: int = 1,
) -> MemoryPlan:
    """The largest batches (at most those asked for) and lanes per device that fit ``budget``.

    Batches shrink by halving, the synthetic one first (down to 8), then the real one (down to
    32), each unless fixed (the user chose it). Lanes (problems batched on one device) grow up
    to ``max_lanes`` while they fit. Without a budget (unknown free memory) nothing changes.

    Args:
      n_real_total: the real set a class's real batches are drawn from (after augmentation).
      gram_rows: rows of the real set's Gram matrix computed at once.

    Raises:
      AugmentError: nothing fits; the message says what the smallest step needs and what to lower.
    """
    real_batch = min(real_batch, n_real_total)

    resident = resident_bytes(image_shape, n_real_total)
    building = gram_building_bytes(architecture, image_shape, n_real_total, gram_rows)

    def need(real: int, synthetic: int, lanes: int) -> int:
        state = 3 * synthetic * math.prod(image_shape) * FLOAT * 2  # pixels + Adam moments, in and out
        per_lane = step_bytes(architecture, image_shape, real, synthetic) + state
        return resident + max(building, lanes * per_lane)

    if budget is None:
        return MemoryPlan(real_batch, synthetic_batch, 1, need(real_batch, synthetic_batch, 1), None)
    while need(real_batch, synthetic_batch, 1) > budget:
        if synthetic_batch > MIN_SYNTHETIC_BATCH and not fixed_synthetic:
            synthetic_batch = max(MIN_SYNTHETIC_BATCH, synthetic_batch // 2)
        elif real_batch > MIN_REAL_BATCH and not fixed_real:
            real_batch = max(MIN_REAL_BATCH, real_batch // 2)
        else:
            break
    if need(real_batch, synthetic_batch, 1) > budget:
        size, _, channels = image_shape
        step = need(real_batch, synthetic_batch, 1) - resident
        if building >= step:  # the real set's Gram matrix, not the batches, is what does not fit
            what = f"the Gram matrix of a real set of {n_real_total}"
            lower = ["`augment_real_to`", "`size`"]
        else:
            what = f"a step with a real batch of {real_batch} and a synthetic batch of {synthetic_batch}"
            fixed = (("`batch_size`", fixed_synthetic), ("`real_batch_size`", fixed_real))
            lower = [option for option, chosen in fixed if chosen] + ["`size`"]
        raise AugmentError(
            f"GA-NTK synthesis at {size}x{size}x{channels} needs about "
            f"{format_bytes(need(real_batch, synthetic_batch, 1))} per device for {what}, more than the "
            f"{format_bytes(budget)} memory budget; lower {', '.join(lower)} or raise `memory`"
        )
    lanes = 1
    while lanes < max_lanes and need(real_batch, synthetic_batch, lanes + 1) <= budget:
        lanes += 1
    return MemoryPlan(real_batch, synthetic_batch, lanes, need(real_batch, synthetic_batch, lanes), budget)
