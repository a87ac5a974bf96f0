"""Direct-mode GA-NTK synthesis: the synthetic pixels themselves are the parameters.

One *problem* is one synthetic batch of ``n_s`` images optimised against real batches of ``n_r``
images drawn from the real set of one class. :func:`synthesize` splits a request for M images
into independent problems of equal size (so they share one compilation) and solves them in turn.

Per step: ``loss, grad = value_and_grad(ga_ntk_loss)(Z)``; the optimiser (optax Adam, or the
paper's plain gradient descent) proposes an update; optional Gaussian noise of standard deviation
``noise / (1 + step)**0.55`` is added; pixels are clipped to the range the real side spans at
each pixel (``pixel_envelope``, :func:`pixel_bounds`; [0, 1] without it), as the starting images are.

Two defaults keep the images from becoming copies of the real ones (docs/design.md, "Copy
guards"; measured in ``benchmarks/RESULTS.md``):

- up to :data:`~augment.parameters.SCAN_SIZE` pixels, the real side of the loss is an
  *augmented real set*: ``augment_real_to`` random small rotations and shifts of the class's
  real images (:mod:`augment.gantk.augmentation`), so the discriminator's target is the class
  under small pose changes rather than the few real images. Above it (scans) the
  real side is the real images themselves: there an image that scores "real" against many posed
  copies of each scan is their blurred average, and the novelty stop alone is the copy guard
  (:func:`~augment.gantk.resolution.resolve`);
- a *novelty stop*: after every chunk of steps, each image is checked against the novelty floor
  (``floor_distance``: an image nearer a real image than that is too close), and every
  image ends as its own last version that was not too close. A chunk that takes the share of
  too-close images above ``max_near_copy_fraction`` is undone and ends that batch; the default
  (1.0) never ends one (why: docs/design.md, "Copy guards").

Costs that are paid once: the NTK Gram matrix of the whole real set (real-vs-real blocks do not
depend on Z), computed before the first step, :data:`GRAM_BLOCK` rows at a time
(:func:`~augment.gantk.loop.real_gram`, shared with generator mode); each step gathers its
(n_r, n_r) block. Steps run inside one compiled ``fori_loop`` per chunk of at most
``chunk_steps`` steps, with a traced trip count, so no step, chunk or problem recompiles.

All randomness comes from the key passed in: the same key gives bit-identical images on CPU.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from augment.errors import AugmentError
from augment.gantk.augmentation import discriminator_real_set
from augment.gantk.channels import is_grey, keep_grey
from augment.gantk.direct.config import SynthesisConfig
from augment.gantk.direct.problem import CompiledProblem, compiled_problem, pixel_bounds
from augment.gantk.direct.snapshot import (
    CheckpointFn,
    FinishedProblem,
    RunningProblem,
    SynthesisSnapshot,
    checked_snapshot,
)
from augment.gantk.direct.starts import STARTS
from augment.gantk.direct.stops import (
    GO,
    UNDO,
    Chunk,
    Stop,
    chain,
    convergence,
    near_copy_undo,
    novelty,
    step_budget,
)
from augment.gantk.loop import check_finite
from augment.gantk.placement import Placement
from augment.gantk.resolution import at_size
from augment.measures.quality import SAME_IMAGE, leave_one_out_threshold, pairwise_rms_distance

Array = jax.Array
START_STREAM = 0x737472  # fold_in constant: the start's key, apart from the problems' own


class SynthesisResult(NamedTuple):
    """What :func:`synthesize` returns.

    Attributes:
      images: (M, H, W, C) float32 in [0, 1].
      realness: (M,) the discriminator's "real" prediction for each image after the last step,
        against a real batch of the class.
      loss_history: (problems, steps) loss at every step of every problem; NaN after the step
        at which the novelty stop ended a problem.
      problem_index: (M,) which problem (synthetic batch) each image came from.
      steps_run: (problems,) the steps each problem ran (fewer than ``steps`` when stopped).
    """

    images: np.ndarray
    realness: np.ndarray
    loss_history: np.ndarray
    problem_index: np.ndarray
    steps_run: np.ndarray


ProgressFn = Callable[[int, int, int, int, float], None]
"""``progress(steps_done, steps_total, problems_done, problems, last_loss)`` after every chunk.

``steps_done`` counts the steps of every problem, a finished one (also one ended early by the
novelty stop) as all ``steps``; ``steps_total`` is ``problems * steps``."""


def plan_problems(n_synthetic: int, batch_size: int) -> tuple[int, int]:
    """Split M images into ``problems`` equal batches of ``per_problem`` (the last few dropped).

    Equal batches share one compilation; ``problems * per_problem - M < problems``.
    """
    if n_synthetic < 1:
        raise AugmentError(f"the number of synthetic images must be at least 1, got {n_synthetic}")
    problems = math.ceil(n_synthetic / batch_size)
    return problems, math.ceil(n_synthetic / problems)


class _Class(NamedTuple):
    """What every problem of one class's synthesis shares, prepared once (:func:`_prepared`)."""

    config: SynthesisConfig  # resolved
    problems: int
    per_problem: int
    image_shape: tuple[int, ...]
    compiled: CompiledProblem
    real: Array  # (N, S, S, C) the discriminator's real side
    gram: Array  # (N, N) its NTK
    bounds: tuple[Array, Array]  # pixel_bounds, (S, S, C) each
    grey: np.ndarray  # () bool: every step keeps a grey class grey
    initial: np.ndarray | None  # (problems * per_problem, S, S, C) the starts; None: noise
    keys: list[Array]  # (init, eval) keys of each problem
    guarded: bool  # there is a novelty floor (and the novelty stop is on)
    near: Callable[[np.ndarray], np.ndarray | None]  # which images are near-copies (None: no floor)
    stop: Stop


def _checked_real(real_images) -> Array:
    real = jnp.asarray(real_images, jnp.float32)
    if real.ndim != 4 or real.shape[1] != real.shape[2] or real.shape[0] < 1:
        raise AugmentError(f"real images must be (n, S, S, C) with n >= 1, got shape {real.shape}")
    if not bool(jnp.all(jnp.isfinite(real))) or float(real.min()) < 0 or float(real.max()) > 1:
        raise AugmentError("real image values must be finite and in [0, 1]")
    return real


def stops_for(config: SynthesisConfig, guarded: bool) -> Stop:
    """The configuration's stop policy (:mod:`augment.gantk.direct.stops`): its step budget; with a floor
    (``guarded``) the near-copy undo and the novelty stop; with ``convergence_stop`` the
    convergence stop."""
    assert config.steps is not None  # resolved
    policies = [step_budget(config.steps)]
    if guarded:
        policies += [near_copy_undo(config.max_near_copy_fraction), novelty()]
    if config.convergence_stop:
        policies.append(convergence(config.convergence_window, config.convergence_tolerance))
    return chain(*policies)


def _prepared(
    real_images, n_synthetic: int, config: SynthesisConfig, key: Array, floor_distance: float | None, initial
) -> _Class:
    """Checks, resolves and computes what the class's problems share (see :func:`synthesize`)."""
    real = _checked_real(real_images)
    problems, per_problem = plan_problems(n_synthetic, config.batch_size)
    image_shape = tuple(real.shape[1:])
    originals = np.asarray(real)
    config = at_size(config, image_shape[0])  # the library's entry: a configuration given unresolved
    assert config.augment_real_to is not None and config.start is not None  # resolved
    real = discriminator_real_set(
        key, real, config.augment_real_to, config.augment_rotation, config.augment_shift
    )
    # The step count does not change what is compiled: one compilation serves every --steps.
    compiled = compiled_problem(
        dataclasses.replace(config, steps=1, start="noise"), image_shape[0], image_shape[-1]
    )
    gram = compiled.gram(real)
    if floor_distance is None:
        floor_distance = leave_one_out_threshold(originals)
    guarded = config.novelty_stop and floor_distance is not None
    bounds = pixel_bounds(config, real)  # computed once: every step clips to them
    if initial is None:
        initial = STARTS[config.start](
            jax.random.fold_in(key, START_STREAM),
            originals,
            problems * per_problem,
            floor_distance,
            (np.asarray(bounds[0]), np.asarray(bounds[1])),
        )
    if initial is not None and tuple(np.shape(initial)) != (problems * per_problem, *image_shape):
        raise AugmentError(
            f"the initial images must be ({problems * per_problem}, {', '.join(map(str, image_shape))}), "
            f"got {tuple(np.shape(initial))}"
        )

    def near(images: np.ndarray) -> np.ndarray | None:
        """(n_s,) bool: which images are near-copies of a real image of the class; within half a
        grey level of the floor counts as within it, so that the image as stored (rounded to
        whole levels, at most that far from it) is beyond the floor too. None without a floor."""
        if not guarded or floor_distance is None:
            return None
        return pairwise_rms_distance(images, originals).min(axis=1) < floor_distance + SAME_IMAGE

    keys = [jax.random.split(k) for k in jax.random.split(key, problems)]
    grey = np.asarray(is_grey(originals))
    return _Class(
        config, problems, per_problem, image_shape, compiled, real, gram, bounds, grey, initial, keys,
        guarded, near, stops_for(config, guarded),
    )  # fmt: skip


def _fresh(c: _Class, problem: int) -> tuple[RunningProblem, jax.tree_util.PyTreeDef]:
    """A problem's first state: its start (Adam's state starts at zero whatever the pixels), as
    every step leaves an image (grey for a grey class, within the bounds); with a floor, the start
    is each image's first novel version."""
    state = c.compiled.init_state(c.keys[problem][0], c.per_problem, c.image_shape)
    start = state.synthetic
    if c.initial is not None:
        start = jnp.asarray(c.initial[problem * c.per_problem : (problem + 1) * c.per_problem], jnp.float32)
    state = state._replace(synthetic=jnp.clip(keep_grey(start, c.grey), *c.bounds))
    leaves, treedef = jax.tree_util.tree_flatten(state)
    synthetic = np.asarray(state.synthetic)
    return RunningProblem([np.asarray(v) for v in leaves], [], synthetic if c.guarded else None), treedef


def synthesize(
    real_images,
    n_synthetic: int,
    config: SynthesisConfig,
    key: Array,
    progress: ProgressFn | None = None,
    *,
    resume: SynthesisSnapshot | None = None,
    checkpoint: CheckpointFn | None = None,
    floor_distance: float | None = None,
    placement: Placement | None = None,
    initial: np.ndarray | None = None,
) -> SynthesisResult:
    """Synthesise ``n_synthetic`` images of one class from its real images (direct mode).

    Args:
      real_images: (n, S, S, C) real images of one class, values in [0, 1].
      n_synthetic: M, the number of images wanted.
      config: the synthesis settings.
      key: a JAX PRNG key; the same key gives the same images.
      progress: called after every chunk of steps (see :data:`ProgressFn`).
      resume: a snapshot from an interrupted call with the same arguments; the result is then
        identical to that of an uninterrupted call.
      checkpoint: called with a snapshot after every chunk of steps.
      floor_distance: the novelty floor as a distance: an image nearer (RMS) a real image of the
        class is too close, for the novelty stop. Default: the 5th percentile of the leave-one-out nearest
        distances among ``real_images`` (no novelty stop with a single real image).
      placement: how many problems run at once, on which devices (default: one at a time on the
        default device). It does not change the result beyond float round-off.
      initial: (problems * per_problem, S, S, C) images in [0, 1] to start from instead of
        uniform noise (:func:`plan_problems` gives the counts; coarse-to-fine synthesis passes the
        upsampled images of the coarser level); each problem takes its consecutive slice.

    Raises:
      AugmentError: bad shapes or values, a snapshot that does not fit, or a loss that became
        NaN or infinite (the last snapshot passed to ``checkpoint`` is the last good state).
    """
    c = _prepared(real_images, n_synthetic, config, key, floor_distance, initial)
    placement = placement or Placement.single()
    steps, problems = c.config.steps, c.problems
    assert steps is not None  # resolved
    template, treedef = _fresh(c, 0)  # the shapes a saved state must have, and the filler of idle lanes
    snapshot = checked_snapshot(resume, template, problems, c.per_problem, c.image_shape, c.guarded, steps)
    slots: list[int | None] = [None] * placement.lanes  # which problem each lane holds
    queue = [p for p in range(problems) if p not in snapshot.finished]
    shared = tuple(placement.replicated(v) for v in (c.real, c.gram, *c.bounds, c.grey))  # once: every lane's

    while True:
        for lane in range(placement.lanes):
            if slots[lane] is None and queue:
                problem = slots[lane] = queue.pop(0)
                if problem not in snapshot.running:
                    snapshot.running[problem], _ = _fresh(c, problem)
        if all(problem is None for problem in slots):
            break
        running = [None if p is None else snapshot.running[p] for p in slots]
        num_steps, leaves_of, losses = _chunk_on_lanes(c, placement, shared, running, template, treedef)
        snapshot.milestone = False
        for lane, run in enumerate(running):
            if run is None:
                continue
            chunk_losses = losses[lane, : num_steps[lane]]
            check_finite(chunk_losses, len(run.history), f"problem {(slots[lane] or 0) + 1}")
            verdict, ending = _take(c, run, leaves_of[lane], chunk_losses, treedef)
            if verdict != GO:
                _finish(c, snapshot, slots[lane], ending)
                slots[lane], snapshot.milestone = None, True
        if checkpoint is not None:
            checkpoint(snapshot)
        if progress is not None:
            _report(progress, snapshot, steps, problems, losses, num_steps)
    return _result([snapshot.finished[p] for p in range(problems)], n_synthetic, steps, c.per_problem)


Ending = tuple[np.ndarray, np.ndarray | None, np.ndarray | None]
"""What a problem ends with: its images, their novel versions and which are near-copies."""


def _finish(c: _Class, snapshot: SynthesisSnapshot, problem: int | None, ending: Ending) -> None:
    """Ends a running problem: the images it writes (the stop policy's ``finish``), scored."""
    assert problem is not None  # a lane that finishes holds a problem
    run = snapshot.running.pop(problem)
    images, novel, near = ending
    images = c.stop.finish(novel, images, near)
    _, scores = c.compiled.evaluate(jnp.asarray(images), c.real, c.gram, c.keys[problem][1])
    snapshot.finished[problem] = FinishedProblem(images, np.asarray(scores), run.history)


def _take(
    c: _Class,
    run: RunningProblem,
    leaves: list[np.ndarray],
    losses: np.ndarray,
    treedef: jax.tree_util.PyTreeDef,
) -> tuple[str, Ending]:
    """Hands a problem's chunk (its new state's ``leaves`` and its ``losses``) to the stop policy
    and takes it into ``run`` unless the policy undoes it: the verdict, and what the problem ends
    with if it ends (as before the chunk where it was undone)."""
    images = np.asarray(jax.tree_util.tree_unflatten(treedef, leaves).synthetic)
    near = c.near(images)
    verdict, novel = c.stop.update(run.novel, Chunk(images, losses, run.history, near))
    if verdict == UNDO:
        before = np.asarray(jax.tree_util.tree_unflatten(treedef, run.state).synthetic)
        return verdict, (before, run.novel, c.near(before))
    run.state, run.novel = leaves, novel
    run.history.extend(losses.tolist())
    return verdict, (images, novel, near)


def _report(
    progress: ProgressFn,
    snapshot: SynthesisSnapshot,
    steps: int,
    problems: int,
    losses: np.ndarray,
    num_steps: np.ndarray,
) -> None:
    """``progress`` after a chunk: a finished problem counts as all its steps."""
    steps_done = steps * len(snapshot.finished) + sum(len(r.history) for r in snapshot.running.values())
    last = next(float(losses[i, n - 1]) for i, n in enumerate(num_steps) if n > 0)
    progress(steps_done, steps * problems, len(snapshot.finished), problems, last)


def _chunk_on_lanes(
    c: _Class,
    placement: Placement,
    shared: tuple[Array, ...],
    running: list[RunningProblem | None],
    template: RunningProblem,
    treedef: jax.tree_util.PyTreeDef,
) -> tuple[np.ndarray, list[list[np.ndarray]], np.ndarray]:
    """One chunk of steps of the problem in each lane (an idle lane, None, runs 0 steps on the
    template), with ``shared`` (the real side, its Gram matrix, the pixel bounds and the grey flag)
    on every lane: each lane's step count (lanes,), its new state's leaves, and (lanes,
    chunk_steps) losses."""
    assert c.config.steps is not None  # resolved
    num_steps = np.asarray(
        [
            0 if run is None else min(c.config.chunk_steps, c.config.steps - len(run.history))
            for run in running
        ],
        np.int32,
    )
    stacked = [
        placement.to_lanes(np.stack([(run or template).state[i] for run in running]))
        for i in range(len(template.state))
    ]
    new_state, losses = c.compiled.run_lanes(placement.mesh)(
        jax.tree_util.tree_unflatten(treedef, stacked),
        *shared,
        placement.to_lanes(num_steps),
    )
    new_leaves = [placement.to_host(v) for v in jax.tree_util.tree_leaves(new_state)]
    return (
        num_steps,
        [[v[lane] for v in new_leaves] for lane in range(len(running))],
        placement.to_host(losses),
    )


def _result(
    finished: list[FinishedProblem], n_synthetic: int, steps: int, per_problem: int
) -> SynthesisResult:
    """The solved problems, in order, as one result of ``n_synthetic`` images."""
    loss_history = np.full((len(finished), steps), np.nan, np.float32)
    for p, solved in enumerate(finished):
        loss_history[p, : len(solved.history)] = solved.history
    return SynthesisResult(
        images=np.concatenate([p.images for p in finished])[:n_synthetic],
        realness=np.concatenate([p.realness for p in finished])[:n_synthetic],
        loss_history=loss_history,
        problem_index=np.repeat(np.arange(len(finished)), per_problem)[:n_synthetic],
        steps_run=np.asarray([len(p.history) for p in finished], np.int64),
    )
