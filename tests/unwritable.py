"""A folder that refuses new files even to root (the tests run as root in CI)."""

from __future__ import annotations

import os
import pathlib


def unwritable_even_for_root() -> pathlib.Path | None:
    """/sys refuses new files even to root on Linux, though os.access says it is writable."""
    try:
        os.close(os.open("/sys/.augment-probe", os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except OSError:
        return pathlib.Path("/sys")
    os.unlink("/sys/.augment-probe")
    return None
