"""``augment``: a thin Typer app over the library. It parses, calls, and maps errors to messages.

Every :class:`augment.errors.AugmentError` becomes one line ``error: <message>`` on stderr and
exit code 1, with no traceback.
"""

from __future__ import annotations

import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
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


app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__.split("\n")[0])


def _version(value: bool) -> None:
    if value:
        typer.echo(f"augment {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
) -> None:
    """Turn a folder of a few real images into a larger labelled synthetic dataset (GA-NTK)."""


@app.command()
def synth(
    input_folder: Path = typer.Argument(..., metavar="INPUT", help="Folder of images; sub-folders are classes."),
    n: int = typer.Option(500, "--n", help="Total synthetic images, split across classes by their real counts."),
    out: Optional[Path] = typer.Option(None, "--out", help="Output .h5 file [default: <INPUT name>-synthetic.h5]."),
    size: Optional[int] = typer.Option(None, "--size", help="Square working size [default: median shorter side, at most 64]."),
    channels: str = typer.Option("auto", "--channels", help="auto, 1 or 3."),
    steps: int = typer.Option(300, "--steps", help="Optimisation steps per synthetic batch."),
    batch_size: int = typer.Option(256, "--batch-size", help="Synthetic images per GA-NTK problem."),
    seed: int = typer.Option(0, "--seed", help="Random seed: the same seed gives the same images on CPU."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing output file."),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bar or summary."),
) -> None:
    """Synthesise labelled images from the real images in INPUT and write them to an HDF5 file."""
    from augment.gantk import SynthesisConfig
    from augment.pipeline import run_synth

    target = out if out is not None else Path(f"{input_folder.resolve().name}-synthetic.h5")
    console = Console(stderr=True, quiet=quiet)
    with user_errors(), Progress(
        TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[loss]}"),
        TimeRemainingColumn(), console=console, disable=quiet,
    ) as bar:
        tasks: dict[str, int] = {}

        def progress(class_name, problem, problems, step, total, loss):
            if class_name not in tasks:
                tasks[class_name] = bar.add_task(class_name, total=problems * total, loss="")
            bar.update(
                tasks[class_name], completed=problem * total + step, loss=f"loss {loss:.4f}",
                description=f"{class_name} batch {problem + 1}/{problems}",
            )

        config = SynthesisConfig(steps=steps, synthetic_batch_size=batch_size)
        summaries = run_synth(
            input_folder, target, n=n, size=size, channels=channels, config=config, seed=seed,
            overwrite=overwrite, command_line=["augment", *sys.argv[1:]], progress=progress,
        )
    table = Table("class", "real", "synthetic", "final loss", "seconds", title=f"wrote {target}")
    for s in summaries:
        table.add_row(s.class_name, str(s.real), str(s.synthetic), f"{s.final_loss:.4f}", f"{s.seconds:.1f}")
    console.print(table)


def main() -> None:
    """Console entry point."""
    app()
