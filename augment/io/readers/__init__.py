"""Image readers behind one registry: :data:`READERS`.

A file is read by the reader that lists its suffix (the longest that ends its name: ``.nii.gz``);
a file without a suffix by the first reader that recognises its first bytes (DICOM's magic).
Files that no reader takes are ignored (listed in the dataset, not read). To add a reader, write
a module with a ``decode(data, settings) -> Decoded`` function and register a :class:`Reader`
(``docs/extending.md``).
"""

from __future__ import annotations

from pathlib import Path

from augment.io.readers.base import (
    DEFAULT_READING,
    SLICE_AXES,
    BadFile,
    Decoded,
    Reader,
    ReadSettings,
    parse_window,
)
from augment.io.readers.dicom import DICOM
from augment.io.readers.nifti import NIFTI
from augment.io.readers.pillow import PILLOW
from augment.registry import Registry

HEAD_BYTES = 132  # enough for every recogniser: DICOM's magic ends at byte 132

READERS: Registry[Reader] = Registry("reader")
READERS.register(PILLOW.name, PILLOW)
READERS.register(DICOM.name, DICOM)
READERS.register(NIFTI.name, NIFTI)


def reader_for(path: Path, head: bytes | None = None) -> Reader | None:
    """The reader of ``path``: by its suffix, or for a file without one by its first bytes
    (``head``, read from the file when not given); None when no reader takes it."""
    if path.suffix:
        name = path.name.lower()
        matches = [(len(s), r) for r in READERS.values() for s in r.suffixes if name.endswith(s)]
        return max(matches, key=lambda match: match[0])[1] if matches else None
    recognisers = [r for r in READERS.values() if r.recognise is not None]
    if not recognisers:
        return None
    if head is None:
        with path.open("rb") as handle:
            head = handle.read(HEAD_BYTES)
    return next((r for r in recognisers if r.recognise is not None and r.recognise(head)), None)


def readers_by_content(data: bytes) -> list[Reader]:
    """The readers that recognise ``data``'s first bytes (magic numbers), in registry order."""
    head = data[:HEAD_BYTES]
    return [r for r in READERS.values() if r.recognise is not None and r.recognise(head)]


def all_suffixes() -> list[str]:
    """Every suffix some reader takes, sorted (for messages)."""
    return sorted({s for r in READERS.values() for s in r.suffixes})


__all__ = [
    "DEFAULT_READING",
    "READERS",
    "SLICE_AXES",
    "BadFile",
    "Decoded",
    "ReadSettings",
    "Reader",
    "all_suffixes",
    "parse_window",
    "reader_for",
    "readers_by_content",
]
