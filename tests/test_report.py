"""The evaluate report: plain verdicts, SVG plots that parse, report.json as the owner's mark."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import numpy as np
import pytest
from golden_output import golden_dataset
from PIL import Image

from augment.errors import AugmentError
from augment.evaluation import evaluate
from augment.io.writers.h5 import write_h5
from augment.report import check_report_target, is_report, verdicts, write_report


def figures(real=1.0, both=0.812, alone=0.75, near=(), attack=None):
    return {
        "counts": {"synthetic": 500, "train": 24, "holdout": 16},
        "utility": {"svc": {"real": real, "real+synthetic": both, "synthetic": alone}},
        "privacy": {"near_copies": list(near), "near_copy_threshold": 0.1},
        "membership_inference": attack,
    }


def test_verdicts_say_what_to_do_in_plain_words():
    said = verdicts(figures())
    assert said["utility"].startswith(
        "adding these images lowered held-out accuracy from 1.000 to 0.812: do not train on them as they are"
    )
    assert "raised held-out accuracy from 0.900 to 0.950" in verdicts(figures(0.9, 0.95))["utility"]
    assert "kept held-out accuracy at 0.900" in verdicts(figures(0.9, 0.905))["utility"]
    assert (
        verdicts(figures())["copies"] == "none of the 500 synthetic images is a near-copy of a training image"
    )
    assert verdicts(figures(near=range(25)))["copies"].startswith(
        "25 of the 500 synthetic images (5%) are near-copies"
    )
    attack = {"auc": 0.52, "auc_interval": [0.41, 0.63], "verdict": "no better than chance"}
    assert verdicts(figures(attack=attack))["membership"] == (
        "an attacker holding these synthetic images tells training images from others no better than chance "
        "(AUC 0.52, 95 % interval 0.41-0.63)"
    )
    by_scan = {**attack, "unit": "scan", "members": 3, "non_members": 2}
    assert verdicts(figures(attack=by_scan))["membership"] == (
        "an attacker holding these synthetic images tells training scans from others no better than chance "
        "(AUC 0.52, 95 % interval 0.41-0.63, 3 training and 2 held-out scans)"
    )
    posed = figures(0.9, 0.95)
    for augmented, compared in ((0.9, "beat"), (0.95, "do no better than"), (0.99, "fall short of")):
        posed["utility"]["svc"]["real+augmented"] = augmented
        assert (
            f"; they {compared} plain augmentation (as many rotated and shifted copies of the real images: "
            f"{augmented:.3f}) (SVC on pixels)"
        ) in verdicts(posed)["utility"]
    no_holdout = {**figures(), "utility": None, "membership_inference": None}
    assert set(verdicts(no_holdout)) == {"copies"}


class _Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.images, self.verdicts, self._in_li = [], [], False

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.images.append(dict(attrs)["src"])
        self._in_li = tag == "li" or self._in_li

    def handle_data(self, data):
        if self._in_li and data.strip():
            self.verdicts.append(data.strip())

    def handle_endtag(self, tag):
        if tag == "li":
            self._in_li = False


@pytest.fixture
def evaluated(tmp_path):
    """evaluate() of the golden dataset against two small folders of real 8x8 images."""
    rng = np.random.default_rng(0)
    for part in ("real", "holdout"):
        for name in ("benign", "malignant"):
            (tmp_path / part / name).mkdir(parents=True)
            for i in range(4):
                pixels = rng.integers(0, 256, (8, 8), dtype=np.uint8)
                Image.fromarray(pixels).save(tmp_path / part / name / f"{i}.png")
    write_h5(tmp_path / "s.h5", golden_dataset())
    return evaluate(tmp_path / "s.h5", tmp_path / "real", tmp_path / "holdout")


def test_the_report_opens_with_verdicts_and_draws_its_plots(tmp_path, evaluated):
    page = write_report(evaluated, tmp_path / "report")
    text = page.read_text()
    parsed = _Page()
    parsed.feed(text)
    assert parsed.verdicts[:4] == [
        "Utility:",
        verdicts(evaluated.figures)["utility"],
        "Realism:",
        evaluated.figures["realism"]["verdict"],
    ]
    assert evaluated.figures["realism"]["c2st"]["real"] == 16  # training and held-out images
    assert text.index("Verdicts") < text.index("<svg") < text.index("All figures")
    for svg in text.split("<svg")[1:]:
        ET.fromstring("<svg" + svg.split("</svg>")[0] + "</svg>")  # well-formed SVG
    assert text.count("<svg") == 2  # distances and accuracy
    for src in parsed.images:
        with Image.open(tmp_path / "report" / src) as picture:
            assert picture.size[0] > 0
    marker = json.loads((tmp_path / "report" / "report.json").read_text())
    assert marker["format"] == "augment.report" and marker["verdicts"] == verdicts(evaluated.figures)
    assert marker["figures"]["membership_inference"]["members"] == 8
    assert is_report(tmp_path / "report")


def test_only_a_report_folder_is_replaced(tmp_path, evaluated):
    write_report(evaluated, tmp_path / "report")
    write_report(evaluated, tmp_path / "report", overwrite=True)
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep")
    with pytest.raises(AugmentError, match="was not written by augment"):
        check_report_target(tmp_path / "mine", overwrite=True)
    with pytest.raises(AugmentError, match="already exists; pass `overwrite`"):
        check_report_target(tmp_path / "report", overwrite=False)
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep"


def _write_synthetic(path, images: np.ndarray, labels: np.ndarray, class_names: tuple[str, ...]) -> None:
    """An output file holding ``images`` (n, S, S, 1) in [0, 1] as 8-bit pixels."""
    import dataclasses

    n = len(images)
    pixels = np.round(np.clip(images, 0, 1) * 255).astype(np.uint8)
    dataset = dataclasses.replace(
        golden_dataset(), images=pixels, labels=labels, class_names=class_names,
        realness=np.full(n, 0.5, np.float32), nearest_real_index=np.zeros(n, np.int64),
        nearest_real_distance=np.zeros(n, np.float32), near_copy=np.zeros(n, bool),
        real_sources=np.zeros((0, 2), np.int64),
        provenance={"format": "augment.synthetic", "format_version": "1.0", "mode": "direct"},
    )  # fmt: skip
    write_h5(path, dataset)


def _digit_folders(tmp_path, digits) -> tuple:
    """Training (8 a class) and held-out (20 a class) folders of digits 0 and 7, and the training
    images and labels as the folder reads them."""
    images, labels = digits
    for part, chosen in (("real", slice(0, 8)), ("holdout", slice(8, 28))):
        for digit in (0, 7):
            (tmp_path / part / str(digit)).mkdir(parents=True)
            for i, image in enumerate(images[labels == digit][chosen]):
                pixels = np.round(image[..., 0] * 255).astype(np.uint8)
                Image.fromarray(pixels).save(tmp_path / part / str(digit) / f"{i:02d}.png")
    train = np.concatenate([np.round(images[labels == d][:8] * 255) / 255 for d in (0, 7)])
    return train, np.repeat([0, 1], 8)


def test_evaluate_names_copies_noise_and_blobs(tmp_path, digits):
    """Copies of the training images read "copying" in the data-copying test; noise and blobs are
    named first in the realism verdict."""
    from scipy.ndimage import gaussian_filter

    train, train_labels = _digit_folders(tmp_path, digits)
    rng = np.random.default_rng(0)
    copies = np.repeat(train, 3, axis=0)
    labels = np.repeat(train_labels, 3)
    _write_synthetic(tmp_path / "copies.h5", copies, labels, ("0", "7"))
    figures = evaluate(tmp_path / "copies.h5", tmp_path / "real", tmp_path / "holdout").figures
    assert figures["data_copying"]["verdict"] == "copying"
    assert figures["data_copying"]["authenticity"] == 0.0 < figures["data_copying"]["authenticity_holdout"]
    assert verdicts(figures)["copying"].startswith("data-copying test: copying (C_T -")

    noise = rng.uniform(size=copies.shape)
    _write_synthetic(tmp_path / "noise.h5", noise, labels, ("0", "7"))
    said = evaluate(tmp_path / "noise.h5", tmp_path / "real", tmp_path / "holdout").figures["realism"]
    assert said["verdict"].startswith("24 of the 24 images of class '7' (100%) are noisy"), said["verdict"]
    assert "tells these images from the real ones almost every time" in said["verdict"]

    blobs = gaussian_filter(copies, (0, 1.5, 1.5, 0))
    _write_synthetic(tmp_path / "blobs.h5", blobs, labels, ("0", "7"))
    said = evaluate(tmp_path / "blobs.h5", tmp_path / "real", tmp_path / "holdout").figures["realism"]
    assert said["verdict"].startswith("24 of the 24 images of class '0' (100%) are blurred"), said["verdict"]
    assert said["per_class"]["7"]["blurred"] == 24
