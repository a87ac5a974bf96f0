"""Reading a folder of real images into one working size and channel count.

Layout: image files directly inside the folder form one class (named after the folder); each
sub-folder is a class named after the sub-folder. Hidden files and folders are ignored; so are
files that are neither an image type nor DICOM (they are listed in ``RealDataset.ignored``).

Readers (:mod:`augment.io.readers`): Pillow for PNG, JPEG, TIFF and BMP; pydicom for DICOM (by
suffix, or by its magic for a file without one); nibabel for NIfTI volumes (``.nii``,
``.nii.gz``), read as slices along ``ReadSettings.slice_axis``. Other readers can be registered.

Scans: every image belongs to one scan (``RealDataset.scans``), the unit a patient's data comes
in: a NIfTI volume, a DICOM series (single-slice files that share a SeriesInstanceUID, put in order
of ImagePositionPatient along the slice normal, or of InstanceNumber where positions are missing;
files whose slices differ in size from the rest of their series are bad files), or any other file.
Evaluation keeps scans, not slices, apart (augment.evaluation).

Intensities, to [0, 1]:

- Pillow images and colour DICOM: by the full range of their bit depth (255, or 65535 for
  16-bit), the same fixed rule for every image.
- Monochrome DICOM: *per dataset*: after the modality LUT, the minimum and maximum over every
  monochrome DICOM frame of the folder map to 0 and 1 (recorded as ``dicom_window``), so relative
  intensities (Hounsfield units in CT) are kept across scans and the slices of a series alike.
- NIfTI volumes: per volume, by its 0.5 and 99.5 percentiles or a fixed window
  (:mod:`augment.io.readers.nifti`).

Working size: each image is centre-cropped to a square (the shorter side) and resized to
``size x size`` with Pillow's antialiased bilinear filter, on float32 pixels, so 16-bit inputs keep
their precision. Channels: 1 (ITU-R 601 luminance) or 3 (grey repeated); ``auto`` is 3 only if some
input is colour (an RGB image whose channels differ somewhere).

Unreadable files (empty, corrupt, truncated, unsupported) raise an :class:`AugmentError` naming
the file and the reason, or with ``on_bad_file="skip"`` are left out and listed with the reason.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from augment import parameters
from augment.errors import AugmentError
from augment.io.readers import BadFile, Decoded, ReadSettings, all_suffixes, reader_for, readers_by_content
from augment.io.scans import InputFile, Scan, scan_order

MAX_FILE_BYTES = 2**31  # a larger input file is a bad file (read neither into memory nor decoded)
MAX_LISTED = 20  # unreadable files named in one error
_LUMA = np.array([0.299, 0.587, 0.114], np.float32)
BAD_FILE_POLICIES = ("fail", "skip")
CHANNELS = ("auto", "1", "3")


@dataclass(frozen=True)
class RealDataset:
    """Real images at the working size.

    Attributes:
      images: (n, size, size, channels) float32 in [0, 1].
      labels: (n,) int64 class index into ``class_names``.
      class_names: sorted class names (classes whose files were all skipped are dropped).
      sources: (n, 2) int64: for each image, the index of its file in ``files`` and the frame.
      scan_of: (n,) int64: for each image, the index of its scan in ``scans``.
      scans: the scans the images came from, in order of first image.
      files: every candidate input file, read or skipped, in folder order.
      bit_depth: 16 if any input was more than 8-bit, else 8.
      dicom_window: (low, high) of the per-dataset monochrome DICOM scaling, or None.
      ignored: paths (relative) of files that are not images and were not read.
      median_side: the median shorter side of the images as read (before resizing).
      notes: what was left out that the user may not expect (empty class folders, broken links).
    """

    images: np.ndarray
    labels: np.ndarray
    class_names: tuple[str, ...]
    sources: np.ndarray
    files: tuple[InputFile, ...]
    bit_depth: int
    scan_of: np.ndarray = field(default_factory=lambda: np.zeros((0,), np.int64))
    scans: tuple[Scan, ...] = ()
    dicom_window: tuple[float, float] | None = None
    ignored: tuple[str, ...] = field(default=())
    median_side: int = 0
    notes: tuple[str, ...] = field(default=())

    @property
    def skipped(self) -> tuple[InputFile, ...]:
        return tuple(f for f in self.files if f.skipped is not None)

    @property
    def real_counts(self) -> list[int]:
        """Real images per class, in ``class_names`` order."""
        return [int(np.sum(self.labels == k)) for k in range(len(self.class_names))]


def find_images(folder: Path) -> tuple[list[tuple[Path, str]], list[Path]]:
    """``(path, class name)`` for every image or DICOM file, sorted, and the other files ignored.

    Raises AugmentError if the folder is missing, is a file, or holds no candidate file.
    """
    if not folder.exists():
        raise AugmentError(f"input folder not found: {folder}")
    if not folder.is_dir():
        raise AugmentError(f"input must be a folder of images, got a file: {folder}")
    found: list[tuple[Path, str]] = []
    ignored: list[Path] = []

    def scan(directory: Path, class_name: str) -> None:
        for path in sorted(p for p in directory.iterdir() if p.is_file() and not p.name.startswith(".")):
            if reader_for(path) is not None:
                found.append((path, class_name))
            else:
                ignored.append(path)

    scan(folder, folder.name)
    for sub in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
        scan(sub, sub.name)
    if not found:
        raise AugmentError(
            f"no images in {folder} (looked for "
            f"{', '.join(all_suffixes())} and DICOM files directly inside it "
            "and in its sub-folders)"
        )
    return found, ignored


def _read(path: Path) -> bytes:
    """The bytes of an input file, refused as a bad file when it is larger than MAX_FILE_BYTES
    or cannot be read."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise BadFile(
                f"the file is {size / 2**30:.1f} GiB, more than augment reads ({MAX_FILE_BYTES // 2**30} GiB)"
            )
        with path.open("rb") as handle:
            return handle.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        raise BadFile(f"cannot read it ({error.strerror or error})") from None


def _decode(path: Path, data: bytes, settings: ReadSettings) -> Decoded:
    if not data:
        raise BadFile("empty file (0 bytes)")
    reader = reader_for(path, data)
    if reader is None:  # the file changed since the folder was scanned
        raise BadFile("no reader takes this file any more")
    try:
        return reader.decode(data, settings)
    except BadFile as bad:
        first = bad
    # a misnamed file (a PNG named .dcm), or magic bytes that two readers claim (a DICOM file
    # without preamble can start like a TIFF): the other readers its first bytes point to
    for other in readers_by_content(data):
        if other is not reader:
            try:
                return other.decode(data, settings)
            except BadFile:
                pass
    raise first


def to_working_size(pixels: np.ndarray, size: int) -> np.ndarray:
    """(H, W, C) -> (size, size, C): centre square crop, then antialiased bilinear resize."""
    h, w = pixels.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    square = np.asarray(pixels[top : top + side, left : left + side], np.float32)
    channels = [
        np.asarray(Image.fromarray(square[..., c], mode="F").resize((size, size), Image.Resampling.BILINEAR))
        for c in range(square.shape[-1])
    ]
    return np.clip(np.stack(channels, axis=-1), 0.0, 1.0).astype(np.float32)


def default_size(shorter_sides: list[int], minimum: int = 1, cap: int = parameters.CPU_SIZE_CAP) -> int:
    """The default working size: the median shorter side, at most ``cap`` and at least ``minimum``."""
    return int(max(minimum, min(cap, np.median(shorter_sides))))


def _check_options(channels: str, on_bad_file: str, size: int | None) -> None:
    """An AugmentError naming the first of :func:`load_folder`'s options that is not one it takes."""
    if channels not in CHANNELS:
        raise AugmentError(f"`channels` must be auto, 1 or 3, got {channels!r}")
    if on_bad_file not in BAD_FILE_POLICIES:
        raise AugmentError(f"`on_bad_file` must be fail or skip, got {on_bad_file!r}")
    if size is not None and size < 1:
        raise AugmentError(f"`size` must be positive, got {size}")


def _read_all(
    folder: Path, entries: list[tuple[Path, str]], settings: ReadSettings
) -> tuple[list[InputFile], list[Decoded | None]]:
    """Each image file read and decoded, in folder order: what it is (an :class:`InputFile`, with
    the reason where it could not be read) and what it holds (None for a bad file)."""
    files: list[InputFile] = []
    decoded: list[Decoded | None] = []
    for path, class_name in entries:
        relative = str(path.relative_to(folder))
        try:
            data = _read(path)
        except BadFile as bad:
            files.append(InputFile(relative, class_name, "", 0, 0, str(bad)))
            decoded.append(None)
            continue
        digest = hashlib.sha256(data).hexdigest()
        try:
            result = _decode(path, data, settings)
        except BadFile as bad:
            files.append(InputFile(relative, class_name, digest, len(data), 0, str(bad)))
            decoded.append(None)
            continue
        files.append(
            InputFile(
                relative, class_name, digest, len(data), len(result.frames), None,
                tuple(result.frame_info), result.notes,
            )
        )  # fmt: skip
        decoded.append(result)
    return files, decoded


def _check_readable(
    folder: Path, files: list[InputFile], decoded: list[Decoded | None], on_bad_file: str
) -> None:
    """An AugmentError naming the unreadable files (with ``on_bad_file`` "fail"), or when no file
    could be read."""
    bad_files = [f for f in files if f.skipped is not None]
    if bad_files and on_bad_file == "fail":
        listed = "; ".join(f"{f.path}: {f.skipped}" for f in bad_files[:MAX_LISTED])
        more = f"; and {len(bad_files) - MAX_LISTED} more" if len(bad_files) > MAX_LISTED else ""
        raise AugmentError(
            f"cannot read {len(bad_files)} of the {len(files)} image files in {folder}: {listed}{more} "
            "(pass `on_bad_file=skip` to leave unreadable files out)"
        )

    if all(d is None for d in decoded):
        first = files[0]
        raise AugmentError(
            f"no readable images in {folder}: all {len(files)} image files were skipped "
            f"(first: {first.path}: {first.skipped})"
        )


def _dataset_window(decoded: list[Decoded | None]) -> tuple[float, float] | None:
    """The lowest and highest value over every frame scaled per dataset (monochrome DICOM), which
    map to 0 and 1; None when there is none."""
    window = None
    dicom_values = [f for d in decoded if d is not None and d.dataset_scaled for f in d.frames]
    if dicom_values:
        low = float(min(f.min() for f in dicom_values))
        high = float(max(f.max() for f in dicom_values))
        window = (low, high)
    return window


def _in_channels(pixels: np.ndarray, colour: bool) -> np.ndarray:
    """(H, W, 1 or 3) pixels in the run's channels: grey repeated for colour, luminance for grey."""
    if colour and pixels.shape[-1] == 1:
        return np.repeat(pixels, 3, axis=-1)
    if not colour and pixels.shape[-1] == 3:
        return (pixels @ _LUMA)[..., None]
    return pixels


def load_folder(
    folder: Path,
    size: int | None = None,
    channels: str = "auto",
    on_bad_file: str = "fail",
    min_size: int = 1,
    size_cap: int = parameters.CPU_SIZE_CAP,
    read_settings: ReadSettings | None = None,
) -> RealDataset:
    """Read every image under ``folder`` (layout, readers and scaling in the module docstring).

    Args:
      folder: the input folder.
      size: the square working size; None picks :func:`default_size`.
      channels: "auto", "1" or "3".
      on_bad_file: "fail" raises on the first unreadable file; "skip" leaves them out.
      min_size: the smallest working size the caller can use (the default size is raised to it).
      size_cap: the largest default working size.
      read_settings: how volumes are cut and windowed (default: axial, by percentiles).
    """
    settings = read_settings or ReadSettings()
    _check_options(channels, on_bad_file, size)
    folder = Path(folder)
    entries, ignored = find_images(folder)

    files, decoded = _read_all(folder, entries, settings)
    order, scan_of, rank = scan_order(files, decoded)
    _check_readable(folder, files, decoded, on_bad_file)

    window = _dataset_window(decoded)

    def scaled(frame: np.ndarray, d: Decoded) -> np.ndarray:
        if not d.dataset_scaled or window is None:
            return frame
        low, high = window
        return ((frame - low) / (high - low) if high > low else np.zeros_like(frame)).astype(np.float32)

    usable = [d for d in decoded if d is not None]
    sides = [min(f.shape[:2]) for d in usable for f in d.frames]
    if size is None:
        size = default_size(sides, min_size, size_cap)
    colour = channels == "3" or (channels == "auto" and any(d.colour for d in usable))
    class_names = tuple(sorted({f.class_name for f, d in zip(files, decoded, strict=True) if d is not None}))
    images, labels, sources, image_scans = [], [], [], []
    scans: dict[str, int] = {}
    scan_list: list[Scan] = []
    for index in order:
        file, d = files[index], decoded[index]
        if d is None:
            continue
        if index in rank:  # a series slice: its place in the series
            files[index] = dataclasses.replace(file, slices=({**file.slices[0], "slice": rank[index]},))
        scan = scan_of[index]
        if scan.key not in scans:
            scans[scan.key] = len(scan_list)
            scan_list.append(scan)
        for frame_index, frame in enumerate(d.frames):
            images.append(to_working_size(_in_channels(scaled(frame, d), colour), size))
            labels.append(class_names.index(file.class_name))
            sources.append((index, frame_index))
            image_scans.append(scans[scan.key])
    return RealDataset(
        images=np.stack(images),
        labels=np.asarray(labels, np.int64),
        class_names=class_names,
        sources=np.asarray(sources, np.int64).reshape(-1, 2),
        files=tuple(files),
        bit_depth=max(d.bit_depth for d in usable),
        scan_of=np.asarray(image_scans, np.int64),
        scans=tuple(scan_list),
        dicom_window=window,
        ignored=tuple(str(p.relative_to(folder)) for p in ignored),
        median_side=int(np.median(sides)),
        notes=(
            *_folder_notes(folder, {c for _, c in entries}),
            *(f"{f.path}: {note}" for f in files for note in f.notes),
        ),
    )


def _folder_notes(folder: Path, classes_found: set[str]) -> tuple[str, ...]:
    """Sub-folders that hold no image (no class is made of them) and links that lead nowhere."""
    notes = []
    for sub in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if sub.name not in classes_found:
            notes.append(f"folder {sub.name} holds no image; it is not a class")
    for directory in [folder, *(p for p in sorted(folder.iterdir()) if p.is_dir())]:
        for path in sorted(directory.iterdir()):
            if path.is_symlink() and not path.exists():
                notes.append(
                    f"{path.relative_to(folder)} is a link to nothing ({os.readlink(path)}); left out"
                )
    return tuple(notes)
