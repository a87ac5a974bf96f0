"""The tables of the quality questions (:mod:`results_quality`): the checks, the suite, the
starts, the digits and the scans."""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from results_core import Source, markdown, mean_se, measured, pair


def family(method: str) -> str:
    """The method a draw belongs to: ``"X, draw 3"`` is another draw of ``"X"``."""
    head, _, tail = method.rpartition(", draw ")
    return head if head and tail.isdigit() else method


def digits_table(loaded: Sequence[tuple[Source, dict]]) -> str:
    groups: dict[str, list[tuple[dict, float | None]]] = {}
    what: dict[str, str] = {}
    when: dict[str, str] = {}
    for source, data in loaded:
        baseline = {r["seed"]: r["accuracy"] for r in data["rows"] if r["method"] == "real only"}
        described = {t["method"]: t.get("what", "") for t in data.get("table", [])}
        for row in data["rows"]:
            if source.methods is not None and row["method"] not in source.methods:
                continue
            name = family(row["method"])
            gain = None if row["method"] == "real only" else 100 * (row["accuracy"] - baseline[row["seed"]])
            groups.setdefault(name, []).append((row, gain))
            what.setdefault(name, described.get(name, ""))
            when.setdefault(name, measured(source, data))
    rows = []
    for name, members in groups.items():
        seeds = {r["seed"] for r, _ in members}
        gains = [g for _, g in members if g is not None]
        extra = [r for r, _ in members if r.get("extra")]
        highs = [r["membership_auc_high"] for r in extra if "membership_auc_high" in r]
        rows.append(
            [
                name,
                what[name],
                f"{len(seeds)} × {len(members) // len(seeds)}",
                pair([r["accuracy"] for r, _ in members], 3),
                pair(gains, sign=True) if gains else "—",
                pair([r["privacy_ratio"] for r in extra]) if extra else "—",
                f"{100 * statistics.mean(r['near_copy_fraction'] for r in extra):.1f} %" if extra else "—",
                (
                    f"{statistics.mean(r['membership_auc'] for r in extra):.3f} ({max(highs):.3f})"
                    if highs
                    else "—"
                ),
                f"{statistics.mean(r['seconds'] for r, _ in members):.1f}",
                when[name],
            ]
        )
    return markdown(
        [
            "method",
            "what",
            "seeds × draws",
            "accuracy",
            "gain (points)",
            "privacy ratio",
            "near-copies",
            "membership AUC (highest upper bound)",
            "seconds per seed",
            "measured",
        ],
        rows,
    )


# ----------------------------------------------------------------------------- scans


def _stray(stray: dict | None) -> str:
    """The stray-background figure of a scans row ("—" for rows made before it was measured)."""
    return "—" if stray is None else f"{stray['pixels']} ({stray['images']})"


def scans_table(loaded: Sequence[tuple[Source, dict]]) -> str:
    rows = []
    for source, d in loaded:
        realism, svc, attack = d["realism"], d["utility"]["svc"], d["membership_inference"]
        low, high = realism["c2st_interval"]
        rows.append(
            [
                source.label,
                str(d["size"]),
                str(d["seed"]),
                str(d["n"]),
                f"{d['wall_seconds']:.0f}",
                f"{realism['c2st_auc']:.3f} ({low:.2f}–{high:.2f})",
                f"{realism['high_frequency_ratio']:.2f}",
                f"{realism['pixel_precision']:.2f}",
                f"{d['gate'].get('rejected', 0)} / {d['gate'].get('dropped', 0)}",
                _stray(d.get("stray_background")),
                " / ".join(
                    f"{svc[k]:.3f}" if k in svc else "—"
                    for k in ("real", "real+synthetic", "synthetic", "real+augmented")
                ),
                f"{d['privacy_ratio']:.2f}",
                f"{100 * d['near_copy_fraction']:.0f} %",
                f"{attack['auc']:.2f}",
                measured(source, d),
            ]
        )
    return markdown(
        [
            "run",
            "size",
            "seed",
            "n",
            "wall s",
            "C2ST AUC (95 %)",
            "high-freq. ratio",
            "pixel precision",
            "gate rejected / dropped",
            "stray background pixels (images)",
            "SVC real / real+syn / syn / real+aug",
            "privacy ratio",
            "near-copies",
            "membership AUC",
            "measured",
        ],
        rows,
    )


def suite_table(loaded: Sequence[tuple[Source, dict]]) -> str:
    """One row per case and class: what the gate did, what was written, and the case's figures."""
    rows = []
    for source, d in loaded:
        realism, svc = d["realism"], (d["utility"] or {}).get("svc", {})
        copying = d.get("data_copying") or {}
        for c in d["classes"]:
            counts = realism["per_class"].get(c["class_name"], {})
            rows.append(
                [
                    f"{d['case']}, {d['mode']}"
                    + (f", {_start_of(d)} start" if d["mode"] == "direct" else ""),
                    str(d["seed"]),
                    c["class_name"],
                    f"{c['rejected']}/{c['checked']}",
                    f"{c['synthetic']} ({c['dropped']})",
                    f"{counts.get('blurred', '—')} / {counts.get('noisy', '—')}",
                    f"{realism['c2st_auc']:.2f} / {realism['c2st_texture_auc']:.2f}",
                    f"{realism['high_frequency_ratio']:.2f}",
                    f"{copying.get('verdict')} ({copying.get('c_t') or 0:.1f})",
                    f"{d['membership_inference']['auc']:.2f}",
                    " / ".join(
                        f"{svc[k]:.3f}" if k in svc else "—"
                        for k in ("real", "real+synthetic", "real+augmented")
                    ),
                    f"{d['wall_seconds']:.0f}",
                    measured(source, d),
                ]
            )
    header = [
        "case, mode", "seed", "class", "gate rejected / checked", "written (dropped)", "blurred / noisy",
        "C2ST pixels / texture", "high-freq. ratio", "data copying (C_T)", "membership AUC",
        "SVC real / real+syn / real+aug", "wall s", "measured",
    ]  # fmt: skip
    return markdown(header, rows)


def _start_of(d: dict) -> str:
    """Where a suite run's images started: recorded since the start became a setting; before it,
    every run started from noise."""
    return d.get("start") or "noise"


def starts_table(loaded: Sequence[tuple[Source, dict]]) -> str:
    """One row per case, class and start, over the seeds: mean ± standard error of the gate's
    rejected share, the written blurred and noisy images, the C2STs and the membership AUC; the
    worst seed's dropped images. (Time is the side-by-side 500-image pair's, not these runs'.)"""
    groups: dict[tuple[str, str, str], list[tuple[dict, dict]]] = {}
    for _, d in loaded:
        for c in d["classes"]:
            groups.setdefault((d["case"], c["class_name"], _start_of(d)), []).append((d, c))

    def spread(values: Sequence[float], digits: int = 2) -> str:
        mean, se = mean_se(values)
        return f"{mean:.{digits}f} ± {se:.{digits}f}"

    rows = []
    for (case, name, start), runs in groups.items():
        per_class = [d["realism"]["per_class"].get(name, {}) for d, _ in runs]
        rows.append(
            [
                case,
                name,
                start,
                str(len(runs)),
                spread([c["rejected"] / max(c["checked"], 1) for _, c in runs]),
                str(max(c["dropped"] for _, c in runs)),
                spread([p.get("blurred", 0) + p.get("noisy", 0) for p in per_class], 1),
                spread([d["realism"]["c2st_auc"] for d, _ in runs]),
                spread([d["realism"]["c2st_texture_auc"] for d, _ in runs]),
                spread([d["membership_inference"]["auc"] for d, _ in runs]),
            ]
        )
    header = [
        "case", "class", "start", "seeds", "gate rejected share", "most dropped", "blurred + noisy written",
        "C2ST pixels", "C2ST texture", "membership AUC",
    ]  # fmt: skip
    return markdown(header, rows)


def warp_reach_table(loaded: Sequence[tuple[Source, dict]]) -> str:
    """One row per case and class: the floor, each strength's share of deformations beyond it
    (and the real images with one), and the shares of fresh real images beyond it."""
    (_, d), rows = loaded[0], []
    for c in d["classes"]:
        reached = [f"{s['beyond']:.2f} ({s['sources_reaching']}/{c['real']})" for s in c["strengths"]]
        fresh = "; ".join(f"{kind} {f['beyond']:.2f} of {f['images']}" for kind, f in c["fresh"].items())
        rows.append([c["case"], c["class_name"], f"{c['floor']:.3f}", *reached, fresh])
    strengths = [f"beyond at strength {s['strength']:g}" for s in d["classes"][0]["strengths"]]
    return markdown(["case", "class", "floor (RMS)", *strengths, "fresh real images beyond"], rows)


# ----------------------------------------------------------------------------- speed and memory


_SAID = (
    ("are blurred", "blurred"),
    ("are noisy", "noisy"),
    ("almost every time", "easy to tell"),
    ("more often than not", "often told"),
    ("hug the training", "hugging"),
    ("hard to tell", "hard to tell"),
)


def _said(verdict: str) -> str:
    """The first finding of a realism verdict, in a word or two (and the class it names)."""
    first = verdict.split(";")[0]
    for words, short in _SAID:
        if words in first:
            named = (
                f" ({first.split(' images of class ')[1].split(' (')[0]})" if " of class " in first else ""
            )
            return short + named
    return first


def checks_gate_table(loaded: Sequence[tuple[Source, dict]]) -> str:
    (source, d), rows = loaded[0], []
    kinds = list(next(iter(d["cases"][0]["gate"].values()))["rejected"])
    for case in d["cases"]:
        for name, gate in case["gate"].items():
            counts = f"{gate['train']} / {gate['holdout']}"
            rejected = [f"{gate['rejected'][kind]:.0%}" for kind in kinds]
            rows.append([f"{case['case']} / {name}", counts, f"{gate['holdout_passed']:.0%}", *rejected])
    header = [
        "case / class",
        "real: training / held out",
        "held out passed",
        *(f"{k} rejected" for k in kinds),
    ]
    return markdown(header, rows) + f"\n\nMeasured {measured(source, d)}."


def checks_verdict_table(loaded: Sequence[tuple[Source, dict]]) -> str:
    (source, d), rows = loaded[0], []
    inputs = list(d["cases"][0]["verdicts"])
    for case in d["cases"]:
        for what in inputs:
            v = case["verdicts"][what]
            rows.append(
                [
                    case["case"],
                    what,
                    _said(v["verdict"]),
                    f"{v['c2st_pixels']:.2f} / {v['c2st_texture']:.2f}",
                    "no cell qualifies" if v["c_t"] is None else f"{v['data_copying']} ({v['c_t']:.1f})",
                    f"{v['authenticity']:.2f} ({v['authenticity_holdout']:.2f})",
                ]
            )
    header = ["case", "scored as synthetic", "realism verdict says first", "C2ST pixels / texture",
              "data copying (C_T)", "authenticity (held out)"]  # fmt: skip
    return markdown(header, rows) + f"\n\nMeasured {measured(source, d)}."


# ----------------------------------------------------------------------------- the questions
