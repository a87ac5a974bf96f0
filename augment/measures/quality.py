"""Quality figures for a synthetic dataset: novelty (privacy), fidelity/diversity, and features.

Distances are root-mean-square pixel differences at the working size, on intensities in [0, 1]
(0 is an exact copy, 1 the largest possible difference), whatever the image size.

- **DCR** (distance to closest record): each image's distance to its nearest *training* image.
- **Privacy ratio**: median DCR(synthetic -> train) / median DCR(reference -> train), where the
  reference is a held-out real set when one is given, else the training images themselves with
  each one left out of its own search (leave-one-out). About 1 means "as far from the training
  images as new real images are"; near 0 means copies.
- **Near-copies**: synthetic images with DCR below the 5th percentile of the reference DCRs.
- **Precision, recall, density, coverage** (Naeem et al., 2020, k nearest neighbours).
- **KID** (kernel inception distance without Inception): unbiased MMD^2 with the cubic polynomial
  kernel, averaged over random subsets whose size fits small sets.

Everything here is numpy on (n, H, W, C) arrays or (n, d) features; no weights are downloaded.
"""

from __future__ import annotations

import numpy as np

NEAR_COPY_PERCENTILE = 5.0
SAME_IMAGE = 0.5 / 255  # RMS distance below which two images are the same (half a grey level of 8 bits)


def _flat(images: np.ndarray) -> np.ndarray:
    return np.asarray(images, np.float64).reshape(len(images), -1)


def pairwise_rms_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(M, ...) and (R, ...) -> (M, R) RMS distances (per coordinate), computed in float64."""
    x, y = _flat(a), _flat(b)
    squared = (x * x).sum(1)[:, None] + (y * y).sum(1)[None, :] - 2.0 * x @ y.T
    return np.sqrt(np.maximum(squared, 0.0) / x.shape[1])


def nearest_real(synthetic: np.ndarray, real: np.ndarray, block: int = 1024) -> tuple[np.ndarray, np.ndarray]:
    """For each synthetic image, the index of the closest real image and the RMS distance to it.

    Args:
      synthetic: (M, H, W, C) in [0, 1].
      real: (R, H, W, C) in [0, 1].
      block: synthetic images compared at a time (bounds memory to block x R distances).

    Returns:
      (M,) int64 indices into ``real`` and (M,) float32 distances.
    """
    index, distance = [], []
    for start in range(0, len(synthetic), block):
        d = pairwise_rms_distance(synthetic[start : start + block], real)
        index.append(np.argmin(d, axis=1))
        distance.append(d.min(axis=1))
    if not index:
        return np.zeros(0, np.int64), np.zeros(0, np.float32)
    return np.concatenate(index).astype(np.int64), np.concatenate(distance).astype(np.float32)


def leave_one_out_dcr(real: np.ndarray) -> np.ndarray:
    """(R,) distance of each real image to its nearest *other* real image (needs R >= 2)."""
    d = pairwise_rms_distance(real, real)
    np.fill_diagonal(d, np.inf)
    return d.min(axis=1)


def distinct(images: np.ndarray) -> np.ndarray:
    """``images`` (n, H, W, C) without those within :data:`SAME_IMAGE` (RMS) of an earlier one:
    the same image twice (a file copied, the mirror-image slices of a symmetric template) is one
    image, not two that lie at distance 0 from each other."""
    if len(images) < 2:
        return images
    d = pairwise_rms_distance(images, images)
    earlier = np.tril(d < SAME_IMAGE, k=-1).any(axis=1)
    return images[~earlier]


def leave_one_out_threshold(train: np.ndarray, percentile: float = NEAR_COPY_PERCENTILE) -> float | None:
    """The near-copy distance without a holdout: the ``percentile`` (default the 5th) of the
    leave-one-out nearest distances among the distinct training images (:func:`distinct`; None
    with fewer than two)."""
    unique = distinct(np.asarray(train))
    if len(unique) < 2:
        return None
    return float(np.percentile(leave_one_out_dcr(unique), percentile))


def privacy(synthetic: np.ndarray, train: np.ndarray, holdout: np.ndarray | None = None) -> dict:
    """DCR figures, privacy ratio and near-copies of ``synthetic`` against the ``train`` images.

    Returns a dict: ``dcr`` (M,), ``nearest`` (M,) train indices, ``reference`` ("holdout" or
    "leave-one-out"), ``reference_dcr`` (the reference's own nearest-training distances; empty
    without a reference), ``reference_dcr_median``, ``dcr_median``, ``privacy_ratio``,
    ``near_copy_threshold``, ``near_copies`` (indices, closest first) and ``near_copy_fraction``.
    With a single training image and no holdout there is no reference: the ratio and threshold
    are None and nothing is flagged.
    """
    nearest, dcr = nearest_real(synthetic, train)
    if holdout is not None and len(holdout):
        reference, name = nearest_real(holdout, train)[1], "holdout"
    elif len(train) >= 2:
        reference, name = leave_one_out_dcr(train), "leave-one-out"
    else:  # one real image: nothing to compare a distance with
        return {
            "dcr": dcr, "nearest": nearest, "reference": None, "reference_dcr": np.zeros(0, np.float32),
            "reference_dcr_median": None,
            "dcr_median": float(np.median(dcr)), "privacy_ratio": None, "near_copy_threshold": None,
            "near_copies": np.zeros(0, np.int64), "near_copy_fraction": 0.0,
        }  # fmt: skip
    threshold = float(np.percentile(reference, NEAR_COPY_PERCENTILE))
    reference_median = float(np.median(reference))
    near = np.flatnonzero(dcr < threshold)
    near = near[np.argsort(dcr[near], kind="stable")]
    return {
        "dcr": dcr,
        "nearest": nearest,
        "reference": name,
        "reference_dcr": reference,
        "reference_dcr_median": reference_median,
        "dcr_median": float(np.median(dcr)),
        "privacy_ratio": float(np.median(dcr) / reference_median) if reference_median > 0 else float("inf"),
        "near_copy_threshold": threshold,
        "near_copies": near,
        "near_copy_fraction": float(len(near) / max(len(dcr), 1)),
    }


def prdc(real: np.ndarray, fake: np.ndarray, k: int = 5) -> dict:
    """Precision, recall, density and coverage (Naeem et al., 2020) of ``fake`` against ``real``.

    Args:
      real: (R, ...) features or images; fake: (M, ...).
      k: neighbours for the radii, lowered to fit small sets (k < R and k < M).

    Returns:
      dict with ``precision``, ``recall``, ``density``, ``coverage`` and the ``k`` used.
    """
    k = int(max(1, min(k, len(real) - 1, len(fake) - 1)))
    real_real = pairwise_rms_distance(real, real)
    fake_fake = pairwise_rms_distance(fake, fake)
    real_fake = pairwise_rms_distance(real, fake)  # (R, M)
    # the k-th neighbour excluding the point itself (column 0 after sorting is the 0 self-distance)
    real_radius = np.sort(real_real, axis=1)[:, k]
    fake_radius = np.sort(fake_fake, axis=1)[:, k]
    inside = real_fake <= real_radius[:, None]  # fake j inside real i's ball
    return {
        "precision": float(inside.any(axis=0).mean()),
        "recall": float((real_fake <= fake_radius[None, :]).any(axis=1).mean()),
        "density": float(inside.sum(axis=0).mean() / k),
        "coverage": float((real_fake.min(axis=1) <= real_radius).mean()),
        "k": k,
    }


def kid(
    real: np.ndarray, fake: np.ndarray, subsets: int = 100, subset_size: int = 100, seed: int = 0
) -> dict:
    """Kernel inception distance in any feature space: unbiased MMD^2, kernel (x.y / d + 1)^3.

    The subset size is lowered to the smaller set (at least 2 are needed); returns the mean and
    standard deviation over ``subsets`` random subsets, and the subset size used.
    """
    x, y = _flat(real), _flat(fake)
    m = int(min(subset_size, len(x), len(y)))
    if m < 2:
        return {"kid": float("nan"), "kid_std": float("nan"), "subset_size": m}
    d = x.shape[1]
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(subsets):
        a = x[rng.choice(len(x), m, replace=False)]
        b = y[rng.choice(len(y), m, replace=False)]
        kxx, kyy, kxy = (a @ a.T / d + 1) ** 3, (b @ b.T / d + 1) ** 3, (a @ b.T / d + 1) ** 3
        off = 1.0 - np.eye(m)
        values.append(
            (kxx * off).sum() / (m * (m - 1)) + (kyy * off).sum() / (m * (m - 1)) - 2.0 * kxy.mean()
        )
    return {"kid": float(np.mean(values)), "kid_std": float(np.std(values)), "subset_size": m}


FEATURES = "random-conv-v1"
"""Name of the learned-free feature space (recorded with every figure computed in it)."""


def random_conv_features(images: np.ndarray, seed: int = 0) -> np.ndarray:
    """(n, S, S, C) in [0, 1] -> (n, d) features of a fixed random convolutional network.

    ``random-conv-v1``: Conv(64, 3x3, stride 2, SAME) -> ReLU -> Conv(128, 3x3, stride 2, SAME)
    -> ReLU -> flatten, He-normal weights from ``PRNGKey(seed)``, no bias; inputs centred at 0.5.
    The same seed gives the same features on every machine, so figures are comparable across runs
    of the same working size. Built from :mod:`augment.ntk.stax` layers (finite width).
    """
    import jax

    from augment.ntk import stax

    init_fn, apply_fn, _ = stax.serial(
        stax.Conv(64, (3, 3), (2, 2), "SAME", W_std=np.sqrt(2.0)),
        stax.Relu(),
        stax.Conv(128, (3, 3), (2, 2), "SAME", W_std=np.sqrt(2.0)),
        stax.Relu(),
        stax.Flatten(),
    )
    x = np.asarray(images, np.float32) - 0.5
    _, params = init_fn(jax.random.PRNGKey(seed), x.shape)
    apply = jax.jit(apply_fn)
    return np.concatenate([np.asarray(apply(params, x[i : i + 256])) for i in range(0, len(x), 256)])
