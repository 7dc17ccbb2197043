"""The ``mdval`` command: core commands here, service commands plugged in by entry point."""

from __future__ import annotations

from importlib.metadata import entry_points

import typer

from mdval import __version__
from mdval.cli.bench import bench
from mdval.cli.compare import compare
from mdval.cli.control import control
from mdval.cli.run import run
from mdval.cli.suite import suite

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
)
app.command()(run)
app.command()(suite)
app.command()(compare)
app.command()(bench)
app.command()(control)


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
