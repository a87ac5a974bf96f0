"""``augment``: a thin Typer app over the library. It parses, calls, and maps errors to messages.

Every :class:`augment.errors.AugmentError` becomes one line ``error: <message>`` on stderr and
exit code 1, with no traceback. Ctrl-C exits with code 130 and leaves no output behind (the
checkpoint stays, for ``--resume``).
"""

from __future__ import annotations

import dataclasses
import json
import sys
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from augment import __version__
from augment.errors import AugmentError


@contextmanager
def user_errors():
    """Turn an AugmentError into ``error: <message>`` on stderr and exit code 1."""
    try:
        yield
    except AugmentError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        typer.echo(
            "interrupted; nothing was written (run again with --resume to continue)",
            err=True,
        )
        raise typer.Exit(130) from None


app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__.split("\n")[0])


def _version(value: bool) -> None:
    if value:
        typer.echo(f"augment {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version."
    ),
) -> None:
    """Turn a folder of a few real images into a larger labelled synthetic dataset (GA-NTK)."""


@contextmanager
def _progress_bar(console: Console, quiet: bool):
    """A rich progress bar that appears with its first task (so an early error is one line alone)."""
    bar = _new_progress_bar(console, quiet)
    try:
        yield bar
    finally:
        if bar.live.is_started:
            bar.stop()


def _new_progress_bar(console: Console, quiet: bool) -> Progress:
    return Progress(
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


@app.command()
def synth(
    input_folder: Path = typer.Argument(
        ..., metavar="INPUT", help="Folder of images; sub-folders are classes."
    ),
    n: int | None = typer.Option(
        None,
        "--n",
        help="Total synthetic images, split across classes by their real counts [default: 500].",
    ),
    per_class: int | None = typer.Option(
        None, "--per-class", help="Synthetic images per class (instead of --n)."
    ),
    out: Path | None = typer.Option(
        None,
        "--out",
        help="Output .h5 file or PNG folder [default: <INPUT name>-synthetic.h5].",
    ),
    format: str | None = typer.Option(
        None, "--format", help="h5 or png [default: from the suffix of --out]."
    ),
    size: int | None = typer.Option(
        None,
        "--size",
        help="Square working size [default: median shorter side, at most 32].",
    ),
    channels: str = typer.Option("auto", "--channels", help="auto (3 only if an input is colour), 1 or 3."),
    mode: str = typer.Option(
        "direct",
        "--mode",
        help="direct: optimise the pixels; generator: train a generator per class and sample it.",
    ),
    steps: int | None = typer.Option(
        None, "--steps", help="Steps per synthetic batch (direct) or per generator [default: 300 / 1000]."
    ),
    batch_size: int | None = typer.Option(
        None,
        "--batch-size",
        help="Synthetic images per GA-NTK problem (direct) or generator batch [default: 32 / 64].",
    ),
    real_batch_size: int | None = typer.Option(
        None,
        "--real-batch-size",
        help="Real images the discriminator sees per step [default: 256, lowered to fit --memory].",
    ),
    augment_real_to: int | None = typer.Option(
        None,
        "--augment-real-to",
        help="Direct mode: the discriminator sees this many random small rotations and shifts of each "
        "class's real images (0: the real images only) [default: 200].",
    ),
    novelty_stop: bool | None = typer.Option(
        None,
        "--novelty-stop/--no-novelty-stop",
        help="Direct mode: end a batch before more than 20% of its images become near-copies of a real one, "
        "then return those to their last novel version [default: on].",
    ),
    save_generator: Path | None = typer.Option(
        None,
        "--save-generator",
        help="Keep the trained generators in this folder (--mode generator).",
        metavar="PATH",
    ),
    seed: int = typer.Option(0, "--seed", help="Random seed: the same seed gives the same images on CPU."),
    device: str = typer.Option("auto", "--device", help="auto, cpu or gpu."),
    devices: str = typer.Option(
        "all", "--devices", help="How many devices of that kind share the synthetic batches: N or all."
    ),
    memory: str | None = typer.Option(
        None,
        "--memory",
        help="Memory budget per device, e.g. 4GiB; batches are lowered to fit [default: 90% of the free memory].",
    ),
    matmul_precision: str = typer.Option(
        "float32",
        "--matmul-precision",
        help="float32, or on a GPU the faster tensorfloat32 or bfloat16 (see the README for their accuracy).",
    ),
    distributed: bool = typer.Option(
        False,
        "--distributed",
        help="Join a multi-host run (jax.distributed.initialize: SLURM, Kubernetes or JAX_COORDINATOR_ADDRESS).",
    ),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing output."),
    resume: bool = typer.Option(False, "--resume", help="Continue an interrupted run from its checkpoint."),
    on_bad_file: str = typer.Option(
        "fail",
        "--on-bad-file",
        help="fail: stop at an unreadable file; skip: leave it out.",
    ),
    checkpoint_every: float = typer.Option(
        10.0,
        "--checkpoint-every",
        help="Seconds between checkpoints within a batch (0: every chunk of steps).",
    ),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bar or summary."),
    verbose: bool = typer.Option(False, "--verbose", help="Say what is read, skipped and decided."),
) -> None:
    """Synthesise labelled images from the real images in INPUT and write an HDF5 file or PNG folder."""
    from augment.gantk import SynthesisConfig
    from augment.gantk.generator import GeneratorConfig
    from augment.pipeline import SynthRequest, run_synth

    console = Console(stderr=True, quiet=quiet)
    with user_errors():
        if distributed:
            from augment.pipeline import join_distributed

            join_distributed()
        if out is None:
            suffix = "" if format == "png" else ".h5"
            out = Path(f"{input_folder.resolve().name}-synthetic{suffix}")
        request = SynthRequest(
            input_folder=input_folder,
            out=out,
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
                name for name, value in (("synthetic", batch_size), ("real", real_batch_size)) if value is not None
            ),
            overwrite=overwrite,
            resume=resume,
            on_bad_file=on_bad_file,
            checkpoint_seconds=checkpoint_every,
            command_line=("augment", *sys.argv[1:]),
            mode=mode,
            save_generator=save_generator,
        )
        chosen = {"steps": steps} if steps is not None else {}
        chosen |= {"real_batch_size": real_batch_size} if real_batch_size is not None else {}
        chosen |= {"matmul_precision": matmul_precision}
        guards = {"augment_real_to": augment_real_to, "novelty_stop": novelty_stop}
        guards = {name: value for name, value in guards.items() if value is not None}
        if mode == "generator" and guards:
            raise AugmentError("--augment-real-to and --novelty-stop apply to --mode direct only")
        if mode == "generator":
            generator = GeneratorConfig(
                **chosen, **({"batch_size": batch_size} if batch_size is not None else {})
            )
            request = dataclasses.replace(request, generator=generator)
        else:
            batch = {"synthetic_batch_size": batch_size} if batch_size is not None else {}
            config = SynthesisConfig(**chosen, **batch, **guards)
            request = dataclasses.replace(request, config=config)

        def log(level: str, message: str) -> None:
            if level == "warning":
                typer.echo(f"warning: {message}", err=True)
            elif verbose:
                console.print(message, markup=False, highlight=False)

        with _progress_bar(console, quiet) as bar:
            tasks: dict[str, int] = {}

            def progress(class_name, steps_done, steps_total, problems_done, problems, loss):
                if not tasks:
                    bar.start()
                if class_name not in tasks:
                    tasks[class_name] = bar.add_task(class_name, total=steps_total, step="", loss="")
                bar.update(
                    tasks[class_name],
                    completed=steps_done,
                    description=f"{class_name} generator"
                    if mode == "generator"
                    else f"{class_name} batches {problems_done}/{problems} done",
                    step=f"step {steps_done}/{steps_total}",
                    loss=f"loss {loss:.4f}",
                )

            report = run_synth(request, progress, log)
    table = Table(
        "class",
        "real",
        "synthetic",
        "final loss",
        "seconds",
        title=f"wrote {report.out}",
    )
    for s in report.classes:
        table.add_row(
            s.class_name,
            str(s.real),
            str(s.synthetic),
            f"{s.final_loss:.4f}",
            f"{s.seconds:.1f}",
        )
    console.print(table)
    if report.saved_generator is not None:
        console.print(f"saved the generators to {report.saved_generator}", markup=False, highlight=False)


@app.command()
def sample(
    generator: Path = typer.Argument(
        ..., metavar="GENERATOR", help="A folder written by synth --save-generator."
    ),
    n: int | None = typer.Option(
        None, "--n", help="Total images, split across classes like synth's --n [default: 500]."
    ),
    per_class: int | None = typer.Option(None, "--per-class", help="Images per class (instead of --n)."),
    out: Path = typer.Option(..., "--out", help="Output .h5 file or PNG folder."),
    format: str | None = typer.Option(
        None, "--format", help="h5 or png [default: from the suffix of --out]."
    ),
    seed: int = typer.Option(0, "--seed", help="Random seed: the same seed gives the same images."),
    device: str = typer.Option("auto", "--device", help="auto, cpu or gpu."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing output."),
    quiet: bool = typer.Option(False, "--quiet", help="No summary."),
) -> None:
    """Draw new images from saved generators, without the real data."""
    from augment.sampling import SampleRequest, run_sample

    console = Console(stderr=True, quiet=quiet)
    with user_errors():
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
    path: Path = typer.Argument(..., help="An HDF5 file or PNG folder written by augment synth."),
    as_json: bool = typer.Option(False, "--json", help="Print the full provenance as JSON."),
) -> None:
    """Summarise a synthetic dataset: classes, size, how it was made, quality figures."""
    from augment.inspection import summary_lines
    from augment.output import read_output

    with user_errors():
        dataset = read_output(path)
    if as_json:
        typer.echo(json.dumps(dataset.provenance, indent=1))
        return
    for line in summary_lines(path, dataset):
        typer.echo(line)


@app.command()
def evaluate(
    synthetic: Path = typer.Argument(
        ..., metavar="SYNTHETIC", help="HDF5 file or PNG folder written by synth."
    ),
    real: Path = typer.Option(..., "--real", help="The real (training) folder the synthetic data came from."),
    holdout: Path | None = typer.Option(None, "--holdout", help="Real images not used for synthesis."),
    as_json: bool = typer.Option(False, "--json", help="Print every figure as JSON."),
    report: Path | None = typer.Option(
        None, "--report", help="Write an HTML report (and PNGs) to this folder."
    ),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing report folder."),
    on_bad_file: str = typer.Option("fail", "--on-bad-file", help="fail or skip unreadable real files."),
) -> None:
    """How useful and how novel SYNTHETIC is: privacy ratio, near-copies, PRDC, KID, utility."""
    from augment import evaluation

    with user_errors():
        if report is not None and report.exists() and not overwrite:
            raise AugmentError(f"{report} already exists; pass --overwrite to replace it")
        result = evaluation.evaluate(synthetic, real, holdout, on_bad_file=on_bad_file)
        page = evaluation.write_report(result, report, overwrite) if report is not None else None
    if as_json:
        typer.echo(json.dumps(result.figures, indent=1))
    else:
        for line in evaluation.summary_lines(result):
            typer.echo(line)
    if page is not None:
        typer.echo(f"report: {page}", err=True)


def main() -> None:
    """Console entry point."""
    app()
