"""The membership-inference attack on constructed cases, and its AUC against scikit-learn's."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from augment.privacy import _rates_at_low_fpr, membership_inference, membership_verdict
from augment.quality import nearest_real


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
