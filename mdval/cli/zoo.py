"""`mdval zoo`: teacher data, training, publishing and the offline report of the student zoo."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mdval.cli.errors import exits_2_on_bad_input

app = typer.Typer(help="The student zoo: distil compact potentials from GFN2-xTB.")

DEFAULT_DATA_DIR = Path("data/zoo")

DataDir = Annotated[Path, typer.Option(help="Where teacher data and training runs live.")]


@app.command()
def data(
    out: DataDir = DEFAULT_DATA_DIR,
    workers: Annotated[int, typer.Option(help="Parallel GFN2-xTB processes.")] = 1,
    smiles: Annotated[Path | None, typer.Option(help="Another SMILES list.")] = None,
    seed: Annotated[int, typer.Option(help="Master seed of embedding and MD.")] = 20240601,
) -> None:
    """Sample GFN2-xTB teacher data (cached per molecule) into OUT/teacher.npz."""
    from mdval.zoo.dataset import FrameSet
    from mdval.zoo.molecules import read_smiles_list
    from mdval.zoo.publish import make_test_set
    from mdval.zoo.teacher import TeacherConfig, generate

    specs = read_smiles_list(smiles) if smiles else None
    path = generate(out, cfg=TeacherConfig(seed=seed), specs=specs, workers=workers)
    test_set = make_test_set(FrameSet.load(path), out / "test_set.npz")
    typer.echo(f"wrote {path} and {out / 'test_set.npz'} ({test_set.n_frames} test frames)")


@app.command()
def train(
    size: Annotated[str, typer.Option(help="original | tiny | ultra-tiny")],
    data_dir: DataDir = DEFAULT_DATA_DIR,
    seed: int = 0,
    epochs: Annotated[int, typer.Option(help="Most epochs.")] = 60,
    max_minutes: Annotated[float | None, typer.Option(help="Time budget (fixes epochs).")] = None,
    batch_size: int = 16,
    lr: float = 2e-3,
    device: Annotated[str, typer.Option(help="auto | cpu | cuda")] = "auto",
    threads: Annotated[int, typer.Option(help="torch CPU threads.")] = 1,
    weights_dir: Annotated[
        Path | None, typer.Option(help="Export here (default: package).")
    ] = None,
    test_set: Annotated[
        Path | None, typer.Option(help="Test subset for the card (default DATA_DIR/test_set.npz).")
    ] = None,
    init_from: Annotated[
        Path | None, typer.Option(help="Fine-tune from a best.pt or a shipped student's .pt.")
    ] = None,
    focus: Annotated[
        list[str] | None, typer.Option(help="Molecule to emphasise (repeatable).")
    ] = None,
    focus_factor: Annotated[int, typer.Option(help="Repeats of focus molecules' frames.")] = 1,
    run_name: Annotated[str | None, typer.Option(help="Run folder (default: SIZE).")] = None,
    patience: Annotated[
        int, typer.Option(help="Early stop after this many epochs without improvement.")
    ] = 10,
    lr_final: Annotated[float, typer.Option(help="Learning rate at the last epoch.")] = 2e-5,
) -> None:
    """Train (or resume) one size; best-so-far weights and card are exported periodically."""
    import torch

    from mdval.zoo import WEIGHTS_DIR
    from mdval.zoo.train import TrainConfig
    from mdval.zoo.train import train as run_training

    torch.set_num_threads(threads)
    cfg = TrainConfig(
        seed=seed,
        epochs=epochs,
        max_minutes=max_minutes,
        batch_size=batch_size,
        lr=lr,
        lr_final=lr_final,
        patience_epochs=patience,
        device=device,
        init_from=str(init_from) if init_from else None,
        focus_molecules=tuple(focus or ()),
        focus_factor=focus_factor,
    )
    run_training(
        size,
        data_dir / "teacher.npz",
        data_dir / "runs" / (run_name or size),
        cfg=cfg,
        weights_dir=weights_dir or WEIGHTS_DIR,
        test_set_path=test_set or data_dir / "test_set.npz",
    )


@app.command()
@exits_2_on_bad_input
def publish(
    run_dir: Annotated[Path, typer.Argument(help="A finished run, e.g. data/zoo/runs/original.")],
    data_dir: DataDir = DEFAULT_DATA_DIR,
    weights_dir: Annotated[
        Path | None, typer.Option(help="Publish here (default: the package's weights).")
    ] = None,
    test_set: Annotated[
        Path | None, typer.Option(help="Test subset for the card (default: the committed one).")
    ] = None,
    name: Annotated[str | None, typer.Option(help="Model name (default: the run's size).")] = None,
) -> None:
    """Publish a finished run's best weights with a fresh card (timed on this machine)."""
    from mdval.errors import InputError
    from mdval.zoo import WEIGHTS_DIR
    from mdval.zoo.train import publish_run

    try:
        card = publish_run(
            run_dir,
            data_dir / "teacher.npz",
            weights_dir=weights_dir or WEIGHTS_DIR,
            test_set_path=test_set,
            export_name=name,
        )
    except (FileNotFoundError, ValueError) as exc:
        raise InputError(str(exc)) from None
    test = card["test"]
    typer.echo(
        f"published {card['name']} ({card['n_params']} parameters, sha256 {card['sha256'][:12]}): "
        f"test force RMSE {test['force_rmse_eV_per_A']:.4f} eV/Å, R² {test['force_r2']:.4f}"
    )


@app.command()
def report(
    weights_dir: Annotated[Path | None, typer.Option(help="Default: the shipped weights.")] = None,
    test_set: Annotated[Path | None, typer.Option(help="Default: the committed subset.")] = None,
    retime: Annotated[bool, typer.Option(help="Re-measure per-call cost into the cards.")] = False,
    json_out: Annotated[Path | None, typer.Option("--json", help="Also write JSON.")] = None,
    markdown: Annotated[bool, typer.Option(help="Print Markdown tables instead.")] = False,
    update_docs: Annotated[
        Path | None, typer.Option(help="Rewrite the zoo table in this Markdown file.")
    ] = None,
) -> None:
    """Offline accuracy of the three students vs the teacher on the held-out test set."""
    from mdval.zoo.report import build_report, markdown_table, print_report
    from mdval.zoo.report import update_docs as write_docs_table

    rows = build_report(weights_dir=weights_dir, test_set_path=test_set, retime=retime)
    if update_docs is not None:
        write_docs_table(update_docs, rows)
    if markdown:
        typer.echo(markdown_table(rows))
    else:
        print_report(rows)
    if json_out is not None:
        import json

        json_out.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    app()
