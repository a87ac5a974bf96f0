"""Scale: several devices (forced CPU devices), several processes, the memory budget, the matmul
precision option.

Forced devices need ``XLA_FLAGS`` before JAX starts, so those runs are subprocesses.
"""

from __future__ import annotations

import dataclasses
import os
import socket
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from cli_options import SAMPLES

from augment.errors import AugmentError
from augment.gantk import memory
from augment.gantk.architectures import discriminator
from augment.gantk.config import DiscriminatorConfig
from augment.gantk.direct import compiled_problem, xla_step_bytes
from augment.gantk.direct.config import SynthesisConfig
from augment.gantk.memory import (
    MARGIN,
    MIN_REAL_BATCH,
    MIN_SYNTHETIC_BATCH,
    format_bytes,
    parse_memory,
    plan_memory,
    step_bytes,
)
from augment.inspection import describe_output
from augment.io.writers import read_output
from augment.ntk.stax import round_mantissa

FOUR_DEVICES = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=4"}
TINY = ["--n", "24", "--batch-size", "4", "--steps", "3", "--quiet"]
# in a process of its own; a few steps leave unfinished images, which the quality gate would reject
SYNTH_SAMPLES = [sys.executable, "-m", "augment.cli", "synth", str(SAMPLES), "--no-quality-gate"]


def synth_process(
    *options: str, env: dict | None = None, timeout: float | None = None
) -> subprocess.CompletedProcess:
    """``augment synth`` on the samples in a new process (``env``: for XLA_FLAGS or JAX_*)."""
    command = [*SYNTH_SAMPLES, *options]
    return subprocess.run(command, env=env, capture_output=True, text=True, check=False, timeout=timeout)


# Runs in a process with 4 CPU devices: the same problems on 1 device, on 4, as 2 lanes on each of
# 2 devices, and interrupted on 1 device then resumed on 4.
DEVICE_COUNT_SCRIPT = """
import sys, jax, numpy as np
from sklearn.datasets import load_digits
from augment.gantk import DiscriminatorConfig, SynthesisConfig, synthesize
from augment.gantk.placement import Placement

digits = load_digits()
real = (digits.images[digits.target == 3][:12] / 16.0)[..., None].astype(np.float32)
config = SynthesisConfig(
    steps=6, chunk_steps=3, batch_size=4, augment_real_to=0,
    discriminator=DiscriminatorConfig(real_batch_size=8),
)
key, devices = jax.random.PRNGKey(2), tuple(jax.devices())
assert len(devices) == 4
runs = {
    "one": synthesize(real, 20, config, key),
    "four": synthesize(real, 20, config, key, placement=Placement(devices)),
    "two_by_two": synthesize(real, 20, config, key, placement=Placement(devices[:2], 2)),
}
saved = []

def stop_after_three_chunks(snapshot):
    saved.append(snapshot.copy())
    if len(saved) == 3:
        raise KeyboardInterrupt

try:
    synthesize(real, 20, config, key, checkpoint=stop_after_three_chunks)
except KeyboardInterrupt:
    pass
assert 0 < len(saved[-1].finished) < 5 and saved[-1].running
runs["resumed_on_four"] = synthesize(real, 20, config, key, resume=saved[-1], placement=Placement(devices))
np.savez(sys.argv[1], **{f"{name}.{field}": getattr(result, field) for name, result in runs.items()
                         for field in ("images", "realness", "loss_history")})
"""


@pytest.mark.slow
def test_results_do_not_depend_on_the_device_count_and_a_run_resumes_on_another(tmp_path):
    out = tmp_path / "runs.npz"
    done = subprocess.run(
        [sys.executable, "-c", DEVICE_COUNT_SCRIPT, str(out)],
        env=FOUR_DEVICES,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    runs = np.load(out)
    for name in ("four", "two_by_two", "resumed_on_four"):
        # one lane per device computes exactly what one device does; lanes batched with vmap on a
        # device may reorder float sums (measured: 1.5e-4 after 20 steps at 16x16)
        tolerance = 1e-3 if name == "two_by_two" else 1e-5
        for field in ("images", "realness", "loss_history"):
            np.testing.assert_allclose(
                runs[f"{name}.{field}"], runs[f"one.{field}"], atol=tolerance, err_msg=f"{name} {field}"
            )


@pytest.fixture(scope="module")
def one_device_run(tmp_path_factory):
    """The tiny CLI run on this process's single CPU device."""
    out = tmp_path_factory.mktemp("one") / "one.h5"
    done = synth_process(*TINY, "--out", str(out))
    assert done.returncode == 0, done.stderr[-3000:]
    return read_output(out)


@pytest.mark.slow
def test_the_cli_spreads_batches_over_four_devices_and_records_them(one_device_run, tmp_path):
    out = tmp_path / "four.h5"
    done = synth_process(*TINY, "--devices", "4", "--out", str(out), env=FOUR_DEVICES)
    assert done.returncode == 0, done.stderr[-3000:]
    four = read_output(out)
    placement = four.provenance["placement"]
    assert placement["devices"] == ["cpu:0", "cpu:1", "cpu:2", "cpu:3"] and placement["processes"] == 1
    assert four.provenance["config"]["devices"] == "4"
    assert any("device: 4 devices (cpu:0 ... cpu:3);" in line for line in describe_output(out, four))
    # stored as 8-bit pixels: at most one level apart (measured: identical)
    assert np.abs(four.images.astype(int) - one_device_run.images.astype(int)).max() <= 1
    assert four.provenance["run_id"] == one_device_run.provenance["run_id"]  # the same run, resumable


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_two_processes_share_the_batches_and_one_writes_the_output(one_device_run, tmp_path):
    """jax.distributed on localhost CPUs (gloo collectives): two processes of one device each."""
    out = tmp_path / "two.h5"
    port = _free_port()
    processes = [
        subprocess.Popen(
            [*SYNTH_SAMPLES, *TINY, "--distributed", "--out", str(out)],
            env={
                **os.environ,
                "JAX_COORDINATOR_ADDRESS": f"127.0.0.1:{port}",
                "JAX_NUM_PROCESSES": "2",
                "JAX_PROCESS_ID": str(rank),
            },
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for rank in (0, 1)
    ]
    for process in processes:
        _, stderr = process.communicate(timeout=300)
        assert process.returncode == 0, stderr[-3000:]
    two = read_output(out)
    assert two.provenance["placement"]["processes"] == 2 and len(two.provenance["placement"]["devices"]) == 2
    assert np.abs(two.images.astype(int) - one_device_run.images.astype(int)).max() <= 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["two.h5"]  # no checkpoint or stray files left


@pytest.mark.slow
def test_a_distributed_run_without_a_coordinator_is_a_clear_error(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JAX_COORDINATOR", "SLURM", "OMPI"))}
    done = synth_process("--distributed", "--out", str(tmp_path / "o.h5"), env=env, timeout=120)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith("error: --distributed: could not join the run")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--devices", "5"], "--devices 5: this machine has 1 CPU device (on a CPU, XLA_FLAGS="),
        (["--devices", "0"], "--devices must be at least 1, got 0"),
        (["--devices", "some"], "--devices must be a number or all, got 'some'"),
        (["--memory", "lots"], "--memory must be a size such as 8GiB or 512MiB, got 'lots'"),
        (["--memory", "1MiB"], "needs about"),
        (["--matmul-precision", "bfloat16"], "--matmul-precision bfloat16 needs a GPU"),
        (
            ["--matmul-precision", "float16"],
            "--matmul-precision must be float32, tensorfloat32 or bfloat16, got 'float16'",
        ),
    ],
)
def test_device_and_memory_options_are_checked_with_a_clear_message(options, message, tmp_path):
    from typer.testing import CliRunner

    from augment.cli.app import app

    result = CliRunner().invoke(
        app,
        ["synth", str(SAMPLES), "--out", str(tmp_path / "o.h5"), "--quiet", "--no-quality-gate", *options],
    )
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ") and message in result.stderr, result.stderr
    assert not (tmp_path / "o.h5").exists()


@pytest.mark.slow
def test_a_tight_memory_budget_lowers_the_batches_and_says_so(tmp_path):
    from typer.testing import CliRunner

    from augment.cli.app import app

    # 8x8 digits, 6 real images a class (no augmentation), 32 synthetic: about 1.4 MiB; within
    # 1 MiB the synthetic batch drops to 16, and a batch the user fixed cannot
    plain = ["--augment-real-to", "0", "--memory", "1MiB", "--no-quality-gate"]
    assert plan_memory("paper-gray", (8, 8, 1), 6, 256, 32, budget=None, gram_rows=128).per_device > 2**20
    out = tmp_path / "o.h5"
    result = CliRunner().invoke(
        app, ["synth", str(SAMPLES), "--n", "96", "--steps", "2", *plain, "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "(--memory), lowered the synthetic batch to 16" in result.stderr
    provenance = read_output(out).provenance
    assert provenance["config"]["batch_size"] == 16 and provenance["config"]["memory"] == "1MiB"
    assert provenance["memory"]["budget_bytes"] == 2**20
    assert provenance["memory"]["estimated_bytes_per_device"] <= 2**20
    fixed = CliRunner().invoke(
        app,
        ["synth", str(SAMPLES), "--n", "96", "--batch-size", "32", *plain, "--out", str(tmp_path / "p.h5")],
    )
    assert fixed.exit_code == 1
    assert "for a step with a real batch of 6 and a synthetic batch of 32" in fixed.stderr
    assert "lower --batch-size, --size or raise --memory" in fixed.stderr


@pytest.mark.slow
def test_the_real_batch_size_option_is_used_and_recorded(tmp_path):
    from typer.testing import CliRunner

    from augment.cli.app import app

    out = tmp_path / "o.h5"
    options = ["--n", "6", "--steps", "2", "--augment-real-to", "0", "--real-batch-size", "4", "--quiet"]
    options.append("--no-quality-gate")
    result = CliRunner().invoke(app, ["synth", str(SAMPLES), *options, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert read_output(out).provenance["config"]["real_batch_size"] == 4


def test_a_malformed_process_count_is_a_clear_error_before_jax_is_touched(monkeypatch):
    from augment.run.devices import join_distributed

    monkeypatch.setenv("JAX_NUM_PROCESSES", "two")
    with pytest.raises(
        AugmentError, match="`distributed`: JAX_NUM_PROCESSES must be a whole number, got 'two'"
    ):
        join_distributed()


def test_the_default_budget_is_most_of_the_free_memory_shared_by_cpu_devices(monkeypatch):
    cpu = jax.devices("cpu")[0]
    with open("/proc/meminfo") as meminfo:
        total = next(int(line.split()[1]) * 1024 for line in meminfo if line.startswith("MemTotal:"))
    assert 0 < memory.free_bytes(cpu) <= total
    monkeypatch.setattr(memory, "free_bytes", lambda device: 1000)
    assert memory.default_budget([cpu]) == 900  # 90 %
    assert memory.default_budget([cpu] * 4) == 225  # four CPU devices share the host's memory


def test_parse_memory_reads_binary_sizes():
    assert parse_memory("8GiB") == 8 * 2**30
    assert parse_memory("512M") == 512 * 2**20
    assert parse_memory("1.5 gb") == int(1.5 * 2**30)
    assert parse_memory("4096") == 4096
    assert format_bytes(3 * 2**30) == "3.0 GiB" and format_bytes(5 * 2**20) == "5 MiB"
    for bad in ("", "0GiB", "-1G", "8 parsecs", "1e9"):
        with pytest.raises(AugmentError, match="`memory` must be a size"):
            parse_memory(bad)


def test_the_plan_halves_the_synthetic_batch_first_then_the_real_one_and_adds_lanes_while_they_fit():
    def plan(budget, real=256, synthetic=64, **kwargs):
        return plan_memory(
            "paper-gray", (32, 32, 1), 256, real, synthetic, budget=budget, gram_rows=16, **kwargs
        )

    roomy = plan(None)
    assert (roomy.real_batch, roomy.synthetic_batch, roomy.lanes_per_device) == (256, 64, 1)
    assert dataclasses.replace(plan(roomy.per_device), budget=None) == roomy  # exactly enough changes nothing
    tighter = plan(roomy.per_device - 1)
    assert (tighter.real_batch, tighter.synthetic_batch) == (
        256,
        32,
    ) and tighter.per_device < roomy.per_device
    assert plan(plan(None, synthetic=16).per_device).synthetic_batch == 16  # halved until it fits
    # with the synthetic batch fixed, the real one is halved instead
    fewer_real = plan(plan(None, real=128).per_device, fixed_synthetic=True)
    assert (fewer_real.real_batch, fewer_real.synthetic_batch) == (128, 64)
    assert plan(None, real=MIN_REAL_BATCH, synthetic=MIN_SYNTHETIC_BATCH).per_device > 0
    with pytest.raises(
        AugmentError, match=r"a real batch of 256 and a synthetic batch of 64.*lower `batch_size`, `real"
    ):
        plan(roomy.per_device - 1, fixed_synthetic=True, fixed_real=True)
    with pytest.raises(
        AugmentError, match=r"the Gram matrix of a real set of 256.*lower `augment_real_to`, `size`"
    ):
        plan(1)  # even the smallest batches leave the Gram matrix, which does not fit
    assert plan(2 * roomy.per_device, max_lanes=8).lanes_per_device >= 2  # the real set is shared
    assert plan(100 * roomy.per_device, max_lanes=8).lanes_per_device == 8


@pytest.mark.slow
@pytest.mark.parametrize(
    ("architecture", "shape", "n_real", "n_synthetic"),
    [
        ("paper-gray", (20, 20, 1), 96, 24),
        ("paper-rgb", (16, 16, 3), 40, 16),
        ("paper-gray", (12, 12, 1), 48, 12),
        ("strided-gray", (64, 64, 1), 48, 12),
        ("strided-rgb", (64, 64, 3), 32, 8),
        ("strided-gray", (128, 128, 1), 32, 8),
    ],
)
def test_the_memory_model_bounds_what_xla_allocates_on_configurations_it_was_not_fitted_to(
    architecture, shape, n_real, n_synthetic
):
    """XLA's temporary buffers of the compiled chunk (the step's peak besides its inputs)."""
    xla = xla_step_bytes(architecture, shape, n_real, n_synthetic)
    estimate = step_bytes(architecture, shape, n_real, n_synthetic)
    # never below XLA; above it by at most 60 %, plus the model's fixed part (it dominates the
    # 12x12 step of 1.2 MB, 1.63 times XLA's; benchmarks/memory_fit.py lists the ratios)
    assert xla <= estimate <= 1.6 * xla + MARGIN * memory.FIXED, (xla, estimate, estimate / xla)


def test_round_mantissa_is_bfloat16_rounding_and_tensorfloat32_keeps_ten_bits():
    x = np.concatenate(
        [np.random.default_rng(0).normal(size=4000) * 10.0 ** np.random.default_rng(1).integers(-8, 8, 4000),
         [0.0, -0.0, 1.0, 1 + 2**-8, 1 + 3 * 2**-8, 65504.0]]
    ).astype(np.float32)  # fmt: skip
    bf16 = np.asarray(round_mantissa(jnp.asarray(x), 7))
    np.testing.assert_array_equal(bf16, np.asarray(jnp.asarray(x).astype(jnp.bfloat16).astype(jnp.float32)))
    tf32 = np.asarray(round_mantissa(jnp.asarray(x), 10))
    assert np.all(tf32.view(np.uint32) & ((1 << 13) - 1) == 0)  # 13 of 23 mantissa bits dropped
    assert np.all(np.abs(tf32 - x) <= 2.0**-11 * np.abs(x))  # to nearest: half a unit in the last place


@pytest.mark.parametrize(("precision", "bits"), [("emulated-tensorfloat32", 10), ("emulated-bfloat16", 7)])
def test_a_lower_matmul_precision_moves_the_ntk_by_about_its_rounding_error(precision, bits):
    _, _, exact = discriminator("paper-gray", 8)
    _, _, rounded = discriminator("paper-gray", 8, precision)
    x = np.random.default_rng(0).uniform(size=(6, 8, 8, 1)).astype(np.float32)
    reference = np.asarray(exact(x, None, "ntk"))
    relative = np.abs(np.asarray(rounded(x, None, "ntk")) - reference).max() / np.abs(reference).max()
    assert 0 < relative < 2.0**-bits  # operands rounded to `bits` bits, sums in float32


@pytest.mark.slow
def test_a_single_lane_gives_the_same_result_with_and_without_vmap(threes, monkeypatch):
    """The unbatched single-lane path (problem.UNBATCHED_SINGLE_LANE) is an optimisation, not a
    change of result: a size-1 vmap of the same chunk agrees with it."""
    from augment.gantk import synthesize
    from augment.gantk.direct import problem

    config = SynthesisConfig(
        steps=4, chunk_steps=2, batch_size=8, augment_real_to=0,
        discriminator=DiscriminatorConfig(real_batch_size=8),
    )  # fmt: skip
    unbatched = synthesize(threes, 8, config, jax.random.PRNGKey(1))
    monkeypatch.setattr(problem, "UNBATCHED_SINGLE_LANE", False)
    compiled_problem.cache_clear()  # the lanes function is traced once per configuration
    try:
        batched = synthesize(threes, 8, config, jax.random.PRNGKey(1))
    finally:
        compiled_problem.cache_clear()
    np.testing.assert_allclose(batched.loss_history, unbatched.loss_history, rtol=1e-5)
    np.testing.assert_allclose(batched.images, unbatched.images, atol=1e-5)


def test_the_compilation_cache_folder_follows_the_environment(tmp_path, monkeypatch):
    from augment.run.devices import CACHE_VARIABLE, compilation_cache_folder

    monkeypatch.delenv(CACHE_VARIABLE, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert compilation_cache_folder() == tmp_path / "xdg" / "augment" / "jax"
    monkeypatch.setenv(CACHE_VARIABLE, str(tmp_path / "mine"))
    assert compilation_cache_folder() == tmp_path / "mine"


def test_the_cache_keeps_what_took_long_enough_to_compile_and_says_when_that_is_not_a_number(monkeypatch):
    from augment.run.devices import CACHE_MIN_SECONDS_VARIABLE, cache_min_compile_seconds

    monkeypatch.delenv(CACHE_MIN_SECONDS_VARIABLE, raising=False)
    assert cache_min_compile_seconds() == 0.5
    for text, seconds in (("0", 0.0), ("2.5", 2.5), ("", 0.5)):
        monkeypatch.setenv(CACHE_MIN_SECONDS_VARIABLE, text)
        assert cache_min_compile_seconds() == seconds
    for text in ("soon", "-1", "inf", "nan"):
        monkeypatch.setenv(CACHE_MIN_SECONDS_VARIABLE, text)
        with pytest.raises(AugmentError, match=f"{CACHE_MIN_SECONDS_VARIABLE} must be a number of seconds"):
            cache_min_compile_seconds()


@pytest.mark.slow
def test_a_run_keeps_its_compiled_steps_for_the_next_one(tmp_path):
    cache = tmp_path / "cache"
    # every computation kept, however fast it compiled: at the default 0.5 s, one whose compile time
    # sits near the threshold may be kept by one run and not by the other
    env = {**os.environ, "AUGMENT_CACHE_DIR": str(cache), "AUGMENT_CACHE_MIN_COMPILE_SECONDS": "0"}
    first = synth_process("--out", str(tmp_path / "a.h5"), *TINY, env=env)
    assert first.returncode == 0, first.stderr
    kept = {p.name: p.stat().st_mtime_ns for p in cache.iterdir()}
    assert any(name.startswith("jit_") for name in kept), sorted(kept)
    second = synth_process("--out", str(tmp_path / "b.h5"), *TINY, env=env)
    assert second.returncode == 0, second.stderr
    after = {p.name: p.stat().st_mtime_ns for p in cache.iterdir()}
    # the second run found every computation under the key the first kept it under, and wrote
    # nothing: were the keys not stable from run to run, every entry would be there twice
    assert after == kept, sorted(set(after) - set(kept))
    unwritable = {**os.environ, "AUGMENT_CACHE_DIR": str(tmp_path / "a.h5" / "cache")}  # under a file
    third = synth_process("--out", str(tmp_path / "c.h5"), *TINY, env=unwritable)
    assert third.returncode == 0, third.stderr  # no cache, same run
