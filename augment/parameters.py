"""Every setting of ``augment synth``, declared once: :data:`PARAMETERS`.

A :class:`Parameter` has the library's name, where its value goes (``target``: a
:class:`~augment.run.request.SynthRequest` field, an option a mode's ``configure`` takes, a
setting of the readers, or the command line's own switch), the type of its value, its flag (the
name with dashes: one name per knob), its help, and its default: one value, or one per mode
(``per_mode``), with the line ``--help`` shows. The request takes its defaults from here
(:func:`default`), ``SynthRequest.from_options`` sends each value where it goes, and the CLI
generates ``synth``'s options from the table (``cli/app.py``); ``tests/test_parameters.py`` checks
the modes' configurations and the README's options table against it. Messages name a parameter by
its library name, which the CLI spells as its flag.

The module imports nothing heavy (the CLI reads it to answer ``--help``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from augment.errors import AugmentError

DIRECT, GENERATOR = "direct", "generator"
TARGETS = ("request", "mode", "reading", "cli")
"""Where a parameter's value goes: a SynthRequest field, an option of the mode's ``configure``, a
setting of the readers (``ReadSettings``), or the command line alone."""


@dataclass(frozen=True)
class Parameter:
    """One setting.

    Attributes:
      name: the library's name (``batch_size``); the flag is ``--`` and the name with dashes.
      help: one line for ``--help``.
      default: the default when it is one value (None: decided at run time, see ``shown``).
      per_mode: the default of each mode, where they differ (``{"direct": 300, "generator": 1000}``).
      shown: the default as ``--help`` and the README say it, where the value alone would not.
      metavar: the placeholder ``--help`` shows for the value.
      switch: an on/off flag with a ``--no-`` form.
      target: where the value goes, one of :data:`TARGETS`; "cli" for the command line's own
        (``quiet``, ``distributed``): the library has no such parameter.
      kind: the type of the value (``int``, ``float``, ``str``, ``bool``, ``Path``).
      low, high: the range a number must lie in (None: unbounded), and ``unit`` what it is.
    """

    name: str
    help: str
    default: Any = None
    per_mode: dict[str, Any] = field(default_factory=dict)
    shown: str | None = None
    metavar: str | None = None
    switch: bool = False
    target: str = "request"
    kind: type = str
    low: float | None = None
    high: float | None = None
    unit: str = ""

    @property
    def cli_only(self) -> bool:
        return self.target == "cli"

    def check(self, value: float | None) -> None:
        """An AugmentError naming the parameter when ``value`` (None: not given) is out of range."""
        if value is None:
            return
        if self.high is not None and self.low is not None and not self.low <= value <= self.high:
            unit = f" ({self.unit})" if self.unit else ""
            span = f"between {self.low:g} and {self.high:g}{unit}"
            raise AugmentError(f"`{self.name}={value:g}` must be {span}")
        if self.low == 0 and self.high is None and value < 0:
            raise AugmentError(f"`{self.name}` must not be negative, got {value}")

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    @property
    def negative(self) -> str | None:
        return "--no-" + self.name.replace("_", "-") if self.switch else None

    @property
    def show_default(self) -> str | bool:
        """What ``--help`` shows as the default: ``shown``, the per-mode defaults, or the value."""
        if self.shown is not None:
            return self.shown
        if self.per_mode:
            return " / ".join(str(v) for v in self.per_mode.values())
        return True


# The defaults that depend on the working size or the device: the library takes them from here.
SCAN_SIZE = 16  # above this many pixels the defaults for scans apply (augment.gantk.augmentation)
AUGMENT_REAL_TO = 200  # the augmented real set's size up to SCAN_SIZE; 0 above it
NOVELTY_FLOOR = {DIRECT: 60.0, GENERATOR: 60.0}  # each mode's novelty floor (a percentile)
SCAN_NOVELTY_FLOOR = 40.0  # direct mode's above SCAN_SIZE
SCAN_GENERATOR_NOVELTY_FLOOR = 50.0  # generator mode's above SCAN_SIZE
DIRECT_STEPS, DIRECT_BATCH = 300, 32  # direct mode's steps (up to SCAN_SIZE) and synthetic batch
REAL_BATCH = {DIRECT: 256, GENERATOR: 128}  # real images the discriminator sees per step
MATMUL_PRECISION = "float32"  # both modes' default
GENERATOR_STEPS, GENERATOR_BATCH = 1000, 64  # generator mode's training up to SCAN_SIZE
SCAN_GENERATOR_STEPS, SCAN_GENERATOR_BATCH = 4000, 16  # and above it: more, smaller, cheaper steps
SCAN_DIRECT_STEPS, SCAN_DIRECT_START = 50, "warped"  # direct mode above SCAN_SIZE: deformed real images
POLISH_STEPS = 50  # direct-mode steps each generator sample takes before synth writes it, up to SCAN_SIZE
COARSE_SIZE = 32  # direct mode runs coarse to fine above this many pixels, from this size
CPU_SIZE_CAP, ACCELERATOR_SIZE_CAP, MAX_SIZE = 64, 128, 256  # the default size's caps; the largest size
DEFAULT_N = 500  # synthetic images in all

_DECLARED = [
    Parameter(
        "n",
        "Total synthetic images, split across classes by their real counts.",
        shown=str(DEFAULT_N),
        kind=int,
    ),
    Parameter("per_class", "Synthetic images per class (instead of --n).", kind=int),
    Parameter("out", "Output .h5 file or PNG folder.", shown="<INPUT name>-synthetic.h5", kind=Path),
    Parameter("format", "h5 or png.", shown="from the suffix of --out"),
    Parameter(
        "size",
        f"Square working size (at most {MAX_SIZE}).",
        shown=f"median shorter side, at most {CPU_SIZE_CAP} on a CPU, {ACCELERATOR_SIZE_CAP} on a GPU",
        kind=int,
    ),
    Parameter("channels", "auto (3 only if an input is colour), 1 or 3.", default="auto"),
    Parameter(
        "mode",
        "direct: optimise the pixels; generator: train a generator per class and sample it.",
        default=DIRECT,
    ),
    Parameter(
        "steps",
        "Steps per synthetic batch (direct) or per generator.",
        per_mode={DIRECT: DIRECT_STEPS, GENERATOR: GENERATOR_STEPS},
        shown=f"{DIRECT_STEPS}, above {SCAN_SIZE} px {SCAN_DIRECT_STEPS}; generator mode {GENERATOR_STEPS}, "
        f"above {SCAN_SIZE} px {SCAN_GENERATOR_STEPS}",
        kind=int,
        target="mode",
    ),
    Parameter(
        "batch_size",
        "Synthetic images per GA-NTK problem (direct) or generator batch.",
        per_mode={DIRECT: DIRECT_BATCH, GENERATOR: GENERATOR_BATCH},
        shown=f"{DIRECT_BATCH}; generator mode {GENERATOR_BATCH}, "
        f"above {SCAN_SIZE} px {SCAN_GENERATOR_BATCH}",
        kind=int,
        target="mode",
    ),
    Parameter(
        "real_batch_size",
        "Real images the discriminator sees per step.",
        per_mode=REAL_BATCH,
        shown=f"{REAL_BATCH[DIRECT]} (generator mode {REAL_BATCH[GENERATOR]}), lowered to fit --memory",
        kind=int,
        target="mode",
    ),
    Parameter(
        "augment_real_to",
        "The discriminator sees this many random small rotations and shifts of each class's real "
        "images (0: the real images only).",
        shown=f"{AUGMENT_REAL_TO}; above {SCAN_SIZE} px: 0",
        kind=int,
        target="mode",
    ),
    Parameter(
        "novelty_stop",
        "Direct mode: check the images every 10 steps against the novelty floor and end each one as "
        "its last version that was not nearer a real image.",
        per_mode={DIRECT: True},
        shown="on",
        switch=True,
        kind=bool,
        target="mode",
    ),
    Parameter(
        "convergence_stop",
        "Direct mode: end a batch once its loss fell by less than 0.1% over its last 50 steps.",
        shown=f"on above {COARSE_SIZE} px (coarse to fine), off at {COARSE_SIZE} px or less",
        switch=True,
        kind=bool,
        target="mode",
    ),
    Parameter(
        "save_generator",
        "Keep the trained generators in this folder (--mode generator).",
        metavar="PATH",
        kind=Path,
    ),
    Parameter("seed", "Random seed: the same seed gives the same images on CPU.", default=0, kind=int),
    Parameter("device", "auto, cpu or gpu.", default="auto"),
    Parameter(
        "devices", "How many devices of that kind share the synthetic batches: N or all.", default="all"
    ),
    Parameter(
        "memory",
        "Memory budget per device, e.g. 4GiB; batches are lowered to fit.",
        shown="90% of the free memory",
    ),
    Parameter(
        "matmul_precision",
        "float32, or on a GPU the faster tensorfloat32 or bfloat16 "
        "(docs/usage.md, On a GPU: their accuracy).",
        per_mode={DIRECT: MATMUL_PRECISION, GENERATOR: MATMUL_PRECISION},
        shown=MATMUL_PRECISION,
        target="mode",
    ),
    Parameter(
        "distributed",
        "Join a multi-host run (jax.distributed.initialize: SLURM, Kubernetes or JAX_COORDINATOR_ADDRESS).",
        default=False,
        kind=bool,
        target="cli",
    ),
    Parameter("overwrite", "Replace an existing output.", default=False, kind=bool),
    Parameter("resume", "Continue an interrupted run from its checkpoint.", default=False, kind=bool),
    Parameter("on_bad_file", "fail: stop at an unreadable file; skip: leave it out.", default="fail"),
    Parameter(
        "slice_axis",
        "Volumes (NIfTI): cut them into axial, coronal or sagittal slices.",
        default="axial",
        target="reading",
    ),
    Parameter(
        "window",
        "Volumes: show intensities LOW..HIGH from black to white (CT in Hounsfield units: -160,240).",
        shown="each volume's 0.5 to 99.5 percentiles",
        metavar="LOW,HIGH",
        target="reading",
    ),
    Parameter(
        "checkpoint_every",
        "Seconds between checkpoints within a batch (0: every chunk of steps).",
        default=10.0,
        low=0,
        kind=float,
    ),
    Parameter(
        "quality_gate",
        "Check every image before it is written; re-synthesise or drop broken ones.",
        default=True,
        shown="on",
        switch=True,
        kind=bool,
    ),
    Parameter(
        "novelty_floor",
        "Keep every image at least as far from each real image of its class as PERCENT % of the real "
        "images are from their nearest other one (5: keep out near-copies only).",
        per_mode=NOVELTY_FLOOR,
        low=0,
        high=100,
        unit="a percentage",
        shown=f"{NOVELTY_FLOOR[DIRECT]:g} (direct; {SCAN_NOVELTY_FLOOR:g} above {SCAN_SIZE} px) / "
        f"{NOVELTY_FLOOR[GENERATOR]:g} (generator; {SCAN_GENERATOR_NOVELTY_FLOOR:g} above {SCAN_SIZE} px)",
        metavar="PERCENT",
        kind=float,
    ),
    Parameter("quiet", "No progress bar or summary.", default=False, kind=bool, target="cli"),
    Parameter("verbose", "Say what is read, skipped and decided.", default=False, kind=bool, target="cli"),
]

PARAMETERS: dict[str, Parameter] = {p.name: p for p in _DECLARED}
"""Every parameter of ``augment synth`` by its library name, in ``--help`` order."""


def default(name: str) -> Any:
    """The parameter's default where it is one value (None: decided at run time or per mode)."""
    return PARAMETERS[name].default


def targeted(target: str) -> tuple[str, ...]:
    """The names of the parameters whose values go to ``target`` (one of :data:`TARGETS`)."""
    if target not in TARGETS:
        raise ValueError(f"target must be one of {TARGETS}, got {target!r}")
    return tuple(name for name, p in PARAMETERS.items() if p.target == target)


def flag_declaration(name: str) -> str:
    """How the CLI declares the parameter's flag: ``--x``, or ``--x/--no-x`` for a switch."""
    parameter = PARAMETERS[name]
    return parameter.flag if parameter.negative is None else f"{parameter.flag}/{parameter.negative}"
