"""docs/extending.md is true: its code blocks register a reader, a writer, a loss, a mode and an
architecture from outside the package, and the library and the CLI then use them."""

from __future__ import annotations

import pathlib
import re
import sys
import types

import jax
import numpy as np
import pytest
from typer.testing import CliRunner

from augment.cli.app import app
from augment.errors import AugmentError
from augment.gantk import DiscriminatorConfig, SynthesisConfig, synthesize
from augment.gantk.architectures import ARCHITECTURES, discriminator
from augment.gantk.losses import LOSSES
from augment.gantk.modes import MODES
from augment.io.folder import load_folder
from augment.io.readers import READERS
from augment.io.writers import WRITERS, check_target, read_output

DOC = pathlib.Path(__file__).resolve().parent.parent / "docs" / "extending.md"
REGISTERED = (
    (READERS, "npy"),
    (WRITERS, "npz"),
    (LOSSES, "hinge"),
    (MODES, "mixup"),
    (ARCHITECTURES, "wide-gray"),
)


@pytest.fixture(scope="module")
def extended():
    """Run every Python block of docs/extending.md in one namespace; unregister afterwards."""
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.DOTALL)
    assert len(blocks) == 5
    module = types.ModuleType("extending_doc")  # a real module: dataclasses look their module up
    sys.modules[module.__name__] = module
    try:
        for block in blocks:
            exec(compile(block, str(DOC), "exec"), module.__dict__)
        yield module
    finally:
        for registry, name in REGISTERED:
            registry.unregister(name)
        del sys.modules[module.__name__]


@pytest.fixture
def npy_folder(tmp_path, digits):
    """Two classes of five 8x8 digits each, as .npy files, plus one damaged .npy file."""
    images, labels = digits
    for digit in (3, 5):
        (tmp_path / "in" / f"d{digit}").mkdir(parents=True)
        for i, image in enumerate(images[labels == digit][:5]):
            np.save(tmp_path / "in" / f"d{digit}" / f"{i}.npy", image)
    (tmp_path / "in" / "d3" / "broken.npy").write_bytes(b"\x93NUMPY garbage")
    return tmp_path / "in"


def test_the_registered_reader_reads_npy_files_and_names_a_bad_one(extended, npy_folder, digits):
    with pytest.raises(AugmentError, match=r"cannot read .*broken\.npy: not a readable \.npy array"):
        load_folder(npy_folder)
    data = load_folder(npy_folder, on_bad_file="skip")
    assert data.class_names == ("d3", "d5") and data.images.shape == (10, 8, 8, 1)
    np.testing.assert_allclose(data.images[:5], digits[0][digits[1] == 3][:5], atol=1e-6)
    assert [f.path for f in data.skipped] == ["d3/broken.npy"]


@pytest.mark.slow
def test_the_registered_loss_and_architecture_are_valid_settings(extended, threes):
    config = SynthesisConfig(
        steps=3, batch_size=4, augment_real_to=0, discriminator=DiscriminatorConfig(loss="hinge")
    )
    result = synthesize(threes, 4, config, jax.random.PRNGKey(0))
    assert np.all(np.isfinite(result.loss_history))
    # widths do not change an infinitely wide network's kernel: wide-gray's equals paper-gray's
    x = threes[:3]
    wide = discriminator("wide-gray", 8)[2](x, None, "ntk")
    paper = discriminator("paper-gray", 8)[2](x, None, "ntk")
    np.testing.assert_allclose(np.asarray(wide), np.asarray(paper), rtol=1e-6)
    with pytest.raises(AugmentError, match="`loss` must be origin, mse, similarity or hinge, got 'hinge2'"):
        DiscriminatorConfig(loss="hinge2")


@pytest.mark.slow
def test_the_cli_writes_and_reads_the_registered_format_and_runs_the_registered_mode(
    extended, npy_folder, tmp_path
):
    runner = CliRunner()
    out = tmp_path / "synthetic.npz"
    args = ["synth", str(npy_folder), "--n", "4", "--on-bad-file", "skip", "--quiet", "--no-quality-gate"]
    done = runner.invoke(app, [*args, "--out", str(out), "--steps", "6", "--batch-size", "8"])
    assert done.exit_code == 0, done.output
    written = read_output(out)
    assert written.images.shape == (4, 8, 8, 1) and written.provenance["format"] == "augment.synthetic"
    inspected = runner.invoke(app, ["inspect", str(out)])
    assert inspected.exit_code == 0 and "mode direct" in inspected.stdout
    with pytest.raises(AugmentError, match="already exists"):
        check_target(out, "npz", overwrite=False)

    mixed = tmp_path / "mixup.h5"
    done = runner.invoke(app, [*args, "--out", str(mixed), "--mode", "mixup"])
    assert done.exit_code == 0, done.output
    mixup = read_output(mixed)
    assert mixup.provenance["mode"] == "mixup" and mixup.provenance["config"]["alpha"] == 0.4
    assert mixup.images.shape == (4, 8, 8, 1) and np.all(np.isfinite(mixup.realness))
    refused = runner.invoke(app, [*args, "--out", str(tmp_path / "x.h5"), "--mode", "mixup", "--steps", "3"])
    assert refused.exit_code == 1
    assert refused.stderr == "error: --steps does not apply to --mode mixup\n"
