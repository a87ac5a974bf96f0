"""Realism figures: the C2ST against scikit-learn's ROC AUC and known separable / identical sets,
the high-frequency share against images whose spectrum is known in closed form, and the verdict."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from augment.measures.realism import (
    auc_of_scores,
    c2st,
    high_frequency_ratio,
    high_frequency_share,
    realism,
    realism_verdict,
)


def _basis(size: int, u: int, v: int, amplitude: float = 1.0) -> np.ndarray:
    """The DCT-II basis image of frequency (u / 2 size, v / 2 size) cycles per pixel."""
    y, x = np.meshgrid(np.arange(size), np.arange(size), indexing="ij")
    return (
        amplitude
        * np.cos(np.pi * u * (2 * y + 1) / (2 * size))
        * np.cos(np.pi * v * (2 * x + 1) / (2 * size))
    )


def test_auc_of_scores_is_the_roc_auc_ties_included():
    rng = np.random.default_rng(0)
    positive, negative = rng.integers(0, 5, 30).astype(float), rng.integers(0, 4, 20).astype(float)
    labels = np.r_[np.ones(30), np.zeros(20)]
    assert auc_of_scores(positive, negative) == pytest.approx(
        roc_auc_score(labels, np.r_[positive, negative]), abs=1e-12
    )


def test_high_frequency_share_of_images_with_a_known_spectrum():
    size = 16
    corner = _basis(size, 15, 15)  # the Nyquist corner: all power is fine detail
    slow = _basis(size, 1, 0)  # half a cycle across: none is
    # radius 0.5 x Nyquist = 0.25 cycles/pixel = u 8 of 16: u 12 is above, v 2 below
    mixed = _basis(size, 12, 0, 2.0) + _basis(size, 0, 2, 1.0)
    images = np.stack([corner, slow, mixed, np.full((size, size), 0.3)])[..., None]
    shares = high_frequency_share(images)
    np.testing.assert_allclose(shares, [1.0, 0.0, 4.0 / 5.0, 0.0], atol=1e-12)


def test_the_step_between_opposite_borders_of_a_tile_is_no_fine_detail():
    """A smooth ramp across a tile is smooth: its wrap-around step would be fine detail to a plain
    FFT, not to the mirrored spectrum."""
    ramp = np.tile(np.linspace(0.0, 1.0, 32), (32, 1))[None, ..., None]
    assert high_frequency_share(ramp)[0] < 1e-3
    fft = np.abs(np.fft.fft2(ramp[0, ..., 0] - ramp.mean())) ** 2
    radius = np.hypot(*np.meshgrid(np.fft.fftfreq(32), np.fft.fftfreq(32), indexing="ij"))
    assert fft[radius > 0.25].sum() / fft.sum() > 0.01  # what the FFT would have said


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


def test_grouped_folds_score_near_twins_at_chance_where_ordinary_folds_read_far_below():
    """Each synthetic image a near-copy of a real one: ordinary folds put twins on opposite sides and
    score far below 0.5; grouped folds keep them together and read nearer 0.5."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    rng = np.random.default_rng(5)
    real = rng.uniform(size=(30, 8, 8, 1))
    twins = np.clip(real + rng.normal(0, 0.01, real.shape), 0, 1)
    x = np.concatenate([real, twins]).reshape(60, -1)
    y = np.r_[np.ones(30), np.zeros(30)]
    scores = np.zeros(60)
    for train, test in StratifiedKFold(5, shuffle=True, random_state=0).split(x, y):
        model = LogisticRegression(C=1.0, max_iter=2000).fit(x[train], y[train])
        scores[test] = model.decision_function(x[test])
    ordinary = auc_of_scores(scores[y == 1], scores[y == 0])
    grouped = c2st(real, twins)
    assert ordinary < 0.3 and grouped["grouped"] is True
    assert grouped["auc"] > ordinary + 0.15


def test_the_texture_classifier_tells_smoothed_colour_noise_from_real_tiles():
    from scipy.ndimage import gaussian_filter
    from test_gate import REAL

    train, holdout = REAL["he"]
    real = np.concatenate([train, holdout])
    rng = np.random.default_rng(6)
    mean, spread = real.mean(axis=(0, 1, 2)), real.std(axis=(0, 1, 2))
    grain = np.clip(gaussian_filter(rng.normal(mean, spread, (20, 64, 64, 3)), (0, 1, 1, 0)), 0, 1)
    assert c2st(real, grain, features="texture")["auc"] > 0.95
    record = realism(real, grain, 1.0)
    assert "almost every time" in record["verdict"].split(";")[0]


@pytest.mark.parametrize("name", ["coronal_frontal", "sagittal_medial", "he"])
def test_held_out_real_images_scored_as_synthetic_read_hard_to_tell(name):
    from test_gate import REAL

    train, holdout = REAL[name]
    record = realism(train, holdout, 1.0, classes=[(name, train, holdout)])
    assert record["verdict"].startswith("a simple classifier finds these images hard to tell"), record
    assert record["per_class"][name]["blurred"] == record["per_class"][name]["noisy"] == 0


def test_held_out_digits_scored_as_synthetic_read_hard_to_tell(digits):
    images, labels = digits
    train = np.concatenate([images[labels == d][:10] for d in range(10)])
    holdout = np.concatenate([images[labels == d][10:20] for d in range(10)])
    record = realism(train, holdout, 1.0)
    assert record["c2st"]["auc"] < 0.75 and record["c2st_texture"]["auc"] < 0.75
    assert record["verdict"].startswith("a simple classifier finds these images hard to tell"), record


def test_blobs_noise_and_hugging_are_each_named_first():
    from test_gate import REAL, broken_kinds

    train, holdout = REAL["coronal_frontal"]
    real = np.concatenate([train, holdout])
    for kind, said in (("blob", "blurred"), ("veil", "noisy")):
        images = broken_kinds(train)[kind]
        record = realism(real, images, 1.0, classes=[("frontal", train, images)])
        assert record["verdict"].startswith(f"12 of the 12 images of class 'frontal' (100%) are {said}")
    hugging = realism_verdict(_tests(pixels=0.2, texture=0.5), 1.0, 1.0)
    assert hugging.startswith("they hug the training images (AUC on pixels 0.20, texture 0.50, below chance)")
    wide = {"pixels": {"auc": 0.2, "auc_interval": [0.05, 0.55]}, **_tests(texture=0.5)}
    assert realism_verdict(wide, 1.0, 1.0).startswith("a simple classifier finds these images hard to tell")


def _tests(**aucs: float | None) -> dict:
    """C2ST records with these AUCs (intervals 0.1 wide around them)."""
    return {
        name: {"auc": auc, "auc_interval": None if auc is None else [auc - 0.05, auc + 0.05]}
        for name, auc in aucs.items()
    }


def test_the_verdict_says_what_the_figures_mean():
    assert realism_verdict(_tests(pixels=0.97, texture=0.99), 0.28, 0.17) == (
        "a simple classifier tells these images from the real ones almost every time (AUC on pixels "
        "0.97, texture 0.99); they are smoother than the real images (28% of their fine-detail power): "
        "fine detail is missing; only 17% of them lie among the real images (pixel precision)."
    )
    assert realism_verdict(_tests(pixels=0.55, texture=0.6), 1.0, 0.9) == (
        "a simple classifier finds these images hard to tell from the real ones (AUC on pixels 0.55, "
        "texture 0.60)."
    )
    assert "noisier than the real images (180%" in realism_verdict(_tests(pixels=0.8), 1.8, 0.9)
    assert "more often than not" in realism_verdict(_tests(pixels=0.5, texture=0.8), 1.0, 0.9)
    assert realism_verdict(_tests(pixels=None), None, None).startswith("too few images")


def test_a_mostly_broken_class_comes_before_everything_else_in_the_verdict():
    per_class = {
        "a": {"images": 10, "blurred": 1, "noisy": 0, "blurred_share": 0.1, "noisy_share": 0.0},
        "b": {"images": 10, "blurred": 9, "noisy": 0, "blurred_share": 0.9, "noisy_share": 0.0},
    }
    said = realism_verdict(_tests(pixels=0.95, texture=0.99), 0.5, 0.2, per_class).split("; ")
    assert said[0].startswith("9 of the 10 images of class 'b' (90%) are blurred")
    assert said[1].startswith("a simple classifier tells these images from the real ones almost every time")
    assert said[2].startswith("1 of the 10 images of class 'a' (10%) are blurred")


def test_realism_bundles_the_figures_and_the_verdict():
    rng = np.random.default_rng(3)
    real, synthetic = rng.uniform(size=(20, 8, 8, 1)), rng.uniform(size=(20, 8, 8, 1))
    record = realism(real, synthetic, 0.8, classes=[("x", real, synthetic)])
    assert set(record) == {
        "c2st",
        "c2st_texture",
        "high_frequency",
        "per_class",
        "pixel_precision",
        "verdict",
    }
    tests = {"pixels": record["c2st"], "texture": record["c2st_texture"]}
    assert record["verdict"] == realism_verdict(
        tests, record["high_frequency"]["ratio"], 0.8, record["per_class"]
    )


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
