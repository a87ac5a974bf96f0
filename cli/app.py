"""``augment``: a thin Typer app over the library. It parses, calls, and maps errors to messages.

Every :class:`augment.errors.AugmentError` becomes one line ``error: <message>`` on stderr and
exit code 1, with no traceback; the parameters the library names in its messages are spelled as
this app's flags (:func:`flag_for`). Ctrl-C exits with code 130 and leaves no output behind (the
checkpoint stays, for ``--resume``). Options shared by several commands are declared once, below.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from augment import __version__
from augment.errors import AugmentError, render
from augment.io.strict_json import dumps as strict_dumps


@cache
def _flags() -> dict[str, tuple[str, str | None]]:
    """Every command's options: parameter name -> (flag, negative flag or None)."""
    import typer.main

    flags: dict[str, tuple[str, str | None]] = {}
    group = typer.main.get_group(app)
    for command in group.commands.values():
        for param in command.params:
            if param.name and param.opts and param.opts[0].startswith("--"):
                negative = param.secondary_opts[0] if param.secondary_opts else None
                flags.setdefault(param.name, (param.opts[0], negative))
    return flags


def flag_for(name: str, value: str | None = None) -> str:
    """How a library parameter (``name``, optionally ``=value``) is spelled on the command line:
    ``n`` -> ``--n``, ``on_bad_file=skip`` -> ``--on-bad-file skip``, ``novelty_stop=False`` ->
    ``--no-novelty-stop``; a parameter the CLI has no flag for keeps its name."""
    flag, negative = _flags().get(name, (None, None))
    if flag is None:
        return name if value is None else f"{name}={value}"
    if value is None or value == "True":
        return flag
    if value == "False" and negative is not None:
        return negative
    return f"{flag} {value}"


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn an AugmentError into ``error: <message>`` on stderr and exit code 1."""
    try:
        yield
    except AugmentError as error:
        typer.echo(f"error: {render(str(error), flag_for)}", err=True)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        typer.echo("interrupted; nothing was written (run again with --resume to continue)", err=True)
        raise typer.Exit(130) from None
    except OSError as error:  # the system refused something (disk full, a file-size limit)
        where = f" ({error.filename})" if error.filename else ""
        typer.echo(f"error: {error.strerror or error}{where}", err=True)
        raise typer.Exit(1) from None


app = typer.Typer(add_completion=False, no_args_is_help=True, help=(__doc__ or "").split("\n")[0])


# Options shared by several commands, declared once.
NOption = Annotated[
    int | None,
    typer.Option(
        "--n", help="Total synthetic images, split across classes by their real counts.", show_default="500"
    ),
]
PerClassOption = Annotated[
    int | None, typer.Option("--per-class", help="Synthetic images per class (instead of --n).")
]
FormatOption = Annotated[
    str | None, typer.Option("--format", help="h5 or png.", show_default="from the suffix of --out")
]
SeedOption = Annotated[
    int, typer.Option("--seed", help="Random seed: the same seed gives the same images on CPU.")
]
DeviceOption = Annotated[str, typer.Option("--device", help="auto, cpu or gpu.")]
OverwriteOption = Annotated[bool, typer.Option("--overwrite", help="Replace an existing output.")]
QuietOption = Annotated[bool, typer.Option("--quiet", help="No progress bar or summary.")]
OnBadFileOption = Annotated[
    str, typer.Option("--on-bad-file", help="fail: stop at an unreadable file; skip: leave it out.")
]
SliceAxisOption = Annotated[
    str | None,
    typer.Option(
        "--slice-axis",
        help="Volumes (NIfTI): cut them into axial, coronal or sagittal slices.",
        show_default="axial",
    ),
]
WindowOption = Annotated[
    str | None,
    typer.Option(
        "--window",
        metavar="LOW,HIGH",
        help="Volumes: show intensities LOW..HIGH from black to white (CT in Hounsfield units: -160,240).",
        show_default="each volume's 0.5 to 99.5 percentiles",
    ),
]


def read_settings(slice_axis: str | None, window: str | None):
    """The readers' settings from ``--slice-axis`` and ``--window`` (None: their defaults)."""
    from augment.io.readers import ReadSettings, parse_window

    return ReadSettings(slice_axis or "axial", None if window is None else parse_window(window))


def _version(value: bool) -> None:
    if value:
        typer.echo(f"augment {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """Turn a folder of a few real images into a larger labelled synthetic dataset (GA-NTK)."""
    if hasattr(signal, "SIGXFSZ"):  # past a file-size limit (ulimit -f) a write fails, not the process
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


@contextmanager
def _progress_bar(console: Console, quiet: bool) -> Iterator[Progress]:
    """A rich progress bar that appears with its first task (so an early error is one line alone)."""
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[step]}"),
        TextColumn("{task.fields[loss]}"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=console,
        disable=quiet,
    )
    try:
        yield bar
    finally:
        if bar.live.is_started:
            bar.stop()


@app.command()
def synth(
    input_folder: Annotated[
        Path, typer.Argument(metavar="INPUT", help="Folder of images; sub-folders are classes.")
    ],
    n: NOption = None,
    per_class: PerClassOption = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", help="Output .h5 file or PNG folder.", show_default="<INPUT name>-synthetic.h5"
        ),
    ] = None,
    format: FormatOption = None,
    size: Annotated[
        int | None,
        typer.Option(
            "--size",
            help="Square working size (at most 256).",
            show_default="median shorter side, at most 64 on a CPU, 128 on a GPU",
        ),
    ] = None,
    channels: Annotated[
        str, typer.Option("--channels", help="auto (3 only if an input is colour), 1 or 3.")
    ] = "auto",
    mode: Annotated[
        str,
        typer.Option(
            "--mode",
            help="direct: optimise the pixels; generator: train a generator per class and sample it.",
        ),
    ] = "direct",
    steps: Annotated[
        int | None,
        typer.Option(
            "--steps", help="Steps per synthetic batch (direct) or per generator.", show_default="300 / 1000"
        ),
    ] = None,
    batch_size: Annotated[
        int | None,
        typer.Option(
            "--batch-size",
            help="Synthetic images per GA-NTK problem (direct) or generator batch.",
            show_default="32 / 64",
        ),
    ] = None,
    real_batch_size: Annotated[
        int | None,
        typer.Option(
            "--real-batch-size",
            help="Real images the discriminator sees per step.",
            show_default="256 (generator mode 128), lowered to fit --memory",
        ),
    ] = None,
    augment_real_to: Annotated[
        int | None,
        typer.Option(
            "--augment-real-to",
            help="The discriminator sees this many random small rotations and shifts of each "
            "class's real images (0: the real images only).",
            show_default="200; above 32 px: 0",
        ),
    ] = None,
    novelty_stop: Annotated[
        bool | None,
        typer.Option(
            "--novelty-stop/--no-novelty-stop",
            help="Direct mode: check the images every 10 steps against the novelty floor and end each one "
            "as its last version that was not nearer a real image.",
            show_default="on",
        ),
    ] = None,
    convergence_stop: Annotated[
        bool | None,
        typer.Option(
            "--convergence-stop/--no-convergence-stop",
            help="Direct mode: end a batch once its loss fell by less than 0.1% over its last 50 steps.",
            show_default="on above 32 px (coarse to fine), off at 32 px or less",
        ),
    ] = None,
    save_generator: Annotated[
        Path | None,
        typer.Option(
            "--save-generator",
            metavar="PATH",
            help="Keep the trained generators in this folder (--mode generator).",
        ),
    ] = None,
    seed: SeedOption = 0,
    device: DeviceOption = "auto",
    devices: Annotated[
        str,
        typer.Option(
            "--devices", help="How many devices of that kind share the synthetic batches: N or all."
        ),
    ] = "all",
    memory: Annotated[
        str | None,
        typer.Option(
            "--memory",
            help="Memory budget per device, e.g. 4GiB; batches are lowered to fit.",
            show_default="90% of the free memory",
        ),
    ] = None,
    matmul_precision: Annotated[
        str | None,
        typer.Option(
            "--matmul-precision",
            help="float32, or on a GPU the faster tensorfloat32 or bfloat16 "
            "(docs/usage.md, On a GPU: their accuracy).",
            show_default="float32",
        ),
    ] = None,
    distributed: Annotated[
        bool,
        typer.Option(
            "--distributed",
            help="Join a multi-host run "
            "(jax.distributed.initialize: SLURM, Kubernetes or JAX_COORDINATOR_ADDRESS).",
        ),
    ] = False,
    overwrite: OverwriteOption = False,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue an interrupted run from its checkpoint.")
    ] = False,
    on_bad_file: OnBadFileOption = "fail",
    slice_axis: SliceAxisOption = None,
    window: WindowOption = None,
    checkpoint_every: Annotated[
        float,
        typer.Option(
            "--checkpoint-every", help="Seconds between checkpoints within a batch (0: every chunk of steps)."
        ),
    ] = 10.0,
    quality_gate: Annotated[
        bool,
        typer.Option(
            "--quality-gate/--no-quality-gate",
            help="Check every image before it is written; re-synthesise or drop broken ones.",
            show_default="on",
        ),
    ] = True,
    novelty_floor: Annotated[
        float | None,
        typer.Option(
            "--novelty-floor",
            metavar="PERCENT",
            help="Keep every image at least as far from each real image of its class as PERCENT % of the "
            "real images are from their nearest other one (5: keep out near-copies only).",
            show_default="60 (direct; 40 above 32 px) / 50 (generator)",
        ),
    ] = None,
    quiet: QuietOption = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", help="Say what is read, skipped and decided.")
    ] = False,
) -> None:
    """Synthesise labelled images from the real images in INPUT and write an HDF5 file or PNG folder."""
    from augment.gantk.modes import MODES
    from augment.run import SynthRequest, run_synth
    from augment.run.devices import join_distributed, use_compilation_cache

    console = Console(stderr=True, quiet=quiet)
    with user_errors():
        if distributed:
            join_distributed()
        use_compilation_cache()
        if out is None:
            suffix = "" if format == "png" else ".h5"
            out = Path(f"{input_folder.resolve().name}-synthetic{suffix}")
        chosen: dict[str, Any] = {
            "steps": steps,
            "batch_size": batch_size,
            "real_batch_size": real_batch_size,
            "matmul_precision": matmul_precision,
            "augment_real_to": augment_real_to,
            "novelty_stop": novelty_stop,
            "convergence_stop": convergence_stop,
        }
        synthesis_mode = MODES[mode]
        request = SynthRequest(
            input_folder=input_folder,
            out=out,
            mode=mode,
            config=synthesis_mode.configure({k: v for k, v in chosen.items() if v is not None}),
            save_generator=save_generator,
            format=format,
            n=n,
            per_class=per_class,
            size=size,
            channels=channels,
            seed=seed,
            device=device,
            devices=devices,
            memory=memory,
            fixed_batches=frozenset(
                name
                for name, value in (("synthetic", batch_size), ("real", real_batch_size))
                if value is not None
            ),
            overwrite=overwrite,
            resume=resume,
            on_bad_file=on_bad_file,
            read_settings=read_settings(slice_axis, window),
            checkpoint_every=checkpoint_every,
            quality_gate=quality_gate,
            **({} if novelty_floor is None else {"novelty_floor": novelty_floor}),
            command_line=("augment", *sys.argv[1:]),
        )

        def log(level: str, message: str) -> None:
            message = render(message, flag_for)
            if level == "warning":
                typer.echo(f"warning: {message}", err=True)
            elif level == "note" and not quiet:
                typer.echo(message, err=True)
            elif verbose:
                console.print(message, markup=False, highlight=False)

        with _progress_bar(console, quiet) as bar:
            tasks: dict[str, Any] = {}
            work: dict[str, tuple[int, int]] = {}  # class -> (done, total)

            def progress(
                class_name: str, done: int, total: int, problems_done: int, problems: int, loss: float
            ) -> None:
                if not tasks:
                    bar.start()
                    tasks["*"] = bar.add_task("all classes", total=None, step="", loss="")
                if class_name not in tasks:
                    tasks[class_name] = bar.add_task(class_name, total=total, step="", loss="")
                work[class_name] = (done, total)
                label = synthesis_mode.progress_label(problems_done, problems) if problems else "waiting"
                bar.update(
                    tasks[class_name],
                    completed=done,
                    description=f"{class_name} {label}",
                    step=f"{100 * done / max(total, 1):.0f}%",
                    loss="" if loss != loss else f"loss {loss:.4f}",
                )
                all_done, all_total = (sum(column) for column in zip(*work.values(), strict=True))
                bar.update(
                    tasks["*"],
                    completed=all_done,
                    total=all_total,
                    step=f"{100 * all_done / max(all_total, 1):.0f}%",
                )

            report = run_synth(request, progress, log)
    table = Table(
        "class", "real", "synthetic", "per real", "gate: rejected / dropped", "final loss", "seconds",
        title=f"wrote {report.out}",
    )  # fmt: skip
    for c in report.classes:
        table.add_row(
            c.class_name, str(c.real), str(c.synthetic), f"{c.synthetic / max(c.real, 1):.1f}",
            f"{c.rejected} / {c.dropped}", f"{c.final_loss:.4f}", f"{c.seconds:.1f}",
        )  # fmt: skip
    console.print(table)
    if report.saved_generator is not None:
        console.print(f"saved the generators to {report.saved_generator}", markup=False, highlight=False)


@app.command()
def sample(
    generator: Annotated[
        Path, typer.Argument(metavar="GENERATOR", help="A folder written by synth --save-generator.")
    ],
    out: Annotated[Path, typer.Option("--out", help="Output .h5 file or PNG folder.")],
    n: NOption = None,
    per_class: PerClassOption = None,
    format: FormatOption = None,
    seed: SeedOption = 0,
    device: DeviceOption = "auto",
    overwrite: OverwriteOption = False,
    quiet: QuietOption = False,
) -> None:
    """Draw new images from saved generators, without the real data."""
    from augment.run import SampleRequest, run_sample
    from augment.run.devices import use_compilation_cache

    console = Console(stderr=True, quiet=quiet)
    with user_errors():
        use_compilation_cache()
        request = SampleRequest(
            generator=generator, out=out, n=n, per_class=per_class, format=format, seed=seed, device=device,
            overwrite=overwrite, command_line=("augment", *sys.argv[1:]),
        )  # fmt: skip
        report = run_sample(request)
    table = Table("class", "synthetic", title=f"wrote {report.out} from {generator}")
    for name, count in report.counts.items():
        table.add_row(name, str(count))
    console.print(table)


@app.command()
def inspect(
    path: Annotated[Path, typer.Argument(help="An HDF5 file or PNG folder written by augment synth.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the full provenance as JSON.")] = False,
) -> None:
    """Summarise a synthetic dataset: classes, size, how it was made, quality figures."""
    from augment.inspection import describe_output
    from augment.io.writers import read_output

    with user_errors():
        dataset = read_output(path)
        lines = [strict_dumps(dataset.provenance, indent=1)] if as_json else describe_output(path, dataset)
    for line in lines:
        typer.echo(line)


@app.command()
def evaluate(
    synthetic: Annotated[
        Path, typer.Argument(metavar="SYNTHETIC", help="HDF5 file or PNG folder written by synth.")
    ],
    real: Annotated[
        Path, typer.Option("--real", help="The real (training) folder the synthetic data came from.")
    ],
    holdout: Annotated[
        Path | None, typer.Option("--holdout", help="Real images not used for synthesis.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print every figure as JSON.")] = False,
    report: Annotated[
        Path | None, typer.Option("--report", help="Write an HTML report (and PNGs) to this folder.")
    ] = None,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace an existing report folder.")
    ] = False,
    on_bad_file: Annotated[
        str, typer.Option("--on-bad-file", help="fail or skip unreadable real files.")
    ] = "fail",
    slice_axis: Annotated[
        str | None,
        typer.Option(
            "--slice-axis", help="Volumes: axial, coronal or sagittal.", show_default="as SYNTHETIC was made"
        ),
    ] = None,
    window: Annotated[
        str | None,
        typer.Option(
            "--window",
            metavar="LOW,HIGH",
            help="Volumes: the intensity window.",
            show_default="as SYNTHETIC was made",
        ),
    ] = None,
) -> None:
    """How useful and how novel SYNTHETIC is: privacy ratio, near-copies, PRDC, KID, utility."""
    from augment import evaluation
    from augment import report as reporting

    with user_errors():
        inputs = {"synthetic data": synthetic, "real folder": real}
        if holdout is not None:
            inputs["held-out folder"] = holdout
        at = reporting.check_report_target(report, overwrite, inputs) if report is not None else None
        reading = None if slice_axis is None and window is None else read_settings(slice_axis, window)
        result = evaluation.evaluate(synthetic, real, holdout, on_bad_file=on_bad_file, read_settings=reading)
        page = reporting.write_report(result, at.path, at=at) if at is not None else None
    for warning in result.warnings:
        typer.echo(f"warning: {warning}", err=True)
    if as_json:
        typer.echo(strict_dumps(result.figures, indent=1))
    else:
        for line in evaluation.summary_lines(result):
            typer.echo(line)
    if page is not None:
        typer.echo(f"report: {page}", err=True)


def main() -> None:
    """Console entry point."""
    app()
