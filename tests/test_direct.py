"""Direct-mode GA-NTK synthesis: the loss falls, determinism, one compilation, batching, errors."""

from __future__ import annotations

import dataclasses
import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from augment.errors import AugmentError
from augment.gantk import DiscriminatorConfig, SynthesisConfig, direct, plan_problems, synthesize
from augment.gantk.architectures import discriminator
from augment.gantk.discriminator import ga_ntk_loss, ntk_gp_train_prediction
from augment.gantk.losses import LOSSES
from augment.gantk.placement import Placement

# The mechanics tests run on the plain real set, without augmentation or novelty stop (tested below).
FAST = SynthesisConfig(
    steps=12,
    chunk_steps=5,
    batch_size=8,
    augment_real_to=0,
    novelty_stop=False,
    convergence_stop=False,
    discriminator=DiscriminatorConfig(real_batch_size=8),
)


@pytest.mark.slow
def test_loss_falls_on_a_small_real_set(threes):
    config = dataclasses.replace(FAST, steps=80, chunk_steps=40)
    result = synthesize(threes, 8, config, jax.random.PRNGKey(0))
    history = result.loss_history[0]
    assert history.shape == (80,)
    assert history[-10:].mean() < history[:10].mean() - 0.02
    assert result.images.shape == (8, 8, 8, 1) and result.images.dtype == np.float32
    assert result.images.min() >= 0.0 and result.images.max() <= 1.0
    assert result.realness.shape == (8,)
    # the discriminator finds the optimised images more real than fresh noise
    _, _, kernel_fn = discriminator(config.discriminator.architecture, 8)
    real = jnp.asarray(threes)
    noise = jax.random.uniform(jax.random.PRNGKey(1), (8, 8, 8, 1))
    score = jax.jit(
        lambda z: ga_ntk_loss(
            kernel_fn,
            z,
            real,
            kernel_fn(real, None, "ntk"),
            loss="origin",
            eta=config.discriminator.eta,
            t=config.discriminator.t,
            diag_reg=config.discriminator.diag_reg,
        )[1]
    )
    noise_realness = score(noise)
    assert result.realness.mean() > float(noise_realness.mean())


@pytest.mark.slow
def test_same_key_gives_bit_identical_images_and_another_key_does_not(threes):
    first = synthesize(threes, 8, FAST, jax.random.PRNGKey(7))
    second = synthesize(threes, 8, FAST, jax.random.PRNGKey(7))
    other = synthesize(threes, 8, FAST, jax.random.PRNGKey(8))
    np.testing.assert_array_equal(first.images, second.images)
    np.testing.assert_array_equal(first.realness, second.realness)
    np.testing.assert_array_equal(first.loss_history, second.loss_history)
    assert not np.array_equal(first.images, other.images)


@pytest.mark.slow
def test_steps_chunks_and_problems_share_one_compilation(threes):
    config = dataclasses.replace(
        FAST, steps=7, chunk_steps=3, discriminator=dataclasses.replace(FAST.discriminator, loss="mse")
    )  # chunks of 3, 3, 1
    calls = []
    result = synthesize(threes, 13, config, jax.random.PRNGKey(0), progress=lambda *a: calls.append(a))
    compiled = direct.compiled_problem(dataclasses.replace(config, steps=1, start="noise"), 8, 1)
    assert compiled.run_lanes(Placement.single().mesh)._cache_size() == 1
    assert compiled.evaluate._cache_size() == 1
    # 13 images in batches of at most 8: two problems of 7, one image dropped
    assert result.images.shape[0] == 13 and result.loss_history.shape == (2, 7)
    assert result.problem_index.tolist() == [0] * 7 + [1] * 6
    # (steps done of 14, problems done) after every chunk
    assert [(c[0], c[2]) for c in calls] == [(3, 0), (6, 0), (7, 1), (10, 1), (13, 1), (14, 2)]


@pytest.mark.slow
def test_real_batches_are_resampled_from_a_larger_real_set(digits):
    images, labels = digits
    real = images[labels == 5][:20]
    config = dataclasses.replace(FAST, discriminator=DiscriminatorConfig(real_batch_size=6))
    result = synthesize(real, 8, config, jax.random.PRNGKey(0))
    assert np.all(np.isfinite(result.loss_history))
    # a fixed real batch would give a smooth history; resampled batches make the loss jump about
    fixed = synthesize(real[:6], 8, config, jax.random.PRNGKey(0))
    assert np.std(np.diff(result.loss_history[0])) > 2 * np.std(np.diff(fixed.loss_history[0]))


def test_resampled_block_equals_the_kernel_of_the_sampled_images(digits):
    """Gathering the real-vs-real block from the precomputed Gram matrix is exact."""
    images, labels = digits
    real = jnp.asarray(images[labels == 5][:10])
    _, _, kernel_fn = discriminator("paper-gray", 8)
    gram = direct.compiled_problem(FAST, 8).gram(real)
    index = jnp.array([7, 2, 9, 0])
    direct_block = jax.jit(lambda x: kernel_fn(x, None, "ntk"))(real[index])
    np.testing.assert_allclose(gram[index][:, index], direct_block, rtol=2e-5)


@pytest.mark.slow
@pytest.mark.parametrize(
    "change",
    [
        {"optimizer": "gd", "learning_rate": 1000.0},
        {"noise": 0.05},
        {"discriminator": DiscriminatorConfig(real_batch_size=8, loss="similarity", similarity_weight=0.5)},
    ],
    ids=["paper-gd", "noise", "similarity"],
)
def test_variants_run_and_keep_pixels_in_range(threes, change):
    config = dataclasses.replace(FAST, steps=4, **change)
    result = synthesize(threes, 4, config, jax.random.PRNGKey(0))
    assert np.all(np.isfinite(result.loss_history))
    assert result.images.min() >= 0.0 and result.images.max() <= 1.0


@pytest.mark.slow
def test_colour_images_with_the_rgb_architecture():
    real = jax.random.uniform(jax.random.PRNGKey(3), (4, 16, 16, 3))
    config = dataclasses.replace(
        FAST, steps=3, discriminator=dataclasses.replace(FAST.discriminator, architecture="paper-rgb")
    )
    result = synthesize(real, 4, config, jax.random.PRNGKey(0))
    assert result.images.shape == (4, 16, 16, 3)
    assert np.all(np.isfinite(result.loss_history))


@pytest.mark.slow
def test_noise_changes_the_trajectory(threes):
    quiet = synthesize(threes, 4, FAST, jax.random.PRNGKey(0))
    noisy = synthesize(threes, 4, dataclasses.replace(FAST, noise=0.05), jax.random.PRNGKey(0))
    assert not np.array_equal(quiet.images, noisy.images)


@pytest.mark.slow
def test_similarity_loss_adds_the_cosine_penalty(threes):
    _, _, kernel_fn = discriminator("paper-gray", 8)
    real = jnp.asarray(threes)
    z = jax.random.uniform(jax.random.PRNGKey(0), (4, 8, 8, 1))
    gram = kernel_fn(real, None, "ntk")
    common = dict(eta=1e-2, t=131072.0, diag_reg=1e-5)
    origin, _ = jax.jit(lambda z: ga_ntk_loss(kernel_fn, z, real, gram, loss="origin", **common))(z)
    similar, _ = jax.jit(
        lambda z: ga_ntk_loss(kernel_fn, z, real, gram, loss="similarity", similarity_weight=0.5, **common)
    )(z)
    flat_z, flat_r = z.reshape(4, -1), real.reshape(5, -1)
    cosine = (flat_z @ flat_r.T) / jnp.outer(jnp.linalg.norm(flat_z, axis=1), jnp.linalg.norm(flat_r, axis=1))
    np.testing.assert_allclose(similar - origin, 0.5 * cosine.max(axis=1).mean(), rtol=1e-5)


def test_closed_form_limits():
    """t = 0: D = 0; t large: D reaches the labels on a well-conditioned kernel."""
    k = jnp.array([[2.0, 0.3, 0.1], [0.3, 1.5, 0.2], [0.1, 0.2, 1.0]])
    y = jnp.eye(3)[:, :2]
    np.testing.assert_allclose(ntk_gp_train_prediction(k, y, eta=1.0, t=0.0, diag_reg=0.0), 0.0, atol=1e-6)
    np.testing.assert_allclose(ntk_gp_train_prediction(k, y, eta=1.0, t=1e4, diag_reg=0.0), y, atol=1e-5)


def test_a_nan_loss_stops_with_a_clear_message(threes):
    LOSSES.register("nan", lambda prediction, synthetic, real, weight: jnp.sum(synthetic) * jnp.nan)
    try:
        config = dataclasses.replace(
            FAST, steps=3, discriminator=DiscriminatorConfig(real_batch_size=8, loss="nan")
        )
        with pytest.raises(AugmentError, match=r"loss became nan at step 1 of problem 1"):
            synthesize(threes, 4, config, jax.random.PRNGKey(0))
    finally:
        LOSSES.unregister("nan")


def test_the_convergence_stop_ends_a_batch_after_its_window(threes):
    """With a tolerance no loss can beat, every batch stops at the first chunk past the window;
    without the stop, all steps run."""
    config = dataclasses.replace(
        FAST, steps=40, convergence_stop=True, convergence_window=7, convergence_tolerance=10.0
    )
    stopped = synthesize(threes, 16, config, jax.random.PRNGKey(0))
    assert stopped.steps_run.tolist() == [10, 10]  # chunks of 5: the history first exceeds 7 at 10
    assert np.isnan(stopped.loss_history[:, 10:]).all()
    free = synthesize(threes, 16, dataclasses.replace(config, convergence_stop=False), jax.random.PRNGKey(0))
    assert free.steps_run.tolist() == [40, 40]
    # the stopped batches are the free run's images after 10 steps: the stop changes nothing else
    early = synthesize(threes, 16, dataclasses.replace(config, steps=10), jax.random.PRNGKey(0))
    np.testing.assert_array_equal(stopped.images, early.images)


def test_the_pixel_envelope_keeps_every_pixel_within_the_real_images_range(threes):
    """With ``pixel_envelope`` no synthetic pixel leaves the range the real side spans at it, so a
    pixel dark in every real image stays dark (the stray bright background pixels of scans); without
    it those pixels take other values."""
    low, high = threes.min(axis=0), threes.max(axis=0)
    dark = high[..., 0] == 0
    assert dark.sum() >= 4  # the threes' first column, among others, is dark in all five
    config = dataclasses.replace(FAST, steps=10, pixel_envelope=True, novelty_stop=True)
    bounded = synthesize(threes, 8, config, jax.random.PRNGKey(0)).images
    assert np.all(bounded >= low) and np.all(bounded <= high)
    assert np.all(bounded[:, dark] == 0)
    free = synthesize(threes, 8, dataclasses.replace(config, pixel_envelope=False), jax.random.PRNGKey(0))
    assert np.all(free.images.max(axis=0)[dark] > 0)


def test_the_pixel_envelope_bounds_the_starting_images_the_novelty_stop_may_return_to(threes):
    """An image nearer a real one than the floor from its first step on ends as its starting
    version: the noise, or the images it was given (coarse to fine), clipped to the envelope."""
    config = dataclasses.replace(FAST, steps=10, pixel_envelope=True, novelty_stop=True)  # compiled above
    everything_near = 100.0  # every image is nearer than this to some real image, at every step
    started = synthesize(threes, 8, config, jax.random.PRNGKey(0), floor_distance=everything_near)
    assert np.all(started.images >= threes.min(axis=0)) and np.all(started.images <= threes.max(axis=0))
    white = np.ones((8, 8, 8, 1), np.float32)
    given = synthesize(
        threes, 8, config, jax.random.PRNGKey(0), floor_distance=everything_near, initial=white
    )
    np.testing.assert_array_equal(given.images, np.broadcast_to(threes.max(axis=0), white.shape))


def test_plan_problems():
    assert plan_problems(500, 256) == (2, 250)
    assert plan_problems(256, 256) == (1, 256)
    assert plan_problems(1, 256) == (1, 1)
    with pytest.raises(AugmentError, match="at least 1"):
        plan_problems(0, 256)


@pytest.mark.parametrize(
    "change, message",
    [
        ({"optimizer": "lbfgs"}, "`optimizer` must be adam or gd, got 'lbfgs'"),
        ({"loss": "hinge"}, "`loss` must be origin, mse or similarity, got 'hinge'"),
        ({"steps": 0}, "`steps` must be at least 1, got 0"),
        ({"convergence_window": 0}, "`convergence_window` must be at least 1"),
        (
            {"architecture": "resnet"},
            "`architecture` must be auto, paper-gray, paper-rgb, strided-gray or strided-rgb, got 'resnet'",
        ),
    ],
)
def test_bad_configuration_is_a_clear_error(change, message):
    discriminator_fields = {"loss", "architecture"}
    with pytest.raises(AugmentError, match=re.escape(message)):
        if discriminator_fields & set(change):
            DiscriminatorConfig(**change)
        else:
            dataclasses.replace(FAST, **change)


def test_bad_real_images_are_a_clear_error(threes):
    with pytest.raises(AugmentError, match=r"in \[0, 1\]"):
        synthesize(threes * 3, 4, FAST, jax.random.PRNGKey(0))
    with pytest.raises(AugmentError, match=r"\(n, S, S, C\)"):
        synthesize(threes[:, :, :6], 4, FAST, jax.random.PRNGKey(0))
    with pytest.raises(AugmentError, match="too small for the paper-gray discriminator"):
        synthesize(np.zeros((3, 4, 4, 1), np.float32), 4, FAST, jax.random.PRNGKey(0))
