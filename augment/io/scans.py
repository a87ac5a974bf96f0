"""Scans: the unit one patient's data comes in. A NIfTI volume, a DICOM series (single-slice
files that share a SeriesInstanceUID, in slice order) or any other file is one scan; the folder
loader (:mod:`augment.io.folder`) takes the images of a series together, in order, and records
each image's scan. :class:`InputFile` is what the loader records of each file it was given."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from augment.io.readers import Decoded


@dataclass(frozen=True)
class InputFile:
    """One input file: path relative to the input folder, class, sha256, size and what came of it.

    ``frames`` is the number of images taken from the file (0 when skipped); ``skipped`` is the
    reason the file was left out, or None. ``slices`` says where each image lies in its scan (a
    volume's slice index and world coordinate, a DICOM slice's series and position: see
    ``Decoded.frame_info``); ``notes`` what its reader left out (empty slices, later volumes).
    """

    path: str
    class_name: str
    sha256: str
    bytes: int
    frames: int
    skipped: str | None = None
    slices: tuple[dict, ...] = ()
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Scan:
    """One scan: ``key`` identifies it across folders (``sha256:<hex>`` of its file, or
    ``series:<SeriesInstanceUID>``), ``name`` says which it is in messages."""

    key: str
    name: str


def series_order(files: list[InputFile], decoded: list[Decoded | None]) -> dict[str, list[int]]:
    """The file indices of each DICOM series, in slice order; a file whose slice size differs from
    the most common one of its series is marked bad in ``files`` and ``decoded`` (in place)."""
    members: dict[str, list[int]] = {}
    for index, d in enumerate(decoded):
        if d is not None and d.series is not None:
            members.setdefault(d.series.uid, []).append(index)
    for uid, indices in members.items():
        shapes = [decoded[i].frames[0].shape[:2] for i in indices]  # type: ignore[union-attr]
        common = max(set(shapes), key=lambda shape: (shapes.count(shape), shape))
        for i, shape in zip(list(indices), shapes, strict=True):
            if shape != common:
                files[i] = dataclasses.replace(
                    files[i],
                    frames=0,
                    slices=(),
                    skipped=f"its slice is {shape[0]}x{shape[1]}, the other slices of its series "
                    f"{uid} are {common[0]}x{common[1]}",
                )
                decoded[i] = None
                indices.remove(i)
        slices = [d.series for i in indices if (d := decoded[i]) is not None and d.series is not None]
        along = [s.along_normal for s in slices]
        instances = [s.instance for s in slices]
        key: list[float] = list(range(len(slices)))  # folder order, when neither is complete
        if all(a is not None for a in along):
            key = [float(a) for a in along if a is not None]
        elif all(n is not None for n in instances):
            key = [float(n) for n in instances if n is not None]
        members[uid] = [i for _, i in sorted(zip(key, indices, strict=True), key=lambda pair: pair[0])]
    return members


def scan_order(
    files: list[InputFile], decoded: list[Decoded | None]
) -> tuple[list[int], dict[int, Scan], dict[int, int]]:
    """The order to take the files' images in (folder order, a series' files together in slice
    order where its first file is), the scan of each file read, and each series file's slice
    index in its series."""
    series = series_order(files, decoded)
    uid_of = {i: uid for uid, indices in series.items() for i in indices}
    order: list[int] = []
    scan_of: dict[int, Scan] = {}
    rank: dict[int, int] = {}
    for index, d in enumerate(decoded):
        if d is None:
            continue
        uid = uid_of.get(index)
        if uid is None:
            order.append(index)
            scan_of[index] = Scan(f"sha256:{files[index].sha256}", files[index].path)
        elif series[uid][0] not in scan_of:  # the series' first file met: all of it, in order
            scan = Scan(f"series:{uid}", f"series {uid} ({len(series[uid])} files)")
            for position, member in enumerate(series[uid]):
                order.append(member)
                scan_of[member] = scan
                rank[member] = position
    return order, scan_of, rank
