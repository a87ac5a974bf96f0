"""Writing and reading synthetic datasets, one registered :class:`Writer` per format
(:data:`WRITERS`: ``h5``, one HDF5 file; ``png``, a folder of PNGs with a manifest).

The layouts are specified in ``docs/format.md`` (format ``augment.synthetic``, version
:data:`~augment.io.dataset.FORMAT_VERSION`). Every writer puts everything under a temporary name
next to the target and renames it into place only when complete, so the target path never holds
a half-written output; an existing target is replaced only when asked, and a folder only if it is
itself an augment output of that format. To add a format, write a module with ``write`` and
``read`` functions and register a :class:`Writer` (``docs/extending.md``).
"""

from __future__ import annotations

from pathlib import Path

from augment.errors import AugmentError
from augment.io.atomic import check_writable_folder
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


def check_target(path: Path, format: str, overwrite: bool) -> None:
    """Fail early, before any work, if the output cannot or must not be written."""
    writer = WRITERS[format]
    if path.exists() and not overwrite:
        raise AugmentError(f"{path} already exists; pass `overwrite` to replace it")
    if not writer.folder and path.is_dir():
        raise AugmentError(f"{path} is a folder; give a file path ending in {writer.suffixes[0]}")
    if writer.folder and path.is_dir() and not writer.owns(path):
        raise AugmentError(f"{path} is a folder that augment did not write; refusing to replace it")
    if writer.folder and path.is_file():
        raise AugmentError(f"{path} is a file; {writer.title} output needs a folder path")
    check_writable_folder(path)


def write_output(path: Path, dataset: SyntheticDataset, format: str) -> None:
    """Write ``dataset`` in ``format`` at ``path``; a failing write (disk full, permissions changed
    meanwhile) is an AugmentError naming the path."""
    try:
        WRITERS[format].write(path, dataset)
    except OSError as error:
        raise AugmentError(f"cannot write {path}: {error.strerror or error}") from None


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


__all__ = ["WRITERS", "Writer", "check_target", "read_output", "resolve_format", "write_output"]
