"""``augment``: a thin Typer app over the library. It parses, calls, and maps errors to messages.

Every :class:`augment.errors.AugmentError` becomes one line ``error: <message>`` on stderr and
exit code 1, with no traceback; the parameters the library names in its messages are spelled as
this app's flags (:func:`flag_for`). Ctrl-C exits with code 130 and leaves no output behind (the
checkpoint stays, for ``--resume``). Options shared by several commands are declared once, below.
"""

from __future__ import annotations

import inspect as _inspect
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Column, Table

from augment import __version__
from augment.errors import AugmentError, render
from augment.io.strict_json import dumps as strict_dumps
from augment.parameters import PARAMETERS, flag_declaration


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


def option(name: str) -> Any:
    """The typer option of a parameter of :data:`augment.parameters.PARAMETERS` (its flag, help,
    shown default and metavar come from there, declared once)."""
    parameter = PARAMETERS[name]
    return typer.Option(
        flag_declaration(name),
        help=parameter.help,
        show_default=parameter.show_default,
        metavar=parameter.metavar,
    )


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


def table_options(names: tuple[str, ...]) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """A command whose options are ``names`` of :data:`~augment.parameters.PARAMETERS`, generated
    from the table after the command's own arguments: flag, help, shown default, metavar, type
    (None allowed where the default is None) and default. The command takes them as keywords."""

    def decorate(command: Callable[..., None]) -> Callable[..., None]:
        own = [
            p
            for p in _inspect.signature(command, eval_str=True).parameters.values()
            if p.kind is not p.VAR_KEYWORD
        ]
        generated = []
        for name in names:
            parameter = PARAMETERS[name]
            kind: Any = parameter.kind if parameter.default is not None else parameter.kind | None
            generated.append(
                _inspect.Parameter(
                    name,
                    _inspect.Parameter.KEYWORD_ONLY,
                    default=parameter.default,
                    annotation=Annotated[kind, option(name)],
                )
            )
        command.__signature__ = _inspect.Signature([*own, *generated])  # type: ignore[attr-defined]
        return command

    return decorate


@app.command()
@table_options(tuple(PARAMETERS))
def synth(
    input_folder: Annotated[
        Path, typer.Argument(metavar="INPUT", help="Folder of images; sub-folders are classes.")
    ],
    **options: Any,
) -> None:
    """Synthesise labelled images from the real images in INPUT and write an HDF5 file or PNG folder."""
    from augment.gantk.modes import MODES
    from augment.run import SynthRequest, run_synth
    from augment.run.devices import join_distributed, use_compilation_cache

    quiet, verbose, distributed = (options.pop(name) for name in ("quiet", "verbose", "distributed"))
    console = Console(stderr=True, quiet=quiet)
    with user_errors():
        if distributed:
            join_distributed()
        use_compilation_cache()
        request = SynthRequest.from_options(input_folder, options, ("augment", *sys.argv[1:]))
        with _progress_bar(console, quiet) as bar:
            report = run_synth(
                request, _class_progress(bar, MODES[request.mode]), _logger(console, quiet, verbose)
            )
    _print_summary(console, report)


def _logger(console: Console, quiet: bool, verbose: bool) -> Callable[[str, str], None]:
    """The run's ``log``: warnings always, notes unless ``--quiet``, the rest with ``--verbose``."""

    def log(level: str, message: str) -> None:
        message = render(message, flag_for)
        if level == "warning":
            typer.echo(f"warning: {message}", err=True)
        elif level == "note" and not quiet:
            typer.echo(message, err=True)
        elif verbose:
            console.print(message, markup=False, highlight=False)

    return log


def _class_progress(bar: Progress, synthesis_mode: Any) -> Callable[[str, int, int, int, int, float], None]:
    """The run's ``progress``: a bar per class and one for all classes (the whole run's ETA)."""
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
            tasks["*"], completed=all_done, total=all_total, step=f"{100 * all_done / max(all_total, 1):.0f}%"
        )

    return progress


def _print_summary(console: Console, report: Any) -> None:
    """The table of what each class got, the run's last warnings and where the generators went."""
    table = Table(
        Column("class", no_wrap=True), "real", "written", Column("rejected", no_wrap=True), "dropped",
        "blur/noise", "<floor", "seconds", title=f"wrote {report.out}", box=box.SIMPLE_HEAD, pad_edge=False,
    )  # fmt: skip
    for c in report.classes:
        rejected = f"{c.rejected}/{c.checked} {c.rejected / c.checked:.0%}" if c.checked else "off"
        table.add_row(
            c.class_name, str(c.real), str(c.synthetic), rejected, str(c.dropped), f"{c.blurred}/{c.noisy}",
            str(c.too_close), f"{c.seconds:.1f}",
        )  # fmt: skip
    console.print(table)
    for warning in report.warnings:  # the last word on a class whose images are mostly broken
        typer.echo(f"warning: {render(warning, flag_for)}", err=True)
    if report.saved_generator is not None:
        console.print(f"saved the generators to {report.saved_generator}", markup=False, highlight=False)


@app.command()
def sample(
    generator: Annotated[
        Path, typer.Argument(metavar="GENERATOR", help="A folder written by synth --save-generator.")
    ],
    out: Annotated[Path, typer.Option("--out", help=PARAMETERS["out"].help)],
    n: Annotated[int | None, option("n")] = None,
    per_class: Annotated[int | None, option("per_class")] = None,
    format: Annotated[str | None, option("format")] = None,
    seed: Annotated[int, option("seed")] = 0,
    device: Annotated[str, option("device")] = "auto",
    overwrite: Annotated[bool, option("overwrite")] = False,
    quiet: Annotated[bool, option("quiet")] = False,
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
        from augment.io.readers import parse_window

        result = evaluation.evaluate(
            synthetic, real, holdout, on_bad_file=on_bad_file, slice_axis=slice_axis,
            window=None if window is None else parse_window(window),
        )  # fmt: skip
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
