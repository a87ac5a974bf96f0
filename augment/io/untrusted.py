"""Checks for what augment reads but did not necessarily write: manifests, provenance,
checkpoints, saved generators. Everything is checked before it is used, and a failure is one
AugmentError naming the file and the field.

A *schema* is a type (``int``, ``str``, ``float`` (an int or a float, also ``null``: NaN),
``bool``, ``dict``, ``list``), a dict ``{key: schema}`` (these keys at least, each checked), or a
one-element list ``[schema]`` (a list whose every item matches). Paths named in a file are plain
names inside their folder: no absolute path, no ``..``, no link leading out.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from augment.errors import AugmentError

MAX_NAME_LENGTH = 255
MAX_MANIFEST_BYTES = 256 * 2**20  # a manifest, provenance or generator.json larger than this is refused


def _fits(value: Any, schema: Any, where: str) -> str | None:
    """None if ``value`` matches ``schema``, else what is wrong (with its place)."""
    if isinstance(schema, dict):
        if not isinstance(value, dict):
            return f"{where} must be an object"
        for key, inner in schema.items():
            if key not in value:
                return f"{where} has no {key!r}"
            problem = _fits(value[key], inner, f"{where}.{key}" if where else key)
            if problem:
                return problem
        return None
    if isinstance(schema, list):
        if not isinstance(value, list):
            return f"{where} must be a list"
        for i, item in enumerate(value):
            problem = _fits(item, schema[0], f"{where}[{i}]")
            if problem:
                return problem
        return None
    if schema is float:
        ok = value is None or (isinstance(value, int | float) and not isinstance(value, bool))
        return None if ok else f"{where} must be a number"
    if schema is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
        return None if ok else f"{where} must be an integer"
    return None if isinstance(value, schema) else f"{where} must be a {schema.__name__}"


def check_schema(value: Any, schema: Any, source: Path | str, what: str = "") -> None:
    """An AugmentError ``<source> is damaged or not augment's: <field> ...`` unless ``value``
    matches ``schema`` (see the module docstring)."""
    problem = _fits(value, schema, what)
    if problem:
        raise AugmentError(f"{source} is damaged or not augment's: {problem}")


def safe_name(value: Any, what: str, source: Path | str) -> str:
    """``value`` if it is usable as one file or folder name: a non-empty string without ``/``,
    ``\\``, NUL or control characters, not ``.`` or ``..``, at most 255 characters."""
    ok = (
        isinstance(value, str)
        and 0 < len(value) <= MAX_NAME_LENGTH
        and value not in (".", "..")
        and not any(c in value for c in "/\\")
        and all(ord(c) >= 32 for c in value)
    )
    if not ok:
        raise AugmentError(f"{source} is damaged or not augment's: {what} {value!r} is not a plain name")
    return str(value)


def file_inside(folder: Path, relative: Any, what: str, source: Path | str) -> Path:
    """``folder / relative`` after checking that ``relative`` is a relative path of plain names
    and that the file it names (links followed) is a regular file inside ``folder``."""
    if not isinstance(relative, str) or not relative:
        raise AugmentError(f"{source} is damaged or not augment's: {what} must be a file name")
    for part in relative.split("/"):
        safe_name(part, what, source)
    path = folder / relative
    real_folder = os.path.realpath(folder)
    real = os.path.realpath(path)
    if os.path.commonpath([real_folder, real]) != real_folder:
        raise AugmentError(
            f"{source} is damaged or not augment's: {what} {relative!r} leads outside {folder}"
        )
    if not os.path.isfile(real):
        raise AugmentError(f"{source} names {relative!r} ({what}), which is missing or not a file")
    return path


def read_limited(path: Path, limit: int = MAX_MANIFEST_BYTES) -> bytes:
    """The bytes of ``path``, refused (AugmentError) when it is not a regular file or larger than
    ``limit``; a device such as /dev/zero is never read."""
    try:
        status = os.stat(path)
    except OSError as error:
        raise AugmentError(f"cannot read {path}: {error.strerror or error}") from None
    if not os.path.isfile(path):
        raise AugmentError(f"cannot read {path}: not a regular file")
    if status.st_size > limit:
        raise AugmentError(f"{path} is {status.st_size} bytes, more than augment reads ({limit})")
    try:
        with open(path, "rb") as handle:
            return handle.read(limit + 1)
    except OSError as error:
        raise AugmentError(f"cannot read {path}: {error.strerror or error}") from None
