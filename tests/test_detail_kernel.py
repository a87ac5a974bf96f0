"""The detail kernel: K(x, y) + w K(detail(x), detail(y)), checked against an independent NumPy
blur and against the identities a kernel must keep."""

from __future__ import annotations

import numpy as np
import pytest

from augment.errors import AugmentError
from augment.gantk.config import DETAIL_GAIN, DiscriminatorConfig, detail


def numpy_detail(images: np.ndarray) -> np.ndarray:
    """The same filter written independently: a 3x3 binomial blur as an outer product of [1, 2, 1]/4,
    summed over shifted copies of the edge-padded image."""
    weights = np.outer([1, 2, 1], [1, 2, 1]) / 16.0
    padded = np.pad(images, ((0, 0), (1, 1), (1, 1), (0, 0)), mode="edge")
    h, w = images.shape[1:3]
    blurred = sum(weights[i, j] * padded[:, i : i + h, j : j + w] for i in range(3) for j in range(3))
    return DETAIL_GAIN * (images - blurred)


def test_detail_matches_an_independent_blur_and_keeps_no_smooth_part():
    rng = np.random.default_rng(0)
    images = rng.random((3, 9, 9, 1)).astype(np.float32)
    np.testing.assert_allclose(np.asarray(detail(images)), numpy_detail(images), atol=1e-6)
    constant = np.full((1, 8, 8, 1), 0.3, np.float32)
    np.testing.assert_allclose(np.asarray(detail(constant)), 0.0, atol=1e-6)
    ramp = np.add.outer(np.arange(8.0), 2 * np.arange(8.0))[None, :, :, None].astype(np.float32) / 30
    np.testing.assert_allclose(np.asarray(detail(ramp))[:, 1:-1, 1:-1], 0.0, atol=1e-6)  # linear inside


def test_the_detail_kernel_is_the_sum_it_says_and_a_kernel():
    rng = np.random.default_rng(1)
    x = rng.random((4, 16, 16, 1)).astype(np.float32)
    y = rng.random((3, 16, 16, 1)).astype(np.float32)
    plain = DiscriminatorConfig().kernel_fn(16)
    detailed = DiscriminatorConfig(detail_weight=0.5).kernel_fn(16)
    fine = np.asarray(plain(numpy_detail(x), numpy_detail(y), "ntk"))
    expected = np.asarray(plain(x, y, "ntk")) + 0.5 * fine
    np.testing.assert_allclose(np.asarray(detailed(x, y, "ntk")), expected, rtol=1e-5)
    gram = np.asarray(detailed(np.concatenate([x, y]), None, "ntk"), np.float64)
    np.testing.assert_allclose(gram, gram.T, rtol=1e-6)
    assert np.linalg.eigvalsh(gram).min() > -1e-6 * np.abs(gram).max()
    assert DiscriminatorConfig().kernel_fn(16)(x, y, "ntk").shape == (4, 3)


def test_the_weight_is_recorded_checked_and_absent_from_old_records():
    from augment.gantk.direct.config import SynthesisConfig

    assert SynthesisConfig().to_dict()["detail_weight"] == 0.0
    old = {k: v for k, v in SynthesisConfig().to_dict().items() if k != "detail_weight"}
    assert SynthesisConfig.from_dict(old).discriminator.detail_weight == 0.0
    with pytest.raises(AugmentError, match="`detail_weight` must not be negative"):
        DiscriminatorConfig(detail_weight=-1.0)
