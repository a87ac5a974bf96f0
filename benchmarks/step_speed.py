"""Time and peak memory of one GA-NTK loss-and-gradient step: augment vs neural-tangents.

Reference setting (docs/design.md, "The kernel engine"): the paper's 28x28 discriminator (Conv 64 ->
Relu -> Conv 128 -> Relu -> Flatten -> Dense 1024 -> Relu -> Dense 1, 4x4 stride-2 SAME
convolutions, W_std**2 = 1.4615, b_std**2 = 0.1), 128 real + 128 synthetic images, float32, CPU,
origin loss, eta = 1e-2, t = 131072, diag_reg = 1e-5.

- augment: ``jax.value_and_grad`` of :func:`augment.gantk.discriminator.ga_ntk_loss`, with the
  real-vs-real NTK computed once beforehand (it does not depend on the synthetic images).
- neural-tangents 0.6.5: ``stax.kernel_fn`` on the concatenated batch and
  ``predict.gradient_descent_mse``, the same loss, jitted the same way. Needs ``--nt-python``, a
  Python with neural-tangents (recipe in tools/make_golden.py).

Each side runs in its own process (so that its peak resident memory is its own), ``--rounds``
times alternately; a round reports the median of ``--repeats`` steps after one warm-up step.
Peak RSS is the process high-water mark, XLA's compilation included; "XLA step buffers" is what
XLA reports the compiled step itself needs (temporaries, arguments and outputs).
Both sides print their loss value on identical inputs, so the table shows they compute the same
thing. The last line is ``speedup_vs_nt=<float> peak_mem_ratio=<float>`` (ours / theirs).

    .venv/bin/python benchmarks/step_speed.py --nt-python /tmp/ntenv/bin/python \
        --out benchmarks/step_speed.json
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

from harness import write

W_STD, B_STD = 1.4615**0.5, 0.1**0.5
ETA, T, DIAG_REG = 1e-2, 65536.0 * 2, 1e-5


def _inputs(n_real, n_synthetic, size):
    import numpy as np

    rng = np.random.default_rng(0)
    real = rng.uniform(0, 1, (n_real, size, size, 1)).astype(np.float32)
    synthetic = rng.uniform(0, 1, (n_synthetic, size, size, 1)).astype(np.float32)
    return real, synthetic


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _time_steps(step, args, repeats):
    """Compile (timed), then one warm-up step and ``repeats`` timed steps."""
    import jax

    start = time.perf_counter()
    compiled = step.lower(*args).compile()
    first = time.perf_counter() - start
    buffers = float("nan")
    try:  # XLA's own account of the step's buffers: temporaries + arguments + outputs
        analysis = compiled.memory_analysis()
        buffers = (
            analysis.temp_size_in_bytes + analysis.argument_size_in_bytes + analysis.output_size_in_bytes
        ) / 2**20 or float("nan")  # 0: not reported
    except Exception:
        pass
    step = compiled
    loss = float(jax.block_until_ready(step(*args))[0])
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(step(*args))
        times.append(time.perf_counter() - start)
    return loss, first, times, buffers


def worker_ours(n_real, n_synthetic, size, repeats):
    import jax

    from augment.gantk.architectures import discriminator
    from augment.gantk.discriminator import ga_ntk_loss

    real, synthetic = _inputs(n_real, n_synthetic, size)
    baseline = _rss_mib()
    _, _, kernel_fn = discriminator("paper-gray", size)
    k_real = jax.jit(lambda x: kernel_fn(x, None, "ntk"))(real)

    def loss(z, x, k):
        return ga_ntk_loss(kernel_fn, z, x, k, loss="origin", eta=ETA, t=T, diag_reg=DIAG_REG)[0]

    step = jax.jit(jax.value_and_grad(loss))
    return baseline, _time_steps(step, (synthetic, real, k_real), repeats)


def worker_nt(n_real, n_synthetic, size, repeats):
    import types

    sys.modules["neural_tangents.experimental"] = types.ModuleType("neural_tangents.experimental")
    import jax
    import jax.numpy as jnp
    import neural_tangents as nt
    from neural_tangents import stax

    real, synthetic = _inputs(n_real, n_synthetic, size)
    baseline = _rss_mib()
    conv = lambda c: stax.Conv(c, (4, 4), (2, 2), "SAME", W_STD, B_STD)  # noqa: E731
    _, _, kernel_fn = stax.serial(
        conv(64),
        stax.Relu(),
        conv(128),
        stax.Relu(),
        stax.Flatten(),
        stax.Dense(1024, W_STD, B_STD),
        stax.Relu(),
        stax.Dense(1, W_STD, B_STD),
    )
    labels = jnp.concatenate([jnp.ones(n_real, jnp.int32), jnp.zeros(n_synthetic, jnp.int32)])
    y = jax.nn.one_hot(labels, 2)

    def loss(z, x):
        k = kernel_fn(jnp.concatenate([x, z]), None, "ntk")
        prediction = nt.predict.gradient_descent_mse(k, y, ETA, diag_reg=DIAG_REG)(T, 0.0)
        return -jnp.mean(jax.nn.log_softmax(prediction, axis=-1)[:, 1])

    step = jax.jit(jax.value_and_grad(loss))
    return baseline, _time_steps(step, (synthetic, real), repeats)


def _mib(value: float) -> str:
    return "n/a" if value != value else f"{value:.0f}"


def run_worker(python, side, options):
    command = [python, os.path.abspath(__file__), "--worker", side, *options]
    env = dict(os.environ, JAX_PLATFORMS="cpu")
    out = subprocess.run(command, capture_output=True, text=True, env=env)
    if out.returncode != 0:
        sys.exit(f"{side} worker failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--nt-python", help="a Python with neural-tangents 0.6.5")
    parser.add_argument("--n-real", type=int, default=128)
    parser.add_argument("--n-synthetic", type=int, default=128)
    parser.add_argument("--size", type=int, default=28)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--out", help="write every round of both engines and the ratios as JSON here")
    parser.add_argument("--worker", choices=["ours", "nt"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    sizes = (args.n_real, args.n_synthetic, args.size, args.repeats)

    if args.worker:
        work = worker_ours if args.worker == "ours" else worker_nt
        baseline, (loss, first, times, buffers) = work(*sizes)
        import jax

        print(
            json.dumps(
                {
                    "loss": loss,
                    "first_step_s": first,
                    "median_step_s": statistics.median(times),
                    "peak_rss_mib": _rss_mib(),
                    "baseline_rss_mib": baseline,
                    "jax": jax.__version__,
                    "xla_step_buffers_mib": buffers,
                }
            )
        )
        return

    options = [
        f"--n-real={args.n_real}",
        f"--n-synthetic={args.n_synthetic}",
        f"--size={args.size}",
        f"--repeats={args.repeats}",
    ]
    sides = [("augment", sys.executable, "ours")]
    if args.nt_python:
        sides.append(("neural-tangents 0.6.5", args.nt_python, "nt"))
    results = {name: [] for name, _, _ in sides}
    for _ in range(args.rounds):
        for name, python, side in sides:
            results[name].append(run_worker(python, side, options))

    print(
        f"GA-NTK loss+grad step, {args.n_real} real + {args.n_synthetic} synthetic, "
        f"{args.size}x{args.size}x1, float32, CPU ({os.cpu_count()} cores), "
        f"median of {args.repeats} steps per round, {args.rounds} rounds\n"
    )
    print(
        "| engine | jax | loss | compile s | step s (per round) | peak RSS MiB | RSS after inputs MiB "
        "| XLA step buffers MiB |"
    )
    print("|---|---|---|---|---|---|---|---|")
    summary = {}
    for name, rounds in results.items():
        step = statistics.median(r["median_step_s"] for r in rounds)
        peak = max(r["peak_rss_mib"] for r in rounds)
        summary[name] = (step, peak)
        per_round = ", ".join(f"{r['median_step_s']:.3f}" for r in rounds)
        print(
            f"| {name} | {rounds[0]['jax']} | {rounds[0]['loss']:.6f} | "
            f"{statistics.median(r['first_step_s'] for r in rounds):.1f} | {step:.3f} ({per_round}) | "
            f"{peak:.0f} | {rounds[0]['baseline_rss_mib']:.0f} | {_mib(rounds[0]['xla_step_buffers_mib'])} |"
        )
    ratios = {"speedup_vs_nt": None, "peak_mem_ratio": None}
    if args.nt_python:
        (ours_step, ours_peak), (nt_step, nt_peak) = summary["augment"], summary["neural-tangents 0.6.5"]
        ratios = {"speedup_vs_nt": nt_step / ours_step, "peak_mem_ratio": ours_peak / nt_peak}
        print(f"\nspeedup_vs_nt={nt_step / ours_step:.2f} peak_mem_ratio={ours_peak / nt_peak:.2f}")
    else:
        print("\nspeedup_vs_nt=nan peak_mem_ratio=nan")
    setting = {name: getattr(args, name) for name in ("n_real", "n_synthetic", "size", "repeats")}
    write({"setting": setting, "rounds": results, **ratios}, args.out)


if __name__ == "__main__":
    main()
