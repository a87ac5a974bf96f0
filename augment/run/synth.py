"""``augment synth`` as a library call: folder -> real dataset -> one problem set per class ->
the mode's engine -> writer, checkpointing as it goes so an interrupted run resumes."""

from __future__ import annotations

import dataclasses
import datetime as _dt
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jax
import numpy as np

from augment.errors import AugmentError
from augment.gantk.channels import is_grey
from augment.gantk.modes import ClassResult, ClassTask, Snapshot
from augment.gantk.resolution import SET, Decision
from augment.io.atomic import check_free_space
from augment.io.dataset import (
    FORMAT_NAME,
    FORMAT_VERSION,
    SyntheticDataset,
    from_integer_pixels,
    stored_form,
    to_integer_pixels,
)
from augment.io.folder import load_folder
from augment.io.writers import check_class_names, write_output
from augment.measures.quality import NEAR_COPY_PERCENTILE, leave_one_out_threshold, nearest_real, privacy
from augment.measures.realism import detail_counts
from augment.run.checkpoint import checkpoint_path, load_checkpoint, save_checkpoint
from augment.run.context import RunContext
from augment.run.counts import synthetic_counts
from augment.run.estimate import Estimate
from augment.run.gate import RULE as GATE_RULE
from augment.run.gate import gated
from augment.run.generators import save_run_generators
from augment.run.messages import broken_warning, say_what_was_decided, say_what_was_written
from augment.run.plan import check_request, default_size_cap, plan_run
from augment.run.provenance import fingerprint, loss_summary, synth_provenance
from augment.run.request import ClassProgress, ClassSummary, Log, SynthReport, SynthRequest
from augment.run.seed import root_key

NEAR_COPY_WARNING = 0.05  # warn when more than this fraction of the images are near-copies
NOVELTY_RULE = (
    "no synthetic image is nearer (RMS over pixels) a real image of its class than the given percentile "
    "of the real images' distances to their nearest other real image: direct mode keeps each image's "
    "last version that far, generator mode draws other samples in place of nearer ones and its "
    "polish keeps each sample that far"
)


def run_synth(
    request: SynthRequest, progress: ClassProgress | None = None, log: Log | None = None
) -> SynthReport:
    """Read ``request.input_folder``, synthesise per class, write ``request.out``.

    Four stages around one :class:`~augment.run.context.RunContext`: :func:`prepare` checks
    everything that can be checked (output path, options, device) before reading or computing
    anything, then reads and plans; :func:`synthesize_classes` runs the mode on each class,
    checkpointing next to the output (:mod:`augment.run.checkpoint`; with ``request.resume`` an
    existing checkpoint of the same run is continued, giving the same result as an uninterrupted
    run); :func:`assemble` makes the dataset and its provenance; :func:`publish` writes it (process
    0 of a multi-host run) and removes the checkpoint.
    """
    context = prepare(request, log or (lambda level, message: None))
    own_device = next(d for d in context.plan.placement.devices if d.process_index == jax.process_index())
    with jax.default_device(own_device):
        finished, resumed = synthesize_classes(context, progress)
    assembled = assemble(context, [finished[k] for k in range(len(context.dataset.class_names))], resumed)
    skipped = [(f.path, f.skipped or "") for f in context.dataset.skipped]
    report = SynthReport(
        context.checked.out,
        context.checked.format,
        assembled.summaries,
        skipped,
        resumed,
        request.save_generator,
        [warning for summary in assembled.summaries if (warning := broken_warning(summary)) is not None],
    )
    if jax.process_index() == 0:  # process 0 writes; the others computed the same result
        publish(context, assembled)
    return report


def prepare(request: SynthRequest, say: Log) -> RunContext:
    """Check the request, read the real images, size the configuration and plan the run."""
    checked = check_request(request)
    started = _dt.datetime.now(_dt.UTC)
    input_folder = Path(request.input_folder)
    minimum = checked.config.discriminator.min_size
    cap = default_size_cap(checked.devices[0].platform)
    dataset = load_folder(
        input_folder, request.size, request.channels, request.on_bad_file, minimum, cap, request.read_settings
    )
    for bad in dataset.skipped:
        say("warning", f"skipped {input_folder / bad.path}: {bad.skipped}")
    for ignored in dataset.ignored:
        say("info", f"ignored {input_folder / ignored} (not an image, DICOM or NIfTI file)")
    for note in dataset.notes:
        say("warning", f"{input_folder}: {note}")
    check_class_names(dataset.class_names, checked.format)
    real_counts = dataset.real_counts
    counts = synthetic_counts(request.n, request.per_class, real_counts)
    size, channels = dataset.images.shape[1], dataset.images.shape[-1]
    image_shape = (int(size), int(size), int(channels))
    resolution = checked.mode.resolve(checked.config, int(size))  # every data-dependent default, once
    checked = dataclasses.replace(checked, config=resolution.config)
    check_free_space(checked.out, sum(counts) * int(np.prod(image_shape)) * dataset.bit_depth // 8)
    plan = plan_run(checked, image_shape, real_counts, counts, request.fixed_batches, say)
    say_what_was_decided(request, checked, plan, dataset, counts, cap, say)
    novelty_floor = resolution.novelty_floor if request.novelty_floor is None else request.novelty_floor
    defaults = _as_run(resolution.decisions, plan.config, request.novelty_floor)
    run_fingerprint = fingerprint(
        checked.mode.name, plan.config, request.seed, dataset, counts, request.quality_gate, novelty_floor,
        request.read_settings,
    )  # fmt: skip
    # the real images as the output stores them: the novelty floor and the near-copy flags use these
    real_stored = stored_form(dataset.images, dataset.bit_depth)
    return RunContext(
        request, checked, plan, dataset, counts, image_shape, novelty_floor,
        leave_one_out_threshold(real_stored, novelty_floor), defaults, real_stored, run_fingerprint, started,
        say,
    )  # fmt: skip


def _as_run(decisions: tuple[Decision, ...], config: Any, asked_floor: float | None) -> tuple[Decision, ...]:
    """The mode's decisions as the run made them: a floor asked for is set, and a batch the memory
    plan lowered says so."""
    made = []
    for decision in decisions:
        if decision.name == "novelty_floor":
            if asked_floor is not None:
                decision = Decision("novelty_floor", asked_floor, SET)
        elif getattr(config, decision.name) != decision.value:
            planned = getattr(config, decision.name)
            lowered = f"{decision.why}; lowered from {decision.value} to fit the memory budget"
            decision = Decision(decision.name, planned, lowered)
        made.append(decision)
    return tuple(made)


@dataclass(frozen=True)
class Assembled:
    """The run's output before it is written: the dataset (with its provenance) and the classes'
    summaries for the report."""

    synthetic: SyntheticDataset
    summaries: list[ClassSummary]
    results: list[ClassResult]


def assemble(context: RunContext, results: list[ClassResult], resumed: bool) -> Assembled:
    """The synthetic dataset of the classes' ``results``: pixels as stored, realness, near-copy
    flags, the per-class summaries and warnings, and the provenance."""
    dataset, say, floor = context.dataset, context.say, context.floor_distance
    written = [len(r.images) for r in results]
    if sum(written) == 0:
        raise AugmentError(
            "no synthetic image passed the quality gate (every one was blurred, noisy or unlike its class's "
            "real images); raise `steps`, or pass `quality_gate=False` to keep them anyway"
        )
    images = to_integer_pixels(np.concatenate([r.images for r in results]), dataset.bit_depth)
    # D's prediction strays slightly outside [0, 1] (it is a regression onto the labels)
    realness = np.clip(np.concatenate([r.realness for r in results]), 0.0, 1.0).astype(np.float32)
    novelty = privacy(from_integer_pixels(images), context.real_stored)  # against the images as stored
    if novelty["near_copy_fraction"] > NEAR_COPY_WARNING:
        say(
            "warning",
            f"{novelty['near_copy_fraction']:.0%} of the synthetic images are near-copies of a real image "
            f"(closer than {100 - NEAR_COPY_PERCENTILE:.0f}% of the real images are to each other); "
            "check them with augment evaluate before sharing the data",
        )
    real_counts = dataset.real_counts
    losses = [loss_summary(r.loss_history) for r in results]
    floor_kept = context.checked.mode.keeps_novelty_floor(context.plan.config)
    summaries = []
    for k, (name, result) in enumerate(zip(dataset.class_names, results, strict=True)):
        own_real = dataset.images[dataset.labels == k]  # the class's real images as the mode saw them
        # counted on the images written (after the gate)
        detail = detail_counts(context.real_stored[dataset.labels == k], result.images)
        too_close = 0
        if floor is not None and floor_kept and len(result.images):
            too_close = int(np.sum(nearest_real(result.images, own_real)[1] < floor))
        gate = result.gate or {}
        summaries.append(
            ClassSummary(
                name, real_counts[k], written[k], losses[k]["final"], result.seconds,
                gate.get("rejected", 0), gate.get("dropped", 0), gate.get("checked", 0),
                detail["blurred"], detail["noisy"], too_close,
            )
        )  # fmt: skip
    classes = [
        {
            **dataclasses.asdict(s),
            "broken_share": s.broken,
            "grey": is_grey(dataset.images[dataset.labels == k]),
            "loss": losses[k],
            **({"gate": results[k].gate} if results[k].gate else {}),
        }
        for k, s in enumerate(summaries)
    ]
    say_what_was_written(summaries, floor, say)
    provenance = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        **synth_provenance(context, classes, resumed),
        "quality": _quality(realness, novelty),
        "quality_gate": {"rule": GATE_RULE, "applied": context.request.quality_gate}
        | {"rejected": sum(s.rejected for s in summaries), "dropped": sum(s.dropped for s in summaries)},
        "novelty_floor": {
            "rule": NOVELTY_RULE,
            "applied": floor_kept,
            "percentile": context.novelty_floor,
            "distance": floor,
            "too_close": sum(s.too_close for s in summaries),
        },
    }
    near_copy = np.zeros(len(images), bool)
    near_copy[novelty["near_copies"]] = True
    synthetic = SyntheticDataset(
        images=images,
        labels=np.concatenate([np.full(count, k, np.int64) for k, count in enumerate(written)]),
        class_names=dataset.class_names,
        realness=realness,
        nearest_real_index=novelty["nearest"],
        nearest_real_distance=novelty["dcr"],
        near_copy=near_copy,
        real_sources=dataset.sources,
        provenance=provenance,
    )
    return Assembled(synthetic, summaries, results)


def publish(context: RunContext, assembled: Assembled) -> None:
    """Keep the generators (``save_generator``), write the output, then remove the checkpoint; a
    failing write keeps the checkpoint and says so."""
    checked, provenance = context.checked, assembled.synthetic.provenance
    if context.request.save_generator is not None:
        assert checked.model_target is not None  # checked with save_generator
        # the generators record the run's provenance without the output's own keys, as it was
        # before the output's format and quality were added
        made = {k: v for k, v in provenance.items() if k not in _OUTPUT_KEYS}
        provenance["generator"] = save_run_generators(
            checked.model_target, context.plan.config, context.image_shape, context.dataset.class_names,
            assembled.results, made,
        )  # fmt: skip
    try:
        write_output(checked.target, assembled.synthetic, checked.format)
    except AugmentError as error:
        if checkpoint_path(checked.out).exists():
            raise AugmentError(
                f"{error}; the finished run is kept in {checkpoint_path(checked.out)}: "
                "pass `resume` to write it once that is solved"
            ) from None
        raise
    checkpoint_path(checked.out).unlink(missing_ok=True)


_OUTPUT_KEYS = ("format", "format_version", "quality", "quality_gate", "novelty_floor")


def _quality(realness: np.ndarray, novelty: dict[str, Any]) -> dict[str, Any]:
    """The run's quality figures, as the provenance records them."""
    distance = novelty["dcr"]
    return {
        "realness_mean": float(realness.mean()),
        "nearest_real_distance": {
            "min": float(distance.min()),
            "median": float(np.median(distance)),
            "max": float(distance.max()),
            "unit": "RMS pixel difference, intensities in [0, 1]",
        },
        "privacy_ratio": novelty["privacy_ratio"],
        "privacy_reference": novelty["reference"],
        "near_copy_threshold": novelty["near_copy_threshold"],
        "near_copy_fraction": novelty["near_copy_fraction"],
    }


def synthesize_classes(
    context: RunContext, progress: ClassProgress | None
) -> tuple[dict[int, ClassResult], bool]:
    """Run the mode on every class not finished yet, checkpointed (by process 0 only); returns
    the class results and whether the run was resumed."""
    request, checked, plan, dataset = context.request, context.checked, context.plan, context.dataset
    log, image_shape, run_fingerprint = context.say, context.image_shape, context.fingerprint
    mode = checked.mode
    checkpoint_file = checkpoint_path(checked.out)
    writer = jax.process_index() == 0
    finished: dict[int, ClassResult] = {}
    current: tuple[int, Snapshot, float] | None = None
    resumed = checkpoint_file.exists()
    if resumed:
        finished, current = load_checkpoint(checkpoint_file, run_fingerprint, mode.read_snapshot)
        log("info", f"resuming from {checkpoint_file}: {len(finished)} classes finished")
    root = root_key(request.seed)
    totals = [mode.total_work(plan.config, image_shape, count) for count in context.counts]
    estimate = Estimate(totals, log)
    if progress is not None:  # every class's work up front, so that the whole run can be estimated
        for k, class_name in enumerate(dataset.class_names):
            progress(class_name, totals[k] if k in finished else 0, totals[k], 0, 0, float("nan"))
    last_save = time.perf_counter()
    for k, (class_name, count) in enumerate(zip(dataset.class_names, context.counts, strict=True)):
        if k in finished:
            continue
        resume, seconds_before = None, 0.0
        if current is not None and current[0] == k:
            _, resume, seconds_before = current
        start = time.perf_counter()

        def save(
            snapshot: Snapshot, k: int = k, start: float = start, seconds_before: float = seconds_before
        ) -> None:
            # After every finished problem; within a problem at most every checkpoint_every.
            nonlocal last_save
            now = time.perf_counter()
            if not writer or (not snapshot.milestone and now - last_save < request.checkpoint_every):
                return
            last_save = now
            save_checkpoint(
                checkpoint_file, run_fingerprint, finished, (k, snapshot, seconds_before + now - start)
            )

        report = None
        if progress is not None:
            done_before = sum(totals[j] for j in finished)  # classes run in order: every one before k
            report = _class_progress(progress, class_name, estimate, done_before)
        task = ClassTask(
            real=dataset.images[dataset.labels == k],
            count=count,
            key=jax.random.fold_in(root, k),
            progress=report,
            resume=resume,
            checkpoint=save,
            floor_distance=context.floor_distance,
            placement=plan.placement,
            novelty_floor=context.novelty_floor,
        )
        try:
            result = mode.run_class(plan.config, task)
            if request.quality_gate:
                result = gated(mode, plan.config, task, result, context.real_stored[dataset.labels == k])
        except AugmentError as error:
            kept = f"; the last checkpoint is kept in {checkpoint_file}" if checkpoint_file.exists() else ""
            raise AugmentError(f"class {class_name!r}: {error}{kept}") from None
        finished[k] = dataclasses.replace(result, seconds=seconds_before + time.perf_counter() - start)
        if writer:
            save_checkpoint(checkpoint_file, run_fingerprint, finished, None)
    return finished, resumed


def _class_progress(progress: ClassProgress, class_name: str, estimate: Estimate, done_before: int) -> Any:
    """The mode's per-class progress callback, reporting under ``class_name`` and feeding the
    whole-run estimate (``done_before``: the run's work in the classes before this one)."""

    def report(steps_done: int, steps_total: int, problems_done: int, problems: int, loss: float) -> None:
        estimate.update(done_before + steps_done)
        progress(class_name, steps_done, steps_total, problems_done, problems, loss)

    return report
