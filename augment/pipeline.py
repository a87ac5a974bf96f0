"""``augment synth`` as a library call: read a folder, solve one GA-NTK problem set per class (direct
mode) or train one generator per class and sample it (generator mode), write the dataset with its
provenance, checkpointing as it goes so an interrupted run resumes."""

from __future__ import annotations

import dataclasses
import datetime as _dt
import hashlib
import itertools
import json
import math
import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import jax
import numpy as np
from jax.experimental import multihost_utils

import augment
from augment.checkpoint import (
    ClassResult,
    checkpoint_path,
    load_checkpoint,
    save_checkpoint,
)
from augment.data import RealDataset, load_folder
from augment.errors import AugmentError
from augment.gantk import ARCHITECTURES, SynthesisConfig, SynthesisSnapshot, plan_problems, synthesize
from augment.gantk.direct import GRAM_BLOCK
from augment.gantk.generator import (
    GeneratorConfig,
    GeneratorSnapshot,
    TrainedGenerator,
    generate,
    parameter_layout,
    train_generator,
)
from augment.gantk.memory import (
    MAX_LANES_PER_DEVICE,
    MemoryPlan,
    default_budget,
    format_bytes,
    parse_memory,
    plan_memory,
)
from augment.gantk.placement import Placement, own_devices
from augment.gantk.saved import check_generator_target, save_generators
from augment.ntk.stax import EMULATED
from augment.output import (
    FORMAT_NAME,
    FORMAT_VERSION,
    SyntheticDataset,
    check_target,
    from_integer_pixels,
    resolve_format,
    to_integer_pixels,
    write_output,
)
from augment.quality import NEAR_COPY_PERCENTILE, leave_one_out_threshold, privacy

DEFAULT_N = 500
NEAR_COPY_WARNING = 0.05  # warn when more than this fraction of the images are near-copies
DEVICES = ("auto", "cpu", "gpu")
MODES = ("direct", "generator")


def split_across_classes(total: int, real_counts: list[int]) -> list[int]:
    """Split ``total`` images in proportion to the real counts, at least one per class.

    Largest-remainder rounding, so the parts add up to ``total`` (or to the number of classes
    when ``total`` is smaller than that).
    """
    if total < 1:
        raise AugmentError(f"--n must be at least 1, got {total}")
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


def resolve_device(name: str) -> jax.Device:
    """``auto`` (JAX's default device), ``cpu`` or ``gpu``; a clear error when there is no GPU."""
    if name not in DEVICES:
        raise AugmentError(f"--device must be auto, cpu or gpu, got {name!r}")
    if name == "auto":
        return jax.local_devices()[0]
    try:
        return jax.local_devices(backend=name)[0]
    except (RuntimeError, IndexError):
        raise AugmentError(
            f"--device {name}: JAX finds no {name.upper()} on this machine "
            "(install JAX's CUDA build as the README says, or use --device cpu)"
        ) from None


def resolve_devices(device: jax.Device, count: str) -> list[jax.Device]:
    """``--devices N|all``: the first N (or all) devices of ``device``'s platform on every process.

    With several processes (``jax.distributed``), N counts each process's own devices.
    """
    local = jax.local_devices(backend=device.platform)
    if count == "all":
        wanted = len(local)
    else:
        try:
            wanted = int(count)
        except ValueError:
            raise AugmentError(f"--devices must be a number or all, got {count!r}") from None
        if wanted < 1:
            raise AugmentError(f"--devices must be at least 1, got {wanted}")
        if wanted > len(local):
            hint = (
                " (on a CPU, XLA_FLAGS=--xla_force_host_platform_device_count=N splits it into N devices)"
                if device.platform == "cpu"
                else ""
            )
            raise AugmentError(
                f"--devices {wanted}: this machine has {len(local)} {device.platform.upper()} "
                f"device{'s' if len(local) != 1 else ''}{hint}"
            )
    everyone = sorted(jax.devices(device.platform), key=lambda d: (d.process_index, d.id))
    by_process = itertools.groupby(everyone, key=lambda d: d.process_index)
    return [d for _, devices in by_process for d in list(devices)[:wanted]]


def join_distributed() -> None:
    """Join a multi-host run: ``jax.distributed.initialize()``, which finds the coordinator, the
    process count and this process's index from SLURM, Open MPI or Kubernetes (JobSet), or from
    ``JAX_COORDINATOR_ADDRESS``, ``JAX_NUM_PROCESSES`` and ``JAX_PROCESS_ID`` (the last two read
    here: JAX itself reads only the first). Must run before anything else uses JAX. On CPUs the
    processes exchange results through gloo."""
    explicit = {}
    for variable, argument in (("JAX_NUM_PROCESSES", "num_processes"), ("JAX_PROCESS_ID", "process_id")):
        if os.environ.get(variable):
            try:
                explicit[argument] = int(os.environ[variable])
            except ValueError:
                raise AugmentError(f"--distributed: {variable} must be a whole number, got {os.environ[variable]!r}") from None
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    try:
        jax.distributed.initialize(**explicit)
    except (ValueError, RuntimeError) as error:
        raise AugmentError(
            f"--distributed: could not join the run ({str(error).splitlines()[0]}); start every process "
            "under SLURM or Kubernetes, or set JAX_COORDINATOR_ADDRESS, JAX_NUM_PROCESSES and JAX_PROCESS_ID"
        ) from None


@dataclass(frozen=True)
class SynthRequest:
    """Everything ``augment synth`` was asked for (the CLI builds one from its options).

    ``mode`` picks which configuration is used: ``config`` in direct mode, ``generator`` in
    generator mode; ``save_generator`` (generator mode only) is a folder to keep the trained
    generators in (see :mod:`augment.gantk.saved`).

    ``devices`` (a count or "all") spreads a class's synthetic batches over that many devices of
    the ``device`` platform. ``memory`` is the per-device budget ("8GiB"; default: most of the
    free memory): the batch sizes of the active configuration are upper bounds, halved until a
    step fits, except those named in ``fixed_batches`` ("synthetic", "real": the user chose them).
    """

    input_folder: Path
    out: Path
    config: SynthesisConfig = SynthesisConfig()
    mode: str = "direct"
    generator: GeneratorConfig = GeneratorConfig()
    save_generator: Path | None = None
    format: str | None = None
    n: int | None = None
    per_class: int | None = None
    size: int | None = None
    channels: str = "auto"
    seed: int = 0
    device: str = "auto"
    devices: str = "all"
    memory: str | None = None
    fixed_batches: frozenset[str] = frozenset()
    overwrite: bool = False
    resume: bool = False
    on_bad_file: str = "fail"
    checkpoint_seconds: float = 10.0
    command_line: tuple[str, ...] = ()


@dataclass
class ClassSummary:
    class_name: str
    real: int
    synthetic: int
    final_loss: float
    seconds: float


@dataclass
class SynthReport:
    """What a finished run wrote."""

    out: Path
    format: str
    classes: list[ClassSummary]
    skipped: list[tuple[str, str]]  # (path, reason)
    resumed: bool
    saved_generator: Path | None = None


ClassProgress = Callable[[str, int, int, int, int, float], None]
"""``progress(class_name, steps_done, steps_total, problems_done, problems, loss)``: steps over
all the class's synthetic batches (direct) or of its generator (one problem)."""

Log = Callable[[str, str], None]
"""``log(level, message)`` with level "warning" (always shown) or "info" (shown with --verbose)."""


def versions() -> dict[str, str]:
    """Versions of augment, Python and the libraries that decide what is computed and written."""
    versions = {"augment": augment.__version__, "python": platform.python_version()}
    for package in ("jax", "jaxlib", "numpy", "optax", "h5py", "pillow", "pydicom"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return versions


def platform_description() -> str:
    """The operating system and machine, as provenance records them."""
    return f"{platform.system()} {platform.machine()} ({sys.platform})"


def check_count_options(n: int | None, per_class: int | None) -> None:
    """``--n`` / ``--per-class`` on their own, before any work: at least 1, not both."""
    if per_class is not None:
        if n is not None:
            raise AugmentError("give --n or --per-class, not both")
        if per_class < 1:
            raise AugmentError(f"--per-class must be at least 1, got {per_class}")
    elif n is not None and n < 1:
        raise AugmentError(f"--n must be at least 1, got {n}")


def synthetic_counts(n: int | None, per_class: int | None, real_counts: list[int]) -> list[int]:
    """Images per class for ``--n`` (split by the real counts, default 500) or ``--per-class``."""
    check_count_options(n, per_class)
    if per_class is not None:
        return [per_class] * len(real_counts)
    return split_across_classes(DEFAULT_N if n is None else n, real_counts)


def _active_config(request: SynthRequest) -> SynthesisConfig | GeneratorConfig:
    return request.generator if request.mode == "generator" else request.config


def _fingerprint(request: SynthRequest, dataset: RealDataset, counts: list[int]) -> str:
    """Identifies what a run computes: a checkpoint resumes only the run with the same one."""
    record = {
        "mode": request.mode,
        "inputs": [(f.path, f.sha256, f.skipped is None) for f in dataset.files],
        "shape": list(dataset.images.shape[1:]),
        "config": _active_config(request).to_dict(),
        "seed": request.seed,
        "counts": counts,
    }
    return hashlib.sha256(json.dumps(record, sort_keys=True).encode()).hexdigest()


def _loss_summary(history: np.ndarray, points: int = 21) -> dict:
    """Per-class loss record for provenance: first/final/min and a coarse curve (mean over the
    problems still running at each step), and how many steps the problems ran (NaN losses mark
    the steps after a novelty stop)."""
    ran = np.isfinite(history).sum(axis=1)
    longest = max(int(ran.max()), 1)
    mean = np.nanmean(history[:, :longest], axis=0)
    final = np.mean([h[n - 1] for h, n in zip(history, ran) if n > 0])
    steps = np.unique(np.linspace(0, len(mean) - 1, min(points, len(mean))).round().astype(int))
    return {
        "problems": int(history.shape[0]),
        "steps": int(history.shape[1]),
        "steps_run": {"min": int(ran.min()), "median": float(np.median(ran)), "max": int(ran.max())},
        "stopped_early": int(np.sum(ran < history.shape[1])),
        "first": float(mean[0]),
        "final": float(final),
        "min": float(np.nanmin(mean)),
        "curve": [[int(s) + 1, float(mean[s])] for s in steps],
    }


def _check_size(request: SynthRequest) -> int:
    architecture = _active_config(request).architecture
    minimum = ARCHITECTURES[architecture].min_size
    if request.size is not None and request.size < minimum:
        raise AugmentError(
            f"--size {request.size} is too small for the {architecture} discriminator "
            f"(it needs at least {minimum}); pass --size {minimum} or larger"
        )
    return minimum


def _check_request(request: SynthRequest) -> tuple[Path, str, int, list[jax.Device], int | None]:
    """Everything that can be checked before reading or computing: (out, format, min size,
    devices, per-device memory budget)."""
    if request.mode not in MODES:
        raise AugmentError(f"--mode must be direct or generator, got {request.mode!r}")
    if request.save_generator is not None:
        if request.mode != "generator":
            raise AugmentError("--save-generator needs --mode generator (direct mode trains no generator)")
        check_generator_target(request.save_generator, request.overwrite)
    out = Path(request.out)
    fmt = resolve_format(out, request.format)
    check_target(out, fmt, request.overwrite)
    input_folder = Path(request.input_folder)
    if fmt == "png" and input_folder.is_dir() and out.resolve().is_relative_to(input_folder.resolve()):
        raise AugmentError(
            f"{out} is inside the input folder; its PNGs would be read as real images next time"
        )
    min_size = _check_size(request)
    devices = resolve_devices(resolve_device(request.device), request.devices)
    budget = parse_memory(request.memory) if request.memory is not None else default_budget(devices)
    if jax.process_count() > 1:  # every process must choose the same batches: process 0's budget
        budget = int(multihost_utils.broadcast_one_to_all(np.int64(-1 if budget is None else budget)))
        budget = None if budget < 0 else budget
    precision = _active_config(request).matmul_precision
    if precision != "float32" and not precision.startswith(EMULATED) and devices[0].platform == "cpu":
        raise AugmentError(
            f"--matmul-precision {precision} needs a GPU (a CPU computes in float32); "
            "use --matmul-precision float32 or --device gpu"
        )
    if request.checkpoint_seconds < 0:
        raise AugmentError(f"--checkpoint-every must not be negative, got {request.checkpoint_seconds}")
    check_count_options(request.n, request.per_class)
    if checkpoint_path(out).exists() and not request.resume:
        raise AugmentError(
            f"{checkpoint_path(out)} holds an interrupted run; pass --resume to continue it, "
            "or delete it to start again"
        )
    return out, fmt, min_size, devices, budget


def _plan_placement(
    request: SynthRequest,
    dataset: RealDataset,
    real_counts: list[int],
    counts: list[int],
    devices: list[jax.Device],
    budget: int | None,
    log: Log,
) -> tuple[SynthRequest, Placement, MemoryPlan]:
    """Batch sizes that fit the memory budget, and how many problems run at once on each device.

    Generator mode trains one generator at a time on the first device (of each process).
    """
    config = _active_config(request)
    shape = tuple(int(d) for d in dataset.images.shape[1:])
    if request.mode == "generator":
        n_real_total, synthetic, gram_rows, max_lanes = max(real_counts), config.batch_size, max(real_counts), 1
        devices = own_devices(devices)[:1]
    else:
        augmented = config.augment_real_to
        n_real_total = max(max(augmented, n) if augmented > 0 else n for n in real_counts)
        gram_rows = GRAM_BLOCK
        problems, synthetic = (max(sizes) for sizes in zip(*(plan_problems(c, config.synthetic_batch_size) for c in counts)))
        # a CPU device gains nothing from batching problems; an accelerator does while they fit
        max_lanes = 1 if devices[0].platform == "cpu" else min(MAX_LANES_PER_DEVICE, -(-problems // len(devices)))
    fixed = request.fixed_batches
    plan = plan_memory(
        config.architecture, shape, n_real_total, config.real_batch_size, synthetic, budget=budget,
        gram_rows=gram_rows, fixed_synthetic="synthetic" in fixed, fixed_real="real" in fixed, max_lanes=max_lanes,
    )  # fmt: skip
    changes = {}
    if plan.synthetic_batch < synthetic:
        changes["batch_size" if request.mode == "generator" else "synthetic_batch_size"] = plan.synthetic_batch
    if plan.real_batch < min(config.real_batch_size, n_real_total):
        changes["real_batch_size"] = plan.real_batch
    if changes:
        log(
            "warning",
            "to fit the " + format_bytes(budget) + " memory budget per device (--memory), lowered "
            + " and ".join(f"{name.replace('_', ' ')} to {value}" for name, value in changes.items()),
        )
        config = dataclasses.replace(config, **changes)
        request = dataclasses.replace(request, **{"generator" if request.mode == "generator" else "config": config})
    placement = Placement(tuple(devices), plan.lanes_per_device)
    log(
        "info",
        f"{placement.lanes} problem(s) at once on {len(devices)} device(s); a device needs about "
        f"{format_bytes(plan.per_device)}" + (f" of its {format_bytes(budget)} budget" if budget else ""),
    )
    return request, placement, plan


def _direct_class(request, real, count, key, report, resume, save, near_copy_threshold, placement) -> ClassResult:
    result = synthesize(
        real, count, request.config, key, report, resume=resume, checkpoint=save,
        near_copy_threshold=near_copy_threshold, placement=placement,
    )  # fmt: skip
    return ClassResult(result.images, result.realness, result.loss_history, 0.0)


def _generator_class(request, real, count, key, report, resume, save, near_copy_threshold, placement) -> ClassResult:
    train_key, sample_key = jax.random.split(key)
    progress = None if report is None else (lambda step, steps, loss: report(step, steps, 0, 1, loss))
    trained = train_generator(real, request.generator, train_key, progress, resume=resume, checkpoint=save)
    images, realness = generate(trained, count, real, sample_key)
    leaves = [np.asarray(leaf) for leaf in jax.tree_util.tree_leaves(trained.params)]
    return ClassResult(images, realness, trained.loss_history[None, :], 0.0, leaves)


def _synthesize_classes(
    request: SynthRequest,
    dataset: RealDataset,
    counts: list[int],
    fingerprint: str,
    checkpoint_file: Path,
    progress: ClassProgress | None,
    log: Log,
    near_copy_threshold: float | None,
    placement: Placement,
) -> tuple[dict[int, ClassResult], bool]:
    """Per class, one GA-NTK problem set (direct) or one trained generator (generator mode),
    checkpointed (by process 0 only); returns the class results and whether the run was resumed."""
    run_class = _generator_class if request.mode == "generator" else _direct_class
    writer = jax.process_index() == 0
    finished: dict[int, ClassResult] = {}
    current: tuple[int, SynthesisSnapshot | GeneratorSnapshot, float] | None = None
    if checkpoint_file.exists():
        finished, current = load_checkpoint(checkpoint_file, fingerprint)
        log("info", f"resuming from {checkpoint_file}: {len(finished)} classes finished")
    resumed = checkpoint_file.exists()
    root = jax.random.PRNGKey(request.seed)
    last_save = time.perf_counter()
    for k, (class_name, count) in enumerate(zip(dataset.class_names, counts)):
        if k in finished:
            continue
        resume, seconds_before = None, 0.0
        if current is not None and current[0] == k:
            _, resume, seconds_before = current
        start = time.perf_counter()

        def save(snapshot, k=k, start=start, seconds_before=seconds_before):
            # After every finished problem; within a problem at most every checkpoint_seconds.
            nonlocal last_save
            now = time.perf_counter()
            if not writer or (not snapshot.milestone and now - last_save < request.checkpoint_seconds):
                return
            last_save = now
            save_checkpoint(
                checkpoint_file, fingerprint, finished, (k, snapshot, seconds_before + now - start)
            )

        report = None
        if progress is not None:
            report = lambda *counts, name=class_name: progress(name, *counts)  # noqa: E731
        try:
            result = run_class(
                request,
                dataset.images[dataset.labels == k],
                count,
                jax.random.fold_in(root, k),
                report,
                resume,
                save,
                near_copy_threshold,
                placement,
            )
        except AugmentError as error:
            kept = f"; the last checkpoint is kept in {checkpoint_file}" if checkpoint_file.exists() else ""
            raise AugmentError(f"class {class_name!r}: {error}{kept}") from None
        finished[k] = dataclasses.replace(result, seconds=seconds_before + time.perf_counter() - start)
        if writer:
            save_checkpoint(checkpoint_file, fingerprint, finished, None)
    return finished, resumed


def _provenance(request, fmt, placement, plan, dataset, counts, fingerprint, classes, started, resumed):
    """How the run was made (without the output's own format keys and quality figures)."""
    size, channels = dataset.images.shape[1], dataset.images.shape[-1]
    return {
        "run_id": fingerprint[:16],
        "mode": request.mode,
        "versions": versions(),
        "device": str(placement.devices[0]),
        "placement": placement.describe(),
        "memory": {
            "budget_bytes": plan.budget,
            "estimated_bytes_per_device": plan.per_device,
            "rule": "estimated peak of a step (fitted to XLA's buffer sizes) within --memory "
            "(default: 90% of the free memory)",
        },
        "platform": platform_description(),
        "command_line": list(request.command_line),
        "seed": request.seed,
        "config": {
            **_active_config(request).to_dict(),
            "n": int(sum(counts)),
            "per_class": request.per_class,
            "size": request.size,
            "channels": request.channels,
            "on_bad_file": request.on_bad_file,
            "device": request.device,
            "devices": request.devices,
            "memory": request.memory,
            "format": fmt,
        },
        "working_size": [int(size), int(size), int(channels)],
        "bit_depth": dataset.bit_depth,
        "intensity": {
            "rule": "fixed by bit depth; monochrome DICOM by the dataset window",
            "dicom_window": dataset.dicom_window,
        },
        "resize": "centre square crop, then antialiased bilinear resize",
        "started": started.isoformat(),
        "finished": _dt.datetime.now(_dt.UTC).isoformat(),
        "resumed": resumed,
        "inputs": [
            {k: v for k, v in dataclasses.asdict(f).items() if not (k == "skipped" and v is None)}
            for f in dataset.files
        ],
        "ignored_files": list(dataset.ignored),
        "classes": classes,
    }


def run_synth(
    request: SynthRequest, progress: ClassProgress | None = None, log: Log | None = None
) -> SynthReport:
    """Read ``request.input_folder``, synthesise per class, write ``request.out``.

    Checks everything that can be checked (output path, options, device) before reading or
    computing anything. Progress is checkpointed next to the output (see
    :mod:`augment.checkpoint`); with ``request.resume`` an existing checkpoint of the same run is
    continued, giving the same result as an uninterrupted run. The checkpoint is removed once the
    output is in place.
    """
    log = log or (lambda level, message: None)
    out, fmt, min_size, devices, budget = _check_request(request)
    started = _dt.datetime.now(_dt.UTC)
    input_folder = Path(request.input_folder)
    dataset = load_folder(input_folder, request.size, request.channels, request.on_bad_file, min_size)
    for skipped in dataset.skipped:
        log("warning", f"skipped {input_folder / skipped.path}: {skipped.skipped}")
    for ignored in dataset.ignored:
        log("info", f"ignored {input_folder / ignored} (not an image or DICOM file)")
    real_counts = [int(np.sum(dataset.labels == k)) for k in range(len(dataset.class_names))]
    counts = synthetic_counts(request.n, request.per_class, real_counts)
    size, channels = dataset.images.shape[1], dataset.images.shape[-1]
    request, placement, plan = _plan_placement(request, dataset, real_counts, counts, devices, budget, log)
    device = own_devices(placement.devices)[0]  # for the rest
    log("info", f"devices {placement.describe()['devices']}; working size {size}x{size}x{channels}, {dataset.bit_depth}-bit")
    for name, real, count in zip(dataset.class_names, real_counts, counts):
        log("info", f"class {name}: {real} real images -> {count} synthetic")

    fingerprint = _fingerprint(request, dataset, counts)
    checkpoint_file = checkpoint_path(out)
    # the real images as the output stores them: the novelty stop and the near-copy flags use these
    real_stored = from_integer_pixels(to_integer_pixels(dataset.images, dataset.bit_depth))
    with jax.default_device(device):
        finished, resumed = _synthesize_classes(
            request, dataset, counts, fingerprint, checkpoint_file, progress, log,
            leave_one_out_threshold(real_stored), placement,
        )  # fmt: skip

    order = range(len(dataset.class_names))
    images = to_integer_pixels(np.concatenate([finished[k].images for k in order]), dataset.bit_depth)
    realness = np.concatenate([finished[k].realness for k in order]).astype(np.float32)
    # against the training images as stored, leave-one-out reference
    novelty = privacy(from_integer_pixels(images), real_stored)
    nearest_distance = novelty["dcr"]
    near_copy = np.zeros(len(images), bool)
    near_copy[novelty["near_copies"]] = True
    if novelty["near_copy_fraction"] > NEAR_COPY_WARNING:
        log(
            "warning",
            f"{novelty['near_copy_fraction']:.0%} of the synthetic images are near-copies of a real image "
            f"(closer than {100 - NEAR_COPY_PERCENTILE:.0f}% of the real images are to each other); "
            "check them with augment evaluate before sharing the data",
        )
    losses = [_loss_summary(finished[k].loss_history) for k in order]
    summaries = [
        ClassSummary(name, real_counts[k], counts[k], losses[k]["final"], finished[k].seconds)
        for k, name in enumerate(dataset.class_names)
    ]
    quality = {
        "realness_mean": float(realness.mean()),
        "nearest_real_distance": {
            "min": float(nearest_distance.min()),
            "median": float(np.median(nearest_distance)),
            "max": float(nearest_distance.max()),
            "unit": "RMS pixel difference, intensities in [0, 1]",
        },
        "privacy_ratio": novelty["privacy_ratio"],
        "privacy_reference": novelty["reference"],
        "near_copy_threshold": novelty["near_copy_threshold"],
        "near_copy_fraction": novelty["near_copy_fraction"],
    }
    classes = [{**dataclasses.asdict(s), "loss": losses[k]} for k, s in enumerate(summaries)]
    provenance = _provenance(request, fmt, placement, plan, dataset, counts, fingerprint, classes, started, resumed)
    skipped = [(f.path, f.skipped) for f in dataset.skipped]
    if jax.process_index() != 0:  # process 0 writes; the others computed the same result
        return SynthReport(out, fmt, summaries, skipped, resumed, request.save_generator)
    if request.save_generator is not None:
        image_shape = tuple(int(d) for d in dataset.images.shape[1:])
        _, treedef = parameter_layout(image_shape, request.generator)
        generators = {
            name: TrainedGenerator(
                jax.tree_util.tree_unflatten(treedef, finished[k].generator_leaves),
                image_shape,
                request.generator,
                finished[k].loss_history[0],
            )
            for k, name in enumerate(dataset.class_names)
        }
        manifest_sha256 = save_generators(request.save_generator, generators, provenance, request.overwrite)
        provenance["generator"] = {
            "path": str(Path(request.save_generator).resolve()),
            "manifest_sha256": manifest_sha256,
        }
    provenance = {"format": FORMAT_NAME, "format_version": FORMAT_VERSION, **provenance, "quality": quality}
    synthetic = SyntheticDataset(
        images=images,
        labels=np.concatenate([np.full(counts[k], k, np.int64) for k in order]),
        class_names=dataset.class_names,
        realness=realness,
        nearest_real_index=novelty["nearest"],
        nearest_real_distance=nearest_distance,
        near_copy=near_copy,
        real_sources=dataset.sources,
        provenance=provenance,
    )
    write_output(out, synthetic, fmt)
    checkpoint_file.unlink(missing_ok=True)
    return SynthReport(out, fmt, summaries, skipped, resumed, request.save_generator)
