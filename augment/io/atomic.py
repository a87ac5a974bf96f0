"""Writing a file or folder so that its target path never holds a half-written result.

Build it at :func:`temporary_path` (a hidden name beside the target), then
:func:`move_into_place`; call :func:`remove` on the temporary path in a ``finally`` so a failure
leaves nothing behind. Used by every writer: outputs, checkpoints, reports, saved generators.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from augment.errors import AugmentError


def check_writable_folder(path: Path) -> None:
    """Fail before any work when ``path``'s folder is missing, not a folder, or refuses a new file.

    A real probe file is created and removed: permissions are not the whole story (read-only
    mounts and special file systems refuse writes that ``os.access`` allows).
    """
    parent = path.parent if str(path.parent) else Path(".")
    if parent.exists() and not parent.is_dir():
        raise AugmentError(f"cannot write {path}: {parent} is a file, not a folder")
    if not parent.is_dir():
        raise AugmentError(f"cannot write {path}: folder {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise AugmentError(f"cannot write {path}: folder {parent} is not writable")
    probe = parent / f".{path.name}.{os.getpid()}.probe"
    try:
        os.close(os.open(probe, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        probe.unlink()
    except OSError as error:
        raise AugmentError(f"cannot write {path}: {error.strerror or error}") from None


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
