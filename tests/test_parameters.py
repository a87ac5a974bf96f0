"""The parameter table is the one declaration of every ``augment synth`` setting: the CLI's
options, the request's defaults, the modes' configurations and the README's options table must
all agree with it."""

from __future__ import annotations

import dataclasses
import pathlib
import re

import pytest
import typer

from augment import parameters
from augment.cli.app import app
from augment.errors import AugmentError
from augment.gantk.modes import MODES
from augment.gantk.resolution import at_size
from augment.io.readers import ReadSettings
from augment.parameters import PARAMETERS
from augment.run import SynthRequest

README = pathlib.Path(__file__).resolve().parent.parent / "README.md"


def synth_options() -> dict[str, typer.core.TyperOption]:
    command = typer.main.get_group(app).commands["synth"]
    return {p.name: p for p in command.params if p.param_type_name == "option"}


def test_every_synth_option_is_declared_once_in_the_table_and_built_from_it():
    options = synth_options()
    assert list(options) == list(PARAMETERS)  # the same settings, in the same order
    for name, parameter in PARAMETERS.items():
        option = options[name]
        assert option.opts == [parameter.flag], name
        assert option.secondary_opts == ([parameter.negative] if parameter.switch else []), name
        assert option.help == parameter.help, name
        assert option.show_default == parameter.show_default, name
        if parameter.metavar is not None:
            assert option.metavar == parameter.metavar, name
        if parameter.default is not None:
            assert option.default == parameter.default, name


def _has(config, name: str) -> bool:
    return hasattr(config, name) or hasattr(config.discriminator, name)


def test_every_parameter_goes_where_the_table_says():
    request = {f.name for f in dataclasses.fields(SynthRequest)}
    reading = {f.name for f in dataclasses.fields(ReadSettings)}
    destinations = {"request": request, "reading": reading, "cli": set()}
    for name, parameter in PARAMETERS.items():
        if parameter.target == "mode":
            takers = [m for m in MODES if _has(MODES[m].configure({}), name)]
            assert takers, name  # some mode's configuration has it; the others refuse it
            for mode in set(MODES) - set(takers):
                with pytest.raises(AugmentError):
                    MODES[mode].configure({name: configured(takers[0], name)})
            assert name not in request | reading, name
        else:
            assert parameter.target == "cli" or name in destinations[parameter.target], name
            assert all(name not in d for t, d in destinations.items() if t != parameter.target), name


def test_the_request_and_the_readers_take_their_defaults_from_the_table():
    request = SynthRequest(pathlib.Path("in"), pathlib.Path("out"))
    for name in parameters.targeted("request"):
        if parameters.default(name) is not None:
            assert getattr(request, name) == parameters.default(name), name
    assert ReadSettings().slice_axis == parameters.default("slice_axis")


def test_from_options_sends_each_value_where_the_table_says(tmp_path):
    request = SynthRequest.from_options(
        tmp_path / "scans",
        {"steps": 7, "real_batch_size": 16, "slice_axis": "coronal", "window": "-160,240", "seed": 3}
        | {"n": None},
    )
    assert request.config.steps == 7 and request.config.discriminator.real_batch_size == 16
    assert request.read_settings == ReadSettings("coronal", (-160.0, 240.0))
    assert request.seed == 3 and request.n is None
    assert request.fixed_batches == frozenset({"real"})
    assert request.out == pathlib.Path("scans-synthetic.h5")
    png = SynthRequest.from_options(tmp_path / "scans", {"format": "png"})
    assert png.out == pathlib.Path("scans-synthetic")


@pytest.mark.parametrize(
    "options, message",
    [
        ({"quiet": True}, "`quiet` is the command line's own, not a setting of the library"),
        ({"stepz": 3}, "`stepz` is not a setting of a synthesis run"),
        ({"mode": "gan"}, "`mode` must be direct or generator, got 'gan'"),
    ],
)
def test_from_options_refuses_what_is_not_a_setting(tmp_path, options, message):
    with pytest.raises(AugmentError) as raised:
        SynthRequest.from_options(tmp_path, options)
    assert str(raised.value) == message


def configured(mode: str, name: str, options: dict | None = None):
    """The value of ``name`` in ``mode``'s configuration (the discriminator's field where it is one)."""
    config = MODES[mode].configure(options or {})
    return getattr(config, name) if hasattr(config, name) else getattr(config.discriminator, name)


@pytest.mark.parametrize("name", [n for n, p in PARAMETERS.items() if p.per_mode and n != "novelty_floor"])
def test_the_modes_defaults_are_the_tables(name):
    for mode, value in PARAMETERS[name].per_mode.items():
        sized = at_size(MODES[mode].configure({}), parameters.SCAN_SIZE)  # up to scan sizes
        owner = sized if hasattr(sized, name) else sized.discriminator
        assert getattr(owner, name) == value, (mode, name)


@pytest.mark.parametrize(
    "name, value",
    [
        ("steps", 7),
        ("batch_size", 3),
        ("real_batch_size", 5),
        ("augment_real_to", 9),
        ("matmul_precision", "bfloat16"),
    ],
)
def test_each_mode_option_reaches_the_configuration_field_of_the_same_name(name, value):
    for mode in MODES:
        assert configured(mode, name, {name: value}) == value, mode


def test_the_size_dependent_defaults_are_the_tables():
    for mode in MODES:
        config = MODES[mode].configure({})
        assert at_size(config, parameters.SCAN_SIZE).augment_real_to == parameters.AUGMENT_REAL_TO
        assert at_size(config, parameters.SCAN_SIZE + 1).augment_real_to == 0
        assert MODES[mode].novelty_floor == PARAMETERS["novelty_floor"].per_mode[mode]
    generator = at_size(MODES["generator"].configure({}), parameters.SCAN_SIZE + 1)
    assert (generator.steps, generator.batch_size) == (
        parameters.SCAN_GENERATOR_STEPS,
        parameters.SCAN_GENERATOR_BATCH,
    )
    for name in ("steps", "batch_size"):  # --help and the README say the scan sizes' default too
        assert f"above {parameters.SCAN_SIZE} px" in str(PARAMETERS[name].show_default)
    scans = parameters.SCAN_SIZE + 1
    assert (
        MODES["direct"].resolve(MODES["direct"].configure({}), scans).novelty_floor
        == parameters.SCAN_NOVELTY_FLOOR
    )
    floor = MODES["generator"].resolve(MODES["generator"].configure({}), scans).novelty_floor
    assert floor == parameters.SCAN_GENERATOR_NOVELTY_FLOOR


def test_ranges_are_checked_with_the_parameters_name():
    PARAMETERS["novelty_floor"].check(None)
    PARAMETERS["novelty_floor"].check(0)
    with pytest.raises(
        AugmentError, match=r"^`novelty_floor=150` must be between 0 and 100 \(a percentage\)$"
    ):
        PARAMETERS["novelty_floor"].check(150)
    with pytest.raises(AugmentError, match=r"^`checkpoint_every` must not be negative, got -1$"):
        PARAMETERS["checkpoint_every"].check(-1)


def readme_options_table() -> list[str]:
    """The rows of the README's options table (each starts with a flag)."""
    return [line for line in README.read_text().splitlines() if line.startswith("| `--")]


def test_the_readme_options_table_lists_every_flag_and_no_other():
    rows = readme_options_table()
    flags_in_readme = {flag for row in rows for flag in re.findall(r"`(--[a-z-]+)", row.split(" | ")[0])}
    declared = {p.flag for p in PARAMETERS.values()} | {p.negative for p in PARAMETERS.values() if p.negative}
    assert flags_in_readme <= declared, flags_in_readme - declared
    for parameter in PARAMETERS.values():
        assert parameter.flag in flags_in_readme or parameter.negative in flags_in_readme, parameter.flag


def readme_row(name: str) -> str:
    """The README options table's row whose flags include the parameter ``name``'s."""
    flag = PARAMETERS[name].flag
    return next(r for r in readme_options_table() if f"`{flag}" in r.split(" | ")[0])


def test_the_readme_states_each_modes_default():
    for name in ("steps", "batch_size", "novelty_floor"):
        row = readme_row(name)
        for value in PARAMETERS[name].per_mode.values():
            assert f"{value:g}" in row, (name, value)
    for name in ("steps", "batch_size", "augment_real_to", "novelty_floor"):  # the scan sizes' rule
        assert f"above {parameters.SCAN_SIZE} px" in readme_row(name), name
    # the convergence stop follows coarse to fine, which starts above the coarse size
    convergence = readme_row("convergence_stop")
    assert f"on above {parameters.COARSE_SIZE} px" in convergence
    assert f"off at {parameters.COARSE_SIZE} px or less" in convergence


def test_resolve_decides_each_size_dependent_field_once_with_its_reason():
    from augment.gantk import GeneratorConfig, SynthesisConfig
    from augment.gantk.resolution import SET, check_resolved, resolve

    config, decisions = resolve(SynthesisConfig(steps=7), parameters.SCAN_SIZE + 1)
    assert (config.augment_real_to, config.start, config.steps) == (0, parameters.SCAN_DIRECT_START, 7)
    why = {d.name: d.why for d in decisions}
    assert why["steps"] == SET
    assert why["augment_real_to"].startswith(f"above {parameters.SCAN_SIZE} px: ")
    assert why["start"].startswith(f"above {parameters.SCAN_SIZE} px: each image starts as a real image")
    check_resolved(config)
    again, decided_again = resolve(config, parameters.SCAN_SIZE + 1)  # nothing is left to decide
    assert again == config and all(d.why == SET for d in decided_again)
    small, _ = resolve(GeneratorConfig(), parameters.SCAN_SIZE)
    assert (small.steps, small.batch_size, small.polish_steps) == (
        parameters.GENERATOR_STEPS,
        parameters.GENERATOR_BATCH,
        parameters.POLISH_STEPS,
    )
    with pytest.raises(AugmentError, match=r"^`augment_real_to`, `steps`, `batch_size`, `polish_steps` "):
        check_resolved(GeneratorConfig())
