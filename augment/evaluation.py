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

import numpy as np

from augment.errors import AugmentError
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


def classic_augmentation(
    train: np.ndarray, train_labels: np.ndarray, synthetic_labels: np.ndarray, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Plain augmentation, the baseline for the synthetic images: per class, as many random
    rotations (within ±12 degrees) and shifts (within ±1/8 of the size) of its real images
    (n, S, S, C), cycling through them, as it has synthetic images. Returns the images and labels."""
    import jax

    from augment.gantk.augmentation import POSE_ROTATION, POSE_SHIFT, augmented_real_set

    images, labels = [], []
    for label in np.unique(synthetic_labels):
        real = train[train_labels == label]
        count = int(np.sum(synthetic_labels == label))
        if len(real) == 0 or count == 0:
            continue
        key = jax.random.fold_in(jax.random.PRNGKey(seed), int(label))
        posed = augmented_real_set(key, real, max(count, len(real)), POSE_ROTATION, POSE_SHIFT)
        images.append(np.asarray(posed)[:count])
        labels.append(np.full(count, label, np.int64))
    if not images:
        return train[:0], train_labels[:0]
    return np.concatenate(images), np.concatenate(labels)


def _utility(train, train_labels, synthetic, synthetic_labels, holdout, holdout_labels, seed: int) -> dict:
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import SVC

    def flat(a):
        return np.asarray(a, np.float64).reshape(len(a), -1)

    sets = {
        "real": (flat(train), train_labels),
        "real+synthetic": (
            np.concatenate([flat(train), flat(synthetic)]),
            np.concatenate([train_labels, synthetic_labels]),
        ),
        "synthetic": (flat(synthetic), synthetic_labels),
    }
    posed, posed_labels = classic_augmentation(train, train_labels, synthetic_labels, seed)
    sets["real+augmented"] = (
        np.concatenate([flat(train), flat(posed)]),
        np.concatenate([train_labels, posed_labels]),
    )
    classifiers = {
        "svc": lambda: SVC(),
        "logistic": lambda: LogisticRegression(max_iter=2000, random_state=seed),
    }
    result: dict[str, dict[str, float | None]] = {}
    for name, make in classifiers.items():
        result[name] = {}
        for set_name, (x, y) in sets.items():
            if len(np.unique(y)) < 2:
                result[name][set_name] = None  # a classifier needs two classes to train
                continue
            result[name][set_name] = float(make().fit(x, y).score(flat(holdout), holdout_labels))
    return result


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
    size, channels = synthetic.shape[1], synthetic.shape[-1]
    class_names = tuple(synthetic_data.class_names)
    train_data = load_folder(real_folder, size, str(channels), on_bad_file, read_settings=reading)
    # the real images as an output of theirs would store them: synth flags near-copies against
    # these, so both give the same count on the same file
    train = stored_form(train_data.images, train_data.bit_depth)
    train_labels = _labels_in(train_data, class_names)
    holdout = holdout_labels = None
    if holdout_folder is not None:
        holdout_data = load_folder(holdout_folder, size, str(channels), on_bad_file, read_settings=reading)
        holdout = stored_form(holdout_data.images, holdout_data.bit_depth)
        holdout_labels = _labels_in(holdout_data, class_names)
    warnings = _input_warnings(synthetic_data.provenance, train_data, real_folder)
    train_scans = _scan_keys(train_data)
    holdout_scans = None if holdout is None else _scan_keys(holdout_data)
    shared = set() if holdout_scans is None else set(train_scans) & set(holdout_scans)
    if shared:
        names = sorted(scan.name for scan in holdout_data.scans if scan.key in shared)
        warnings.append(
            f"the training and held-out folders share {len(shared)} scan(s) ({', '.join(names[:3])}"
            f"{', ...' if len(names) > 3 else ''}): their held-out slices are not unseen, which flatters "
            "the utility and hides membership; keep each scan on one side"
        )

    novelty = privacy(synthetic, train, holdout)
    pixel = {**prdc(train, synthetic), **kid(train, synthetic, seed=seed)}
    features_train = random_conv_features(train, seed)
    features_synthetic = random_conv_features(synthetic, seed)
    feature = {
        **prdc(features_train, features_synthetic),
        **kid(features_train, features_synthetic, seed=seed),
    }
    figures = {
        "synthetic": str(synthetic_path),
        "real": str(real_folder),
        "holdout": None if holdout_folder is None else str(holdout_folder),
        "working_size": [size, size, channels],
        "counts": {
            "synthetic": len(synthetic),
            "train": len(train),
            "holdout": None if holdout is None else len(holdout),
        },
        "privacy": {
            "reference": novelty["reference"],
            "dcr_median": novelty["dcr_median"],
            "reference_dcr_median": novelty["reference_dcr_median"],
            "privacy_ratio": novelty["privacy_ratio"],
            "near_copy_threshold": novelty["near_copy_threshold"],
            "near_copy_fraction": novelty["near_copy_fraction"],
            "near_copies": [
                {
                    "index": int(i),
                    "class": class_names[int(synthetic_data.labels[i])],
                    "dcr": float(novelty["dcr"][i]),
                    **_nearest_record(train_data, int(novelty["nearest"][i])),
                }
                for i in novelty["near_copies"]
            ],
        },
        "pixel": pixel,
        "features": {"space": FEATURES, **feature},
        "realism": realism(
            train if holdout is None else np.concatenate([train, holdout]),
            synthetic,
            pixel["precision"],
            seed,
            [
                (name, train[train_labels == k], synthetic[synthetic_data.labels == k])
                for k, name in enumerate(class_names)
            ],
        ),
        "utility": None,
        "membership_inference": None,
        "data_copying": None,
    }
    if holdout is not None and holdout_scans is not None:
        unseen = np.asarray([key not in shared for key in holdout_scans], bool)
        in_scans = len(set(train_scans)) < len(train) or len(set(holdout_scans)) < len(holdout)
        member_units = len(set(train_scans)) if in_scans else len(train)
        other_units = len(set(holdout_scans[unseen])) if in_scans else int(unseen.sum())
        if len(train) >= 2 and unseen.sum() >= 1:
            figures["data_copying"] = data_copying(synthetic, train, holdout[unseen], seed)
        if member_units >= 2 and other_units >= 2:
            figures["membership_inference"] = membership_inference(
                synthetic, train, holdout[unseen], seed,
                *((train_scans, holdout_scans[unseen]) if in_scans else ()),
            )  # fmt: skip
    if (
        holdout is not None
        and holdout_labels is not None
        and len(class_names) >= 2
        and np.any(holdout_labels >= 0)
    ):
        from augment.gantk.augmentation import POSE_ROTATION, POSE_SHIFT

        known_train, known_holdout = train_labels >= 0, holdout_labels >= 0
        figures["utility"] = {
            "metric": "accuracy on the holdout",
            "augmented": (
                f"real + as many random rotations (±{POSE_ROTATION:g} degrees) and shifts "
                f"(±{POSE_SHIFT:g} of the size) of each class's real images as it has synthetic images"
            ),
            **_utility(
                train[known_train], train_labels[known_train], synthetic, synthetic_data.labels,
                holdout[known_holdout], holdout_labels[known_holdout], seed,
            ),
        }  # fmt: skip
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


def summary_lines(evaluation: Evaluation) -> list[str]:
    """The figures, one per line, for the terminal."""
    f = evaluation.figures
    p, px, ft = f["privacy"], f["pixel"], f["features"]
    ratio = "n/a" if p["privacy_ratio"] is None else f"{p['privacy_ratio']:.3f}"
    reference = p["reference_dcr_median"]
    lines = [
        f"{f['synthetic']}: {f['counts']['synthetic']} synthetic vs {f['counts']['train']} training images"
        + ("" if f["holdout"] is None else f" ({f['counts']['holdout']} held out)"),
        f"privacy ratio {ratio} (median DCR {p['dcr_median']:.4f} vs {p['reference']} "
        f"{reference if reference is None else round(reference, 4)})",
        f"near-copies: {len(p['near_copies'])} ({p['near_copy_fraction']:.1%})",
    ]
    for name, figures in (("pixels", px), (ft["space"], ft)):
        lines.append(
            f"{name}: precision {figures['precision']:.3f}, recall {figures['recall']:.3f}, density "
            f"{figures['density']:.3f}, coverage {figures['coverage']:.3f} (k={figures['k']}); "
            f"KID {figures['kid']:.4g} ± {figures['kid_std']:.2g} (subsets of {figures['subset_size']})"
        )
    real = f.get("realism")
    if real is not None:
        test, spectrum = real["c2st"], real["high_frequency"]
        if test["auc"] is not None:
            low, high = test["auc_interval"]
            ratio = "n/a" if spectrum["ratio"] is None else f"{spectrum['ratio']:.2f}"
            texture = real.get("c2st_texture") or {}
            texture_auc = "n/a" if texture.get("auc") is None else f"{texture['auc']:.3f}"
            lines.append(
                f"realism: C2ST AUC {test['auc']:.3f} on pixels (95 % {low:.3f}-{high:.3f}), {texture_auc} "
                f"on texture (grouped folds; 0.5: cannot tell them from the real images, well below: "
                f"hugging), high-frequency power ratio {ratio}: {real['verdict']}"
            )
    for name, counts in (real or {}).get("per_class", {}).items():
        lines.append(
            f"class {name}: {counts['blurred']} of {counts['images']} blurred, {counts['noisy']} noisy "
            f"(median fine-detail share {counts['synthetic_median']:.3g} vs real {counts['real_median']:.3g})"
        )
    copying = f.get("data_copying")
    if copying is not None and copying["c_t"] is not None:
        lines.append(
            f"data copying: C_T {copying['c_t']:.2f} (z {copying['z']:.2f}, {copying['cells_used']} of "
            f"{copying['cells']} cells; below 0: closer to the training images than held-out ones): "
            f"{copying['verdict']}; authenticity {copying['authenticity']:.2f} "
            f"(held-out images {copying['authenticity_holdout']:.2f})"
        )
    attack = f.get("membership_inference")
    if attack is not None:
        low, high = attack["auc_interval"]
        lines.append(
            f"membership inference ({attack.get('unit', 'image')}s): AUC {attack['auc']:.3f} "
            f"(95 % {low:.3f}-{high:.3f}), advantage "
            f"{attack['advantage']:.3f} at {attack['false_positive_rate']:.0%} false positives: "
            f"{attack['verdict']}"
        )
    if f["utility"] is not None:
        for name in ("svc", "logistic"):
            scores = f["utility"][name]
            shown = ", ".join(f"{k} {'n/a' if v is None else f'{v:.3f}'}" for k, v in scores.items())
            lines.append(f"utility ({name}, holdout accuracy): {shown}")
    return lines
