"""Realism: do the synthetic images look like the real ones, or can a simple model tell them apart?

Held-out accuracy saturates on easy splits and the privacy ratio *grows* when images are blurred
(a blurred image is far from every real one), so neither says whether the images look real. The
figures here do, with no downloaded weights, at the working size (docs/design.md, "Realism"):

- **C2ST** (classifier two-sample test): the cross-validated ROC AUC of a logistic regression told
  to separate the real images (label 1) from the synthetic ones (label 0), each image scored by
  the fold that did not train on it, with a 95 % bootstrap interval. 0.5: it cannot tell them
  apart; 1.0: it always can. The folds are *grouped*: the real images' folds are k-means cells of
  them, so that near neighbours (the slices of one scan) share a fold, and each synthetic image is
  in the fold of its nearest real image, so a near-twin is never scored by a classifier trained on
  its twin (with ordinary folds twins make the classifier systematically wrong, far below 0.5).
  Two classifiers look at the images: one at the **pixels**, one at their **texture**
  (:func:`~augment.measures.texture.texture_features`: per-image histograms of intensities, of
  neighbouring-pixel differences and of gradient orientations, the mean gradient and the channels'
  correlation, on the grey levels a person sees), which sees noise, grain and blur that pixels
  hide. A grouped pixel AUC still well below 0.5 means *hugging*: the synthetic images sit closer
  to the training images than real images are to each other.
- **High-frequency power ratio**: each image's share of spectral power beyond half the Nyquist
  radius (its mean removed), median over the synthetic images over the same median over the real
  ones. Below about 0.7 the synthetic images are smoother than the real ones; above about 1.3
  they are noisier.
- **Blurred and noisy images**, counted per class, because a median hides a failing minority: an
  image is *blurred* when its fine-detail share is below :data:`BLURRED_BELOW` times that of the
  least detailed real image of its class, *noisy* above :data:`NOISY_ABOVE` times that of the most
  detailed one (:func:`detail_band`). The quality gate uses the same band.

Pixel precision (the share of synthetic images inside some real image's k-nearest-neighbour ball)
is :func:`augment.measures.quality.prdc`'s; :func:`realism_verdict` reads all of them, the worst first.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from augment.measures.privacy import bootstrap_auc_interval, pairwise_wins
from augment.measures.quality import nearest_real
from augment.measures.texture import texture_features

C2ST_FOLDS = 5
C2ST_C = 1.0  # the logistic regression's inverse regularisation
HIGH_FREQUENCY_CUTOFF = 0.5  # share of the Nyquist radius above which power counts as fine detail
BLURRED_BELOW = 0.5  # blurred: fine-detail share below this times the class's least detailed real image's
NOISY_ABOVE = 1.5  # noisy: fine-detail share above this times the class's most detailed real image's
# verdict thresholds: a C2ST AUC below HARD_TO_TELL reads "hard to tell apart", above EASY_TO_TELL
# "almost every time", below HUGGING "hugging"; the high-frequency ratio's sharp band; pixel
# precision below LOW_PRECISION; a class with more than BROKEN_SHARE of its images blurred or noisy
# is named, with more than MOSTLY_BROKEN first of all
HARD_TO_TELL, EASY_TO_TELL, HUGGING = 0.75, 0.9, 0.35
SHARP_BAND = (0.7, 1.3)
LOW_PRECISION = 0.5
BROKEN_SHARE, MOSTLY_BROKEN = 0.02, 0.5
CLASSIFIERS = ("pixels", "texture")


def _flat(images: np.ndarray) -> np.ndarray:
    return np.asarray(images, np.float64).reshape(len(images), -1)


def auc_of_scores(positive: np.ndarray, negative: np.ndarray) -> float:
    """P(a random positive scores above a random negative), ties counting half (Mann-Whitney)."""
    return float(pairwise_wins(positive, negative).mean())


def high_frequency_share(images: np.ndarray, cutoff: float = HIGH_FREQUENCY_CUTOFF) -> np.ndarray:
    """(n, H, W, C) -> (n,) each image's share of spectral power beyond ``cutoff`` x Nyquist.

    The spectrum is the image's orthonormal 2-D DCT-II (the Fourier spectrum of its mirrored
    extension), so the step between opposite borders of a tile, which a plain FFT sees as a sharp
    edge, adds no fine detail. Power is the squared coefficients summed over channels with the
    mean (coefficient (0, 0)) left out; coefficient (u, v) has frequency ``(u / 2H, v / 2W)`` in
    cycles per pixel, against the Nyquist 0.5. A flat image (no power at all) has share 0.
    """
    from scipy.fft import dctn

    x = np.asarray(images, np.float64)
    power = (dctn(x, type=2, axes=(1, 2), norm="ortho") ** 2).sum(axis=-1)  # (n, H, W)
    power[:, 0, 0] = 0.0
    fy = np.arange(x.shape[1])[:, None] / (2.0 * x.shape[1])
    fx = np.arange(x.shape[2])[None, :] / (2.0 * x.shape[2])
    high = np.sqrt(fy**2 + fx**2) > cutoff * 0.5
    total = power.sum(axis=(1, 2))
    return np.where(total > 0, (power * high).sum(axis=(1, 2)) / np.where(total > 0, total, 1.0), 0.0)


def detail_band(real: np.ndarray) -> tuple[float, float]:
    """(low, high): the fine-detail shares below which an image of the class of ``real`` (n, H, W,
    C) is blurred and above which it is noisy (the module docstring)."""
    return _band(high_frequency_share(real))


def _band(real_shares: np.ndarray) -> tuple[float, float]:
    return float(BLURRED_BELOW * real_shares.min()), float(NOISY_ABOVE * real_shares.max())


def detail_counts(real: np.ndarray, synthetic: np.ndarray) -> dict[str, Any]:
    """How many of ``synthetic`` (M, H, W, C) are blurred and how many noisy against their class's
    ``real`` images (n, H, W, C): ``images``, ``blurred``, ``noisy``, their shares, the ``band``
    and the median fine-detail shares of both sets."""
    real_share = high_frequency_share(real)
    low, high = _band(real_share)
    share = high_frequency_share(synthetic)
    count = len(share)
    blurred, noisy = int(np.sum(share < low)), int(np.sum(share > high))
    return {
        "images": count,
        "blurred": blurred,
        "noisy": noisy,
        "blurred_share": blurred / count if count else 0.0,
        "noisy_share": noisy / count if count else 0.0,
        "band": [low, high],
        "real_median": float(np.median(real_share)),
        "synthetic_median": float(np.median(share)) if count else None,
    }


def _fold_of(real: np.ndarray, synthetic: np.ndarray, folds: int, seed: int) -> tuple[np.ndarray, bool]:
    """(R + M,) the fold of every real image and of every synthetic image, and whether the grouping
    held. The real images' folds are their k-means cells (``folds`` cells, pixels), so that real
    images that are near each other (neighbouring slices of a scan) share a fold; each synthetic
    image is in its nearest real image's fold. Where a fold's training part would lack either kind,
    both are spread over the folds at random instead (``grouped`` False)."""
    from sklearn.cluster import KMeans

    rng = np.random.default_rng(seed)
    cells = KMeans(n_clusters=folds, n_init=10, random_state=seed).fit(_flat(real))
    real_fold = cells.labels_.astype(np.int64)
    synthetic_fold = real_fold[nearest_real(synthetic, real)[0]]
    grouped = all(
        np.any(real_fold != f) and np.any(synthetic_fold != f) and np.any(real_fold == f)
        for f in range(folds)
    )
    if not grouped:
        real_fold = rng.permutation(np.arange(len(real)) % folds)
        synthetic_fold = rng.permutation(np.arange(len(synthetic)) % folds)
    return np.concatenate([real_fold, synthetic_fold]), grouped


def c2st(
    real: np.ndarray,
    synthetic: np.ndarray,
    seed: int = 0,
    folds: int = C2ST_FOLDS,
    features: str = "pixels",
) -> dict[str, Any]:
    """The classifier two-sample test of the module docstring, with grouped folds.

    Args:
      real: (R, H, W, C) real images in [0, 1] (training and held-out together).
      synthetic: (M, H, W, C) synthetic images in [0, 1].
      seed: for the folds and the bootstrap.
      folds: cross-validation folds, lowered to the smaller set's size (at least 2 per side needed).
      features: "pixels" or "texture" (:func:`texture_features`, standardised).

    Returns:
      ``auc``, ``auc_interval`` [low, high], ``folds``, ``grouped`` (each synthetic image in its
      nearest real image's fold), ``real`` and ``synthetic`` counts, the ``features`` and the
      ``classifier``; ``auc`` is None with fewer than 2 images on a side.
    """
    return c2sts(real, synthetic, seed, folds, (features,))[features]


def c2sts(
    real: np.ndarray,
    synthetic: np.ndarray,
    seed: int = 0,
    folds: int = C2ST_FOLDS,
    features: Sequence[str] = CLASSIFIERS,
) -> dict[str, dict[str, Any]]:
    """:func:`c2st` for each of ``features``, by name, on one grouping of the images into folds."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    for name in features:
        if name not in CLASSIFIERS:
            raise ValueError(f"features must be one of {CLASSIFIERS}, got {name!r}")
    folds = int(min(folds, len(real), len(synthetic)))
    records: dict[str, dict[str, Any]] = {
        name: {
            "classifier": (
                f"logistic regression on {name} (C={C2ST_C}, classes weighted equally), {folds}-fold "
                "cross-validated"
            ),
            "features": name,
            "folds": folds,
            "grouped": None,
            "real": len(real),
            "synthetic": len(synthetic),
            "auc": None,
            "auc_interval": None,
        }
        for name in features
    }
    if folds < 2:
        return records
    images = np.concatenate([np.asarray(real, np.float64), np.asarray(synthetic, np.float64)])
    y = np.concatenate([np.ones(len(real), np.int64), np.zeros(len(synthetic), np.int64)])
    fold, grouped = _fold_of(real, synthetic, folds, seed)
    for name, record in records.items():
        x = _flat(images) if name == "pixels" else texture_features(images)
        scores = np.zeros(len(y))
        for f in range(folds):
            train, test = fold != f, fold == f
            if not test.any():
                continue
            # balanced: a fold that takes out more of one kind leaves its training part leaning the
            # other way, which with few images pushes every held-out score the wrong way (below 0.5)
            model = LogisticRegression(C=C2ST_C, max_iter=2000, class_weight="balanced")
            if name == "texture":
                model = make_pipeline(StandardScaler(), model)
            scores[test] = model.fit(x[train], y[train]).decision_function(x[test])
        positive, negative = scores[y == 1], scores[y == 0]
        record["grouped"] = grouped
        record["auc"] = auc_of_scores(positive, negative)
        record["auc_interval"] = list(bootstrap_auc_interval(pairwise_wins(positive, negative), seed))
    return records


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


def _broken_findings(per_class: dict[str, dict[str, Any]]) -> list[tuple[float, str]]:
    """(severity, phrase) for each class with more than BROKEN_SHARE of its images blurred or noisy."""
    found = []
    for name, counts in per_class.items():
        for kind, what in (
            ("blurred", "below half the fine detail of the class's least detailed real image"),
            ("noisy", f"above {NOISY_ABOVE:g} times the fine detail of its most detailed one"),
        ):
            share = counts[f"{kind}_share"]
            if share > BROKEN_SHARE:
                severity = 5.0 + share if share > MOSTLY_BROKEN else 3.0 + share
                found.append(
                    (severity, f"{counts[kind]} of the {counts['images']} images of class {name!r} "
                     f"({share:.0%}) are {kind}: {what}")
                )  # fmt: skip
    return found


def realism_verdict(
    tests: dict[str, dict[str, Any]],
    hf_ratio: float | None,
    precision: float | None,
    per_class: dict[str, dict[str, Any]] | None = None,
) -> str:
    """One plain sentence on how real the synthetic images look, the worst finding first.

    Args:
      tests: the grouped C2ST of each classifier (:data:`CLASSIFIERS`), as :func:`c2st` returns it
        (its ``auc`` None where too few images). The pixel AUC reads as hugging when it is below
        :data:`HUGGING` and its interval lies below 0.5: with a few images, a low AUC alone is noise,
        and texture statistics, blind to where things are, cannot say that images sit on others.
      hf_ratio: the high-frequency power ratio; precision: pixel precision.
      per_class: :func:`detail_counts` of each class, by name.
    """
    known = {name: test["auc"] for name, test in tests.items() if test.get("auc") is not None}
    # hugging is where things are: the pixel classifier's (texture statistics ignore position)
    pixels = known.get("pixels")
    hugging = (
        pixels is not None
        and pixels < HUGGING
        and (tests["pixels"].get("auc_interval") or [0.0, 0.0])[1] < 0.5
    )
    if not known:
        return "too few images to test whether a classifier can tell the synthetic images from the real ones"
    findings = _broken_findings(per_class or {})
    shown = f"AUC on {', '.join(f'{name} {auc:.2f}' for name, auc in known.items())}"
    worst = max(known.values())
    if worst >= EASY_TO_TELL:
        tell = (
            4.0 + worst,
            f"a simple classifier tells these images from the real ones almost every time ({shown})",
        )
    elif worst > HARD_TO_TELL:
        tell = (
            2.0 + worst,
            f"a simple classifier tells these images from the real ones more often than not ({shown})",
        )
    elif hugging and pixels is not None:
        tell = (
            3.5 + (0.5 - pixels),
            f"they hug the training images ({shown}, below chance): closer to the training images than "
            "real images are to each other",
        )
    else:
        tell = (2.5, f"a simple classifier finds these images hard to tell from the real ones ({shown})")
    findings.append(tell)
    if hf_ratio is not None and hf_ratio < SHARP_BAND[0]:
        findings.append(
            (1.0, f"they are smoother than the real images ({hf_ratio:.0%} of their fine-detail power): "
             "fine detail is missing")
        )  # fmt: skip
    elif hf_ratio is not None and hf_ratio > SHARP_BAND[1]:
        findings.append(
            (1.0, f"they are noisier than the real images ({hf_ratio:.0%} of their fine-detail power)")
        )
    if precision is not None and precision < LOW_PRECISION:
        findings.append((0.5, f"only {precision:.0%} of them lie among the real images (pixel precision)"))
    findings.sort(key=lambda finding: -finding[0])
    return "; ".join(text for _, text in findings) + "."


def realism(
    real: np.ndarray,
    synthetic: np.ndarray,
    precision: float | None,
    seed: int = 0,
    classes: Sequence[tuple[str, np.ndarray, np.ndarray]] = (),
) -> dict[str, Any]:
    """Both C2STs, the high-frequency ratio, the blurred and noisy counts and the verdict, for
    ``augment evaluate`` and the benchmarks.

    Args:
      real: (R, H, W, C) every real image at hand (training and held-out).
      synthetic: (M, H, W, C).
      precision: pixel precision from :func:`augment.measures.quality.prdc`, read by the verdict.
      classes: per class, (name, its real training images, its synthetic images): the blurred and
        noisy counts (:func:`detail_counts`).
    """
    tests = c2sts(real, synthetic, seed)
    spectrum = high_frequency_ratio(real, synthetic)
    per_class = {name: detail_counts(own_real, own) for name, own_real, own in classes if len(own_real)}
    return {
        "c2st": tests["pixels"],
        "c2st_texture": tests["texture"],
        "high_frequency": spectrum,
        "per_class": per_class,
        "pixel_precision": precision,
        "verdict": realism_verdict(tests, spectrum["ratio"], precision, per_class),
    }
