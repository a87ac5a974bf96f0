"""Quality figures against independent references: brute-force loops, identities, known limits."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from augment.measures.quality import (
    kid,
    leave_one_out_dcr,
    nearest_real,
    pairwise_rms_distance,
    prdc,
    privacy,
    random_conv_features,
)


@pytest.fixture
def cloud():
    """Three independent draws of 200 points from one distribution, shaped as 4x4x1 images."""
    rng = np.random.default_rng(0)
    return [rng.normal(0.5, 0.15, (200, 4, 4, 1)) for _ in range(3)]


def test_distances_match_a_loop():
    rng = np.random.default_rng(1)
    a, b = rng.random((5, 3, 3, 1)), rng.random((7, 3, 3, 1))
    loop = np.array([[np.sqrt(np.mean((x - y) ** 2)) for y in b] for x in a])
    np.testing.assert_allclose(pairwise_rms_distance(a, b), loop, rtol=1e-10)
    index, distance = nearest_real(a, b, block=2)
    np.testing.assert_array_equal(index, loop.argmin(1))
    np.testing.assert_allclose(distance, loop.min(1), rtol=1e-6)
    square = np.array(
        [
            [np.sqrt(np.mean((x - y) ** 2)) if i != j else np.inf for j, y in enumerate(b)]
            for i, x in enumerate(b)
        ]
    )
    np.testing.assert_allclose(leave_one_out_dcr(b), square.min(1), rtol=1e-10)


def test_copies_have_privacy_ratio_zero_and_are_all_flagged(cloud):
    train, holdout, _ = cloud
    copies = train[:50] + 1e-4
    figures = privacy(copies, train, holdout)
    assert figures["reference"] == "holdout" and figures["privacy_ratio"] < 0.01
    assert figures["near_copy_fraction"] == 1.0
    assert list(figures["near_copies"]) == list(np.argsort(figures["dcr"], kind="stable"))


def test_fresh_samples_have_privacy_ratio_near_one(cloud):
    train, holdout, fresh = cloud
    for reference in (holdout, None):  # against the holdout, and leave-one-out
        figures = privacy(fresh, train, reference)
        assert 0.85 < figures["privacy_ratio"] < 1.15
        assert figures["near_copy_fraction"] < 0.15  # about the 5% that defines the threshold
    assert privacy(fresh, train[:1])["privacy_ratio"] is None  # one image: no reference


def _prdc_by_loops(real, fake, k):
    def dist(a, b):
        return float(np.sqrt(np.mean((a - b) ** 2)))

    def radius(points, i):
        return sorted(dist(points[i], points[j]) for j in range(len(points)) if j != i)[k - 1]

    real_r = [radius(real, i) for i in range(len(real))]
    fake_r = [radius(fake, j) for j in range(len(fake))]
    precision = np.mean([any(dist(f, r) <= real_r[i] for i, r in enumerate(real)) for f in fake])
    recall = np.mean([any(dist(r, f) <= fake_r[j] for j, f in enumerate(fake)) for r in real])
    density = sum(dist(f, r) <= real_r[i] for f in fake for i, r in enumerate(real)) / (k * len(fake))
    coverage = np.mean([min(dist(r, f) for f in fake) <= real_r[i] for i, r in enumerate(real)])
    return precision, recall, density, coverage


def test_prdc_matches_the_definition_by_loops():
    rng = np.random.default_rng(2)
    real, fake = rng.normal(0, 1, (12, 2)), rng.normal(0.7, 1.3, (9, 2))
    figures = prdc(real, fake, k=3)
    expected = _prdc_by_loops(real, fake, 3)
    np.testing.assert_allclose(
        [figures["precision"], figures["recall"], figures["density"], figures["coverage"]], expected
    )


def test_prdc_limits(cloud):
    train, _, _ = cloud
    same = prdc(train, train)
    assert same["precision"] == same["recall"] == same["coverage"] == 1.0
    far = prdc(train, train + 10.0)
    assert far["precision"] == far["recall"] == far["density"] == far["coverage"] == 0.0
    assert prdc(train[:3], train[:40])["k"] == 2  # k is lowered to fit a small set


def test_kid_is_the_unbiased_mmd_and_separates_distributions(cloud):
    rng = np.random.default_rng(3)
    x, y = rng.random((6, 3)), rng.random((6, 3))

    def k(a, b):
        return (a @ b / 3 + 1) ** 3

    pairs = list(itertools.permutations(range(6), 2))
    expected = (
        sum(k(x[i], x[j]) for i, j in pairs) / 30
        + sum(k(y[i], y[j]) for i, j in pairs) / 30
        - 2 * np.mean([k(a, b) for a in x for b in y])
    )
    assert kid(x, y, subsets=1)["kid"] == pytest.approx(expected, rel=1e-10)  # one subset = all, permuted
    train, holdout, _ = cloud
    same, shifted = kid(train, holdout)["kid"], kid(train, holdout + 0.3)["kid"]
    assert abs(same) < 0.1 * shifted


def test_random_conv_features_are_fixed_by_the_seed():
    images = np.random.default_rng(4).random((5, 8, 8, 1))
    first, again, other = (
        random_conv_features(images),
        random_conv_features(images),
        random_conv_features(images, 1),
    )
    assert first.shape == (5, 2 * 2 * 128)
    np.testing.assert_array_equal(first, again)
    assert not np.allclose(first, other)
