"""Realism: do the synthetic images look like the real ones, or can a simple model tell them apart?

Held-out accuracy saturates on easy splits and the privacy ratio *grows* when images are blurred
(a blurred image is far from every real one), so neither says whether the images look real. Two
figures here do, with no downloaded weights, at the working size (docs/design.md, "Realism"):

- **C2ST** (classifier two-sample test): the cross-validated ROC AUC of a logistic regression on
  pixels told to separate the real images (label 1) from the synthetic ones (label 0), each image
  scored by the fold that did not train on it. 0.5: it cannot tell them apart; 1.0: it always
  can. The 95 % interval is a bootstrap over real and synthetic images.
- **High-frequency power ratio**: each image's share of spectral power beyond half the Nyquist
  radius (its mean removed), median over the synthetic images over the same median over the real
  ones. Below about 0.7 the synthetic images are smoother than the real ones (fine detail is
  missing); above about 1.3 they are noisier.

Pixel precision (the share of synthetic images inside some real image's k-nearest-neighbour ball)
is :func:`augment.quality.prdc`'s; :func:`realism_verdict` reads all three.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from augment.privacy import bootstrap_auc_interval, pairwise_wins

C2ST_FOLDS = 5
C2ST_C = 1.0  # the logistic regression's inverse regularisation
HIGH_FREQUENCY_CUTOFF = 0.5  # share of the Nyquist radius above which power counts as fine detail
# verdict thresholds: C2ST AUC below HARD_TO_TELL reads "hard to tell apart", above EASY_TO_TELL
# "almost every time"; the high-frequency ratio's sharp band; pixel precision below LOW_PRECISION
HARD_TO_TELL, EASY_TO_TELL = 0.75, 0.9
SHARP_BAND = (0.7, 1.3)
LOW_PRECISION = 0.5


def _flat(images: np.ndarray) -> np.ndarray:
    return np.asarray(images, np.float64).reshape(len(images), -1)


def auc_of_scores(positive: np.ndarray, negative: np.ndarray) -> float:
    """P(a random positive scores above a random negative), ties counting half (Mann-Whitney)."""
    return float(pairwise_wins(positive, negative).mean())


def c2st(real: np.ndarray, synthetic: np.ndarray, seed: int = 0, folds: int = C2ST_FOLDS) -> dict[str, Any]:
    """The classifier two-sample test of the module docstring.

    Args:
      real: (R, H, W, C) real images in [0, 1] (training and held-out together).
      synthetic: (M, H, W, C) synthetic images in [0, 1].
      seed: for the folds and the bootstrap.
      folds: cross-validation folds, lowered to the smaller set's size (at least 2 per side needed).

    Returns:
      ``auc``, ``auc_interval`` [low, high], ``folds``, ``real`` and ``synthetic`` counts and the
      ``classifier``; ``auc`` is None with fewer than 2 images on a side.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    folds = int(min(folds, len(real), len(synthetic)))
    record: dict[str, Any] = {
        "classifier": f"logistic regression on pixels (C={C2ST_C}), {folds}-fold cross-validated",
        "folds": folds,
        "real": len(real),
        "synthetic": len(synthetic),
        "auc": None,
        "auc_interval": None,
    }
    if folds < 2:
        return record
    x = np.concatenate([_flat(real), _flat(synthetic)])
    y = np.concatenate([np.ones(len(real), np.int64), np.zeros(len(synthetic), np.int64)])
    scores = np.zeros(len(y))
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=seed).split(x, y):
        model = LogisticRegression(C=C2ST_C, max_iter=2000).fit(x[train], y[train])
        scores[test] = model.decision_function(x[test])
    positive, negative = scores[y == 1], scores[y == 0]
    record["auc"] = auc_of_scores(positive, negative)
    record["auc_interval"] = list(bootstrap_auc_interval(pairwise_wins(positive, negative), seed))
    return record


def high_frequency_share(images: np.ndarray, cutoff: float = HIGH_FREQUENCY_CUTOFF) -> np.ndarray:
    """(n, H, W, C) -> (n,) each image's share of spectral power beyond ``cutoff`` x Nyquist.

    Power is ``|FFT2|^2`` of each channel with the channel's mean removed, summed over channels;
    the radius is ``sqrt(fy^2 + fx^2)`` in cycles per pixel against the Nyquist 0.5. A flat
    image (no power at all) has share 0.
    """
    x = np.asarray(images, np.float64)
    x = x - x.mean(axis=(1, 2), keepdims=True)
    power = (np.abs(np.fft.fft2(x, axes=(1, 2))) ** 2).sum(axis=-1)  # (n, H, W)
    fy = np.fft.fftfreq(x.shape[1])[:, None]
    fx = np.fft.fftfreq(x.shape[2])[None, :]
    high = np.sqrt(fy**2 + fx**2) > cutoff * 0.5
    total = power.sum(axis=(1, 2))
    return np.where(total > 0, (power * high).sum(axis=(1, 2)) / np.where(total > 0, total, 1.0), 0.0)


def high_frequency_ratio(real: np.ndarray, synthetic: np.ndarray) -> dict[str, Any]:
    """Median high-frequency share of the synthetic images over that of the real ones.

    Returns ``ratio`` (None when the real images have no fine detail at all), ``real_median``,
    ``synthetic_median`` and the ``cutoff`` (share of the Nyquist radius).
    """
    real_median = float(np.median(high_frequency_share(real)))
    synthetic_median = float(np.median(high_frequency_share(synthetic)))
    return {
        "ratio": synthetic_median / real_median if real_median > 0 else None,
        "real_median": real_median,
        "synthetic_median": synthetic_median,
        "cutoff": HIGH_FREQUENCY_CUTOFF,
    }


def realism_verdict(c2st_auc: float | None, hf_ratio: float | None, precision: float | None) -> str:
    """One plain sentence on how real the synthetic images look (what the figures say together)."""
    if c2st_auc is None:
        return "too few images to test whether a classifier can tell the synthetic images from the real ones"
    if c2st_auc >= EASY_TO_TELL:
        how = "tells these images from the real ones almost every time"
    elif c2st_auc > HARD_TO_TELL:
        how = "tells these images from the real ones more often than not"
    else:
        how = "finds these images hard to tell from the real ones"
    opening = f"a simple classifier {how} (AUC {c2st_auc:.2f})"
    reasons = []
    if hf_ratio is not None and hf_ratio < SHARP_BAND[0]:
        reasons.append(
            f"they are smoother than the real images ({hf_ratio:.0%} of their fine-detail power): "
            "fine detail is missing"
        )
    elif hf_ratio is not None and hf_ratio > SHARP_BAND[1]:
        reasons.append(f"they are noisier than the real images ({hf_ratio:.0%} of their fine-detail power)")
    if precision is not None and precision < LOW_PRECISION:
        reasons.append(f"only {precision:.0%} of them lie among the real images (pixel precision)")
    return opening + ("; " + "; ".join(reasons) if reasons else "") + "."


def realism(
    real: np.ndarray, synthetic: np.ndarray, precision: float | None, seed: int = 0
) -> dict[str, Any]:
    """C2ST, high-frequency ratio and the verdict, for ``augment evaluate`` and the benchmarks.

    Args:
      real: (R, H, W, C) every real image at hand (training and held-out).
      synthetic: (M, H, W, C).
      precision: pixel precision from :func:`augment.quality.prdc`, read by the verdict.
    """
    test = c2st(real, synthetic, seed)
    spectrum = high_frequency_ratio(real, synthetic)
    return {
        "c2st": test,
        "high_frequency": spectrum,
        "pixel_precision": precision,
        "verdict": realism_verdict(test["auc"], spectrum["ratio"], precision),
    }
