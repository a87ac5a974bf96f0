"""Membership inference: can someone holding the synthetic images tell which real images they
were made from?

The attack is distance-based (the strongest simple attack on data synthesis without access to
the model): each candidate real image gets the score "distance to its nearest synthetic image";
a smaller score says "member". Members are the training images, non-members held-out images of
the same source. The attack's AUC is the probability that a random member scores below a random
non-member (ties count half; the Mann-Whitney statistic): 0.5 is chance, 1 is perfect. Its 95 %
interval is a bootstrap over members and non-members. At a low false-positive rate the
attack's *advantage* is its true-positive rate minus that false-positive rate.

When the images come in scans (the slices of a volume or a DICOM series), the member is the scan:
an attacker asks whether a patient's scan was used, and neighbouring slices of one scan are not
independent people. A scan's score is then the mean of its slices' scores, and the AUC is over
scans.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from augment.measures.quality import leave_one_out_dcr, nearest_real

LOW_FALSE_POSITIVE_RATE = 0.1
BOOTSTRAP_ROUNDS = 2000
# verdict thresholds on the AUC (point estimate): below CHANCE_AUC the attacker does no better than
# chance (when the interval also reaches down to 0.5), below CLEAR_AUC somewhat, else clearly
CHANCE_AUC, CLEAR_AUC = 0.6, 0.75


def per_scan(scores: np.ndarray, scans: np.ndarray) -> np.ndarray:
    """(S,) the mean of ``scores`` (n,) over the images of each scan (``scans`` (n,) its labels),
    in order of the sorted labels."""
    labels, inverse = np.unique(scans, return_inverse=True)
    return np.bincount(inverse, weights=scores, minlength=len(labels)) / np.bincount(inverse)


def membership_inference(
    synthetic: np.ndarray,
    members: np.ndarray,
    non_members: np.ndarray,
    seed: int = 0,
    member_scans: np.ndarray | None = None,
    non_member_scans: np.ndarray | None = None,
) -> dict[str, Any]:
    """The distance attack's figures (see the module docstring).

    Args:
      synthetic: (M, H, W, C) synthetic images in [0, 1].
      members: (A, H, W, C) the training images.
      non_members: (B, H, W, C) held-out images of the same source.
      seed: for the bootstrap.
      member_scans, non_member_scans: (A,) and (B,) the scan of each image (any labels; the two
        sets' scans must be disjoint). Given, the attack scores scans, not images.

    Returns:
      ``auc``, ``auc_interval`` [low, high] (95 %, bootstrap), ``false_positive_rate`` (the
      largest rate at most LOW_FALSE_POSITIVE_RATE that the non-members allow) with the
      ``true_positive_rate`` and ``advantage`` there, ``members``, ``non_members``,
      ``bootstrap_rounds``, the ``unit`` ("scan" or "image") that members and non-members count,
      and the ``verdict`` ("no better than chance", "somewhat better than chance", "clearly").
    """
    member_scores = nearest_real(members, synthetic)[1].astype(np.float64)
    other_scores = nearest_real(non_members, synthetic)[1].astype(np.float64)
    unit = "image"
    if member_scans is not None and non_member_scans is not None:
        member_scores = per_scan(member_scores, member_scans)
        other_scores = per_scan(other_scores, non_member_scans)
        unit = "scan"
    # wins[i, j]: member i is nearer the synthetic images than non-member j (1), ties 1/2
    wins = pairwise_wins(-member_scores, -other_scores)
    auc = float(wins.mean())
    a, b = len(member_scores), len(other_scores)
    low, high = bootstrap_auc_interval(wins, seed)
    fpr, tpr = _rates_at_low_fpr(member_scores, other_scores)
    return {
        "attack": "distance to the nearest synthetic image",
        "auc": auc,
        "auc_interval": [low, high],
        "false_positive_rate": fpr,
        "true_positive_rate": tpr,
        "advantage": tpr - fpr,
        "unit": unit,
        "members": a,
        "non_members": b,
        "bootstrap_rounds": BOOTSTRAP_ROUNDS,
        "verdict": membership_verdict(auc, low),
    }


def pairwise_wins(positive: np.ndarray, negative: np.ndarray) -> np.ndarray:
    """(P, N): 1 where a positive scores above a negative, 1/2 for a tie; its mean is the AUC."""
    return (positive[:, None] > negative[None, :]) + 0.5 * (positive[:, None] == negative[None, :])


def bootstrap_auc_interval(wins: np.ndarray, seed: int) -> tuple[float, float]:
    """95 % bootstrap interval of an AUC from its (A, B) pairwise ``wins`` matrix (1 where the
    positive of row a outranks the negative of column b, 1/2 for ties), resampling both groups
    :data:`BOOTSTRAP_ROUNDS` times."""
    rng = np.random.default_rng(seed)
    a, b = wins.shape
    # a bootstrap sample is a pair of multinomial count vectors: its AUC is ca^T W cb / (a b)
    count_a = rng.multinomial(a, np.full(a, 1.0 / a), size=BOOTSTRAP_ROUNDS).astype(np.float64)
    count_b = rng.multinomial(b, np.full(b, 1.0 / b), size=BOOTSTRAP_ROUNDS).astype(np.float64)
    rounds = np.einsum("ra,ab,rb->r", count_a, wins, count_b) / (a * b)
    low, high = np.percentile(rounds, [2.5, 97.5])
    return float(low), float(high)


def _rates_at_low_fpr(member_scores: np.ndarray, other_scores: np.ndarray) -> tuple[float, float]:
    """(false-positive rate, true-positive rate) of the threshold that calls "member" every score
    below it, placed as high as the non-members allow without passing LOW_FALSE_POSITIVE_RATE."""
    others = np.sort(other_scores)
    allowed = int(np.floor(LOW_FALSE_POSITIVE_RATE * len(others)))  # non-members that may be called
    threshold = others[allowed] if allowed < len(others) else np.inf  # strictly below this: "member"
    fpr = float(np.mean(other_scores < threshold))
    tpr = float(np.mean(member_scores < threshold))
    return fpr, tpr


def membership_verdict(auc: float, low: float) -> str:
    """How well the attack tells members from non-members, in words."""
    if auc < CHANCE_AUC and low <= 0.5 + 1e-12:
        return "no better than chance"
    if auc < CLEAR_AUC:
        return "somewhat better than chance"
    return "clearly"


HELD_OUT_PER_CELL = 5  # k-means cells are as many as the held-out and synthetic images allow at this
TRAIN_PER_CELL = 3  # many a cell, and the training images at this many
MIN_CELL = 2  # a cell counts when it holds at least this many held-out and synthetic images
COPYING_Z = 1.645  # one-sided 5 % level of C_T's null distribution


def data_copying(
    synthetic: np.ndarray, train: np.ndarray, holdout: np.ndarray, seed: int = 0
) -> dict[str, Any]:
    """The data-copying test of Meehan, Chaudhuri and Dasgupta (2020), and authenticity beside it.

    The training images are cut into k-means cells (pixels; as many cells as the held-out images,
    and the synthetic ones, fill with :data:`HELD_OUT_PER_CELL` each, and the training images with
    :data:`TRAIN_PER_CELL`). In each cell holding
    at least :data:`MIN_CELL` held-out and synthetic images, the Mann-Whitney statistic U counts the
    pairs in which the synthetic image is farther from its nearest training image than the held-out
    one (ties half), and ``Z = (U - mn/2) / sqrt(mn(m + n + 1)/12)`` for m synthetic and n held-out
    images. C_T is the mean of the cells' Z weighted by their share of the held-out images:
    far below 0, the synthetic images sit closer to the training images than fresh data does
    (copying); above 0, farther (they miss the data). Under the null each Z is about standard
    normal, so C_T / sqrt(sum w^2) (w the weights summing to 1) is too; the verdict is at the
    one-sided 5 % level (:data:`COPYING_Z`).

    Authenticity (after Alaa et al., 2022): the share of images farther from their nearest training
    image than that training image is from its own nearest other one, for the synthetic images
    and, as the reference, the held-out ones.

    Args:
      synthetic: (M, H, W, C); train: (R, H, W, C), R >= 2; holdout: (B, H, W, C), in [0, 1].

    Returns:
      ``c_t``, ``z``, ``verdict`` ("copying", "not significant", "farther than fresh data", or
      None when no cell qualifies), ``cells``, ``cells_used``, per-cell ``cell_z`` and
      ``cell_weights``, ``authenticity`` (synthetic) and ``authenticity_holdout``.
    """
    from sklearn.cluster import KMeans

    flat_train = np.asarray(train, np.float64).reshape(len(train), -1)
    cells = int(
        max(
            1,
            min(
                len(train) // TRAIN_PER_CELL,
                len(holdout) // HELD_OUT_PER_CELL,
                len(synthetic) // HELD_OUT_PER_CELL,
            ),
        )
    )
    kmeans = KMeans(n_clusters=cells, n_init=10, random_state=seed).fit(flat_train)
    synthetic_cell = kmeans.predict(np.asarray(synthetic, np.float64).reshape(len(synthetic), -1))
    holdout_cell = kmeans.predict(np.asarray(holdout, np.float64).reshape(len(holdout), -1))
    synthetic_index, synthetic_distance = nearest_real(synthetic, train)
    holdout_index, holdout_distance = nearest_real(holdout, train)
    z_values, weights = [], []
    for cell in range(cells):
        mine, theirs = synthetic_distance[synthetic_cell == cell], holdout_distance[holdout_cell == cell]
        m, n = len(mine), len(theirs)
        if m < MIN_CELL or n < MIN_CELL:
            continue
        u = float(pairwise_wins(mine.astype(np.float64), theirs.astype(np.float64)).sum())
        z_values.append((u - m * n / 2.0) / np.sqrt(m * n * (m + n + 1) / 12.0))
        weights.append(n / len(holdout))
    record: dict[str, Any] = {
        "test": "C_T of Meehan, Chaudhuri and Dasgupta (2020) over k-means cells of the training images",
        "cells": cells,
        "cells_used": len(z_values),
        "cell_z": [float(z) for z in z_values],
        "cell_weights": [float(w) for w in weights],
        "c_t": None,
        "z": None,
        "verdict": None,
    }
    if z_values:
        w = np.asarray(weights) / np.sum(weights)
        c_t = float(np.dot(w, z_values))
        z = c_t / float(np.sqrt(np.sum(w**2)))
        record.update(c_t=c_t, z=z, verdict=copying_verdict(z))
    own = leave_one_out_dcr(train)
    record["authenticity"] = float(np.mean(synthetic_distance > own[synthetic_index]))
    record["authenticity_holdout"] = float(np.mean(holdout_distance > own[holdout_index]))
    return record


def copying_verdict(z: float) -> str:
    """The data-copying test's verdict from its standardised C_T."""
    if z < -COPYING_Z:
        return "copying"
    if z > COPYING_Z:
        return "farther than fresh data"
    return "not significant"
