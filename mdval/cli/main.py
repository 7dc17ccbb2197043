"""The ``mdval`` command: core commands here, service commands plugged in by entry point.

The core commands are imported when one of them is run (or the command list is shown), not
at start: ``mdval submit`` (the CI client, a plugged-in command) then loads none of the
core's scientific stack (numpy, ase, torch), so it works where only the client's
dependencies are installed (``pip install mdval``: httpx, typer, rich, pydantic).
"""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import entry_points
from typing import Any

import typer
from rich.markup import escape
from typer.core import TyperGroup

from mdval import __version__

#: The core's commands: name -> (module, function), imported on first use.
CORE_COMMANDS = {
    "run": ("mdval.cli.run", "run"),
    "suite": ("mdval.cli.suite", "suite"),
    "compare": ("mdval.cli.compare", "compare"),
    "bench": ("mdval.cli.bench", "bench"),
    "control": ("mdval.cli.control", "control"),
}


def core_command(name: str) -> Any:
    """The click command of core command ``name`` (its module imported now); where the
    core's dependencies are missing (a client-only install), a command that says so."""
    module, attr = CORE_COMMANDS[name]
    one = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    try:
        one.command(name)(getattr(import_module(module), attr))
    except ModuleNotFoundError as exc:
        hint = f"needs the core (no module {exc.name!r} here): pip install 'mdval[core]'"

        @one.command(name, help=f"Not installed: {escape(hint)}.", context_settings=_ANY_ARGS)
        def missing() -> None:
            typer.echo(f"mdval {name} {hint}", err=True)
            raise typer.Exit(2)

    return typer.main.get_command(one)


_ANY_ARGS = {"ignore_unknown_options": True, "allow_extra_args": True}


class LazyCoreGroup(TyperGroup):
    """A group whose core commands are built when asked for (see the module docstring)."""

    def list_commands(self, ctx: Any) -> list[str]:
        plugged = super().list_commands(ctx)
        return [*(n for n in CORE_COMMANDS if n not in plugged), *plugged]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name in CORE_COMMANDS and cmd_name not in self.commands:
            self.commands[cmd_name] = core_command(cmd_name)
        return super().get_command(ctx, cmd_name)


app = typer.Typer(
    name="mdval",
    help=(
        "Validate machine-learned interatomic potentials in molecular dynamics: stability, "
        "NVE energy conservation, force accuracy along the model's own trajectory, speed.\n\n"
        "Units: temperatures K, timesteps fs, durations ps, energies eV, forces eV/Å."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    cls=LazyCoreGroup,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"mdval {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """mdval command line."""


def _plug_in() -> None:
    """Add sub-apps: the zoo (core) and whatever the ``mdval.cli`` entry points provide."""
    from mdval.cli.zoo import app as zoo_app

    app.add_typer(zoo_app, name="zoo", help="The student zoo: data, training, publishing, report.")
    for ep in entry_points(group="mdval.cli"):
        plugin = ep.load()
        if isinstance(plugin, typer.Typer):
            app.add_typer(plugin)  # unnamed: its commands join the top level
        else:
            plugin(app)


_plug_in()


def main() -> None:
    app()
