"""The library names parameters in its messages; the CLI spells each as its flag."""

from __future__ import annotations

import ast
import pathlib
import re

from augment.cli.app import flag_for
from augment.errors import AugmentError, one_of, render

PACKAGE = pathlib.Path(__file__).resolve().parent.parent / "augment"
# `name` or `name=value` in a message; double backticks (reStructuredText in docstrings) are not
NAMED = re.compile(r"(?<!`)`([a-z_][a-z0-9_]*)(?:=[^`]*)?`(?!`)")
# Parameters of the library that the command line does not set (its defaults are used there).
LIBRARY_ONLY = {
    "architecture", "loss", "eta", "t", "diag_reg", "similarity_weight", "optimizer", "learning_rate",
    "noise", "chunk_steps", "augment_rotation", "augment_shift", "max_near_copy_fraction", "z_dim",
    "base_channels", "clip_norm", "config", "coarse_size", "refine_steps", "convergence_window",
    "learning_rate_schedule", "detail_weight", "polish_steps", "polish_batch_size", "start",
    "convergence_tolerance",
}  # fmt: skip


def message_parameters() -> dict[str, set[str]]:
    """Every parameter named in a string of the library that is not a docstring: name -> files."""
    found: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text())
        docstrings = {  # a string that is a statement of its own documents something
            id(node.value)
            for node in ast.walk(tree)
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
                for name in NAMED.findall(node.value):
                    found.setdefault(name, set()).add(str(path.relative_to(PACKAGE)))
    return found


def test_every_parameter_a_message_names_is_a_flag_or_library_only():
    named = message_parameters()
    assert {"n", "per_class", "on_bad_file", "overwrite", "resume", "memory", "size"} <= set(named)
    unmapped = {
        name: files for name, files in named.items() if flag_for(name) == name and name not in LIBRARY_ONLY
    }
    assert unmapped == {}, "give these a CLI flag or list them as library-only"
    assert not any(flag_for(name).startswith("--") for name in LIBRARY_ONLY), "a library-only name has a flag"


def test_parameters_are_spelled_as_flags():
    assert flag_for("n") == "--n"
    assert flag_for("on_bad_file", "skip") == "--on-bad-file skip"
    assert flag_for("overwrite", "True") == "--overwrite"
    assert flag_for("novelty_stop", "False") == "--no-novelty-stop"
    assert flag_for("batch_size") == "--batch-size"  # one name per knob: the library's is the flag's
    assert flag_for("checkpoint_every") == "--checkpoint-every"
    assert flag_for("novelty_floor", "40") == "--novelty-floor 40"
    assert flag_for("eta") == "eta" and flag_for("eta", "2") == "eta=2"
    message = "`size=4` is too small; pass `size=8` or larger, or raise `memory`"
    assert render(message, flag_for) == "--size 4 is too small; pass --size 8 or larger, or raise --memory"
    assert AugmentError(message).parameters == ["size", "size", "memory"]


def test_one_of():
    assert one_of(["a"]) == "a"
    assert one_of(["a", "b"]) == "a or b"
    assert one_of(["a", "b", "c"]) == "a, b or c"
