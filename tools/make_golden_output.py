"""Write tests/golden/synthetic-1.0.h5: a tiny file in the documented format, kept in the repository.

The test suite reads it back (tests/test_output.py) so that any change to the writer or reader
that breaks files already on users' disks fails loudly. Re-run only when the format version
changes, and then add a new file rather than replacing this one:

    .venv/bin/python tools/make_golden_output.py
"""

from __future__ import annotations

import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "tests"))

from golden_output import golden_dataset

from augment.io.writers.h5 import write_h5

if __name__ == "__main__":
    target = pathlib.Path(__file__).resolve().parent.parent / "tests" / "golden" / "synthetic-1.0.h5"
    target.unlink(missing_ok=True)
    write_h5(target, golden_dataset())
    print(f"wrote {target} ({target.stat().st_size} bytes)")
