"""``augment evaluate``: how useful and how novel a synthetic dataset is, against real folders.

- Novelty / privacy in pixel space at the working size (see :mod:`augment.measures.quality`): DCR to the
  training images, privacy ratio against the holdout (or leave-one-out among the training
  images), and the near-copies, listed closest first.
- Fidelity / diversity: precision, recall, density, coverage and KID, in pixel space and in the
  ``random-conv-v1`` feature space (:func:`augment.measures.quality.random_conv_features`).
- Realism (see :mod:`augment.measures.realism`): classifier two-sample tests with grouped folds (can a
  logistic regression on pixels, or on texture statistics, tell the synthetic images from every
  real image at hand, training and held-out?), the high-frequency power ratio, each class's
  blurred and noisy images, and a plain verdict that reads them with the pixel precision, the
  worst first.
- Data copying, with a holdout (:func:`augment.measures.privacy.data_copying`): Meehan et al.'s C_T over
  k-means cells of the training images, and authenticity beside the held-out images' own.
- Utility, when a labelled holdout is given and there are at least two classes: scikit-learn
  ``SVC()`` and ``LogisticRegression`` on pixels, trained on real only, real + synthetic,
  synthetic only, and the baseline a user would otherwise reach for: real + classic augmentation
  (as many random small rotations and shifts of each class's real images as the class has
  synthetic images, :func:`classic_augmentation`), scored by accuracy on the holdout.

The real folders are read with the same rules as ``augment synth`` at the synthetic data's working
size and channel count, so distances compare like with like, and volumes are cut and windowed as
the synthetic set's provenance records (unless told otherwise).

Scans (the slices of one volume or DICOM series, :mod:`augment.io.folder`): a warning says when
the training and held-out folders share scans (their held-out slices are not unseen), the
membership inference treats a scan as the member when some scan holds several images
(:mod:`augment.measures.privacy`), and each near-copy names the scan and slice of its nearest real image.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from augment.errors import AugmentError
from augment.evaluation.utility import utility_figures
from augment.io.dataset import from_integer_pixels, stored_form
from augment.io.folder import RealDataset, load_folder
from augment.io.readers import DEFAULT_READING, SLICE_AXES, ReadSettings
from augment.io.writers import read_output
from augment.measures.privacy import data_copying, membership_inference
from augment.measures.quality import (
    FEATURES,
    kid,
    prdc,
    privacy,
    random_conv_features,
)
from augment.measures.realism import realism


@dataclass
class Evaluation:
    """Figures (JSON-serialisable ``figures``) plus the arrays a report draws from."""

    figures: dict
    synthetic: np.ndarray  # (N, S, S, C) float in [0, 1]
    synthetic_labels: np.ndarray  # (N,)
    train: np.ndarray  # (R, S, S, C)
    train_labels: np.ndarray  # (R,) indices into class_names, -1 for a class not in the synthetic set
    class_names: tuple[str, ...]
    dcr: np.ndarray  # (N,)
    nearest: np.ndarray  # (N,) indices into train
    near_copies: np.ndarray  # indices into synthetic, closest first
    reference_dcr: np.ndarray  # the reference's nearest-training distances (holdout, or leave-one-out)
    warnings: list[str] = field(default_factory=list)  # what the user should know about the inputs


def _labels_in(real: RealDataset, class_names: tuple[str, ...]) -> np.ndarray:
    index = {name: i for i, name in enumerate(class_names)}
    return np.array([index.get(real.class_names[k], -1) for k in real.labels], np.int64)


def recorded_reading(provenance: dict) -> ReadSettings:
    """The reading settings a synthetic set's provenance records (its ``config``'s ``slice_axis``
    and ``window``), or the defaults where it records none or something unusable."""
    config = provenance.get("config")
    if not isinstance(config, dict):
        return DEFAULT_READING
    axis, window = config.get("slice_axis", "axial"), config.get("window")
    if axis not in SLICE_AXES:
        return DEFAULT_READING
    try:
        if window is None:
            return ReadSettings(axis)
        low, high = (float(v) for v in window)
        return ReadSettings(axis, (low, high))
    except (AugmentError, TypeError, ValueError):
        return DEFAULT_READING


def _scan_keys(data: RealDataset) -> np.ndarray:
    """(n,) each image's scan key (``Scan.key``: the same scan in two folders has the same one)."""
    return np.asarray([data.scans[i].key for i in data.scan_of], dtype=object)


def _nearest_record(data: RealDataset, image: int) -> dict:
    """Which file, scan and (for a slice of a volume or series) slice a real image comes from."""
    file_index, frame = (int(v) for v in data.sources[image])
    file = data.files[file_index]
    scan = data.scans[data.scan_of[image]]
    record: dict = {"nearest_train_file": file.path, "nearest_train_scan": scan.name}
    if frame < len(file.slices):
        record["nearest_train_slice"] = dict(file.slices[frame])
    return record


def _privacy_figures(
    novelty: dict[str, Any], class_names: tuple[str, ...], labels: np.ndarray, train_data: RealDataset
) -> dict[str, Any]:
    """The privacy figures of :func:`~augment.measures.quality.privacy`, each near-copy named by
    its class and its nearest training image."""
    return {
        "reference": novelty["reference"],
        "dcr_median": novelty["dcr_median"],
        "reference_dcr_median": novelty["reference_dcr_median"],
        "privacy_ratio": novelty["privacy_ratio"],
        "near_copy_threshold": novelty["near_copy_threshold"],
        "near_copy_fraction": novelty["near_copy_fraction"],
        "near_copies": [
            {
                "index": int(i),
                "class": class_names[int(labels[i])],
                "dcr": float(novelty["dcr"][i]),
                **_nearest_record(train_data, int(novelty["nearest"][i])),
            }
            for i in novelty["near_copies"]
        ],
    }


def _copying_figures(
    synthetic: np.ndarray,
    train: np.ndarray,
    holdout: np.ndarray,
    train_scans: np.ndarray,
    holdout_scans: np.ndarray,
    shared: set,
    seed: int,
) -> dict[str, Any]:
    """The data-copying test and the membership attack against the held-out images of scans the
    training folder does not share, by scan where a scan holds several images."""
    found: dict[str, Any] = {}
    unseen = np.asarray([key not in shared for key in holdout_scans], bool)
    in_scans = len(set(train_scans)) < len(train) or len(set(holdout_scans)) < len(holdout)
    member_units = len(set(train_scans)) if in_scans else len(train)
    other_units = len(set(holdout_scans[unseen])) if in_scans else int(unseen.sum())
    if len(train) >= 2 and unseen.sum() >= 1:
        found["data_copying"] = data_copying(synthetic, train, holdout[unseen], seed)
    if member_units >= 2 and other_units >= 2:
        found["membership_inference"] = membership_inference(
            synthetic, train, holdout[unseen], seed,
            *((train_scans, holdout_scans[unseen]) if in_scans else ()),
        )  # fmt: skip
    return found


def evaluate(
    synthetic_path: Path,
    real_folder: Path,
    holdout_folder: Path | None = None,
    *,
    on_bad_file: str = "fail",
    seed: int = 0,
    slice_axis: str | None = None,
    window: tuple[float, float] | None = None,
) -> Evaluation:
    """Compute every figure of the module docstring (``holdout_folder`` enables utility).

    ``slice_axis`` and ``window``: how volumes are read; each left at None is as the synthetic
    set's provenance records."""
    synthetic_data = read_output(synthetic_path)
    recorded = recorded_reading(synthetic_data.provenance)
    reading = ReadSettings(
        recorded.slice_axis if slice_axis is None else slice_axis,
        recorded.window if window is None else window,
    )
    synthetic = from_integer_pixels(synthetic_data.images)
    if len(synthetic) == 0:
        raise AugmentError(f"{synthetic_path} holds no images")
    class_names = tuple(synthetic_data.class_names)
    train_data, train, train_labels = _real_set(real_folder, synthetic, class_names, on_bad_file, reading)
    holdout = holdout_labels = None
    if holdout_folder is not None:
        holdout_data, holdout, holdout_labels = _real_set(
            holdout_folder, synthetic, class_names, on_bad_file, reading
        )
    warnings = _input_warnings(synthetic_data.provenance, train_data, real_folder)
    train_scans = _scan_keys(train_data)
    holdout_scans = None if holdout is None else _scan_keys(holdout_data)
    shared = set() if holdout_scans is None else set(train_scans) & set(holdout_scans)
    if shared:
        warnings.append(_shared_scans_warning(holdout_data, shared))
    novelty = privacy(synthetic, train, holdout)
    figures = _figures(
        synthetic_path, real_folder, holdout_folder, synthetic, synthetic_data.labels, class_names,
        train_data, train, train_labels, holdout, novelty, seed,
    )  # fmt: skip
    if holdout is not None and holdout_scans is not None:
        figures |= _copying_figures(synthetic, train, holdout, train_scans, holdout_scans, shared, seed)
    if (
        holdout is not None
        and holdout_labels is not None
        and len(class_names) >= 2
        and np.any(holdout_labels >= 0)
    ):
        figures["utility"] = utility_figures(
            train, train_labels, synthetic, synthetic_data.labels, holdout, holdout_labels, seed
        )
    return Evaluation(
        figures=figures,
        synthetic=synthetic,
        synthetic_labels=synthetic_data.labels,
        train=train,
        train_labels=train_labels,
        class_names=class_names,
        dcr=novelty["dcr"],
        nearest=novelty["nearest"],
        near_copies=novelty["near_copies"],
        reference_dcr=novelty["reference_dcr"],
        warnings=warnings,
    )


def _figures(
    synthetic_path: Path,
    real_folder: Path,
    holdout_folder: Path | None,
    synthetic: np.ndarray,
    synthetic_labels: np.ndarray,
    class_names: tuple[str, ...],
    train_data: RealDataset,
    train: np.ndarray,
    train_labels: np.ndarray,
    holdout: np.ndarray | None,
    novelty: dict[str, Any],
    seed: int,
) -> dict[str, Any]:
    """Every figure that needs no held-out labels: what was compared, the privacy, the pixel and
    feature distributions and the realism (utility, membership and data copying None: filled in
    with a held-out set)."""
    size, channels = synthetic.shape[1], synthetic.shape[-1]
    pixel, feature = _distribution_figures(train, synthetic, seed)
    return {
        "synthetic": str(synthetic_path),
        "real": str(real_folder),
        "holdout": None if holdout_folder is None else str(holdout_folder),
        "working_size": [size, size, channels],
        "counts": {
            "synthetic": len(synthetic),
            "train": len(train),
            "holdout": None if holdout is None else len(holdout),
        },
        "privacy": _privacy_figures(novelty, class_names, synthetic_labels, train_data),
        "pixel": pixel,
        "features": {"space": FEATURES, **feature},
        "realism": realism(
            train if holdout is None else np.concatenate([train, holdout]),
            synthetic,
            pixel["precision"],
            seed,
            [
                (name, train[train_labels == k], synthetic[synthetic_labels == k])
                for k, name in enumerate(class_names)
            ],
        ),
        "utility": None,
        "membership_inference": None,
        "data_copying": None,
    }


def _real_set(
    folder: Path, synthetic: np.ndarray, class_names: tuple[str, ...], on_bad_file: str, reading: ReadSettings
) -> tuple[RealDataset, np.ndarray, np.ndarray]:
    """A real folder read at the synthetic images' size and channels: the dataset, its images as an
    output would store them (synth flags near-copies against these, so both give the same count
    on the same file), and each image's index into ``class_names`` (-1 for another class)."""
    data = load_folder(
        folder, synthetic.shape[1], str(synthetic.shape[-1]), on_bad_file, read_settings=reading
    )
    return data, stored_form(data.images, data.bit_depth), _labels_in(data, class_names)


def _shared_scans_warning(holdout: RealDataset, shared: set) -> str:
    """What to say when the training and held-out folders share scans."""
    names = sorted(scan.name for scan in holdout.scans if scan.key in shared)
    return (
        f"the training and held-out folders share {len(shared)} scan(s) ({', '.join(names[:3])}"
        f"{', ...' if len(names) > 3 else ''}): their held-out slices are not unseen, which flatters "
        "the utility and hides membership; keep each scan on one side"
    )


def _distribution_figures(
    train: np.ndarray, synthetic: np.ndarray, seed: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    """PRDC and KID between the training and synthetic images, on the pixels and on random
    convolutional features (:func:`~augment.measures.quality.random_conv_features`)."""
    pixel = {**prdc(train, synthetic), **kid(train, synthetic, seed=seed)}
    features_train, features_synthetic = (
        random_conv_features(train, seed),
        random_conv_features(synthetic, seed),
    )
    return pixel, {
        **prdc(features_train, features_synthetic),
        **kid(features_train, features_synthetic, seed=seed),
    }


def _input_warnings(provenance: dict, real: RealDataset, folder: Path) -> list[str]:
    """A warning when none of the synthetic set's recorded inputs is in the real folder (by sha256):
    the figures then compare it with images it was not made from."""
    inputs = provenance.get("inputs")
    recorded = {i.get("sha256") for i in inputs if isinstance(i, dict)} if isinstance(inputs, list) else set()
    recorded.discard(None)
    if not recorded:
        return []
    present = {f.sha256 for f in real.files} & recorded
    if present:
        return []
    return [
        f"none of the {len(real.files)} files in {folder} is among the {len(recorded)} real images this "
        "synthetic set was made from; the privacy figures compare it with other images"
    ]
