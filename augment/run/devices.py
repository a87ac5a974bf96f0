"""Which devices a run uses: ``device`` (the kind), ``devices`` (how many), joining a multi-host
run, and the matmul precisions each kind supports."""

from __future__ import annotations

import itertools
import math
import os
import warnings
from pathlib import Path

import jax

from augment.errors import AugmentError
from augment.ntk.stax import EMULATED

DEVICES = ("auto", "cpu", "gpu")


def resolve_device(name: str) -> jax.Device:
    """``auto`` (JAX's default device), ``cpu`` or ``gpu``; a clear error when there is no GPU."""
    if name not in DEVICES:
        raise AugmentError(f"`device` must be auto, cpu or gpu, got {name!r}")
    if name == "auto":
        return jax.local_devices()[0]
    try:
        return jax.local_devices(backend=name)[0]
    except (RuntimeError, IndexError):
        raise AugmentError(
            f"`device={name}`: JAX finds no {name.upper()} on this machine "
            "(install JAX's CUDA build as the README says, or use `device=cpu`)"
        ) from None


def resolve_devices(device: jax.Device, count: str) -> list[jax.Device]:
    """``devices`` N or "all": the first N (or all) devices of ``device``'s platform on every process.

    With several processes (``jax.distributed``), N counts each process's own devices.
    """
    local = jax.local_devices(backend=device.platform)
    if count == "all":
        wanted = len(local)
    else:
        try:
            wanted = int(count)
        except ValueError:
            raise AugmentError(f"`devices` must be a number or all, got {count!r}") from None
        if wanted < 1:
            raise AugmentError(f"`devices` must be at least 1, got {wanted}")
        if wanted > len(local):
            hint = (
                " (on a CPU, XLA_FLAGS=--xla_force_host_platform_device_count=N splits it into N devices)"
                if device.platform == "cpu"
                else ""
            )
            raise AugmentError(
                f"`devices={wanted}`: this machine has {len(local)} {device.platform.upper()} "
                f"device{'s' if len(local) != 1 else ''}{hint}"
            )
    everyone = sorted(jax.devices(device.platform), key=lambda d: (d.process_index, d.id))
    by_process = itertools.groupby(everyone, key=lambda d: d.process_index)
    return [d for _, devices in by_process for d in list(devices)[:wanted]]


def check_precision(precision: str, platform: str) -> None:
    """The tensor-core precisions need a GPU (their emulated forms run anywhere)."""
    if precision != "float32" and not precision.startswith(EMULATED) and platform == "cpu":
        raise AugmentError(
            f"`matmul_precision={precision}` needs a GPU (a CPU computes in float32); "
            "use `matmul_precision=float32` or `device=gpu`"
        )


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
                raise AugmentError(
                    f"`distributed`: {variable} must be a whole number, got {os.environ[variable]!r}"
                ) from None
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    try:
        jax.distributed.initialize(**explicit)  # type: ignore[arg-type]
    except (ValueError, RuntimeError) as error:
        raise AugmentError(
            f"`distributed`: could not join the run ({str(error).splitlines()[0]}); start every process "
            "under SLURM or Kubernetes, or set JAX_COORDINATOR_ADDRESS, JAX_NUM_PROCESSES and JAX_PROCESS_ID"
        ) from None


CACHE_VARIABLE = "AUGMENT_CACHE_DIR"
CACHE_MIN_SECONDS_VARIABLE = "AUGMENT_CACHE_MIN_COMPILE_SECONDS"
CACHE_MIN_SECONDS = 0.5  # computations compiled faster than this are not worth a file


def compilation_cache_folder() -> Path:
    """Where compiled computations are kept between runs: ``$AUGMENT_CACHE_DIR``, else
    ``$XDG_CACHE_HOME/augment/jax``, else ``~/.cache/augment/jax``."""
    if os.environ.get(CACHE_VARIABLE):
        return Path(os.environ[CACHE_VARIABLE])
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "augment" / "jax"


def cache_min_compile_seconds() -> float:
    """The shortest compile time worth keeping: ``$AUGMENT_CACHE_MIN_COMPILE_SECONDS``, else 0.5."""
    text = os.environ.get(CACHE_MIN_SECONDS_VARIABLE)
    if not text:
        return CACHE_MIN_SECONDS
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0.0 <= seconds < math.inf:
        raise AugmentError(
            f"{CACHE_MIN_SECONDS_VARIABLE} must be a number of seconds, 0 or more, got {text!r}"
        )
    return seconds


def use_compilation_cache(folder: Path | None = None) -> Path | None:
    """Keep XLA's compiled computations in a persistent cache, so a second run on the same sizes
    does not compile again (called by the CLI before a run, never at import): those that took at
    least :func:`cache_min_compile_seconds` to compile. Returns the folder, or None when it cannot
    be created (the run then compiles as usual)."""
    min_seconds = cache_min_compile_seconds()
    folder = Path(folder) if folder is not None else compilation_cache_folder()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    jax.config.update("jax_compilation_cache_dir", str(folder))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", min_seconds)
    # a full disk only costs the cache its entry; the run goes on, and the user needs no warning
    warnings.filterwarnings("ignore", message="Error writing persistent compilation cache entry")
    return folder
