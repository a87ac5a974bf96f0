"""What the command-line tests share: the bundled sample folder and the option lists that keep a
run small. A test imports them from here, so the lists are written once."""

from __future__ import annotations

import pathlib

SAMPLES = pathlib.Path(__file__).resolve().parent.parent / "samples" / "digits"
"""The bundled digits: three classes of six 8x8 images each."""

FAST = ["--steps", "6", "--batch-size", "8", "--quiet", "--no-quality-gate"]
"""A run of the command's mechanics: few steps, one batch, no progress and every image kept
(unfinished images fail the quality gate, which test_gate.py tests on its own)."""

TINY = ["--n", "4", "--size", "8", *FAST]
""":data:`FAST` for four images at 8 pixels: for folders of images larger than the digits."""
