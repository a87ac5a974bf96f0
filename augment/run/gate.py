"""The quality gate: every synthetic image is checked before it is written.

The reference is the class's real images under small pose changes, the same rotations (±12°) and
shifts (±1/8 of the size) that direct mode's discriminator sees (:func:`reference`): a set A of
200 of them, and a second, independent set B. In the fixed random-conv feature space
(:data:`augment.quality.FEATURES`), every image of B lies within some distance of A; an image
passes when its nearest image of A is at most :data:`GATE_FACTOR` times B's largest such distance.
Broken images (bright blobs, speckle, fragments) lie far outside; usable ones, novel or not, do not
(measured on MRI slices, ``benchmarks/RESULTS.md``).

A second test looks at the spectrum, which the feature distance sees too little of: a real slice
under a veil of noise, or a featureless smooth blob, can lie within the feature threshold. An
image's share of spectral power beyond half the Nyquist radius
(:func:`augment.realism.high_frequency_share`) must lie between the smallest share among the real
images and their pose-changed set B divided by :data:`SPECTRAL_FACTOR`, and the largest times it.

Failed images are replaced by newly synthesised ones (up to :data:`GATE_ROUNDS` rounds, each with
its own key), and those still failing are dropped; the counts go into the summary and the
provenance. The gate is a fixed function of the real images (its own fixed keys), so the same
inputs give the same verdicts.
"""

from __future__ import annotations

import dataclasses
from typing import Any, NamedTuple

import jax
import numpy as np

from augment.gantk.augmentation import POSE_ROTATION, POSE_SHIFT, augmented_real_set
from augment.gantk.modes import ClassResult, ClassTask, Mode
from augment.quality import FEATURES, pairwise_rms_distance, random_conv_features
from augment.realism import high_frequency_share

GATE_FACTOR = 1.2
GATE_REFERENCE = 200  # pose-changed real images in each of the two reference sets
ROTATION, SHIFT = POSE_ROTATION, POSE_SHIFT  # direct mode's default augmentation
SPECTRAL_FACTOR = 4.0  # how far below / above the real images' fine-detail shares an image may lie
GATE_ROUNDS = 2
GATE_STREAM = 0x67617465  # fold_in constant: round r re-synthesises with fold_in(class key, GATE_STREAM + r)
RULE = (
    f"an image passes when its nearest image, in the {FEATURES} feature space, among {GATE_REFERENCE} "
    f"small rotations (±{ROTATION:g} degrees) and shifts (±{SHIFT:g} of the size) of its class's real "
    f"images is at most {GATE_FACTOR} times as far as the farthest of {GATE_REFERENCE} further such "
    f"versions is from them, and its share of spectral power beyond half the Nyquist radius lies "
    f"within a factor {SPECTRAL_FACTOR:g} of the range of those real versions' shares; failures are "
    f"re-synthesised up to {GATE_ROUNDS} times, then dropped"
)


class Reference(NamedTuple):
    """A class's gate reference: (m, d) features of the pose-changed real set, the threshold on
    the distance to them, and the (low, high) range of high-frequency shares an image may have."""

    features: np.ndarray
    threshold: float
    spectral_range: tuple[float, float]


def reference(real: np.ndarray) -> Reference:
    """The gate's reference for a class of real images (n, S, S, C) in [0, 1]."""
    count = max(GATE_REFERENCE, len(real))
    key_a, key_b = jax.random.split(jax.random.PRNGKey(0))
    a = random_conv_features(np.asarray(augmented_real_set(key_a, real, count, ROTATION, SHIFT)))
    posed_b = np.asarray(augmented_real_set(key_b, real, count, ROTATION, SHIFT))
    b = random_conv_features(posed_b)
    shares = np.concatenate([high_frequency_share(real), high_frequency_share(posed_b)])
    spectral_range = (float(shares.min() / SPECTRAL_FACTOR), float(shares.max() * SPECTRAL_FACTOR))
    return Reference(a, float(GATE_FACTOR * pairwise_rms_distance(b, a).min(axis=1).max()), spectral_range)


def check(synthetic: np.ndarray, ref: Reference) -> tuple[np.ndarray, np.ndarray]:
    """(M,) bool: which images (M, S, S, C) pass both tests; (M,) their feature distances to the
    reference."""
    if len(synthetic) == 0:
        return np.zeros(0, bool), np.zeros(0, np.float32)
    distance = pairwise_rms_distance(random_conv_features(synthetic), ref.features).min(axis=1)
    share = high_frequency_share(synthetic)
    low, high = ref.spectral_range
    return (distance <= ref.threshold) & (share >= low) & (share <= high), distance.astype(np.float32)


def gated(mode: Mode, config: Any, task: ClassTask, result: ClassResult, real: np.ndarray) -> ClassResult:
    """``result`` with its failing images replaced or dropped, and the gate's record in ``gate``.

    Args:
      mode, config, task: what made ``result`` (the re-synthesis uses them with other keys).
      result: the class's synthetic images.
      real: (n, S, S, C) the class's real images as the output stores them.
    """
    ref = reference(real)
    passed, _ = check(result.images, ref)
    record: dict[str, Any] = {
        "threshold": ref.threshold,
        "checked": len(passed),
        "rejected": int(np.sum(~passed)),
        "resynthesised": 0,
        "dropped": 0,
    }
    images, realness = result.images[passed], result.realness[passed]
    for round_ in range(GATE_ROUNDS):
        missing = task.count - len(images)
        if missing <= 0:
            break
        key = jax.random.fold_in(task.key, GATE_STREAM + round_)
        extra_task = dataclasses.replace(
            task, count=missing, key=key, progress=None, resume=None, checkpoint=lambda snapshot: None
        )
        extra = mode.more(config, extra_task, result)
        ok, _ = check(extra.images, ref)
        record["checked"] += len(ok)
        record["rejected"] += int(np.sum(~ok))
        record["resynthesised"] += len(ok)
        images = np.concatenate([images, extra.images[ok][:missing]])
        realness = np.concatenate([realness, extra.realness[ok][:missing]])
    record["dropped"] = int(task.count - len(images))
    return dataclasses.replace(result, images=images, realness=realness, gate=record)
