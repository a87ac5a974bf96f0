"""NIfTI volumes through nibabel (``.nii``, ``.nii.gz``), read as slices.

A volume is checked from its header before any voxel is read (three or four dimensions, at most
:data:`MAX_VOLUME_BYTES` of voxels), then only its first volume is read (a 4-D file says so in
``Decoded.notes``). It is reoriented to the closest canonical orientation (RAS: the first axis
points right, the second anterior, the third superior) and cut along the slice axis of
:class:`~augment.io.readers.base.ReadSettings`: ``axial`` slices are seen from above (anterior up,
the subject's left on the left), ``coronal`` from the front (superior up), ``sagittal`` from the
subject's left (superior up, anterior on the right). In-plane pixels are made square (the finer
spacing) when the voxels are not.

Intensities are floats (the header's scaling applied), windowed per volume to [0, 1]: by the
settings' fixed window (CT in Hounsfield units), else by the volume's 0.5 and 99.5 percentiles;
the outputs store them at 16 bits. Empty background slices (fewer than
:data:`EMPTY_FRACTION` of their pixels above :data:`EMPTY_LEVEL` of the window) are skipped and
counted. Each slice records its index along the slice axis (canonical orientation) and its world
coordinate on that axis in mm (``Decoded.frame_info``).
"""

from __future__ import annotations

import io
import struct
import zlib
from typing import Any

import numpy as np
from PIL import Image

from augment.io.readers.base import BadFile, Decoded, Reader, ReadSettings, without_reprs

MAX_VOLUME_BYTES = 2**30  # the first volume's voxels, as stored; a larger one is refused from its header
MAX_SLICE_SIDE = 4096  # an in-plane side (after making pixels square) beyond this is a bad file
EMPTY_LEVEL = 0.05  # a pixel is background at or below this fraction of the window
EMPTY_FRACTION = 0.005  # a slice with fewer foreground pixels than this fraction is empty
PERCENTILES = (0.5, 99.5)  # the default window, per volume
_AXIS = {"sagittal": 0, "coronal": 1, "axial": 2}  # RAS axis each slice is perpendicular to
_GZIP_MAGIC = b"\x1f\x8b"
_HEADER_BYTES = 540  # NIfTI-2's header; NIfTI-1's is 348


def _prefix(data: bytes, count: int) -> bytes:
    """The first ``count`` bytes of the file's content: gunzipped for a ``.nii.gz``, without
    decompressing more than that (a header that declares a huge volume is refused before its
    voxels are read)."""
    if not data.startswith(_GZIP_MAGIC):
        return data[:count]
    stream = zlib.decompressobj(wbits=31)
    out, rest = bytearray(), data
    try:
        while len(out) < count and rest:
            out += stream.decompress(rest, count - len(out))
            rest = stream.unconsumed_tail
            if stream.eof and stream.unused_data.startswith(_GZIP_MAGIC):  # a second gzip member
                rest, stream = stream.unused_data, zlib.decompressobj(wbits=31)
            elif stream.eof:
                break
    except zlib.error as error:
        raise BadFile(f"corrupt gzip data ({error})") from None
    return bytes(out)


def _header(head: bytes):
    """The nibabel header of the file's first bytes (NIfTI-1 or NIfTI-2)."""
    import nibabel as nib

    if len(head) < 348:
        raise BadFile(f"truncated: {len(head)} bytes, shorter than a NIfTI header (348)")
    size_little, size_big = struct.unpack("<i", head[:4])[0], struct.unpack(">i", head[:4])[0]
    if 348 in (size_little, size_big):
        header_type: Any = nib.Nifti1Header
    elif 540 in (size_little, size_big):
        header_type = nib.Nifti2Header
    else:
        raise BadFile("not a NIfTI file (its header size is neither 348 nor 540)")
    try:
        header = header_type.from_fileobj(io.BytesIO(head), check=False)
    except Exception as error:
        raise BadFile(f"not a readable NIfTI header ({without_reprs(str(error))})") from None
    magic = bytes(header["magic"][()])
    if magic not in (b"n+1", b"n+2"):
        raise BadFile("not a single-file NIfTI (a .hdr/.img pair or an Analyze header); convert it to .nii")
    return header


def _first_volume(data: bytes):
    """``(voxels, affine, zooms, notes)`` of the file's first 3-D volume, checked."""
    import nibabel as nib

    header = _header(_prefix(data, _HEADER_BYTES))
    shape = tuple(int(d) for d in header.get_data_shape())
    notes: list[str] = []
    while len(shape) > 3 and shape[-1] == 1:  # trailing singleton dimensions
        shape = shape[:-1]
    if len(shape) < 3:
        raise BadFile(f"a {len(shape)}-D image {shape}, not a volume: save 2-D images as PNG or TIFF")
    if len(shape) > 4:
        raise BadFile(f"a {len(shape)}-D image {shape}: augment reads 3-D volumes and the first of a 4-D one")
    if len(shape) == 4:
        notes.append(f"a 4-D image of {shape[3]} volumes: only the first was read")
    if min(shape[:3]) < 1:
        raise BadFile(f"the header declares an empty volume {shape[:3]}")
    dtype = header.get_data_dtype()
    needed = int(np.prod(shape[:3], dtype=np.int64)) * dtype.itemsize
    if needed > MAX_VOLUME_BYTES:
        raise BadFile(
            f"the header declares a {'x'.join(map(str, shape[:3]))} volume of {dtype} "
            f"({needed / 2**30:.1f} GiB), more than augment reads ({MAX_VOLUME_BYTES // 2**30} GiB)"
        )
    offset = int(header.get_data_offset())
    content = _prefix(data, offset + needed)
    if len(content) < offset + needed:
        raise BadFile(
            f"truncated: the header declares {offset + needed} bytes of header and voxels, "
            f"the file holds {len(content)}"
        )
    header.set_data_shape(shape[:3])  # the first volume: what `content` holds
    try:
        voxels = np.asarray(header.data_from_fileobj(io.BytesIO(content)), np.float64)
        affine = header.get_best_affine()
    except Exception as error:
        raise BadFile(f"not a readable NIfTI volume ({without_reprs(str(error))})") from None
    bad = int(np.count_nonzero(~np.isfinite(voxels)))
    if bad:
        raise BadFile(f"{bad} voxels are NaN or infinite")
    if affine is None or not np.all(np.isfinite(affine)) or abs(np.linalg.det(affine[:3, :3])) < 1e-12:
        raise BadFile("the header's voxel-to-world transform is missing or degenerate")
    canonical = nib.as_closest_canonical(nib.Nifti1Image(voxels, affine))
    zooms = tuple(float(z) for z in canonical.header.get_zooms()[:3])
    return np.asarray(canonical.dataobj, np.float64), canonical.affine, zooms, notes


def _window(voxels: np.ndarray, settings: ReadSettings) -> tuple[float, float]:
    if settings.window is not None:
        return settings.window
    low, high = (float(v) for v in np.percentile(voxels, PERCENTILES))
    if not high > low:
        low_p, high_p = PERCENTILES
        raise BadFile(f"the volume is constant ({low:g}) between its {low_p} and {high_p} percentiles")
    return low, high


def _square_pixels(plane: np.ndarray, row_mm: float, column_mm: float) -> np.ndarray:
    """``plane`` (rows, columns) resampled so that a pixel is as tall as it is wide (the finer
    spacing), when the two spacings differ by more than 1 %."""
    if abs(row_mm - column_mm) <= 0.01 * max(row_mm, column_mm):
        return plane
    finer = min(row_mm, column_mm)
    rows = round(plane.shape[0] * row_mm / finer)
    columns = round(plane.shape[1] * column_mm / finer)
    if max(rows, columns) > MAX_SLICE_SIDE:
        raise BadFile(f"a slice would be {rows}x{columns} pixels once square, more than {MAX_SLICE_SIDE}")
    picture = Image.fromarray(plane.astype(np.float32), mode="F")
    return np.asarray(picture.resize((columns, rows), Image.Resampling.BILINEAR), np.float64)


def decode(data: bytes, settings: ReadSettings | None = None) -> Decoded:
    """The non-empty slices of a NIfTI volume (see the module docstring)."""
    settings = settings or ReadSettings()
    voxels, affine, zooms, notes = _first_volume(data)
    low, high = _window(voxels, settings)
    axis = _AXIS[settings.slice_axis]
    in_plane = [a for a in range(3) if a != axis]  # (columns, rows) of the picture, rows flipped
    centre = np.asarray(voxels.shape, np.float64) / 2 - 0.5
    frames, info, empty = [], [], 0
    for index in range(voxels.shape[axis]):
        plane = (np.take(voxels, index, axis=axis) - low) / (high - low)  # (first, second in-plane axis)
        picture = np.clip(plane.T[::-1], 0.0, 1.0)  # rows: second axis, top = its highest (A or S)
        if np.mean(picture > EMPTY_LEVEL) < EMPTY_FRACTION:
            empty += 1
            continue
        picture = _square_pixels(picture, zooms[in_plane[1]], zooms[in_plane[0]])
        voxel = centre.copy()
        voxel[axis] = index
        world = float((affine @ np.append(voxel, 1.0))[axis])
        frames.append(picture.astype(np.float32)[..., None])
        info.append({"slice": index, "world_mm": round(world, 4)})
    if empty:
        notes.append(f"{empty} empty {settings.slice_axis} slices of {voxels.shape[axis]} skipped")
    if not frames:
        count = voxels.shape[axis]
        raise BadFile(f"every one of its {count} {settings.slice_axis} slices is empty background")
    return Decoded(frames, False, 16, frame_info=info, notes=tuple(notes))


NIFTI = Reader("nifti", frozenset({".nii", ".nii.gz"}), decode)
