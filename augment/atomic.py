"""Writing a file or folder so that its target path never holds a half-written result.

Build it at :func:`temporary_path` (a hidden name beside the target), then
:func:`move_into_place`; call :func:`remove` on the temporary path in a ``finally`` so a failure
leaves nothing behind. Used by every writer: outputs, checkpoints, reports, saved generators.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path


def temporary_path(path: Path) -> Path:
    """``.<name>.<pid>.partial`` in the target's folder (same file system, so renames are atomic)."""
    return path.with_name(f".{path.name}.{os.getpid()}.partial")


def remove(path: Path) -> None:
    """Delete a file or folder if it is there."""
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists():
        path.unlink()


def move_into_place(temporary: Path, path: Path) -> None:
    """Rename ``temporary`` to ``path``; an existing ``path`` is swapped out, then removed."""
    if not path.exists():
        os.replace(temporary, path)
        return
    old = path.with_name(f".{path.name}.{os.getpid()}.old")
    os.replace(path, old)
    os.replace(temporary, path)
    remove(old)
