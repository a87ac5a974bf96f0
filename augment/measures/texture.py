"""Texture statistics of images, blind to where things are: what realism's texture classifier
(:mod:`augment.measures.realism`) and the quality gate's colour test (:mod:`augment.run.gate`)
look at."""

from __future__ import annotations

import numpy as np

# grey levels of 8 bits: what a person can see. Differences below FLAT (two levels) count as flat,
# so that a faint grain no one sees (half a level in a 16-bit image) is no texture
FLAT = 2.0 / 255.0
_DIFFERENCE_EDGES = np.array([0.0, 2, 4, 8, 16, 32, 64, 128, 256]) / 255.0 + np.r_[0, [1e-9] * 8]
_INTENSITY_BINS = 16
# bins centred on k / 16, so that black, white and images stored in few levels sit mid-bin, where a
# faint grain does not move them across an edge
_INTENSITY_EDGES = (np.arange(_INTENSITY_BINS + 2) - 0.5) / _INTENSITY_BINS
_ORIENTATION_BINS = 8


def _histogram(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """(n, k) values -> (n, len(edges) - 1) the share of each row's values in each bin."""
    index = np.clip(np.searchsorted(edges, values, side="right") - 1, 0, len(edges) - 2)
    bins = len(edges) - 1
    counts = np.stack([np.bincount(row, minlength=bins) for row in index])
    return counts / values.shape[1]


def texture_features(images: np.ndarray) -> np.ndarray:
    """(n, H, W, C) in [0, 1] -> (n, d) statistics of texture and colour, not of where things are.

    Per channel: the histogram of intensities (17 bins centred on k / 16) and of absolute differences
    between horizontally and vertically neighbouring pixels (8 bins, doubling from :data:`FLAT`, two
    grey levels of 8 bits); on the channels' mean: the histogram of gradient orientations (8 bins
    over [0, pi)) weighted by the gradient's magnitude beyond :data:`FLAT`, and the log of the
    mean of that plus :data:`FLAT`; and, for several channels, the mean correlation between
    channels over the pixels (1 for one channel).
    """
    x = np.asarray(images, np.float64)
    n, channels = len(x), x.shape[-1]
    parts = []
    for c in range(channels):
        v = x[..., c]
        parts.append(_histogram(v.reshape(n, -1), _INTENSITY_EDGES))
        difference = np.concatenate(
            [np.abs(np.diff(v, axis=1)).reshape(n, -1), np.abs(np.diff(v, axis=2)).reshape(n, -1)], axis=1
        )
        parts.append(_histogram(difference, _DIFFERENCE_EDGES))
    luminance = x.mean(axis=-1)
    gy, gx = np.gradient(luminance, axis=(1, 2))
    magnitude = np.hypot(gy, gx).reshape(n, -1)
    beyond = np.maximum(magnitude - FLAT, 0.0)  # orientations of what can be seen
    angle = np.mod(np.arctan2(gy, gx), np.pi).reshape(n, -1)
    index = np.minimum((angle / np.pi * _ORIENTATION_BINS).astype(np.int64), _ORIENTATION_BINS - 1)
    weighted = np.stack([np.bincount(i, w, _ORIENTATION_BINS) for i, w in zip(index, beyond, strict=True)])
    total = beyond.sum(axis=1, keepdims=True)
    parts.append(weighted / np.where(total > 0, total, 1.0))
    parts.append(np.log(beyond.mean(axis=1, keepdims=True) + FLAT))
    parts.append(channel_correlation(x)[:, None])
    return np.concatenate(parts, axis=1)


def channel_correlation(images: np.ndarray) -> np.ndarray:
    """(n, H, W, C) -> (n,) the mean Pearson correlation over pixels between each pair of channels
    (1 for one channel or for flat channels): near 1 where colours vary together, as stains do,
    near 0 for independent noise in each channel."""
    x = np.asarray(images, np.float64)
    n, channels = len(x), x.shape[-1]
    if channels < 2:
        return np.ones(n)
    centred = x.reshape(n, -1, channels)
    centred = centred - centred.mean(axis=1, keepdims=True)
    spread = np.sqrt((centred**2).sum(axis=1))  # (n, C)
    values = []
    for a in range(channels):
        for b in range(a + 1, channels):
            both = spread[:, a] * spread[:, b]
            dot = (centred[..., a] * centred[..., b]).sum(axis=1)
            values.append(np.where(both > 0, dot / np.where(both > 0, both, 1.0), 1.0))
    return np.mean(values, axis=0)


def detail_channel_correlation(images: np.ndarray) -> np.ndarray:
    """(n, H, W, C) -> (n,) :func:`channel_correlation` of the differences between neighbouring
    pixels: near 1 where fine detail is the same in every channel (the edges of stained structures),
    lower where each channel has grain of its own (noise laid over the image)."""
    x = np.asarray(images, np.float64)
    difference = np.concatenate([np.diff(x, axis=1)[:, :, :-1], np.diff(x, axis=2)[:, :-1]], axis=2)
    return channel_correlation(difference)
