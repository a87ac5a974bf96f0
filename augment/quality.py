"""Cheap quality figures computed for every run: distance of each synthetic image to the real set.

Distances are root-mean-square pixel differences at the working size, on intensities in [0, 1]
(so 0 is an exact copy and 1 the largest possible difference), whatever the image size.
"""

from __future__ import annotations

import numpy as np


def pairwise_rms_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(M, ...) and (R, ...) images -> (M, R) RMS pixel distances, computed in float64."""
    x = np.asarray(a, np.float64).reshape(len(a), -1)
    y = np.asarray(b, np.float64).reshape(len(b), -1)
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
