"""Writing and reading synthetic datasets, one registered :class:`Writer` per format
(:data:`WRITERS`: ``h5``, one HDF5 file; ``png``, a folder of PNGs with a manifest).

The layouts are specified in ``docs/format.md`` (format ``augment.synthetic``, version
:data:`~augment.io.dataset.FORMAT_VERSION`). A writer writes a new file or folder at the temporary
path it is given; :func:`write_output` then publishes it (:func:`augment.io.atomic.publish`), so
the target path never holds a half-written output, and an existing target is replaced only when
asked, only if augment wrote it, and only if it is still what it was when the run was checked.
To add a format, write a module with ``write`` and ``read`` functions and register a
:class:`Writer` (``docs/extending.md``).
"""

from __future__ import annotations

from pathlib import Path

from augment.errors import AugmentError
from augment.io.atomic import Target, check_replaceable, publish, remove, temporary_path
from augment.io.dataset import SyntheticDataset
from augment.io.writers.base import Writer
from augment.io.writers.h5 import HDF5
from augment.io.writers.png import PNG
from augment.registry import Registry

WRITERS: Registry[Writer] = Registry("output format", parameter="format")
WRITERS.register(HDF5.name, HDF5)
WRITERS.register(PNG.name, PNG)


def resolve_format(out: Path, format: str | None) -> str:
    """The output format: ``format`` if given, else the format whose suffixes hold ``out``'s."""
    if format is not None:
        return WRITERS[format].name
    suffix = Path(out).suffix.lower()
    for name, writer in WRITERS.items():
        if suffix in writer.suffixes:
            return name
    hints = ", ".join(
        f"give a folder name without a suffix for {w.title}s"
        if w.folder
        else f"end `out` with {w.suffixes[0]} for {w.title}"
        for w in WRITERS.values()
    )
    raise AugmentError(
        f"cannot tell the output format from {Path(out).name!r}; {hints}, "
        f"or pass `format` {'|'.join(WRITERS.names())}"
    )


def check_target(path: Path, format: str, overwrite: bool) -> Target:
    """Fail early, before any work, if the output cannot or must not be written; return the
    target as it is now, for :func:`write_output` to check again when publishing."""
    writer = WRITERS[format]
    path = Path(path)
    exists = path.exists() or path.is_symlink()
    if exists and not overwrite:
        raise AugmentError(f"{path} already exists; pass `overwrite` to replace it")
    if path.is_symlink():
        raise AugmentError(f"{path} is a link; augment replaces only what it wrote")
    if not writer.folder and path.is_dir():
        raise AugmentError(f"{path} is a folder; give a file path ending in {writer.suffixes[0]}")
    if writer.folder and path.is_file():
        raise AugmentError(f"{path} is a file; {writer.title} output needs a folder path")
    return check_replaceable(path, overwrite, writer.owns)


def check_class_names(class_names: tuple[str, ...], format: str) -> None:
    """Refuse, before any work, class names the format cannot store (its own file names)."""
    clash = sorted(set(class_names) & set(WRITERS[format].reserved))
    if clash:
        raise AugmentError(
            f"a class is named {clash[0]!r}, which {WRITERS[format].title} output uses for its own file; "
            "rename that folder or choose another `format`"
        )


def write_output(at: Target, dataset: SyntheticDataset, format: str) -> None:
    """Write ``dataset`` in ``format`` and publish it at ``at.path`` if the target is still as
    it was when checked (:func:`check_target`); a failing write (disk full, permissions changed
    meanwhile) is an AugmentError naming the path, and leaves nothing behind."""
    writer = WRITERS[format]
    temporary = temporary_path(at.path)
    remove(temporary)
    try:
        writer.write(temporary, dataset)
        publish(temporary, at, writer.owns)
    except OSError as error:
        raise AugmentError(f"cannot write {at.path}: {error.strerror or error}") from None
    finally:
        remove(temporary)


def read_output(path: Path) -> SyntheticDataset:
    """Read an output of any registered format (HDF5 file or PNG folder)."""
    path = Path(path)
    if not path.exists():
        raise AugmentError(f"not found: {path}")
    for writer in WRITERS.values():
        if writer.recognise(path):
            return writer.read(path)
    kinds = " nor ".join(
        f"an augment {w.title} folder" if w.folder else f"an {w.title} file" for w in WRITERS.values()
    )
    raise AugmentError(f"{path} is neither {kinds}")


__all__ = [
    "WRITERS",
    "Writer",
    "check_class_names",
    "check_target",
    "read_output",
    "resolve_format",
    "write_output",
]
