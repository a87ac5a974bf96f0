"""benchmarks/RESULTS.md is what the stored results give (benchmarks/results.py), and the
figures that script derives are right: a gain is paired with its own seed's real-only accuracy,
draws of one method are pooled, and the standard error is the sample one."""

from __future__ import annotations

import importlib.util
import math
import pathlib
import statistics
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def results():
    spec = importlib.util.spec_from_file_location("benchmark_results", ROOT / "benchmarks" / "results.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        del sys.modules[spec.name]


def test_results_md_is_generated_from_the_stored_results(results):
    assert (ROOT / "benchmarks" / "RESULTS.md").read_text() == results.document(), (
        "benchmarks/RESULTS.md is stale: run .venv/bin/python benchmarks/results.py"
    )


def test_every_result_file_a_question_names_exists_and_every_json_is_used(results):
    named = {source.path for question in results.QUESTIONS for source in question.sources}
    stored = {p.name for p in (ROOT / "benchmarks").glob("*.json")}
    assert named <= stored, named - stored
    assert stored <= named, f"result files no question shows (remove them; git keeps them): {stored - named}"


def test_every_notes_file_is_a_questions_and_is_shown_under_it(results):
    questions = {question.notes: question for question in results.QUESTIONS}
    written = sorted((ROOT / "benchmarks" / "notes").glob("*.md"))
    assert written and set(written) <= set(questions), set(written) - set(questions)
    document = results.document()
    for path in written:
        title = questions[path].title
        section = document.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]
        assert path.read_text() in section, title


def test_draws_are_pooled_and_gains_paired_by_seed(results):
    rows = [
        {"method": "real only", "seed": 0, "accuracy": 0.80, "seconds": 0.0, "extra": 0},
        {"method": "real only", "seed": 1, "accuracy": 0.90, "seconds": 0.0, "extra": 0},
    ]
    accuracies = {(0, "M"): 0.83, (1, "M"): 0.92, (0, "M, draw 1"): 0.84, (1, "M, draw 1"): 0.95}
    for (seed, method), accuracy in accuracies.items():
        rows.append(
            {
                "method": method,
                "seed": seed,
                "accuracy": accuracy,
                "seconds": 2.0,
                "extra": 200,
                "privacy_ratio": 1.0,
                "near_copy_fraction": 0.0,
                "membership_auc": 0.5,
                "membership_auc_high": 0.6,
            }
        )
    core, tables = importlib.import_module("results_core"), importlib.import_module("results_quality_tables")
    source = core.Source("made-up.json", measured="today")
    table = tables.digits_table([(source, {"rows": rows, "table": []})])
    gains = [3.0, 2.0, 4.0, 5.0]  # each against its own seed's real-only accuracy
    expected = f"+{statistics.mean(gains):.2f} ± {statistics.stdev(gains) / math.sqrt(4):.2f}"
    line = next(row for row in table.splitlines() if row.startswith("| M |"))
    assert "| 2 \u00d7 2 |" in line and expected in line, line
    assert tables.family("GA-NTK generator (defaults), draw 3") == "GA-NTK generator (defaults)"
    assert tables.family("classic 200") == "classic 200"
