"""`mdval zoo` command module: thin, three commands."""

from __future__ import annotations

from typer.testing import CliRunner

from mdval.cli.zoo import app


def test_zoo_commands() -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("data", "train", "report"):
        assert command in result.output
    result = runner.invoke(app, ["train", "--help"])
    assert result.exit_code == 0 and "--max-minutes" in result.output
