"""Realism figures: the C2ST against scikit-learn's ROC AUC and known separable / identical sets,
the high-frequency share against images whose spectrum is known in closed form, and the verdict."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from augment.realism import (
    auc_of_scores,
    c2st,
    high_frequency_ratio,
    high_frequency_share,
    realism,
    realism_verdict,
)


def _cosine(size: int, cycles_y: int, cycles_x: int, amplitude: float = 1.0) -> np.ndarray:
    y, x = np.meshgrid(np.arange(size), np.arange(size), indexing="ij")
    return amplitude * np.cos(2 * np.pi * (cycles_y * y + cycles_x * x) / size)


def test_auc_of_scores_is_the_roc_auc_ties_included():
    rng = np.random.default_rng(0)
    positive, negative = rng.integers(0, 5, 30).astype(float), rng.integers(0, 4, 20).astype(float)
    labels = np.r_[np.ones(30), np.zeros(20)]
    assert auc_of_scores(positive, negative) == pytest.approx(
        roc_auc_score(labels, np.r_[positive, negative]), abs=1e-12
    )


def test_high_frequency_share_of_images_with_a_known_spectrum():
    size = 16
    checkerboard = _cosine(size, 8, 8)  # the Nyquist corner: all power is fine detail
    slow = _cosine(size, 1, 0)  # one cycle across: none is
    # radius 0.5 x Nyquist = 0.25 cycles/pixel = 4 cycles across 16 px: 6 cycles is above, 2 below
    mixed = _cosine(size, 6, 0, 2.0) + _cosine(size, 0, 2, 1.0)
    images = np.stack([checkerboard, slow, mixed, np.full((size, size), 0.3)])[..., None]
    shares = high_frequency_share(images)
    np.testing.assert_allclose(shares, [1.0, 0.0, 4.0 / 5.0, 0.0], atol=1e-12)


def test_blurring_lowers_the_high_frequency_ratio_and_noise_raises_it():
    rng = np.random.default_rng(1)
    real = rng.uniform(size=(20, 16, 16, 1))
    blurred = (real + np.roll(real, 1, 1) + np.roll(real, 1, 2) + np.roll(real, (1, 1), (1, 2))) / 4
    assert high_frequency_ratio(real, real)["ratio"] == pytest.approx(1.0)
    assert high_frequency_ratio(real, blurred)["ratio"] < 0.7
    smooth = np.repeat(np.repeat(real[:, ::4, ::4], 4, 1), 4, 2)
    assert high_frequency_ratio(smooth, real)["ratio"] > 1.3


def test_c2st_is_near_chance_for_one_distribution_and_near_one_for_separable_sets():
    rng = np.random.default_rng(2)
    real = rng.uniform(size=(60, 8, 8, 1))
    same = c2st(real, rng.uniform(size=(60, 8, 8, 1)))
    assert 0.3 < same["auc"] < 0.7
    low, high = same["auc_interval"]
    assert low <= same["auc"] <= high
    darker = c2st(real, 0.6 * rng.uniform(size=(60, 8, 8, 1)))
    assert darker["auc"] > 0.95
    assert darker["folds"] == 5 and darker["real"] == 60 and darker["synthetic"] == 60


def test_c2st_needs_two_images_a_side():
    record = c2st(np.zeros((5, 4, 4, 1)), np.zeros((1, 4, 4, 1)))
    assert record["auc"] is None and record["auc_interval"] is None


def test_the_verdict_says_what_the_figures_mean():
    assert realism_verdict(0.97, 0.28, 0.17) == (
        "a simple classifier tells these images from the real ones almost every time (AUC 0.97); "
        "they are smoother than the real images (28% of their fine-detail power): fine detail is "
        "missing; only 17% of them lie among the real images (pixel precision)."
    )
    assert realism_verdict(0.55, 1.0, 0.9) == (
        "a simple classifier finds these images hard to tell from the real ones (AUC 0.55)."
    )
    assert "noisier than the real images (180%" in realism_verdict(0.8, 1.8, 0.9)
    assert "more often than not" in realism_verdict(0.8, 1.0, 0.9)
    assert realism_verdict(None, None, None).startswith("too few images")


def test_realism_bundles_the_figures_and_the_verdict():
    rng = np.random.default_rng(3)
    record = realism(rng.uniform(size=(20, 8, 8, 1)), rng.uniform(size=(20, 8, 8, 1)), 0.8)
    assert set(record) == {"c2st", "high_frequency", "pixel_precision", "verdict"}
    assert record["verdict"] == realism_verdict(record["c2st"]["auc"], record["high_frequency"]["ratio"], 0.8)


def test_classic_augmentation_matches_the_synthetic_counts_per_class(digits):
    from augment.evaluation import classic_augmentation

    images, labels = digits
    train = np.concatenate([images[labels == 3][:4], images[labels == 8][:4]])
    train_labels = np.r_[np.zeros(4, np.int64), np.ones(4, np.int64)]
    synthetic_labels = np.r_[np.zeros(10, np.int64), np.ones(3, np.int64)]
    posed, posed_labels = classic_augmentation(train, train_labels, synthetic_labels, seed=0)
    assert posed.shape == (13, 8, 8, 1) and list(posed_labels) == [0] * 10 + [1] * 3
    assert posed.min() >= 0 and posed.max() <= 1
    # a small pose change keeps each copy nearest to a real image of its own class
    distances = ((posed[:, None] - train[None]) ** 2).mean(axis=(2, 3, 4))
    assert (train_labels[distances.argmin(axis=1)] == posed_labels).all()
    again, _ = classic_augmentation(train, train_labels, synthetic_labels, seed=0)
    np.testing.assert_array_equal(posed, again)
