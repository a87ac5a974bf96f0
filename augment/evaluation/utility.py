"""Utility: the held-out accuracy of classifiers trained on the real images, on the real images
with classic augmentation (small rotations and shifts), on real and synthetic images together, and
on synthetic images alone (:func:`augment.evaluation.evaluate`'s ``utility``)."""

from __future__ import annotations

from typing import Any

import numpy as np


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


def utility(train, train_labels, synthetic, synthetic_labels, holdout, holdout_labels, seed: int) -> dict:
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


def utility_figures(
    train: np.ndarray,
    train_labels: np.ndarray,
    synthetic: np.ndarray,
    synthetic_labels: np.ndarray,
    holdout: np.ndarray,
    holdout_labels: np.ndarray,
    seed: int,
) -> dict[str, Any]:
    """Held-out accuracy of the classifiers (:func:`utility`) on the images of known classes."""
    from augment.gantk.augmentation import POSE_ROTATION, POSE_SHIFT

    known_train, known_holdout = train_labels >= 0, holdout_labels >= 0
    return {
        "metric": "accuracy on the holdout",
        "augmented": (
            f"real + as many random rotations (±{POSE_ROTATION:g} degrees) and shifts "
            f"(±{POSE_SHIFT:g} of the size) of each class's real images as it has synthetic images"
        ),
        **utility(
            train[known_train], train_labels[known_train], synthetic, synthetic_labels,
            holdout[known_holdout], holdout_labels[known_holdout], seed,
        ),
    }  # fmt: skip
