"""Write tests/golden/samples_runs.npz: the samples runs' arrays that tests/test_reproducible.py
compares new runs with (within its tolerance).

Re-run only for a change meant to alter the images, and say so in the commit:

    .venv/bin/python tools/make_golden_samples.py
"""

from __future__ import annotations

import pathlib
import sys
import tempfile

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from test_reproducible import GOLDEN, RUNS, samples_run  # noqa: E402

if __name__ == "__main__":
    arrays = {}
    with tempfile.TemporaryDirectory() as scratch:
        for mode in RUNS:
            for name, values in samples_run(mode, pathlib.Path(scratch) / f"{mode}.h5").items():
                arrays[f"{mode}.{name}"] = values
    np.savez_compressed(GOLDEN, **arrays)
    print(f"wrote {GOLDEN} ({GOLDEN.stat().st_size} bytes)")
