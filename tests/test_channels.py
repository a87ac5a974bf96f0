"""A grey class in a colour run stays grey (augment.gantk.channels): in direct mode's steps, in
generator mode's samples and in the file `augment synth` writes; a colour class is untouched."""

from __future__ import annotations

import json

import h5py
import jax
import numpy as np
from cli_options import SAMPLES
from PIL import Image
from typer.testing import CliRunner

from augment.cli.app import app
from augment.gantk import SynthesisConfig, synthesize
from augment.gantk.channels import GREY_TOLERANCE, is_grey, keep_grey
from augment.gantk.generator.config import GeneratorConfig
from augment.gantk.generator.network import generator_network
from augment.gantk.generator.sampling import generate, sample
from augment.gantk.generator.training import TrainedGenerator


def in_colour(grey: np.ndarray) -> np.ndarray:
    """(n, S, S, 1) -> (n, S, S, 3): the same image in all three channels."""
    return np.repeat(grey, 3, axis=-1)


def tinted(grey: np.ndarray) -> np.ndarray:
    """(n, S, S, 1) -> (n, S, S, 3): a colour class, each channel a different share of the image."""
    return (grey * np.asarray([1.0, 0.6, 0.3], np.float32)).astype(np.float32)


def channel_spread(images: np.ndarray) -> float:
    """The largest difference between two channels of one pixel."""
    return float(np.max(images.max(axis=-1) - images.min(axis=-1)))


def test_a_class_is_grey_when_every_pixel_has_equal_channels(threes):
    assert is_grey(in_colour(threes))
    near = in_colour(threes).copy()
    # one channel of one pixel raised by d lies 2d/3 from the pixel's mean
    near[0, 3, 3, 1] = threes[0, 3, 3, 0] + 1.2 * GREY_TOLERANCE  # 0.8 of the tolerance: still grey
    assert is_grey(near)
    near[0, 3, 3, 1] = threes[0, 3, 3, 0] + 1.8 * GREY_TOLERANCE  # 1.2 of it: colour
    assert not is_grey(near)
    assert not is_grey(tinted(threes))
    assert not is_grey(threes)  # one channel: nothing to keep equal


def test_keep_grey_averages_the_channels_or_leaves_the_images_bit_for_bit():
    images = np.random.default_rng(0).uniform(size=(2, 4, 4, 3)).astype(np.float32)
    assert np.array_equal(np.asarray(keep_grey(images, False)), images)
    grey = np.asarray(keep_grey(images, True))
    np.testing.assert_allclose(grey, np.repeat(images.mean(axis=-1, keepdims=True), 3, axis=-1), rtol=1e-6)


def test_direct_mode_keeps_a_grey_class_grey_and_a_colour_class_in_colour(threes):
    config = SynthesisConfig(steps=6, batch_size=4, noise=0.05)
    key = jax.random.PRNGKey(0)
    grey = synthesize(in_colour(threes), 4, config, key).images
    assert grey.shape == (4, 8, 8, 3)
    assert channel_spread(grey) == 0.0  # every step maps a pixel's channels to their mean
    colour = synthesize(tinted(threes), 4, config, key).images
    assert channel_spread(colour) > 0.1


def test_generator_samples_of_a_grey_class_are_grey(threes):
    config = GeneratorConfig(steps=1, batch_size=4, base_channels=8, polish_steps=0)
    init_fn, _ = generator_network(8, 3, config.base_channels)
    _, params = init_fn(jax.random.PRNGKey(1), (-1, config.z_dim))
    generator = TrainedGenerator(params, (8, 8, 3), config, np.zeros(1, np.float32))
    key = jax.random.PRNGKey(2)
    drawn = sample(generator, 4, jax.random.split(key)[0])
    assert channel_spread(drawn) > 0.0  # the untrained network mixes its channels freely
    grey = generate(generator, 4, in_colour(threes), key).images
    assert channel_spread(grey) == 0.0
    np.testing.assert_allclose(grey[..., 0], drawn.mean(axis=-1), rtol=1e-6)
    assert channel_spread(generate(generator, 4, tinted(threes), key).images) > 0.0


def test_synth_writes_a_grey_class_of_a_colour_folder_in_grey(tmp_path):
    folder = tmp_path / "scans"
    for name, colour in (("grey", False), ("stained", True)):
        (folder / name).mkdir(parents=True)
        for i, path in enumerate(sorted((SAMPLES / "digit-7").glob("*.png"))[:4]):
            pixels = np.asarray(Image.open(path).convert("L"))
            image = Image.fromarray(pixels)
            if colour:
                image = Image.fromarray((np.stack([pixels, pixels // 2, pixels // 4], -1)).astype(np.uint8))
            image.save(folder / name / f"{i}.png")
    out = tmp_path / "o.h5"
    options = ["--n", "4", "--size", "8", "--steps", "6", "--batch-size", "4", "--quiet", "--no-quality-gate"]
    result = CliRunner().invoke(app, ["synth", str(folder), "--out", str(out), *options])
    assert result.exit_code == 0, result.output
    with h5py.File(out) as f:
        images, labels = f["images"][:].astype(np.int64), f["labels"][:]
        names = [s.decode() for s in f["class_names"][:]]
        classes = json.loads(f["provenance"][()])["classes"]
    assert {c["class_name"]: c["grey"] for c in classes} == {"grey": True, "stained": False}
    assert images.shape[-1] == 3  # one colour class makes the run colour
    grey, stained = images[labels == names.index("grey")], images[labels == names.index("stained")]
    assert len(grey) and len(stained)
    assert channel_spread(grey) == 0
    assert channel_spread(stained) > 0
