"""What ``augment synth`` and ``augment sample`` are asked for, and what they report back."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from augment.errors import AugmentError
from augment.io.readers import DEFAULT_READING, ReadSettings, parse_window
from augment.parameters import PARAMETERS, default, targeted

FIXED_BY = {"batch_size": "synthetic", "real_batch_size": "real"}
"""The batch each of these options fixes when the user gives it: the memory plan keeps it."""


def default_out(input_folder: Path, format: str | None) -> Path:
    """Where a run writes when it is not told: ``<INPUT name>-synthetic.h5`` (a folder of that
    name without the suffix for PNG), in the working directory."""
    return Path(f"{input_folder.resolve().name}-synthetic{'' if format == 'png' else '.h5'}")


@dataclass(frozen=True)
class SynthRequest:
    """Everything ``augment synth`` was asked for (the CLI builds one from its options with
    :meth:`from_options`).

    Attributes:
      input_folder: the folder of real images (sub-folders are classes).
      out: the output file or folder.
      mode: a name in :data:`augment.gantk.modes.MODES`.
      config: that mode's configuration (None: its defaults). Its batch sizes are upper bounds:
        the run's plan lowers them until a step fits the memory budget, except those named in
        ``fixed_batches`` ("synthetic", "real": the user chose them).
      save_generator: a folder to keep the trained generators in (modes that train one).
      format: a name in :data:`augment.io.writers.WRITERS` (None: from ``out``'s suffix).
      n, per_class: the synthetic images in all (split by the real counts) or per class.
      size, channels: the working size (None: the median shorter side, capped) and channels.
      seed: the run's random seed.
      device, devices: the kind of device ("auto", "cpu", "gpu") and how many ("all" or N).
      memory: the per-device budget ("8GiB"; None: most of the free memory).
      overwrite, resume: replace an existing output; continue from a checkpoint.
      on_bad_file: "fail" or "skip" for unreadable inputs.
      read_settings: how volumes (NIfTI) are cut into slices and windowed.
      checkpoint_every: the most seconds between checkpoints within a class.
      quality_gate: check every image before it is written (:mod:`augment.run.gate`).
      novelty_floor: the novelty floor: no synthetic image is nearer a real image of its
        class than this percentage of the real images are to their nearest other one (5: only
        near-copies are kept out; see ``augment.run.synth.NOVELTY_RULE``). None: the mode's
        default (``Mode.resolve``: 60 in both modes up to 16 pixels; above, 40 in direct mode
        and 50 in generator mode).
      command_line: recorded in the provenance.
    """

    input_folder: Path
    out: Path
    mode: str = default("mode")
    config: Any = None
    save_generator: Path | None = None
    format: str | None = None
    n: int | None = None
    per_class: int | None = None
    size: int | None = None
    channels: str = default("channels")
    seed: int = default("seed")
    device: str = default("device")
    devices: str = default("devices")
    memory: str | None = None
    fixed_batches: frozenset[str] = frozenset()
    overwrite: bool = default("overwrite")
    resume: bool = default("resume")
    on_bad_file: str = default("on_bad_file")
    read_settings: ReadSettings = DEFAULT_READING
    checkpoint_every: float = default("checkpoint_every")
    quality_gate: bool = default("quality_gate")
    novelty_floor: float | None = None
    command_line: tuple[str, ...] = ()

    @classmethod
    def from_options(
        cls, input_folder: Path, options: Mapping[str, Any], command_line: tuple[str, ...] = ()
    ) -> SynthRequest:
        """The request for ``options`` named as in :data:`~augment.parameters.PARAMETERS` (None or
        left out: not given, so the default), each sent where the table says: the mode's options
        into its configuration (``Mode.configure``), ``slice_axis`` and ``window`` (``"LOW,HIGH"``)
        into the readers' settings, the rest into the request's fields. The batch options given
        are kept by the memory plan (:data:`FIXED_BY`), and ``out`` defaults to
        :func:`default_out`."""
        from augment.gantk.modes import MODES

        given = {name: value for name, value in options.items() if value is not None}
        unknown = sorted(set(given) - set(PARAMETERS))
        if unknown:
            raise AugmentError(f"`{unknown[0]}` is not a setting of a synthesis run")
        own = [name for name in given if PARAMETERS[name].cli_only]
        if own:
            raise AugmentError(f"`{own[0]}` is the command line's own, not a setting of the library")
        synthesis_mode = MODES[given.get("mode", default("mode"))]  # an unknown name is refused here
        window = given.get("window")
        reading = ReadSettings(
            given.get("slice_axis", default("slice_axis")), None if window is None else parse_window(window)
        )
        fields = {name: given[name] for name in targeted("request") if name in given and name != "out"}
        return cls(
            input_folder=input_folder,
            out=given.get("out") or default_out(input_folder, given.get("format")),
            config=synthesis_mode.configure(
                {name: given[name] for name in targeted("mode") if name in given}
            ),
            fixed_batches=frozenset(batch for name, batch in FIXED_BY.items() if name in given),
            read_settings=reading,
            command_line=command_line,
            **fields,
        )


@dataclass
class ClassSummary:
    """One class of a finished run: of the ``checked`` images, ``rejected`` failed the quality gate
    (replaced by new ones where a later round passed), ``dropped`` of them are missing from the
    output; of the ``synthetic`` images written, ``blurred`` and ``noisy`` ones
    (:func:`augment.measures.realism.detail_counts`) and ``too_close`` ones (nearer a real image than the
    novelty floor)."""

    class_name: str
    real: int
    synthetic: int
    final_loss: float
    seconds: float
    rejected: int = 0
    dropped: int = 0
    checked: int = 0
    blurred: int = 0
    noisy: int = 0
    too_close: int = 0

    @property
    def broken(self) -> float:
        """The share of the class's images that are broken: rejected by the gate among those it
        checked, else blurred or noisy among those written."""
        if self.checked:
            return self.rejected / self.checked
        return (self.blurred + self.noisy) / max(self.synthetic, 1)


@dataclass
class SynthReport:
    """What a finished run wrote; ``warnings``: what to say after its summary (a class whose
    images are mostly broken)."""

    out: Path
    format: str
    classes: list[ClassSummary]
    skipped: list[tuple[str, str]]  # (path, reason)
    resumed: bool
    saved_generator: Path | None = None
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class SampleRequest:
    """Everything ``augment sample`` was asked for."""

    generator: Path
    out: Path
    n: int | None = None
    per_class: int | None = None
    format: str | None = None
    seed: int = 0
    device: str = "auto"
    overwrite: bool = False
    command_line: tuple[str, ...] = ()


@dataclass
class SampleReport:
    out: Path
    format: str
    counts: dict[str, int] = field(default_factory=dict)


ClassProgress = Callable[[str, int, int, int, int, float], None]
"""``progress(class_name, work_done, work_total, problems_done, problems, loss)``: work in units of
equal cost over all the class's synthetic batches (direct mode: steps at the coarsest size, a
finer level's step counting its pixels over the coarsest's) or steps of its generator. Before the
first step every class is announced with its total (``problems`` 0, ``loss`` NaN), so the
whole run can be estimated."""

Log = Callable[[str, str], None]
"""``log(level, message)`` with level "warning" (always shown), "note" (shown unless --quiet: the
whole-run time estimate) or "info" (shown with --verbose)."""
