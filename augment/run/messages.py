"""What a synthesis run tells its user, before it starts (the working size, the balance of
synthetic to real images, the devices) and after it wrote (the classes whose images were dropped,
came nearer a real image than the floor, or are mostly broken)."""

from __future__ import annotations

from augment.io.folder import RealDataset
from augment.measures.realism import MOSTLY_BROKEN
from augment.parameters import MAX_SIZE
from augment.run.plan import Checked, RunPlan
from augment.run.request import ClassSummary, Log, SynthRequest

DOMINANCE_WARNING = 10.0  # warn when there are more than this many synthetic images per real one


def say_what_was_decided(
    request: SynthRequest,
    checked: Checked,
    plan: RunPlan,
    dataset: RealDataset,
    counts: list[int],
    cap: int,
    say: Log,
) -> None:
    """The notes and warnings on the run's size, balance and devices, before it starts."""
    size, channels = dataset.images.shape[1], dataset.images.shape[-1]
    real_counts = dataset.real_counts
    if request.size is None and dataset.median_side > size:
        say(
            "note",
            f"working size {size}x{size}: the images' median shorter side is {dataset.median_side}, "
            f"capped at {cap} by default on this {checked.devices[0].platform.upper()}; "
            f"`size={min(2 * size, MAX_SIZE)}` keeps more detail and takes about twice as long per image",
        )
    per_real = sum(counts) / sum(real_counts)
    if per_real > DOMINANCE_WARNING:
        say(
            "warning",
            f"{sum(counts)} synthetic images for {sum(real_counts)} real ones "
            f"({per_real:.1f} per real image): a classifier trained on both sees mostly synthetic images, "
            "which can lower its accuracy on real ones; compare with augment evaluate --holdout, "
            "or ask for fewer (`n`)",
        )
    say(
        "info",
        f"devices {plan.placement.describe()['devices']}; "
        f"working size {size}x{size}x{channels}, {dataset.bit_depth}-bit",
    )
    for name, real, count in zip(dataset.class_names, real_counts, counts, strict=True):
        say("info", f"class {name}: {real} real images -> {count} synthetic")


def say_what_was_written(summaries: list[ClassSummary], floor: float | None, say: Log) -> None:
    """A warning per class whose images were dropped or are nearer a real image than the novelty
    floor (a class whose images are mostly broken is warned about last: :func:`broken_warning`)."""
    for s in summaries:
        if s.too_close:
            say(
                "warning",
                f"class {s.class_name!r}: {s.too_close} images are nearer a real image than the novelty "
                f"floor ({floor:.3g}): too few samples were farther away",
            )
        if s.dropped:
            say(
                "warning",
                f"class {s.class_name!r}: {s.dropped} of {s.synthetic + s.dropped} images failed the quality "
                "gate after re-synthesis and were left out",
            )


def broken_warning(summary: ClassSummary) -> str | None:
    """The warning a run ends with for a class whose images are mostly broken (more than
    :data:`~augment.measures.realism.MOSTLY_BROKEN` of them), None for the others."""
    if summary.broken <= MOSTLY_BROKEN:
        return None
    name = repr(summary.class_name)
    if summary.checked:
        what = (
            f"the quality gate rejected {summary.rejected} of the {summary.checked} images it checked "
            f"({summary.broken:.0%})"
        )
    else:
        what = (
            f"{summary.blurred + summary.noisy} of its {summary.synthetic} images ({summary.broken:.0%}) are "
            f"blurred ({summary.blurred}) or noisy ({summary.noisy})"
        )
    return f"class {name}: {what}: most of what it makes is broken; look at the images before using them"
