"""Shared fixtures: small real images made from scikit-learn's bundled digits (no downloads)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_digits


@pytest.fixture(scope="session")
def digits():
    """(images (1797, 8, 8, 1) float32 in [0, 1], labels (1797,))."""
    data = load_digits()
    return (data.images / 16.0)[..., None].astype(np.float32), data.target


@pytest.fixture(scope="session")
def threes(digits):
    """Five real images of the digit 3: a small real set like a user's folder."""
    images, labels = digits
    return images[labels == 3][:5]
