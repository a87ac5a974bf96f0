"""Everything decided before the real images are used: the checked request (:class:`Checked`),
then the run's plan (:class:`RunPlan`): the configuration to run, fitted to the memory budget,
and where its problems run.

The request is never rewritten: batches lowered to fit the budget live in ``RunPlan.config``,
beside what was asked (``Checked.config``), and both go into the provenance.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jax
import numpy as np
from jax.experimental import multihost_utils

from augment import parameters
from augment.errors import AugmentError, one_of
from augment.gantk.memory import MemoryPlan, default_budget, format_bytes, parse_memory, plan_memory
from augment.gantk.modes import MODES, Mode
from augment.gantk.placement import Placement, own_devices
from augment.io.atomic import Target, check_apart
from augment.io.saved_generator import check_generator_target
from augment.io.writers import check_target, resolve_format
from augment.run.checkpoint import checkpoint_path
from augment.run.counts import check_count_options
from augment.run.devices import check_precision, resolve_device, resolve_devices
from augment.run.request import Log, SynthRequest
from augment.run.seed import check_seed


def default_size_cap(platform: str) -> int:
    """The largest default working size on ``platform``: :data:`~augment.parameters.CPU_SIZE_CAP`
    on a CPU (its time for 500 MRI slices: benchmarks/RESULTS.md), the accelerator cap on a GPU."""
    return parameters.CPU_SIZE_CAP if platform == "cpu" else parameters.ACCELERATOR_SIZE_CAP


@dataclass(frozen=True)
class Checked:
    """A request checked before anything is read or computed.

    Attributes:
      out, format: the output path and its format's name; target: what was at ``out`` when checked.
      model_target: with ``save_generator``, what was at that path when checked (else None).
      mode: the synthesis mode; config: its configuration as asked (defaults filled in).
      devices: the devices of every process; budget: bytes per device (None: unknown).
    """

    out: Path
    format: str
    target: Target
    model_target: Target | None
    mode: Mode
    config: Any
    devices: list[jax.Device]
    budget: int | None


def check_request(request: SynthRequest) -> Checked:
    """Everything that can be checked before reading or computing (an AugmentError otherwise)."""
    mode = MODES[request.mode]
    config = mode.configure({}) if request.config is None else request.config
    if not isinstance(config, mode.config_type):
        raise AugmentError(
            f"`config` is a {type(config).__name__}; {mode.name} mode takes a {mode.config_type.__name__}"
        )
    model_target = None
    if request.save_generator is not None:
        if not mode.trains_model:
            trainers = one_of([f"`mode={name}`" for name, m in MODES.items() if m.trains_model])
            raise AugmentError(f"`save_generator` needs {trainers} ({mode.name} mode trains no generator)")
        model_target = check_generator_target(Path(request.save_generator), request.overwrite)
    out = Path(request.out)
    input_folder = Path(request.input_folder)
    check_apart(out, "out", {"input folder": input_folder})
    fmt = resolve_format(out, request.format)
    at = check_target(out, fmt, request.overwrite)
    if request.save_generator is not None:
        check_apart(
            Path(request.save_generator), "save_generator", {"input folder": input_folder, "output": out}
        )
    parameters.PARAMETERS["novelty_floor"].check(request.novelty_floor)
    minimum = config.discriminator.min_size
    if request.size is not None and request.size > parameters.MAX_SIZE:
        raise AugmentError(
            f"`size={request.size}` is too large: augment works at "
            f"{parameters.MAX_SIZE}x{parameters.MAX_SIZE} at most"
        )
    if request.size is not None and request.size < minimum:
        raise AugmentError(
            f"`size={request.size}` is too small for the "
            f"{config.discriminator.resolved(request.size, 1)} discriminator "
            f"(it needs at least {minimum}); pass `size={minimum}` or larger"
        )
    devices = resolve_devices(resolve_device(request.device), request.devices)
    budget = parse_memory(request.memory) if request.memory is not None else default_budget(devices)
    if jax.process_count() > 1:  # every process must choose the same batches: process 0's budget
        budget = int(multihost_utils.broadcast_one_to_all(np.int64(-1 if budget is None else budget)))
        budget = None if budget < 0 else budget
    check_precision(config.discriminator.matmul_precision, devices[0].platform)
    parameters.PARAMETERS["checkpoint_every"].check(request.checkpoint_every)
    check_count_options(request.n, request.per_class)
    check_seed(request.seed)
    if checkpoint_path(out).exists() and not request.resume:
        raise AugmentError(
            f"{checkpoint_path(out)} holds an interrupted run; pass `resume` to continue it, "
            "or delete it to start again"
        )
    return Checked(out, fmt, at, model_target, mode, config, devices, budget)


@dataclass(frozen=True)
class RunPlan:
    """How the run computes: the configuration it runs (batches fitted to the budget), where its
    problems run, and the memory estimate behind both.

    Attributes:
      config: the mode's configuration as run; it decides the result, so the checkpoint's
        fingerprint is taken from it (a run resumes only with the same batches).
      placement: the devices and problems per device.
      memory: the memory planner's answer.
      lowered: the batches lowered to fit the budget ("synthetic"/"real" -> size).
    """

    config: Any
    placement: Placement
    memory: MemoryPlan
    lowered: dict[str, int]


def plan_run(
    checked: Checked,
    image_shape: tuple[int, int, int],
    real_counts: list[int],
    counts: list[int],
    fixed_batches: frozenset[str],
    log: Log,
) -> RunPlan:
    """Batch sizes that fit the memory budget, and how many problems run at once on each device."""
    mode, config, devices, budget = checked.mode, checked.config, checked.devices, checked.budget
    need = mode.memory_need(config, real_counts, counts, devices[0].platform, len(devices))
    if need.one_device:
        devices = own_devices(devices)[:1]
    real_batch = config.discriminator.real_batch_size
    memory = plan_memory(
        config.discriminator.architecture,
        image_shape,
        need.n_real_total,
        real_batch,
        need.synthetic_batch,
        budget=budget,
        gram_rows=need.gram_rows,
        fixed_synthetic="synthetic" in fixed_batches,
        fixed_real="real" in fixed_batches,
        max_lanes=need.max_lanes,
    )
    lowered = {}
    if memory.synthetic_batch < need.synthetic_batch:
        lowered["synthetic"] = memory.synthetic_batch
    if memory.real_batch < min(real_batch, need.n_real_total):
        lowered["real"] = memory.real_batch
    if lowered:
        log(
            "warning",
            f"to fit the {format_bytes(budget or 0)} memory budget per device (`memory`), lowered "
            + " and ".join(f"the {name} batch to {size}" for name, size in lowered.items()),
        )
        config = mode.with_batches(config, lowered.get("synthetic"), lowered.get("real"))
    placement = Placement(tuple(devices), memory.lanes_per_device)
    log(
        "info",
        f"{placement.lanes} problem(s) at once on {len(devices)} device(s); a device needs about "
        f"{format_bytes(memory.per_device)}" + (f" of its {format_bytes(budget)} budget" if budget else ""),
    )
    return RunPlan(config, placement, memory, lowered)
