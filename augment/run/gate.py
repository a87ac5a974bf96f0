"""The quality gate: every synthetic image is checked before it is written.

The reference is the class's *real* images themselves (not posed copies of them, whose
interpolation blurs them). An image passes when each of these holds (:func:`check`):

- **not blurred, not noisy**: its fine-detail share (:func:`augment.measures.realism.high_frequency_share`)
  lies within :func:`augment.measures.realism.detail_band` of the real images: at least
  :data:`~augment.measures.realism.BLURRED_BELOW` times the least detailed one's, at most
  :data:`~augment.measures.realism.NOISY_ABOVE` times the most detailed one's;
- **intensity**: each channel's mean and spread (standard deviation over the pixels), and the
  shares of its *dark* and *bright* pixels: within :data:`EXTREME_TOLERANCE` of, or beyond, the
  darkest and brightest of the class's real pixels but 0.1 % (:data:`EXTREMES`). Where the real
  images have a black background, the dark share is the background's (noise has almost none);
  where they have none (a tissue tile), holes and salt and pepper raise it. Each lies within the
  real images' range widened on each side by :data:`MARGIN` times that range (at least
  :data:`MIN_RANGE` wide), the dark share at least :data:`SHARE_FLOOR` times the real images'
  least instead where every real image has a background (at least :data:`MIN_RANGE` of its
  pixels; a synthetic image's background may be a little smaller or fainter);
- **colour** (images with several channels): the channels' correlation over the pixels
  (:func:`augment.measures.texture.channel_correlation`) and over the differences between neighbouring pixels
  (:func:`augment.measures.texture.detail_channel_correlation`), as Fisher's z (``arctanh``, the correlation
  clipped to :data:`CORRELATION_CLIP`), lie in the real images' range widened the same way:
  independent noise in each channel, or grain laid over the image, lowers them; a grey image in a
  colour class raises them to 1, a coloured one in a grey class lowers them below;
- **structure**: its nearest real image in the fixed random-conv feature space
  (:data:`augment.measures.quality.FEATURES`) is at most :data:`STRUCTURE_FACTOR` times as far as the
  farthest real image is from its own nearest other real image (with two real images or more).

Failed images are replaced by newly synthesised ones (up to :data:`GATE_ROUNDS` rounds, each with
its own key), and those still failing are dropped; the counts, with each failed test's count, go
into the summary and the provenance. The gate is a fixed function of the real images, so the same
inputs give the same verdicts. The rules were chosen so that every real image of MRI slices (two
views), H&E tiles and digits passes when left out of its class's reference, held-out slices and
tiles pass too, and every constructed broken kind fails (``tests/test_gate.py``).
"""

from __future__ import annotations

import dataclasses
from typing import Any, NamedTuple

import jax
import numpy as np

from augment.gantk.modes import ClassResult, ClassTask, Mode
from augment.measures.quality import FEATURES, leave_one_out_dcr, pairwise_rms_distance, random_conv_features
from augment.measures.realism import BLURRED_BELOW, NOISY_ABOVE, detail_band, high_frequency_share
from augment.measures.texture import channel_correlation, detail_channel_correlation

MARGIN = 1.5  # a statistic's range is widened by this many times its width on each side
MIN_RANGE = 0.1  # the smallest width a range is widened by (intensities in [0, 1]; Fisher's z)
EXTREMES = (0.1, 99.9)  # percentiles of all the class's real pixels: darker or brighter is extreme
EXTREME_TOLERANCE = 0.02  # a pixel this near an extreme counts as at it (a faint background is black)
SHARES = ("dark",)  # statistics whose lower bound is a floor, not the widened range
SHARE_FLOOR = 0.25  # that floor, as a share of the real images' least
CORRELATION_CLIP = 0.999  # correlations are compared as Fisher's z of at most this (a grey image's 1)
STRUCTURE_FACTOR = 2.0
GATE_ROUNDS = 2
GATE_STREAM = 0x67617465  # fold_in constant: round r re-synthesises with fold_in(class key, GATE_STREAM + r)
TESTS = ("blurred", "noisy", "intensity", "colour", "structure")
RULE = (
    f"an image passes when its share of spectral power beyond half the Nyquist radius is at least "
    f"{BLURRED_BELOW:g} times the least and at most {NOISY_ABOVE:g} times the most of its class's real "
    f"images' (else it is blurred or noisy); each channel's mean and spread, "
    f"the shares of pixels within {EXTREME_TOLERANCE:g} of or beyond the {EXTREMES[0]:g}th and "
    f"{EXTREMES[1]:g}th percentiles of the real pixels (the dark share at least {SHARE_FLOOR:g} times "
    f"the real images' least where they have a background), and for colour images "
    f"the channels' correlation over pixels and over neighbouring-pixel differences, lie within the "
    f"real images' range widened by {MARGIN:g} times its width (at least {MIN_RANGE:g}) on each side; "
    f"and its nearest real image in the {FEATURES} feature space is at most {STRUCTURE_FACTOR:g} "
    f"times as far as the farthest real image is from its nearest other one; failures are "
    f"re-synthesised up to {GATE_ROUNDS} times, then dropped"
)


class Reference(NamedTuple):
    """A class's gate reference: the (R, d) random-conv features of its real images, the largest
    distance to them an image may have (None with one real image), the allowed (low, high) range of
    the fine-detail share and of each intensity and colour statistic (:func:`statistics`)."""

    features: np.ndarray
    threshold: float | None
    detail: tuple[float, float]
    ranges: dict[str, tuple[float, float]]
    extremes: tuple[float, float]


def statistics(images: np.ndarray, extremes: tuple[float, float]) -> dict[str, np.ndarray]:
    """(n, S, S, C) -> each intensity and colour statistic of the module docstring, (n,) each:
    ``dark`` and ``bright`` (the shares of pixels whose mean over channels is at most
    :data:`EXTREME_TOLERANCE` above the low extreme, or below the high one, of ``extremes``),
    ``mean c`` and ``spread c`` per channel c, and with several channels ``colour`` and ``colour
    detail`` (Fisher's z of the correlations)."""
    x = np.asarray(images, np.float64)
    luminance = x.mean(axis=-1).reshape(len(x), -1)
    named: dict[str, np.ndarray] = {
        "dark": np.mean(luminance <= extremes[0] + EXTREME_TOLERANCE, axis=1),
        "bright": np.mean(luminance >= extremes[1] - EXTREME_TOLERANCE, axis=1),
    }
    for c in range(x.shape[-1]):
        named[f"mean {c}"] = x[..., c].mean(axis=(1, 2))
        named[f"spread {c}"] = x[..., c].std(axis=(1, 2))
    if x.shape[-1] > 1:  # Fisher's z of the correlations, which spreads out the values near 1
        named["colour"] = np.arctanh(np.clip(channel_correlation(x), -CORRELATION_CLIP, CORRELATION_CLIP))
        named["colour detail"] = np.arctanh(
            np.clip(detail_channel_correlation(x), -CORRELATION_CLIP, CORRELATION_CLIP)
        )
    return named


def _widened(name: str, values: np.ndarray) -> tuple[float, float]:
    low, high = float(values.min()), float(values.max())
    margin = MARGIN * max(high - low, MIN_RANGE)
    if name in SHARES:  # a floor only where every real image has a background (MIN_RANGE of it)
        return (SHARE_FLOOR * low if low >= MIN_RANGE else 0.0), high + margin
    return low - margin, high + margin


def reference(real: np.ndarray) -> Reference:
    """The gate's reference for a class of real images (n, S, S, C) in [0, 1]."""
    features = random_conv_features(real)
    threshold = None
    if len(real) >= 2:
        threshold = float(STRUCTURE_FACTOR * leave_one_out_dcr(features).max())
    low, high = np.percentile(np.asarray(real, np.float64).mean(axis=-1), EXTREMES)
    extremes = (float(low), float(high))
    ranges = {name: _widened(name, values) for name, values in statistics(real, extremes).items()}
    return Reference(features, threshold, detail_band(real), ranges, extremes)


def failures(synthetic: np.ndarray, ref: Reference) -> dict[str, np.ndarray]:
    """(M,) bool per test of :data:`TESTS`: which of ``synthetic`` (M, S, S, C) fail it."""
    share = high_frequency_share(synthetic)
    low, high = ref.detail
    outside = np.zeros(len(synthetic), bool)
    colour = np.zeros(len(synthetic), bool)
    for name, values in statistics(synthetic, ref.extremes).items():
        lo, hi = ref.ranges[name]
        bad = (values < lo) | (values > hi)
        if name.startswith("colour"):
            colour |= bad
        else:
            outside |= bad
    structure = np.zeros(len(synthetic), bool)
    if ref.threshold is not None and len(synthetic):
        distance = pairwise_rms_distance(random_conv_features(synthetic), ref.features).min(axis=1)
        structure = distance > ref.threshold
    return {
        "blurred": share < low,
        "noisy": share > high,
        "intensity": outside,
        "colour": colour,
        "structure": structure,
    }


def check(synthetic: np.ndarray, ref: Reference) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """(M,) bool: which images (M, S, S, C) pass every test; and each test's failures."""
    if len(synthetic) == 0:
        return np.zeros(0, bool), {name: np.zeros(0, bool) for name in TESTS}
    failed = failures(synthetic, ref)
    return ~np.any(np.stack(list(failed.values())), axis=0), failed


def gated(mode: Mode, config: Any, task: ClassTask, result: ClassResult, real: np.ndarray) -> ClassResult:
    """``result`` with its failing images replaced or dropped, and the gate's record in ``gate``.

    Args:
      mode, config, task: what made ``result`` (the re-synthesis uses them with other keys).
      result: the class's synthetic images.
      real: (n, S, S, C) the class's real images as the output stores them.

    The record: ``checked`` images, ``rejected`` (failed at least one test), ``failed`` (per test
    of :data:`TESTS`, an image counted under each test it failed), ``resynthesised``, ``dropped``,
    and the first round's ``first_rejected`` (the share of the mode's own images that failed).
    """
    ref = reference(real)
    passed, failed = check(result.images, ref)
    record: dict[str, Any] = {
        "checked": len(passed),
        "rejected": int(np.sum(~passed)),
        "first_rejected": int(np.sum(~passed)),
        "failed": {name: int(np.sum(v)) for name, v in failed.items()},
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
        ok, failed = check(extra.images, ref)
        record["checked"] += len(ok)
        record["rejected"] += int(np.sum(~ok))
        for name, values in failed.items():
            record["failed"][name] += int(np.sum(values))
        record["resynthesised"] += len(ok)
        images = np.concatenate([images, extra.images[ok][:missing]])
        realness = np.concatenate([realness, extra.realness[ok][:missing]])
    record["dropped"] = int(task.count - len(images))
    return dataclasses.replace(result, images=images, realness=realness, gate=record)
