"""Generator mode: network shapes for every size, the GA-NTK loss falls, sampling, resume."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import math

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from augment.errors import AugmentError
from augment.gantk.augmentation import discriminator_real_set
from augment.gantk.generator.config import LEARNING_RATE_SCHEDULES, GeneratorConfig
from augment.gantk.generator.network import (
    SAMPLING_BATCH_BYTES,
    generator_network,
    grown_parameters,
    sampling_batch,
)
from augment.gantk.generator.sampling import sample
from augment.gantk.generator.snapshot import GeneratorSnapshot
from augment.gantk.generator.training import generator_optimizer, generator_schedule, train_generator
from augment.gantk.levels import resize
from augment.gantk.resolution import at_size
from augment.ntk import stax
from augment.parameters import AUGMENT_REAL_TO, SCAN_GENERATOR_NOVELTY_FLOOR

FAST = GeneratorConfig(steps=40, chunk_steps=10, batch_size=16, base_channels=32, learning_rate=5e-3)


@pytest.mark.parametrize("size", [8, 9, 10, 16, 28, 32])
@pytest.mark.parametrize("channels", [1, 3])
def test_the_network_makes_images_of_the_working_size_in_the_unit_range(size, channels):
    init_fn, apply_fn = generator_network(size, channels, base_channels=32)
    shape, params = init_fn(jax.random.PRNGKey(0), (-1, 8))
    assert shape == (-1, size, size, channels)
    images = apply_fn(params, jax.random.normal(jax.random.PRNGKey(1), (3, 8)))
    assert images.shape == (3, size, size, channels)
    assert float(images.min()) > 0.0 and float(images.max()) < 1.0


@pytest.mark.parametrize("size", [8, 16, 28, 32, 64, 128])
@pytest.mark.parametrize("channels", [1, 3])
def test_the_sampling_batch_is_the_largest_whose_activations_fit_the_budget(size, channels):
    rows = 5  # a batch size no weight shares, to tell activations from parameters
    init_fn, apply_fn = generator_network(size, channels)
    _, params = jax.eval_shape(lambda key: init_fn(key, (-1, 64)), jax.random.PRNGKey(0))
    traced = jax.make_jaxpr(apply_fn)(params, jax.ShapeDtypeStruct((rows, 64), jnp.float32))
    arrays = [v.aval for eqn in traced.jaxpr.eqns for v in eqn.outvars]
    per_image_bytes = 4 * max(a.size for a in arrays if a.shape[:1] == (rows,)) // rows
    fitting = [2**k for k in range(3, 11) if 2**k * per_image_bytes <= SAMPLING_BATCH_BYTES]
    assert sampling_batch(size, channels) == (fitting[-1] if fitting else 8)
    # an accelerator is kept busy by large batches, whatever their size in bytes
    assert sampling_batch(size, channels, platform="gpu") == 1024


@pytest.mark.parametrize(("height", "width", "in_chan", "out_chan"), [(4, 4, 3, 5), (7, 5, 16, 8)])
def test_upsample_conv_is_upsampling_then_a_same_convolution(height, width, in_chan, out_chan):
    key = jax.random.PRNGKey(height)
    fused_init, fused, _ = stax.UpsampleConv(out_chan, W_std=1.3, b_std=0.7)
    _, two_layers = stax.serial(
        stax.Upsample(2), stax.Conv(out_chan, (3, 3), padding="SAME", W_std=1.3, b_std=0.7)
    )[:2]
    shape, params = fused_init(key, (-1, height, width, in_chan))
    assert shape == (-1, 2 * height, 2 * width, out_chan)
    x = jax.random.normal(jax.random.fold_in(key, 1), (2, height, width, in_chan))
    np.testing.assert_allclose(fused(params, x), two_layers(((), params), x), atol=1e-5)
    # the same gradients too, against JAX's autodiff of the two layers
    weight = jax.random.normal(jax.random.fold_in(key, 2), (2, 2 * height, 2 * width, out_chan))
    grads = [
        jax.grad(lambda p, x, f=f: jnp.sum(jnp.sin(f(p, x)) * weight), argnums=(0, 1))(p, x)
        for f, p in ((fused, params), (two_layers, ((), params)))
    ]
    for a, b in zip(jax.tree_util.tree_leaves(grads[0]), jax.tree_util.tree_leaves(grads[1]), strict=True):
        np.testing.assert_allclose(a, b, atol=2e-4 * float(jnp.max(jnp.abs(b))))


@pytest.mark.parametrize(("filter_shape", "padding"), [((3, 3), "SAME"), ((2, 3), "VALID"), ((4, 2), "SAME")])
def test_a_stride_one_convolution_has_its_written_out_gradient(filter_shape, padding):
    from jax.test_util import check_grads

    from augment.ntk.stax import _conv_stride_one, _lax_conv

    x = jax.random.normal(jax.random.PRNGKey(0), (3, 6, 5, 4))
    weights = jax.random.normal(jax.random.PRNGKey(1), (*filter_shape, 4, 2))
    pads = tuple(
        (int(lo), int(hi)) for lo, hi in jax.lax.padtype_to_pads(x.shape[1:3], filter_shape, (1, 1), padding)
    )
    # the same values and gradients as lax's convolution under JAX's autodiff ...
    np.testing.assert_allclose(
        _conv_stride_one(x, weights, pads), _lax_conv(x, weights, (1, 1), pads), atol=1e-5
    )
    cotangent = jax.random.normal(jax.random.PRNGKey(2), _lax_conv(x, weights, (1, 1), pads).shape)
    ours = jax.vjp(lambda x, w: _conv_stride_one(x, w, pads), x, weights)[1](cotangent)
    theirs = jax.vjp(lambda x, w: _lax_conv(x, w, (1, 1), pads), x, weights)[1](cotangent)
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-4)
    # ... and against finite differences
    check_grads(
        lambda x, w: _conv_stride_one(x, w, pads), (x, weights), order=1, modes=["rev"], atol=5e-2, rtol=5e-2
    )


def test_generator_only_layers_have_no_kernel():
    _, _, kernel_fn = stax.serial(stax.Dense(4), stax.Reshape((2, 2, 1)))
    with pytest.raises(AugmentError, match="Reshape is for finite networks"):
        kernel_fn(np.ones((2, 3), np.float32), None, "ntk")


@pytest.mark.slow
def test_the_ga_ntk_loss_falls_and_samples_are_deterministic(threes):
    generator = train_generator(threes, FAST, jax.random.PRNGKey(0))
    history = generator.loss_history
    assert history.shape == (40,) and np.all(np.isfinite(history))
    drop = history[:10].mean() - history[-10:].mean()
    assert drop > 3 * np.std(
        np.diff(history)
    )  # a fall well beyond the step-to-step noise (fresh z each step)
    first = sample(generator, 7, jax.random.PRNGKey(3))
    assert first.shape == (7, 8, 8, 1) and first.dtype == np.float32
    assert 0.0 < first.min() and first.max() < 1.0
    np.testing.assert_array_equal(first, sample(generator, 7, jax.random.PRNGKey(3)))
    assert not np.array_equal(first, sample(generator, 7, jax.random.PRNGKey(4)))
    # in batches of 3 (the last one padded): the same images
    np.testing.assert_allclose(sample(generator, 7, jax.random.PRNGKey(3), batch=3), first, atol=1e-6)
    again = train_generator(threes, FAST, jax.random.PRNGKey(0))
    np.testing.assert_array_equal(again.loss_history, history)


@pytest.mark.slow
def test_a_resumed_training_equals_the_uninterrupted_one(threes):
    config = dataclasses.replace(FAST, steps=20)
    whole = train_generator(threes, config, jax.random.PRNGKey(1))
    saved: list[GeneratorSnapshot] = []

    class Stop(Exception):
        pass

    def checkpoint(snapshot):
        saved.append(snapshot)
        raise Stop

    with pytest.raises(Stop):
        train_generator(threes, config, jax.random.PRNGKey(1), checkpoint=checkpoint)
    resumed = train_generator(threes, config, jax.random.PRNGKey(1), resume=saved[0])
    np.testing.assert_array_equal(resumed.loss_history, whole.loss_history)
    np.testing.assert_array_equal(
        sample(resumed, 5, jax.random.PRNGKey(0)), sample(whole, 5, jax.random.PRNGKey(0))
    )


def test_the_generator_trains_coarse_to_fine_at_doublings_that_grow_its_network():
    with pytest.raises(AugmentError, match=r"`steps` depends on the working size"):
        generator_schedule(64, GeneratorConfig())  # the schedule reads a resolved configuration
    assert generator_schedule(64, at_size(GeneratorConfig(), 64)) == [(64, 4000)]  # one level by default
    assert generator_schedule(32, at_size(GeneratorConfig(), 32)) == [(32, 4000)]  # steps by the working size
    assert generator_schedule(16, at_size(GeneratorConfig(), 16)) == [(16, 1000)]
    levels = GeneratorConfig(coarse_size=32, steps=1000)
    assert generator_schedule(64, at_size(levels, 64)) == [(32, 1000), (64, 200)]
    assert generator_schedule(128, at_size(levels, 128)) == [(32, 1000), (64, 200), (128, 200)]
    assert generator_schedule(32, at_size(levels, 32)) == [(32, 1000)]
    # one level where the finer network is not the coarser one and one more doubling
    assert generator_schedule(63, at_size(levels, 63)) == [(63, 1000)]  # both have three doublings
    wide = dataclasses.replace(levels, base_channels=512)
    assert generator_schedule(64, at_size(wide, 64)) == [(64, 1000)]  # the last widths differ
    with pytest.raises(AugmentError, match="does not grow into"):
        grown_parameters((), 32, 63, 128)


def test_generator_mode_records_its_schedule_and_counts_a_finer_step_by_its_pixels():
    from augment.gantk.modes.generator import GENERATOR

    one = GENERATOR.describe(at_size(GeneratorConfig(), 64), (64, 64, 1))
    assert one["schedule"] == [{"size": 64, "steps": 4000, "architecture": one["architecture"]}]
    assert "rule" not in one
    # the training, then the polish up to 16 px: 50 direct-mode steps per problem of up to 32 samples
    assert GENERATOR.total_work(at_size(GeneratorConfig(), 64), (64, 64, 1), 100) == 4000
    assert GENERATOR.total_work(at_size(GeneratorConfig(), 8), (8, 8, 1), 10) == 1000 + 50
    assert GENERATOR.total_work(at_size(GeneratorConfig(), 8), (8, 8, 1), 100) == 1000 + 4 * 50
    assert GENERATOR.total_work(at_size(GeneratorConfig(polish_steps=0), 8), (8, 8, 1), 100) == 1000
    assert GENERATOR.total_work(at_size(GeneratorConfig(polish_steps=10), 64), (64, 64, 1), 10) == 4000 + 10
    levels = GeneratorConfig(coarse_size=32, steps=1000)
    two = GENERATOR.describe(at_size(levels, 64), (64, 64, 1))
    assert [(level["size"], level["steps"]) for level in two["schedule"]] == [(32, 1000), (64, 200)]
    assert two["schedule"][-1]["architecture"] == two["architecture"] and "identity" in two["rule"]
    assert GENERATOR.total_work(at_size(levels, 64), (64, 64, 1), 10) == 1000 + 4 * 200


@pytest.mark.parametrize("coarse, fine, doublings", [(8, 16, 1), (9, 18, 1), (16, 32, 2)])
def test_a_grown_generator_keeps_every_layer_and_starts_its_new_one_as_the_identity(coarse, fine, doublings):
    init_coarse, _ = generator_network(coarse, 1, base_channels=32)
    _, coarse_params = init_coarse(jax.random.PRNGKey(0), (-1, 8))
    grown = grown_parameters(coarse_params, coarse, fine, 32)
    init_fine, apply_fine = generator_network(fine, 1, base_channels=32)
    _, fine_params = init_fine(jax.random.PRNGKey(1), (-1, 8))
    shapes = jax.tree_util.tree_map(lambda a: a.shape, fine_params)
    assert jax.tree_util.tree_map(lambda a: a.shape, grown) == shapes  # the fine network's layout
    body = 3 + 2 * doublings  # Dense, Relu, Reshape, then (UpsampleConv, Relu) per doubling
    for i in range(body):
        assert grown[i] is coarse_params[i]
    assert grown[body + 2] is coarse_params[body] and grown[body + 3] == coarse_params[body + 1]
    # the new UpsampleConv computes a nearest upsampling of its input, which the ReLU keeps
    features = jax.nn.relu(jax.random.normal(jax.random.PRNGKey(2), (3, 5, 5, 32)))
    _, upsample_conv, _ = stax.UpsampleConv(32, W_std=math.sqrt(2.0), b_std=1.0)
    nearest = jnp.repeat(jnp.repeat(features, 2, axis=1), 2, axis=2)
    np.testing.assert_allclose(upsample_conv(grown[body], features), nearest, atol=1e-5)
    images = apply_fine(grown, jax.random.normal(jax.random.PRNGKey(3), (2, 8)))
    assert images.shape == (2, fine, fine, 1)


def test_coarse_to_fine_training_reports_its_work_and_resumes_at_the_finer_level(threes):
    real = np.asarray(resize(threes, 16))  # 8 then 16 pixels
    config = dataclasses.replace(FAST, steps=6, refine_steps=4, chunk_steps=2, coarse_size=8)
    assert generator_schedule(16, at_size(config, 16)) == [(8, 6), (16, 4)]
    reports: list[tuple[int, int]] = []
    report = lambda done, work, loss: reports.append((done, work))  # noqa: E731
    whole = train_generator(real, config, jax.random.PRNGKey(1), report)
    assert whole.loss_history.shape == (10,) and whole.image_shape == (16, 16, 1)
    # a step at 16 pixels counts as 4 of the 8-pixel level
    assert reports == [(2, 22), (4, 22), (6, 22), (14, 22), (22, 22)]
    saved: list[GeneratorSnapshot] = []

    class Stop(Exception):
        pass

    def checkpoint(snapshot):
        saved.append(snapshot)
        if snapshot.level == 1:
            raise Stop

    with pytest.raises(Stop):
        train_generator(real, config, jax.random.PRNGKey(1), checkpoint=checkpoint)
    assert [s.level for s in saved] == [0, 0, 0, 1] and len(saved[-1].history) == 8
    arrays: dict[str, np.ndarray] = {}
    record = saved[-1].to_arrays(arrays)
    resumed = train_generator(
        real, config, jax.random.PRNGKey(1), resume=GeneratorSnapshot.from_arrays(record, arrays)
    )
    np.testing.assert_array_equal(resumed.loss_history, whole.loss_history)
    key = jax.random.PRNGKey(0)
    np.testing.assert_array_equal(sample(resumed, 5, key), sample(whole, 5, key))
    # a snapshot written before levels existed is level 0's; one of a level this training lacks is refused
    del record["level"]
    assert GeneratorSnapshot.from_arrays(record, arrays).level == 0
    beyond = GeneratorSnapshot(saved[-1].state, saved[-1].history, level=2)
    with pytest.raises(AugmentError, match="generator level 2 is not one of this training's"):
        train_generator(real, config, jax.random.PRNGKey(1), resume=beyond)


def test_the_cosine_schedule_has_optax_values_for_a_traced_length():
    counts = jnp.arange(0, 26)
    for steps in (1, 7, 20):
        expected = optax.cosine_decay_schedule(2e-3, steps)(counts)
        traced = jax.jit(lambda n, c: LEARNING_RATE_SCHEDULES["cosine"](2e-3, n)(c))(steps, counts)
        np.testing.assert_allclose(traced, expected, rtol=1e-6, atol=1e-12)
    assert LEARNING_RATE_SCHEDULES["constant"](2e-3, 20) == 2e-3


@pytest.mark.parametrize("schedule", ["constant", "cosine"])
def test_the_optimizer_is_clipped_adam_on_its_schedule(schedule):
    """Against optax's own clipped Adam and cosine decay, with the length traced as in training."""
    config = GeneratorConfig(learning_rate=3e-3, learning_rate_schedule=schedule, beta1=0.5, clip_norm=1.0)
    steps = 6
    rate = 3e-3 if schedule == "constant" else optax.cosine_decay_schedule(3e-3, steps)
    reference = optax.chain(optax.clip_by_global_norm(1.0), optax.adam(rate, b1=0.5))
    params = {"w": jnp.ones((3, 2)), "b": jnp.zeros(2)}

    @jax.jit
    def update(grad, state, params, n):
        updates, state = generator_optimizer(config, n).update(grad, state, params)
        return optax.apply_updates(params, updates), state

    ours, expected = params, params
    ours_state, expected_state = generator_optimizer(config, 1).init(params), reference.init(params)
    for i in range(steps + 2):  # past the end the cosine rate stays at 0
        grad = jax.tree_util.tree_map(
            lambda v, i=i: 3.0 * jax.random.normal(jax.random.PRNGKey(i), v.shape), params
        )
        ours, ours_state = update(grad, ours_state, ours, steps)
        expected_updates, expected_state = reference.update(grad, expected_state, expected)
        expected = optax.apply_updates(expected, expected_updates)
        for key in params:
            np.testing.assert_allclose(ours[key], expected[key], rtol=1e-6, atol=1e-7)


@pytest.mark.slow
def test_training_decays_over_its_own_length(threes):
    """One compiled chunk serves every length; the cosine rate is set by the length asked for."""
    short, long = (dataclasses.replace(FAST, steps=n) for n in (20, 40))
    cosine = [train_generator(threes, c, jax.random.PRNGKey(5)).loss_history for c in (short, long)]
    assert cosine[0][0] == cosine[1][0]  # the same start, before any update
    assert not np.array_equal(cosine[0][1:20], cosine[1][1:20])  # a slower decay over 40 steps
    constant = [
        train_generator(
            threes, dataclasses.replace(c, learning_rate_schedule="constant"), jax.random.PRNGKey(5)
        )
        for c in (short, long)
    ]
    np.testing.assert_array_equal(constant[0].loss_history, constant[1].loss_history[:20])


def test_bad_settings_are_clear_errors(threes):
    with pytest.raises(AugmentError, match="must be at least 1"):
        GeneratorConfig(z_dim=0)
    with pytest.raises(AugmentError, match="`learning_rate_schedule` must be one of constant, cosine"):
        GeneratorConfig(learning_rate_schedule="linear")
    with pytest.raises(AugmentError, match="`coarse_size` and `polish_steps` must not be negative"):
        GeneratorConfig(polish_steps=-1)
    assert GeneratorConfig(polish_steps=0).polish_steps == 0  # no polish is a valid choice
    with pytest.raises(AugmentError, match="1 or 3 channels"):
        generator_network(8, 2)


@pytest.fixture(scope="module")
def trained(threes):
    return train_generator(threes, dataclasses.replace(FAST, steps=10), jax.random.PRNGKey(2))


def test_a_sampling_batch_below_one_is_a_clear_error(trained):
    for batch in (0, -4):
        with pytest.raises(AugmentError, match="the sampling batch must be at least 1"):
            sample(trained, 5, jax.random.PRNGKey(0), batch=batch)


def test_save_then_load_gives_the_same_samples(tmp_path, trained):
    from augment.run.generators import load_generators, save_generators

    written = save_generators(tmp_path / "gen", {"three": trained, "also-three": trained}, {"seed": 2})
    generators, manifest, manifest_sha256 = load_generators(tmp_path / "gen")
    assert manifest_sha256 == hashlib.sha256((tmp_path / "gen" / "generator.json").read_bytes()).hexdigest()
    assert list(generators) == ["three", "also-three"] and manifest["provenance"] == {"seed": 2}
    assert written == manifest_sha256
    assert manifest["format"] == "augment.generator" and manifest["image_shape"] == [8, 8, 1]
    np.testing.assert_array_equal(
        sample(generators["three"], 6, jax.random.PRNGKey(9)), sample(trained, 6, jax.random.PRNGKey(9))
    )
    with pytest.raises(AugmentError, match="already exists; pass `overwrite`"):
        save_generators(tmp_path / "gen", {"three": trained}, {})
    (tmp_path / "other").mkdir()
    with pytest.raises(AugmentError, match="was not written by augment; refusing to replace it"):
        save_generators(tmp_path / "other", {"three": trained}, {}, overwrite=True)


def test_the_generator_folder_stores_a_record_and_arrays_and_checks_them_against_the_shapes_asked(tmp_path):
    """The file layer knows no network: any record and arrays round-trip bit for bit, and arrays
    that do not have the shapes the reader expects, or a record it cannot take, are refused."""
    from augment.io.saved_generator import ClassParameters, read_generator_folder, write_generator_folder

    rng = np.random.default_rng(0)
    arrays = [rng.normal(size=(3, 4)).astype(np.float32), rng.normal(size=(5,)).astype(np.float32)]
    record = {"width": 3, "note": "any JSON"}
    written = write_generator_folder(
        tmp_path / "g", (8, 8, 1), record, {"a": ClassParameters(arrays, 0.5)}, {}
    )
    asked: list = []

    def shapes(image_shape, config):
        asked.append((image_shape, config))
        if config.get("width") != 3:
            raise ValueError("`width` must be 3")
        return [(config["width"], 4), (5,)]

    stored = read_generator_folder(tmp_path / "g", shapes)
    assert asked == [((8, 8, 1), record)] and stored.config == record and stored.manifest_sha256 == written
    assert stored.image_shape == (8, 8, 1) and stored.manifest["classes"][0]["final_loss"] == 0.5
    for got, want in zip(stored.parameters["a"], arrays, strict=True):
        np.testing.assert_array_equal(got, want)
    with pytest.raises(AugmentError, match=r"does not fit the generator its manifest describes"):
        read_generator_folder(tmp_path / "g", lambda image_shape, config: [(4, 3), (5,)])
    with pytest.raises(AugmentError, match=r"damaged or not augment's: its config \(`width` must be 3\)"):
        read_generator_folder(tmp_path / "g", lambda image_shape, config: shapes(image_shape, {}))


def test_a_generator_saved_before_the_augmented_set_and_the_schedule_says_how_it_trained(tmp_path, trained):
    import json

    from augment.run.generators import load_generators, save_generators

    save_generators(tmp_path / "gen", {"three": trained}, {})
    manifest_path = tmp_path / "gen" / "generator.json"
    manifest = json.loads(manifest_path.read_text())
    assert manifest["config"]["learning_rate_schedule"] == "cosine"
    for key in ("augment_real_to", "learning_rate_schedule"):  # as the first versions wrote it
        del manifest["config"][key]
    manifest_path.write_text(json.dumps(manifest))
    generators, _, _ = load_generators(tmp_path / "gen")
    config = generators["three"].config
    assert config.augment_real_to == 0 and config.learning_rate_schedule == "constant"
    np.testing.assert_array_equal(
        sample(generators["three"], 4, jax.random.PRNGKey(1)), sample(trained, 4, jax.random.PRNGKey(1))
    )


def test_damaged_foreign_and_newer_generators_are_clear_errors(tmp_path, trained):
    import json

    from augment.run.generators import load_generators, save_generators

    with pytest.raises(AugmentError, match="is not a saved generator"):
        load_generators(tmp_path)
    save_generators(tmp_path / "gen", {"three": trained}, {})
    weights = tmp_path / "gen" / "class-0.npz"
    weights.write_bytes(weights.read_bytes()[:-10])
    with pytest.raises(AugmentError, match="damaged or was replaced"):
        load_generators(tmp_path / "gen")
    save_generators(tmp_path / "gen", {"three": trained}, {}, overwrite=True)
    manifest_path = tmp_path / "gen" / "generator.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["config"]["base_channels"] = 64  # the weights no longer fit the described network
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(AugmentError, match="does not fit the generator"):
        load_generators(tmp_path / "gen")
    # a weight file holding one array more than the network has leaves (its sha256 listed) is
    # another network's, not this one's with a spare
    manifest["config"]["base_channels"] = FAST.base_channels
    with np.load(weights) as arrays:
        stored = {name: arrays[name] for name in arrays.files}
    buffer = io.BytesIO()
    np.savez(buffer, **stored, **{f"leaf_{len(stored)}": np.zeros(3, np.float32)})
    weights.write_bytes(buffer.getvalue())
    manifest["classes"][0]["sha256"] = hashlib.sha256(buffer.getvalue()).hexdigest()
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(AugmentError, match="does not fit the generator"):
        load_generators(tmp_path / "gen")
    manifest["format_version"] = "2.0"
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(AugmentError, match=r"generator format version 2\.0; this augment reads 1\.x"):
        load_generators(tmp_path / "gen")
    manifest_path.write_text("{not json")
    with pytest.raises(AugmentError, match="cannot read"):
        load_generators(tmp_path / "gen")


def test_the_discriminator_sees_an_augmented_real_set_of_the_class(threes):
    config = at_size(GeneratorConfig(), threes.shape[1])  # as train_generator resolves it
    real = jax.numpy.asarray(threes)
    key = jax.random.PRNGKey(5)

    def real_side(c):  # what train_generator compares with, for a generator trained with key
        return discriminator_real_set(key, real, c.augment_real_to, c.augment_rotation, c.augment_shift)

    augmented = real_side(config)
    assert config.augment_real_to == 200 and augmented.shape == (200, *real.shape[1:])
    assert 0.0 <= float(augmented.min()) and float(augmented.max()) <= 1.0
    # image j is a pose change of real image j mod n: without rotation and shift, the image itself
    still = real_side(dataclasses.replace(config, augment_rotation=0.0, augment_shift=0.0))
    np.testing.assert_allclose(still, real[np.arange(200) % real.shape[0]], atol=1e-6)
    assert not np.allclose(augmented, still)
    np.testing.assert_array_equal(augmented, real_side(config))  # from the key alone
    assert real_side(dataclasses.replace(config, augment_real_to=0)) is real


def test_generator_mode_takes_the_augmented_set_size_and_plans_memory_for_it():
    from augment.gantk.modes.generator import GENERATOR

    assert GENERATOR.configure({"augment_real_to": 50}).augment_real_to == 50
    need = GENERATOR.memory_need(GENERATOR.configure({}), [6, 9], [10, 10], "cpu", 1)
    assert need.n_real_total == 200
    plain = GENERATOR.memory_need(GENERATOR.configure({"augment_real_to": 0}), [6, 9], [10, 10], "cpu", 1)
    assert plain.n_real_total == 9
    direct_only = r"^`novelty_stop`, `convergence_stop` do not apply to `mode=generator`$"
    with pytest.raises(AugmentError, match=direct_only):
        GENERATOR.configure({"novelty_stop": False, "convergence_stop": True})


@pytest.mark.parametrize(
    "size, chosen, real_to, planned",
    [
        (8, None, AUGMENT_REAL_TO, AUGMENT_REAL_TO),
        (16, None, AUGMENT_REAL_TO, AUGMENT_REAL_TO),
        (17, None, 0, AUGMENT_REAL_TO),  # planned before sizing: the larger, posed real set
        (64, None, 0, AUGMENT_REAL_TO),
        (64, 200, 200, 200),  # chosen by hand: kept
        (8, 0, 0, 6),
    ],
)
def test_scan_sizes_train_against_the_real_images_themselves_unless_chosen(size, chosen, real_to, planned):
    from augment.gantk.modes.generator import GENERATOR

    config, floor, _ = GENERATOR.resolve(GeneratorConfig(augment_real_to=chosen), size)
    assert config.augment_real_to == real_to
    # the scans' floor where the real side is the scans themselves, direct mode's (60) elsewhere
    assert floor == (SCAN_GENERATOR_NOVELTY_FLOOR if size > 16 and real_to == 0 else GENERATOR.novelty_floor)
    assert GENERATOR.novelty_floor == 60.0 and SCAN_GENERATOR_NOVELTY_FLOOR == 50.0
    # the samples are polished up to 16 px, where it was measured, and not above unless chosen
    assert config.polish_steps == (50 if size <= 16 else 0)
    assert GENERATOR.resolve(GeneratorConfig(polish_steps=20), size).config.polish_steps == 20
    unsized = GeneratorConfig(augment_real_to=chosen)
    assert GENERATOR.memory_need(unsized, [6], [10], "cpu", 1).n_real_total == planned
    assert GENERATOR.memory_need(config, [6], [10], "cpu", 1).n_real_total == max(real_to, 6)


def test_the_novelty_floor_draws_other_samples_instead_of_closer_ones(threes, trained):
    from augment.gantk.generator.sampling import NOVELTY_ROUNDS, generate
    from augment.measures.quality import nearest_real

    trained = trained._replace(config=dataclasses.replace(trained.config, polish_steps=0))  # the draws
    key = jax.random.PRNGKey(5)
    free = generate(trained, 20, threes, key)
    assert free.too_close == 0
    np.testing.assert_array_equal(generate(trained, 20, threes, key, floor_distance=0.0).images, free.images)
    distances = nearest_real(free.images, threes)[1]
    floor = float(np.median(distances))  # about half of the first draw is too close
    kept = generate(trained, 20, threes, key, floor_distance=floor)
    assert kept.too_close == 0 and kept.images.shape == free.images.shape
    assert (nearest_real(kept.images, threes)[1] >= floor).all()
    # the far enough images of the first draw come first, in their order
    first = free.images[distances >= floor]
    np.testing.assert_array_equal(kept.images[: len(first)], first)
    # a floor no sample reaches: the farthest of every pool fill the gap, and are counted
    stuck = generate(trained, 20, threes, key, floor_distance=10.0)
    assert stuck.too_close == 20
    pool = -(-20 // trained.config.batch_size) * trained.config.batch_size  # whole batches
    sample_key = jax.random.split(key)[0]
    pools = np.concatenate(
        [sample(trained, pool, sample_key)]
        + [sample(trained, pool, jax.random.fold_in(sample_key, r)) for r in range(1, NOVELTY_ROUNDS)]
    )
    farthest = np.sort(nearest_real(pools, threes)[1])[::-1][:20]
    np.testing.assert_allclose(np.sort(nearest_real(stuck.images, threes)[1])[::-1], farthest, rtol=1e-6)


def test_synth_polishes_the_samples_it_draws_with_direct_mode_under_the_novelty_floor(threes, trained):
    from augment.gantk.generator.sampling import generate
    from augment.gantk.modes.polish import POLISH_STREAM, polish, polish_config, polished_samples
    from augment.measures.quality import nearest_real

    raw = trained._replace(config=dataclasses.replace(trained.config, polish_steps=0))
    key = jax.random.PRNGKey(5)
    free = nearest_real(generate(raw, 20, threes, key).images, threes)[1]
    assert trained.config.polish_steps == 50
    # a low floor: the polish moves every sample nearer the class
    low = 0.5 * float(free.min())
    drawn = generate(raw, 20, threes, key, floor_distance=low)
    made = polished_samples(trained, 20, threes, key, floor_distance=low)
    settings = polish_config(trained.config)
    again = polish(
        drawn.images, 20, threes, 50, jax.random.fold_in(key, POLISH_STREAM), low, settings=settings
    )
    np.testing.assert_array_equal(made.images, again)  # from the very samples the draw keeps
    before, after = nearest_real(drawn.images, threes)[1], nearest_real(made.images, threes)[1]
    assert (after >= low).all() and np.mean(after) < 0.9 * np.mean(before)
    assert np.abs(made.images - drawn.images).max(axis=(1, 2, 3)).min() > 0.01
    assert made.realness.shape == (20,) and np.all(np.isfinite(made.realness))
    # a floor most samples are just beyond: a sample whose polish would start or end nearer than the
    # floor (direct mode starts from it clipped to the pixel envelope) is written as drawn
    floor = float(np.quantile(free, 0.25))
    drawn = generate(raw, 20, threes, key, floor_distance=floor)
    made = polished_samples(trained, 20, threes, key, floor_distance=floor)
    assert (nearest_real(made.images, threes)[1] >= floor).all()
    as_drawn = np.abs(made.images - drawn.images).max(axis=(1, 2, 3)) == 0
    assert 0 < as_drawn.sum() < 20


def test_the_polish_takes_the_runs_discriminator_with_the_settings_it_was_measured_with():
    from augment.gantk.config import DiscriminatorConfig
    from augment.gantk.direct import SynthesisConfig
    from augment.gantk.modes.polish import polish_batch, polish_config

    direct = SynthesisConfig()
    run = at_size(GeneratorConfig(), 8)  # the defaults: the polish is direct mode's, as measured
    assert polish_config(run) == SynthesisConfig(steps=50)
    chosen = DiscriminatorConfig(
        architecture="paper-gray", diag_reg=1e-4, real_batch_size=64, matmul_precision="bfloat16"
    )
    settings = polish_config(dataclasses.replace(run, discriminator=chosen))
    assert settings.discriminator == dataclasses.replace(
        chosen, diag_reg=direct.discriminator.diag_reg, real_batch_size=direct.discriminator.real_batch_size
    )
    assert settings.batch_size == direct.batch_size == polish_batch(run)
    assert polish_batch(dataclasses.replace(run, polish_steps=0)) == 0


@pytest.mark.parametrize(
    "planned, generator_batch, polish_batch", [(None, 64, 32), (48, 48, 32), (16, 16, 16)]
)
def test_the_memory_plan_lowers_the_polish_with_the_generators_batch(planned, generator_batch, polish_batch):
    from augment.gantk.modes.generator import GENERATOR
    from augment.gantk.modes.polish import polish_config

    run = GENERATOR.with_batches(at_size(GeneratorConfig(), 8), planned, None)
    assert run.batch_size == generator_batch and run.polish_batch_size == polish_batch
    assert polish_config(run).batch_size == polish_batch


def test_the_polish_takes_as_many_samples_as_it_returns_and_fills_its_last_problem(threes, trained):
    from augment.gantk.modes.polish import polish

    samples = sample(trained, 33, jax.random.PRNGKey(6))  # two problems of 17: one row short
    key = jax.random.PRNGKey(7)
    polished = polish(samples, 33, threes, 10, key)
    assert polished.shape == (33, 8, 8, 1) and polished.dtype == np.float32
    # a longer pool fills the last problem from its own rows, and the first 33 do not change
    longer = polish(np.concatenate([samples, samples[:1]]), 33, threes, 10, key)
    np.testing.assert_array_equal(longer, polished)
    with pytest.raises(AugmentError, match="33 polished images need at least 33 samples, got 32"):
        polish(samples[:32], 33, threes, 10, key)
