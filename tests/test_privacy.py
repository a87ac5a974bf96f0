"""The membership-inference attack on constructed cases, and its AUC against scikit-learn's."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from augment.measures.privacy import _rates_at_low_fpr, membership_inference, membership_verdict
from augment.measures.quality import nearest_real


def draws(rng: np.random.Generator, n: int) -> np.ndarray:
    """n images of one source: random 8x8 grey images around mid-grey, in [0, 1]."""
    return np.clip(0.5 + 0.15 * rng.standard_normal((n, 8, 8, 1)), 0, 1)


def test_copies_of_the_training_set_are_found_perfectly():
    rng = np.random.default_rng(0)
    members, others = draws(rng, 40), draws(rng, 40)
    result = membership_inference(members.copy(), members, others)
    assert result["auc"] == 1.0 and result["auc_interval"] == [1.0, 1.0]
    assert result["true_positive_rate"] == 1.0 and result["false_positive_rate"] <= 0.1
    assert result["verdict"] == "clearly"


def test_independent_draws_give_chance():
    rng = np.random.default_rng(1)
    members, others, synthetic = draws(rng, 200), draws(rng, 200), draws(rng, 200)
    result = membership_inference(synthetic, members, others)
    low, high = result["auc_interval"]
    assert abs(result["auc"] - 0.5) < 0.07 and low < 0.5 < high
    assert result["verdict"] == "no better than chance"


def test_the_auc_is_the_roc_auc_of_the_negated_distance_and_the_interval_holds_it():
    rng = np.random.default_rng(2)
    members, others = draws(rng, 30), draws(rng, 25)
    synthetic = np.concatenate(
        [members[:10] + 0.02 * rng.standard_normal(members[:10].shape), draws(rng, 20)]
    )
    result = membership_inference(synthetic, members, others)
    scores = np.concatenate([nearest_real(members, synthetic)[1], nearest_real(others, synthetic)[1]])
    labels = np.concatenate([np.ones(30), np.zeros(25)])
    assert result["auc"] == pytest.approx(roc_auc_score(labels, -scores), abs=1e-12)
    low, high = result["auc_interval"]
    assert low <= result["auc"] <= high and 0.5 < result["auc"] < 1.0


def test_rates_at_a_low_false_positive_rate():
    members = np.array([0.1, 0.2, 0.3, 0.9])
    others = np.array([0.15, 0.5, 0.6, 0.7, 0.8, 0.85, 0.95, 1.0, 1.1, 1.2])  # 10: one may be called
    fpr, tpr = _rates_at_low_fpr(members, others)
    assert fpr == 0.1 and tpr == 0.75  # threshold 0.5: 0.1, 0.2, 0.3 below it; of the others 0.15
    fpr, tpr = _rates_at_low_fpr(members, others[:5])  # 5 non-members: none may be called
    assert fpr == 0.0 and tpr == 0.25  # threshold 0.15


def test_verdicts():
    assert membership_verdict(0.52, 0.41) == "no better than chance"
    assert membership_verdict(0.58, 0.53) == "somewhat better than chance"  # small but clear
    assert membership_verdict(0.70, 0.6) == "somewhat better than chance"
    assert membership_verdict(0.9, 0.8) == "clearly"


def _clusters(rng, centres: np.ndarray, count: int, spread: float) -> np.ndarray:
    """``count`` images around each of ``centres`` (k, 4, 4, 1), Gaussian with this spread."""
    return np.concatenate([np.clip(c + rng.normal(0, spread, (count, *c.shape)), 0, 1) for c in centres])


def _independent_c_t(synthetic, train, holdout, cells_of) -> float:
    """C_T computed the long way: scipy's Mann-Whitney U per cell, the z-score by its normal
    approximation, weighted by the cell's share of the held-out images."""
    from scipy.stats import mannwhitneyu

    def nearest(images):
        return np.array([np.sqrt(((train - x) ** 2).mean(axis=(1, 2, 3))).min() for x in images])

    d_synthetic, d_holdout = nearest(synthetic), nearest(holdout)
    c_synthetic, c_holdout = cells_of(synthetic), cells_of(holdout)
    total, weights = 0.0, 0.0
    for cell in np.unique(c_holdout):
        a, b = d_synthetic[c_synthetic == cell], d_holdout[c_holdout == cell]
        if len(a) < 2 or len(b) < 2:
            continue
        u = mannwhitneyu(a, b, alternative="two-sided", method="asymptotic").statistic
        m, n = len(a), len(b)
        z = (u - m * n / 2) / np.sqrt(m * n * (m + n + 1) / 12)
        total += (n / len(holdout)) * z
        weights += n / len(holdout)
    return total / weights


def test_the_data_copying_test_against_an_independent_computation():
    from augment.measures.privacy import data_copying

    rng = np.random.default_rng(11)
    centres = np.stack([np.full((4, 4, 1), v) for v in (0.15, 0.5, 0.85)])  # three far-apart cells
    train = _clusters(rng, centres, 12, 0.05)
    holdout = _clusters(rng, centres, 10, 0.05)

    def cells_of(images):  # the cell of an image is its nearest centre, as k-means finds it here
        return np.argmin(((images[:, None] - centres[None]) ** 2).mean(axis=(2, 3, 4)), axis=1)

    copies = np.clip(train[rng.integers(0, len(train), 30)] + rng.normal(0, 0.002, (30, 4, 4, 1)), 0, 1)
    fresh = _clusters(rng, centres, 10, 0.05)
    for synthetic in (copies, fresh):
        record = data_copying(synthetic, train, holdout)
        assert record["cells"] == 6, record
        # k-means splits the three clusters in six cells; the independent computation uses the same
        # cells, read back through which training images share a cell
        assert record["c_t"] == pytest.approx(
            _independent_c_t(synthetic, train, holdout, _kmeans_cells(train, record["cells"])), abs=1e-9
        )
    assert data_copying(copies, train, holdout)["c_t"] < -3
    # authenticity, the long way: each image against its nearest training image's own nearest other
    flat = train.reshape(len(train), -1)
    between = np.sqrt(((flat[:, None] - flat[None]) ** 2).mean(axis=2))
    np.fill_diagonal(between, np.inf)
    for images, key in ((fresh, "authenticity"), (holdout, "authenticity_holdout")):
        to_train = np.sqrt(((images.reshape(len(images), -1)[:, None] - flat[None]) ** 2).mean(axis=2))
        nearest = to_train.argmin(axis=1)
        expected = np.mean(to_train.min(axis=1) > between.min(axis=1)[nearest])
        assert data_copying(fresh, train, holdout)[key] == pytest.approx(expected, abs=1e-12)
    # authenticity: copies are nearer their training image than it is to its neighbour; held-out
    # images mostly are not
    assert data_copying(copies, train, holdout)["authenticity"] < 0.1
    assert data_copying(fresh, train, holdout)["authenticity_holdout"] > 0.3


def test_copies_fail_the_data_copying_test_and_fresh_samples_pass_it_at_its_level():
    """Over 30 draws: copies of training images read "copying" every time; fresh samples of the
    same distribution read "not significant" about 90 % of the time (a 5 % level each side, a little
    over with few cells)."""
    from augment.measures.privacy import data_copying

    centres = np.stack([np.full((4, 4, 1), v) for v in (0.15, 0.5, 0.85)])
    passed = 0
    for seed in range(30):
        rng = np.random.default_rng(100 + seed)
        train, holdout, fresh = (_clusters(rng, centres, count, 0.05) for count in (12, 10, 10))
        copies = train[rng.integers(0, len(train), 30)]
        assert data_copying(copies, train, holdout)["verdict"] == "copying"
        passed += data_copying(fresh, train, holdout)["verdict"] == "not significant"
    assert passed >= 24


def _kmeans_cells(train: np.ndarray, cells: int):
    from sklearn.cluster import KMeans

    model = KMeans(n_clusters=cells, n_init=10, random_state=0).fit(train.reshape(len(train), -1))
    return lambda images: model.predict(np.asarray(images, np.float64).reshape(len(images), -1))


def test_images_far_from_the_training_set_read_farther_than_fresh_data():
    from augment.measures.privacy import data_copying

    rng = np.random.default_rng(12)
    centres = np.stack([np.full((4, 4, 1), v) for v in (0.2, 0.8)])
    train, holdout = _clusters(rng, centres, 12, 0.05), _clusters(rng, centres, 10, 0.05)
    far = _clusters(rng, centres, 10, 0.2)
    record = data_copying(far, train, holdout)
    assert record["verdict"] == "farther than fresh data" and record["z"] > 1.645
