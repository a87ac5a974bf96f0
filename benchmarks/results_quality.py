"""The quality questions of the results (:mod:`results`): what the images look like and whether
they help, on the suite, the digits and the scans; each with the commands that remake its data."""

from __future__ import annotations

from collections.abc import Sequence

from results_core import Question, Source
from results_quality_tables import (
    checks_gate_table,
    checks_verdict_table,
    digits_table,
    scans_table,
    starts_table,
    suite_table,
    warp_reach_table,
)

DIGITS_COMMAND = ".venv/bin/python benchmarks/quality_digits.py --methods {methods} --out benchmarks/{out}"


def _digits_command(methods: Sequence[str], out: str) -> str:
    return DIGITS_COMMAND.format(methods=" ".join(f'"{m}"' for m in methods), out=out)


def _scans(arguments: str, out: str) -> str:
    return f".venv/bin/python benchmarks/scans.py {arguments} --out benchmarks/{out}"


def _with_draws(method: str) -> tuple[str, ...]:
    """A digits method and its extra draws, as `benchmarks/quality_digits.py` names them."""
    return (method, *(f"{method}, draw {d}" for d in (1, 2, 3, 4)))


_DIRECT_DRAWS = _with_draws("GA-NTK direct (defaults)")
_UNBOUNDED_DRAWS = _with_draws("GA-NTK direct, without the pixel envelope")
_GENERATOR_DRAWS = _with_draws("GA-NTK generator (defaults)")
_POLISH50_DRAWS = _with_draws("GA-NTK generator, polished at floor 50")
_RAW_DRAWS = _with_draws("GA-NTK generator, raw samples")
_SCAN_TRAINING_DRAWS = _with_draws("GA-NTK generator, 4000 steps of 16")
_NEAREST_DRAWS = _with_draws("GA-NTK generator, nearest of 4 beyond the floor")
_NOISE_DRAWS = tuple(
    m for std in ("1.25", "1.5", "2") for m in _with_draws(f"GA-NTK generator, noise std {std}")
)
_BEFORE_HARNESS = "2026-11-23, 2-core development CPU (before results recorded their commit)"
_SCANS_BEFORE_HARNESS = "2026-12-05/06, 2-core Intel Xeon (before results recorded their commit)"

SCAN_RUNS: tuple[tuple[str, str, str], ...] = (
    ("direct, defaults", "--size 64 --n 48 --seed 0", "scans_64_n48_nifti_s0.json"),
    ("direct, defaults", "--size 64 --n 48 --seed 1", "scans_64_n48_nifti_s1.json"),
    ("direct, defaults", "--size 64 --n 48 --seed 2", "scans_64_n48_nifti_s2.json"),
    *(
        (
            "direct, without the pixel envelope (the defaults before)",
            f"--size 64 --n 48 --seed {seed} --set pixel_envelope=false",
            f"scans_64_n48_unbounded_s{seed}.json",
        )
        for seed in (0, 1, 2)
    ),
    ("direct, defaults, 500 images", "--size 64 --n 500", "scans_64_n500.json"),
    (
        "direct, without the pixel envelope, 500 images",
        "--size 64 --n 500 --set pixel_envelope=false",
        "scans_64_n500_unbounded.json",
    ),
    ("direct, defaults, 24 images", "--size 64 --n 24", "scans_64_n24.json"),
    ("direct, defaults, 24 images", "--size 128 --n 24", "scans_128_n24.json"),
    (
        "direct, without the pixel envelope, 24 images",
        "--size 128 --n 24 --set pixel_envelope=false",
        "scans_128_n24_unbounded.json",
    ),
    (
        "direct, defaults, two adjacent bands (a harder split)",
        "--size 64 --n 48 --split adjacent",
        "scans_64_n48_adjacent.json",
    ),
    (
        "generator, defaults (4000 steps of 16)",
        "--mode generator --size 64 --n 48 --seed 0",
        "scans_64_n48_generator_s0.json",
    ),
    (
        "generator, defaults (4000 steps of 16)",
        "--mode generator --size 64 --n 48 --seed 1",
        "scans_64_n48_generator_s1.json",
    ),
    (
        "generator, defaults, 500 images",
        "--mode generator --size 64 --n 500",
        "scans_64_n500_generator.json",
    ),
    (
        "generator, 1000 steps of 64 (the defaults before)",
        "--mode generator --size 64 --n 48 --seed 0 --set steps=1000 --set batch_size=64",
        "scans_64_n48_generator_b64_s0.json",
    ),
    (
        "generator, 1000 steps of 64 (the defaults before)",
        "--mode generator --size 64 --n 48 --seed 1 --set steps=1000 --set batch_size=64",
        "scans_64_n48_generator_b64_s1.json",
    ),
    (
        "generator, 2000 steps of 32",
        "--mode generator --size 64 --n 48 --seed 0 --set steps=2000 --set batch_size=32",
        "scans_64_n48_generator_b32_s0.json",
    ),
    (
        "generator, 2000 steps of 64",
        "--mode generator --size 64 --n 48 --seed 0 --set steps=2000 --set batch_size=64",
        "scans_64_n48_generator_steps2000_s0.json",
    ),
    (
        "generator, 2000 steps of 64",
        "--mode generator --size 64 --n 48 --seed 1 --set steps=2000 --set batch_size=64",
        "scans_64_n48_generator_steps2000_s1.json",
    ),
    (
        "generator, 1000 steps of 64, detail kernel of weight 1",
        "--mode generator --size 64 --n 48 --seed 0 --set steps=1000 --set batch_size=64 "
        "--set discriminator.detail_weight=1.0",
        "scans_64_n48_generator_detail1_s0.json",
    ),
    *(
        ("direct, defaults", f"--size 32 --n 24 --seed {seed}", f"scans_32_n24_s{seed}.json")
        for seed in (0, 1, 2)
    ),
    *(
        (
            "direct, 200 posed copies, floor 60 (the defaults at 32 px before)",
            f"--size 32 --n 24 --seed {seed} --augment-real-to 200 --novelty-floor 60 "
            "--set pixel_envelope=false",
            f"scans_32_n24_posed_s{seed}.json",
        )
        for seed in (0, 1, 2)
    ),
    *(
        (
            "generator, defaults (4000 steps of 16)",
            f"--mode generator --size 32 --n 24 --seed {seed}",
            f"scans_32_n24_generator_s{seed}.json",
        )
        for seed in (0, 1)
    ),
    (
        "generator, 1000 steps of 64 against 200 posed copies (the defaults at 32 px before)",
        "--mode generator --size 32 --n 24 --seed 0 --augment-real-to 200 "
        "--set steps=1000 --set batch_size=64",
        "scans_32_n24_generator_posed_s0.json",
    ),
)
"""(row label, `benchmarks/scans.py` arguments, result file) of the scans table."""

_SUITE_CASES = ("axial", "axial-adjacent", "coronal", "coronal-middle", "sagittal", "he")
_SUITE_SEEDS = (0, 1, 2)
_GENERATOR_SUITE_CASES = ("coronal", "sagittal")  # MRI cases direct mode falls short on; seed 0

QUALITY_QUESTIONS: tuple[Question, ...] = (
    Question(
        title="Do the checks catch obvious failures and pass real images?",
        about=(
            "No synthesis: on each class of every suite case (benchmarks/suite_data.py), the quality gate, "
            "referenced on its training images, applied to its held-out real images and to broken images "
            "made from its training images (noise, colour noise smoothed over a pixel, smooth blobs, the "
            "class's mean image, speckle, fragments, a veil of noise); then per case `augment evaluate`'s "
            "realism verdict (its first finding), the grouped C2STs on pixels and on texture, and the "
            "data-copying test with authenticity, for the held-out images scored as if synthetic (against "
            "the training images alone), copies of the training images (a dither of half a grey level, "
            "stored at 8 bits) and each broken kind (against training and held-out images). At 64 px; the "
            "digits at their 8 px. The held-out H&E tiles are another specimen (stardist's image)."
        ),
        commands=(".venv/bin/python benchmarks/checks.py --out benchmarks/checks.json",),
        sources=(Source("checks.json"),),
        table=lambda loaded: checks_gate_table(loaded) + "\n\n" + checks_verdict_table(loaded),
    ),
    Question(
        title="Where direct mode's defaults stand on the suite",
        about=(
            "`augment synth` with direct mode's defaults on each suite case (benchmarks/suite_data.py) at 64 "
            "px, 12 real images a class, 12 synthetic images a class asked for, judged by `augment evaluate` "
            "against the held-out images, one row per class and seed: what the quality gate rejected of the "
            "images it checked, what was written and dropped, the blurred and noisy images written, and the "
            "case's grouped C2STs, high-frequency ratio, data-copying test, membership AUC and held-out "
            'accuracy. Above 16 px the defaults start from deformed real images (docs/design.md, "Where '
            'the images start"). Grids of seed 0, real above synthetic: docs/suite_<case>.png.'
        ),
        commands=tuple(
            f".venv/bin/python benchmarks/scans.py --case {case} --size 64 --n 24 --seed {seed} "
            + (f"--grid docs/suite_{case}.png " if seed == 0 else "")
            + f"--out benchmarks/suite_{case}_direct_s{seed}.json"
            for seed in _SUITE_SEEDS
            for case in _SUITE_CASES
        ),
        sources=tuple(
            Source(f"suite_{case}_direct_s{seed}.json") for case in _SUITE_CASES for seed in _SUITE_SEEDS
        ),
        table=suite_table,
    ),
    Question(
        title="Where the images start: deformed real images against noise, on the suite",
        about=(
            "The same runs as the defaults' rows above, beside the same runs started from uniform noise "
            "with 300 steps coarse to fine (the defaults before, `--set start=noise --set steps=300`), "
            "per case and class over seeds 0–2, mean ± standard error (times: the 500-image pair below; "
            "these runs shared the machine with other work). Gate rejected share: of the images the gate "
            "checked (its re-syntheses included); most dropped: the worst seed's images the gate could not "
            "replace."
        ),
        commands=tuple(
            f".venv/bin/python benchmarks/scans.py --case {case} --size 64 --n 24 --seed {seed} "
            f"--set start=noise --set steps=300 --out benchmarks/suite_{case}_noise_s{seed}.json"
            for seed in _SUITE_SEEDS
            for case in _SUITE_CASES
        ),
        sources=tuple(
            Source(f"suite_{case}_{start}_s{seed}.json")
            for case in _SUITE_CASES
            for start in ("direct", "noise")
            for seed in _SUITE_SEEDS
        ),
        table=starts_table,
    ),
    Question(
        title="How far deformed real images get from the real images, against the novelty floor",
        about=(
            "No synthesis: per class of each suite case at 64 px, the novelty floor direct mode keeps above "
            "16 px (the 40th percentile of the case's real images' leave-one-out nearest distances), and "
            "for the warped start's deformation at 1, 2, 4 and 8 times its first strength, the share of 8 "
            "deformations of each real image (clipped to the pixel envelope) beyond the floor, with the "
            "real images that have at least one; then the share of fresh real images beyond it: the "
            "held-out images and, for H&E, the 34 CMU-1 tiles the training folder left out. Grid, H&E "
            "tiles above their deformations at each strength: docs/warp_strengths_he.jpg."
        ),
        commands=(
            ".venv/bin/python benchmarks/warp_reach.py --grid docs/warp_strengths_he.jpg "
            "--out benchmarks/warp_reach.json",
        ),
        sources=(Source("warp_reach.json"),),
        table=warp_reach_table,
    ),
    Question(
        title="Where generator mode's defaults stand on the suite",
        about=(
            "`augment synth --mode generator` with its defaults (above 16 px: 4000 training steps of 16 "
            "samples against the real images themselves, samples drawn beyond the novelty floor and "
            "written as drawn) on the suite cases where direct mode falls short, seed 0, otherwise as the "
            "direct rows above: 64 px, 12 real images a class, 12 synthetic images a class, judged by "
            "`augment evaluate` against the held-out images. Grids, real above synthetic: "
            "docs/suite_<case>_generator.png."
        ),
        commands=(
            *(
                f".venv/bin/python benchmarks/scans.py --case {case} --size 64 --n 24 --seed 0 "
                f"--mode generator --grid docs/suite_{case}_generator.png "
                f"--out benchmarks/suite_{case}_generator_s0.json"
                for case in _GENERATOR_SUITE_CASES
            ),
            ".venv/bin/python benchmarks/scans.py --case he --size 64 --n 24 --seed 0 --mode generator "
            "--no-quality-gate --grid docs/suite_he_generator.png "
            "--out benchmarks/suite_he_generator_nogate_s0.json",
        ),
        sources=(
            *(Source(f"suite_{case}_generator_s0.json") for case in _GENERATOR_SUITE_CASES),
            Source("suite_he_generator_nogate_s0.json"),
        ),
        table=suite_table,
    ),
    Question(
        title="500 images at 64 px: deformed real starts against noise, side by side",
        about=(
            "`augment synth --n 500` on the coronal case at 64 px with direct mode's defaults (deformed real "
            "starts, 50 steps at 64 px) and with the defaults before (noise, 300 steps coarse to fine), one "
            "after the other on one otherwise idle machine, each judged as in the suite's rows. Wall "
            "seconds: synth alone, the gate's re-syntheses included."
        ),
        commands=(
            ".venv/bin/python benchmarks/scans.py --case coronal --size 64 --n 500 --seed 0 "
            "--out benchmarks/scans_coronal_n500_warped.json",
            ".venv/bin/python benchmarks/scans.py --case coronal --size 64 --n 500 --seed 0 "
            "--set start=noise --set steps=300 --out benchmarks/scans_coronal_n500_noise.json",
        ),
        sources=(Source("scans_coronal_n500_warped.json"), Source("scans_coronal_n500_noise.json")),
        table=suite_table,
    ),
    Question(
        title="Does synthetic data help a classifier, and is it new? (digits)",
        about=(
            "The open digits protocol (docs/design.md): scikit-learn's `load_digits`, 5 real images per "
            "class drawn with seeds 0–4, the rest (about 1 747) held out, `SVC()` on raw pixels; 200 "
            "extra images (20 per class) unless the method says otherwise. Gain: held-out accuracy minus "
            "real-only accuracy on the same seed, in points, as mean ± standard error over every seed × "
            "draw (a draw makes a mode's synthetic images again with another key). Privacy ratio: median "
            "distance of the extra images to their nearest training image over the same for held-out "
            "images. Near-copies: extra images nearer than the 5th percentile of the held-out distances. "
            "Membership AUC: the attack of `augment.measures.privacy` (training images as members). "
            "Seconds: to make one seed's extra images (a mode's first seed includes compiling; draws of "
            "generator mode share its training)."
        ),
        commands=(
            _digits_command(
                ("real only", *_DIRECT_DRAWS, *_UNBOUNDED_DRAWS), "quality_digits_direct_draws.json"
            ),
            _digits_command(
                ("real only", *_GENERATOR_DRAWS, *_POLISH50_DRAWS, *_RAW_DRAWS),
                "quality_digits_generator_polish.json",
            ),
            _digits_command(
                ("real only", *_SCAN_TRAINING_DRAWS), "quality_digits_generator_scan_training.json"
            ),
            _digits_command(("real only", *_RAW_DRAWS, *_NOISE_DRAWS), "quality_digits_generator_noise.json"),
            _digits_command(
                ("real only", *_RAW_DRAWS, *_NEAREST_DRAWS), "quality_digits_generator_nearest.json"
            ),
            _digits_command(("classic 200", "classic 1000"), "quality_digits.json"),
            _digits_command(("DCGAN, GA-NTK's time",), "quality_digits_defaults.json"),
        ),
        sources=(
            Source(
                "quality_digits.json",
                methods=("real only", "classic 200", "classic 1000"),
                measured=_BEFORE_HARNESS,
            ),
            Source("quality_digits_direct_draws.json", methods=(*_DIRECT_DRAWS, *_UNBOUNDED_DRAWS)),
            Source(
                "quality_digits_generator_polish.json",
                methods=(*_GENERATOR_DRAWS, *_POLISH50_DRAWS, *_RAW_DRAWS),
            ),
            Source("quality_digits_generator_scan_training.json", methods=_SCAN_TRAINING_DRAWS),
            Source("quality_digits_generator_nearest.json", methods=_NEAREST_DRAWS),
            Source("quality_digits_generator_noise.json", methods=_NOISE_DRAWS),
            Source(
                "quality_digits_defaults.json", methods=("DCGAN, GA-NTK's time",), measured=_BEFORE_HARNESS
            ),
        ),
        table=digits_table,
    ),
    Question(
        title="Do synthetic scans look like scans? (MRI slices)",
        about=(
            "`benchmarks/scans.py`: 24 axial slices of the MNI152 T1 template that nilearn's wheel ships "
            "(`pip install nilearn`, benchmarks only), two classes (through the cerebellum, above the "
            "ventricles; or two adjacent bands where said), read through the NIfTI reader; "
            "`augment synth` with the mode's defaults (64 px unless said), then `augment evaluate` "
            "against 16 held-out slices interleaved with the training ones. C2ST: 5-fold AUC of a logistic "
            "regression on pixels telling real (training + held-out) from synthetic slices, with its 95 % "
            "interval; 0.5 is chance. High-frequency ratio: the synthetic slices' spectral power beyond half "
            "the Nyquist frequency over the real slices'. Pixel precision: the share of synthetic slices "
            "inside the real slices' 5-nearest-neighbour balls. Stray background pixels: synthetic pixels "
            "brighter than 5 % of the brightest real pixel where every real slice of the class (training "
            "and held-out) is darker, and in how many images (—: not measured then). SVC accuracy on the "
            "held-out slices trained on real, real + synthetic, synthetic only, and real + as many rotated "
            "and shifted copies. Wall "
            "seconds are the whole run; rows that shared the CPU with other work are slower than alone."
        ),
        commands=tuple(_scans(arguments, out) for _, arguments, out in SCAN_RUNS),
        sources=tuple(
            Source(out, label=label, measured=_SCANS_BEFORE_HARNESS) for label, _, out in SCAN_RUNS
        ),
        table=scans_table,
    ),
)
