"""Interrupted runs: a resumed synthesis equals the uninterrupted one, in the library and when a
real `augment synth` process is killed with SIGKILL."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time

import h5py
import jax
import numpy as np
import pytest
from cli_options import SAMPLES
from typer.testing import CliRunner

from augment.cli.app import app
from augment.gantk import DiscriminatorConfig, SynthesisConfig, SynthesisSnapshot, synthesize
from augment.gantk.direct.snapshot import FinishedProblem
from augment.gantk.modes import MODES
from augment.run.checkpoint import checkpoint_path, load_checkpoint

CONFIG = SynthesisConfig(
    steps=12,
    chunk_steps=5,
    batch_size=4,
    augment_real_to=0,
    discriminator=DiscriminatorConfig(real_batch_size=8),
)


class Stop(Exception):
    pass


@pytest.mark.parametrize("start", ["noise", "warped"])
@pytest.mark.parametrize("stop_after", [1, 3, 4])  # mid-problem, at a problem's end, mid second problem
def test_a_resumed_synthesis_equals_the_uninterrupted_one(threes, stop_after, start):
    key = jax.random.PRNGKey(5)
    config = dataclasses.replace(CONFIG, start=start)
    whole = synthesize(threes, 8, config, key)  # two problems of four images, chunks of 5, 5, 2 steps
    saved: list[SynthesisSnapshot] = []

    def checkpoint(snapshot):
        saved.append(snapshot.copy())
        if len(saved) == stop_after:
            raise Stop

    with pytest.raises(Stop):
        synthesize(threes, 8, config, key, checkpoint=checkpoint)
    resumed = synthesize(threes, 8, config, key, resume=saved[-1])
    np.testing.assert_array_equal(resumed.images, whole.images)
    np.testing.assert_array_equal(resumed.realness, whole.realness)
    np.testing.assert_array_equal(resumed.loss_history, whole.loss_history)


def test_a_snapshot_of_another_request_is_refused(threes):
    other = SynthesisSnapshot(
        finished={0: FinishedProblem(np.zeros((3, 8, 8, 1), np.float32), np.zeros(3), [0.0])}
    )
    with pytest.raises(Exception, match="the checkpoint does not match this request"):
        synthesize(threes, 8, CONFIG, jax.random.PRNGKey(5), resume=other)


@pytest.mark.slow
def test_killing_a_real_process_and_resuming_gives_the_uninterrupted_result(tmp_path):
    """SIGKILL mid-run leaves no output (only the checkpoint); --resume finishes to the same images."""
    # the plain real set (no augmentation, no novelty stop) keeps 4000 steps quick; the stop is
    # resumed in tests/test_novelty.py
    options = ["--n", "12", "--batch-size", "4", "--steps", "4000", "--seed", "2", "--quiet",
               "--augment-real-to", "0", "--no-novelty-stop", "--no-quality-gate"]  # fmt: skip
    out = tmp_path / "killed.h5"
    checkpoint = checkpoint_path(out)
    command = [
        sys.executable,
        "-m",
        "augment.cli",
        "synth",
        str(SAMPLES),
        "--out",
        str(out),
        *options,
        "--checkpoint-every",
        "0",
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 300
        while not checkpoint.exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert process.poll() is None, f"finished before it could be killed: {process.communicate()}"
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait()
    assert process.returncode == -signal.SIGKILL
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if not p.name.startswith(".")] == [checkpoint.name]
    fingerprint = json.loads(str(np.load(checkpoint)["meta"]))["fingerprint"]
    finished, _current = load_checkpoint(checkpoint, fingerprint, MODES["direct"].read_snapshot)
    assert len(finished) < 3  # it was really cut short

    runner = CliRunner()
    result = runner.invoke(app, ["synth", str(SAMPLES), "--out", str(out), *options, "--resume"])
    assert result.exit_code == 0, result.output
    assert not checkpoint.exists()
    reference = tmp_path / "whole.h5"
    result = runner.invoke(app, ["synth", str(SAMPLES), "--out", str(reference), *options])
    assert result.exit_code == 0, result.output
    with h5py.File(out) as a, h5py.File(reference) as b:
        np.testing.assert_array_equal(a["images"][:], b["images"][:])
        np.testing.assert_array_equal(a["realness"][:], b["realness"][:])
        assert json.loads(a["provenance"][()])["resumed"] is True
