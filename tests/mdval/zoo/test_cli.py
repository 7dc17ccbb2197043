"""`mdval zoo` command module: thin, four commands."""

from __future__ import annotations

from typing import Any

from typer.testing import CliRunner

from mdval.cli.zoo import app


def test_zoo_commands() -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("data", "train", "publish", "report"):
        assert command in result.output
    result = runner.invoke(app, ["train", "--help"])
    assert result.exit_code == 0 and "--max-minutes" in result.output


def test_publish_refuses_a_folder_without_a_run_with_exit_2(tmp_path: Any) -> None:
    runner = CliRunner()

    def message(result: Any) -> str:  # rich wraps long lines at the terminal's width
        return " ".join(result.output.split())

    result = runner.invoke(app, ["publish", str(tmp_path), "--data-dir", str(tmp_path)])
    assert result.exit_code == 2 and "holds no training run" in message(result)
    for name in ("state.pt", "best.pt"):
        (tmp_path / name).write_bytes(b"")
    result = runner.invoke(app, ["publish", str(tmp_path), "--data-dir", str(tmp_path)])
    assert result.exit_code == 2 and "no teacher data" in message(result)
