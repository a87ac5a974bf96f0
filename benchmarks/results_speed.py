"""The speed, scaling, precision and memory questions of the results (:mod:`results`): their
tables and their declarations."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence

from results_core import Question, Source, markdown, measured


def step_speed_table(loaded: Sequence[tuple[Source, dict]]) -> str:
    rows = []
    for source, d in loaded:
        for engine, rounds in d["rounds"].items():
            steps = [r["median_step_s"] for r in rounds]
            buffers = rounds[0].get("xla_step_buffers_mib")
            rows.append(
                [
                    engine,
                    rounds[0]["jax"],
                    f"{rounds[0]['loss']:.6f}",
                    f"{statistics.median(r['first_step_s'] for r in rounds):.1f}",
                    f"{statistics.median(steps):.3f} ({', '.join(f'{s:.3f}' for s in steps)})",
                    f"{max(r['peak_rss_mib'] for r in rounds):.0f}",
                    "n/a" if buffers is None or math.isnan(buffers) else f"{buffers:.0f}",
                    measured(source, d),
                ]
            )
        if d.get("speedup_vs_nt") is not None:
            rows.append(
                [
                    "**ratio**",
                    "",
                    "",
                    "",
                    f"**{d['speedup_vs_nt']:.2f}× faster**",
                    f"**{d['peak_mem_ratio']:.2f}× the peak**",
                    "",
                    "",
                ]
            )
    return markdown(
        [
            "engine",
            "jax",
            "loss",
            "compile s",
            "step s (per round)",
            "peak RSS MiB",
            "XLA step buffers MiB",
            "measured",
        ],
        rows,
    )


def generator_speed_table(loaded: Sequence[tuple[Source, dict]]) -> str:
    rows = []
    for source, d in loaded:
        for size in ("8x8", "32x32"):
            s = d[size]
            rows.append(
                [
                    size.replace("x", "×"),
                    f"{s['train_seconds_one_class_1000_steps']:.1f}",
                    f"{s['one_step_per_call_s_per_step']:.4f}",
                    f"{s['fori_loop_s_per_step']:.4f}",
                    f"{s['sample_images_per_second']:.0f}",
                    str(s["sampling_batch"]),
                    measured(source, d),
                ]
            )
    return markdown(
        [
            "size",
            "training, one class, 1000 steps (s)",
            "one step per call (s)",
            "steps in one `fori_loop` (s per step)",
            "`sample` images/s",
            "sampling batch",
            "measured",
        ],
        rows,
    )


def generator_batch_table(loaded: Sequence[tuple[Source, dict]]) -> str:
    rows = []
    for source, d in loaded:
        for r in d["rows"]:
            steps = r["seconds_per_step"]
            rows.append(
                [
                    f"{r['steps']} steps of {r['batch']}",
                    f"{statistics.median(steps):.3f} ({', '.join(f'{v:.3f}' for v in steps)})",
                    f"{r['training_seconds_one_class']:.0f}",
                    f"{r['training_time_over_1000_of_64']:.2f}",
                    measured(source, d),
                ]
            )
    return markdown(
        ["training at 64×64", "s per step (per round)", "one class (s)", "time over 1000 of 64", "measured"],
        rows,
    )


def scaling_table(loaded: Sequence[tuple[Source, dict]]) -> str:
    parts = []
    for source, d in loaded:
        rows = [
            [
                str(r["n"]),
                f"{r['wall_seconds']:.1f}",
                f"{r['synthesis_seconds']:.1f}",
                f"{r['seconds_per_image']:.3f}",
                f"{r['peak_rss_mib']:.0f}",
            ]
            for r in d["rows"]
        ]
        parts.append(markdown(["--n", "wall s", "synthesis s", "s per image", "peak RSS MiB"], rows))
        fits = d["fits"]
        parts.append(
            f"Affine fit: {fits['affine_fixed_seconds']:.1f} s + "
            f"{fits['affine_seconds_per_image']:.3f} s × n; "
            f"log-log exponent of the wall time {fits['wall_exponent']:.3f}. Measured: {measured(source, d)}."
        )
        devices = [
            [
                str(r["devices"]),
                f"{r['wall_seconds']:.1f}",
                f"{r['synthesis_seconds']:.1f}",
                f"{r['speedup']:.2f}",
                f"{r['peak_rss_mib']:.0f}",
            ]
            for r in d.get("devices", [])
        ]
        if devices:
            parts.append(
                markdown(
                    [
                        "devices (of 4 forced CPU devices), --n 256",
                        "wall s",
                        "synthesis s",
                        "speedup",
                        "peak RSS MiB",
                    ],
                    devices,
                )
            )
    return "\n\n".join(parts)


def precision_table(loaded: Sequence[tuple[Source, dict]]) -> str:
    rows = []
    for source, d in loaded:
        for name, p in d["precisions"].items():
            rows.append(
                [
                    name,
                    f"{p['gram_max_relative_error']:.1e}",
                    f"{p['loss_max_relative_difference']:.1e}",
                    f"{p['image_rms_vs_float32']:.4f}",
                    f"{p['realness_mean']:.3f}",
                    measured(source, d),
                ]
            )
        rows.append(["float32, another seed", "", "", f"{d['image_rms_float32_other_seed']:.3f}", "", ""])
    return markdown(
        [
            "precision",
            "Gram max rel. error",
            "loss max rel. difference",
            "image RMS vs float32",
            "mean realness",
            "measured",
        ],
        rows,
    )


def memory_table(loaded: Sequence[tuple[Source, dict]]) -> str:
    parts = []
    for source, d in loaded:
        configurations = d["configurations"]
        shipped = [c["shipped_model_over_xla"] for c in configurations]
        fitted = [c["fit_over_xla"] for c in configurations]
        rows = [
            [
                c["architecture"],
                "×".join(str(v) for v in c["shape"]),
                str(c["n_real"]),
                str(c["n_synthetic"]),
                f"{c['xla_temp_bytes'] / 2**20:.1f}",
                f"{c['fit_over_xla']:.3f}",
                f"{c['shipped_model_over_xla']:.3f}",
            ]
            for c in configurations
        ]
        coefficients = ", ".join(f"{k} = {v:.4g}" for k, v in d["fitted_coefficients"].items())
        parts.append(
            f"Shipped model / XLA over {len(configurations)} configurations: {min(shipped):.3f} to "
            f"{max(shipped):.3f} (a fresh fit: {min(fitted):.3f} to {max(fitted):.3f}; {coefficients}). "
            f"Measured: {measured(source, d)}."
        )
        parts.append(
            markdown(
                [
                    "architecture",
                    "shape",
                    "real",
                    "synthetic",
                    "XLA temp MiB",
                    "fit / XLA",
                    "shipped model / XLA",
                ],
                rows,
            )
        )
    return "\n\n".join(parts)


def compile_cache_table(loaded: Sequence[tuple[Source, dict]]) -> str:
    rows = []
    for source, d in loaded:
        cold, warm = d["empty_cache_seconds"], d["filled_cache_seconds"]
        for name, runs in (("empty cache", cold), ("cache of the run before", warm)):
            rows.append(
                [
                    name,
                    f"{statistics.mean(runs):.1f} ({', '.join(f'{s:.1f}' for s in runs)})",
                    measured(source, d),
                ]
            )
        rows.append(["**saved**", f"**{1 - sum(warm) / sum(cold):.0%}**", ""])
    return markdown(["run", "wall s (per round)", "measured"], rows)


SPEED_QUESTIONS: tuple[Question, ...] = (
    Question(
        title="Is the GA-NTK step faster than neural-tangents'?",
        about=(
            "`benchmarks/step_speed.py`: one loss-and-gradient step at the paper's setting (its 28×28 "
            "discriminator, 128 real + 128 synthetic images, float32, CPU), augment against neural-tangents "
            "0.6.5 on JAX 0.4.23 in its own environment (recipe in `tools/make_golden.py`), each engine in "
            "its own process, rounds alternating. Both compute the same loss on identical inputs."
        ),
        commands=(
            ".venv/bin/python benchmarks/step_speed.py --nt-python /tmp/ntenv/bin/python "
            "--out benchmarks/step_speed.json",
        ),
        sources=(Source("step_speed.json"),),
        table=step_speed_table,
    ),
    Question(
        title="How fast does generator mode train and sample?",
        about=(
            "`benchmarks/generator_speed.py`: one class of 5 digits (32×32: the same digits resized), "
            "trained for 1000 steps of 64 samples against an augmented real set of 200 (the defaults up to "
            "16 px; above, generator mode trains 4000 steps of 16 against the real images, timed in the "
            "scans table), then `sample` after loading; the JSON also holds the side-by-side comparisons "
            "of the network's upsampling layer and of the training loop."
        ),
        commands=(".venv/bin/python benchmarks/generator_speed.py --out benchmarks/generator_speed.json",),
        sources=(Source("generator_speed.json", measured="2026-12-02, 2-core development CPU"),),
        table=generator_speed_table,
    ),
    Question(
        title="What does a generator step cost at a scan size?",
        about=(
            "`benchmarks/generator_batch.py`: seconds per training step of the default `GeneratorConfig` at "
            "64×64 against 12 real images (a class of the scans benchmark), with 64, 32 and 16 samples per "
            "step, in one process, the batches alternating; a class's training time is steps × seconds per "
            "step. A step's kernel grows with the square of the images it compares, so four times the "
            "steps of a quarter of the batch cost less."
        ),
        commands=(".venv/bin/python benchmarks/generator_batch.py --out benchmarks/generator_batch.json",),
        sources=(Source("generator_batch.json"),),
        table=generator_batch_table,
    ),
    Question(
        title="How does time grow with --n, and with devices?",
        about=(
            "`benchmarks/scaling.py`: `augment synth` on two classes of 15 upscaled digits at 32×32, the "
            "defaults with `--steps 30` and an augmented real set of 200 (`--augment-real-to 200`, the "
            "default at 32 px when the rows were measured), each `--n` in its own process; then `--n 256` "
            "on 1, 2 and 4 forced CPU devices."
        ),
        commands=(".venv/bin/python benchmarks/scaling.py --steps 30 --out benchmarks/scaling.json",),
        sources=(Source("scaling.json", measured="2026-11-24, 2-core development CPU"),),
        table=scaling_table,
    ),
    Question(
        title="What do lower matmul precisions change?",
        about=(
            "`benchmarks/precision.py`: one class of 15 digits at 16×16, 32 synthetic images, 100 steps, the "
            "same seed; TF32 and bfloat16 emulated on the CPU by rounding the kernel's input products' "
            "operands as tensor cores do. No GPU has measured the speed."
        ),
        commands=(".venv/bin/python benchmarks/precision.py --out benchmarks/precision.json",),
        sources=(Source("precision.json", measured="2026-11-24, 2-core development CPU"),),
        table=precision_table,
    ),
    Question(
        title="Does the memory model bound what XLA allocates?",
        about=(
            "`benchmarks/memory_fit.py`: for both published architectures and the strided family, 8×8 to "
            "128×128, real batches 32–256 and synthetic batches 8–64, compiles direct mode's chunk of steps "
            "and reads XLA's temporary-buffer size; the shipped model (`augment/gantk/memory.py`, with its "
            "margin) should lie at or above it, and a fresh non-negative fit shows how close the model's "
            "form comes."
        ),
        commands=(".venv/bin/python benchmarks/memory_fit.py --out benchmarks/memory_fit.json",),
        sources=(Source("memory_fit.json"),),
        table=memory_table,
    ),
    Question(
        title="What does the persistent compilation cache save?",
        about=(
            "`benchmarks/compile_cache.py`: the README's main command (`augment synth samples/digits --n "
            "60`) with an empty cache folder, then again with the cache the first run filled, each in its "
            "own process, alternating."
        ),
        commands=(
            ".venv/bin/python benchmarks/compile_cache.py --rounds 2 --out benchmarks/compile_cache.json",
        ),
        sources=(Source("compile_cache.json"),),
        table=compile_cache_table,
    ),
)
