"""Writing a file or folder so that its target path never holds a half-written result, and never
replacing what augment did not write.

Users' results (outputs, reports, saved generators) go through :func:`publish`: build the result
at :func:`temporary_path` (a hidden name beside the target), then publish it against the
:class:`Target` recorded when the run was checked. Publishing takes a lock beside the target
(``flock``), checks that the target is still as it was at the start (absent, or the same file or
folder augment may replace), and renames without replacing (``renameat2(RENAME_NOREPLACE)``
where the system has it, else a hard link for a file). Of two runs racing for one target exactly
one publishes; the other gets an AugmentError and its temporary result is removed by its caller.
Augment's own files (checkpoints) use :func:`move_into_place`. Call :func:`remove` on the
temporary path in a ``finally`` so a failure leaves nothing behind.
"""

from __future__ import annotations

import ctypes
import errno
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

from augment.errors import AugmentError
from augment.io.untrusted import read_limited

try:
    import fcntl
except ImportError:  # not a POSIX system: an exclusively created lock file instead of flock
    fcntl = None  # type: ignore[assignment]

_RENAME_NOREPLACE = 1
_AT_FDCWD = -100


class Target(NamedTuple):
    """A target path as it was when a run was checked: ``identity`` is (device, inode, mtime in
    ns) of what was there, or None when nothing was."""

    path: Path
    identity: tuple[int, int, int] | None


def _identity(path: Path) -> tuple[int, int, int] | None:
    try:
        status = os.lstat(path)
    except FileNotFoundError:
        return None
    return (status.st_dev, status.st_ino, status.st_mtime_ns)


def target(path: Path) -> Target:
    """Record what is at ``path`` now, for :func:`publish` to compare with at the end."""
    return Target(Path(path), _identity(Path(path)))


def _rename_without_replacing(source: Path, destination: Path) -> None:
    """Rename ``source`` to ``destination``; FileExistsError if ``destination`` exists (also one
    created a moment ago by another process)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        renameat2 = None
    if renameat2 is not None:
        result = renameat2(
            _AT_FDCWD, os.fsencode(source), _AT_FDCWD, os.fsencode(destination), _RENAME_NOREPLACE
        )
        if result == 0:
            return
        code = ctypes.get_errno()
        if code == errno.EEXIST:
            raise FileExistsError(code, os.strerror(code), str(destination))
        if code not in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):  # no support: fall back
            raise OSError(code, os.strerror(code), str(destination))
    if source.is_dir():  # under the lock; the gap between the check and the rename is tiny
        if os.path.lexists(destination):
            raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(destination))
        os.rename(source, destination)
    else:
        os.link(source, destination)  # fails if destination exists
        os.unlink(source)


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``.<name>.lock`` beside ``path``; the lock file is removed again.

    With ``flock``: a lock file removed by the previous holder after this process opened it is
    not a lock any more, so the lock is taken again until the file locked is the one at the path.
    Without it, the lock is the exclusive creation of the file, waited for up to a minute."""
    lock = path.with_name(f".{path.name}.lock")
    if fcntl is None:
        deadline = time.monotonic() + 60
        while True:
            try:
                os.close(os.open(lock, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600))
                break
            except FileExistsError:
                if time.monotonic() > deadline:
                    raise AugmentError(
                        f"{lock} is held by another run; delete it if no run is going"
                    ) from None
                time.sleep(0.1)
        try:
            yield
        finally:
            lock.unlink(missing_ok=True)
        return
    while True:
        descriptor = os.open(lock, os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            try:
                same = os.fstat(descriptor).st_ino == os.stat(lock).st_ino
            except FileNotFoundError:
                same = False
            if same:
                try:
                    yield
                finally:
                    lock.unlink(missing_ok=True)
                return
        finally:
            os.close(descriptor)


def publish(temporary: Path, at: Target, may_replace: Callable[[Path], bool]) -> None:
    """Move the finished ``temporary`` to ``at.path`` if the target is as it was when checked.

    Nothing was there then: the rename must not replace anything (a file or folder that appeared
    during the run stays, and this is an AugmentError). Something was there (the caller checked it
    may be overwritten): it must be the same file or folder still, and ``may_replace(path)`` must
    say augment wrote it; it is swapped out, then removed.
    """
    path = at.path
    with _locked(path):
        now = _identity(path)
        if now != at.identity:
            happened = "appeared" if at.identity is None else ("was removed" if now is None else "changed")
            raise AugmentError(f"{path} {happened} while augment was running; nothing was replaced")
        if now is None:
            try:
                _rename_without_replacing(temporary, path)
            except FileExistsError:
                raise AugmentError(
                    f"{path} appeared while augment was running; nothing was replaced"
                ) from None
            return
        if not may_replace(path):
            raise AugmentError(f"{path} was not written by augment; refusing to replace it")
        old = next(  # a free name: nothing already there is removed
            p
            for k in range(1000)
            if not os.path.lexists(p := path.with_name(f".{path.name}.{os.getpid()}.{k}.old"))
        )
        os.replace(path, old)
        try:
            _rename_without_replacing(temporary, path)
        except OSError:
            os.replace(old, path)  # put the old result back
            raise
        remove(old)


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


def marked_folder(folder: Path, marker: str, format_name: str) -> bool:
    """Whether ``folder`` is a folder (not a link) whose JSON file ``marker`` names ``format_name``
    as its ``format``: how augment tells a folder it wrote (read size-limited)."""
    if folder.is_symlink() or not folder.is_dir() or (folder / marker).is_symlink():
        return False  # a marker that links elsewhere is not read
    try:
        return bool(json.loads(read_limited(folder / marker)).get("format") == format_name)
    except (AugmentError, ValueError, AttributeError):
        return False


def check_replaceable(path: Path, overwrite: bool, owns: Callable[[Path], bool]) -> Target:
    """Refuse, before any work, a target (file or folder) that cannot or must not be written: one
    that exists without ``overwrite``, that ``owns`` says augment did not write, or whose folder
    refuses a new file; return it as it is now, for :func:`publish` to check again."""
    path = Path(path)
    if path.exists() or path.is_symlink():
        if not overwrite:
            raise AugmentError(f"{path} already exists; pass `overwrite` to replace it")
        if not owns(path):
            raise AugmentError(f"{path} was not written by augment; refusing to replace it")
    check_writable_folder(path)
    return target(path)


def _resolved(path: Path) -> Path:
    """``path`` made absolute with links resolved (its folder's, when it does not exist yet)."""
    path = Path(path)
    return path.resolve() if path.exists() else path.parent.resolve() / path.name


def check_apart(output: Path, what: str, inputs: dict[str, Path]) -> None:
    """Refuse an ``output`` path that is, contains, or sits inside any of ``inputs`` (name -> path):
    writing there would replace or mix with what augment reads."""
    out = _resolved(output)
    for name, given in inputs.items():
        source = _resolved(given)
        if out == source:
            raise AugmentError(f"`{what}` {output} is the {name} itself; write somewhere else")
        if out.is_relative_to(source):
            raise AugmentError(f"`{what}` {output} is inside the {name} {given}; write somewhere else")
        if source.is_relative_to(out):
            raise AugmentError(f"`{what}` {output} holds the {name} {given}; write somewhere else")


def check_free_space(path: Path, needed: int) -> None:
    """Refuse, before any work, an output of about ``needed`` bytes that the folder of ``path``
    has no room for (it is written beside the target first, so the old one needs no room)."""
    folder = path.parent if str(path.parent) else Path(".")
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        return
    if needed > free:
        raise AugmentError(
            f"the output needs about {needed / 2**30:.1f} GiB and {folder} has {free / 2**30:.1f} GiB free; "
            "ask for fewer images (`n`) or write elsewhere (`out`)"
        )


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
    """Rename ``temporary`` to ``path``, a file of augment's own (a checkpoint); an existing
    ``path`` is swapped out, then removed. Users' results go through :func:`publish`."""
    if not path.exists():
        os.replace(temporary, path)
        return
    old = path.with_name(f".{path.name}.{os.getpid()}.old")
    os.replace(path, old)
    os.replace(temporary, path)
    remove(old)
