"""What an output format is: how to write a :class:`SyntheticDataset` at a path, how to tell its
outputs apart, and how to read one back."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from augment.io.dataset import SyntheticDataset


@dataclass(frozen=True)
class Writer:
    """One output format.

    Attributes:
      name: the registry name, as ``format`` takes it ("h5", "png").
      title: what users call it, for messages ("HDF5", "PNG").
      suffixes: the suffixes of ``out`` that choose this format when none is given ("" for a
        path without a suffix); the first is the one messages suggest.
      folder: whether the output is a folder (else one file).
      write: ``write(path, dataset)``: writes a new file or folder at ``path``, a temporary name
        that augment publishes when it is complete (see :mod:`augment.io.atomic`).
      read: ``read(path) -> SyntheticDataset``.
      recognise: ``recognise(path)``: whether ``path`` is stored in this form (a folder, an HDF5
        file), to choose the reader; the reader then checks the format and version.
      owns: ``owns(path)``: whether ``path`` is an output of this format that augment wrote; an
        existing file or folder is replaced (with ``overwrite``) only then.
      reserved: names a class may not have in this format (its own files: the PNG manifest).
    """

    name: str
    title: str
    suffixes: tuple[str, ...]
    folder: bool
    write: Callable[[Path, SyntheticDataset], None]
    read: Callable[[Path], SyntheticDataset]
    recognise: Callable[[Path], bool]
    owns: Callable[[Path], bool]
    reserved: tuple[str, ...] = ()
