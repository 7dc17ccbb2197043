"""`mdval zoo report`: the offline accuracy table of the three students vs the teacher."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from mdval.zoo import WEIGHTS_DIR, ZOO_NAMES
from mdval.zoo.card import sha256_file, time_per_call, time_teacher_per_call, write_card
from mdval.zoo.dataset import FrameSet
from mdval.zoo.publish import TEST_SET_PATH, card_figures

#: The card figures the report checks (``compare_to_card``).
CHECKED_FIGURES = (
    "energy_mae_meV_per_atom",
    "force_rmse_eV_per_A",
    "force_mae_eV_per_A",
    "force_r2",
    "force_angle_error_deg",
)


def load(
    name: str, weights_dir: Path = WEIGHTS_DIR
) -> tuple[torch.jit.ScriptModule, dict[str, Any]]:
    """A shipped student (TorchScript, never unpickled) and its card."""
    model = torch.jit.load(str(weights_dir / f"{name}.pt"), map_location="cpu")
    card_path = weights_dir / f"{name}.json"
    card = json.loads(card_path.read_text()) if card_path.exists() else {}
    return model, card


def compare_to_card(figures: dict[str, Any], card: dict[str, Any]) -> float:
    """Largest relative difference between recomputed figures and the card's, over
    ``CHECKED_FIGURES`` of the test and held-out sets."""
    worst = 0.0
    for part in ("test", "heldout"):
        for key in CHECKED_FIGURES:
            a, b = float(figures[part][key]), float(card[part][key])
            worst = max(worst, abs(a - b) / max(abs(b), 1e-12))
    return worst


def build_report(
    *,
    weights_dir: Path | None = None,
    test_set_path: Path | None = None,
    retime: bool = False,
    names: tuple[str, ...] = ZOO_NAMES,
) -> list[dict[str, Any]]:
    """One row per student present in ``weights_dir`` (figures recomputed, not copied)."""
    weights_dir = weights_dir or WEIGHTS_DIR
    test_set = FrameSet.load(test_set_path or TEST_SET_PATH)
    rows: list[dict[str, Any]] = []
    n_original: int | None = None
    for name in names:
        if not (weights_dir / f"{name}.pt").exists():
            continue
        model, card = load(name, weights_dir)
        n_params = sum(p.numel() for p in model.parameters())
        if name == "original":
            n_original = n_params
        figures = card_figures(model, test_set)
        cost = card.get("cost_ms_per_call", {})
        if retime and card:
            cost = {
                "1_thread": time_per_call(model, threads=1),
                "2_threads": time_per_call(model, threads=2),
            }
            card["cost_ms_per_call"] = cost
            card["cost_context"]["note"] = "re-measured by `mdval zoo report --retime`"
            write_card(card, weights_dir, name)
        rows.append(
            {
                "name": name,
                "status": card.get("status", "no card"),
                "n_params": n_params,
                "compression_vs_original": (n_original / n_params) if n_original else None,
                "sha256": sha256_file(weights_dir / f"{name}.pt"),
                "sha256_matches_card": card.get("sha256")
                == sha256_file(weights_dir / f"{name}.pt"),
                "cost_ms_per_call": cost,
                "test": figures["test"],
                "heldout": figures["heldout"],
                "max_rel_diff_vs_card": compare_to_card(figures, card) if card else None,
            }
        )
    if retime:
        rows.append(
            {
                "name": "teacher (GFN2-xTB)",
                "cost_ms_per_call": {"1_thread": time_teacher_per_call()},
            }
        )
    return rows


def print_report(rows: list[dict[str, Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if not console.is_terminal:  # a log or a pipe: don't squeeze the table to 80 columns
        console = Console(width=170)
    for part, title in (
        (
            "test",
            "Test trajectories of the four test molecules (300 K and 500 K, never trained on)",
        ),
        ("heldout", "Held-out molecules (never trained on)"),
    ):
        table = Table(title=f"zoo vs GFN2-xTB teacher — {title}")
        for col in (
            "model",
            "params",
            "compr.",
            "frames",
            "E MAE meV/at",
            "F RMSE eV/Å",
            "F MAE eV/Å",
            "F R²",
            "R² x/y/z",
            "angle °",
            "ms/call 1t",
        ):
            table.add_column(col, justify="right")
        for r in rows:
            if part not in r:
                continue
            m = r[part]
            cost = r["cost_ms_per_call"].get("1_thread")
            table.add_row(
                r["name"],
                f"{r['n_params']:,}",
                f"{r['compression_vs_original']:.1f}×" if r["compression_vs_original"] else "—",
                str(m["n_frames"]),
                f"{m['energy_mae_meV_per_atom']:.2f}",
                f"{m['force_rmse_eV_per_A']:.4f}",
                f"{m['force_mae_eV_per_A']:.4f}",
                f"{m['force_r2']:.4f}",
                "/".join(f"{x:.3f}" for x in m["force_r2_xyz"]),
                f"{m['force_angle_error_deg']:.2f}",
                f"{cost:.2f}" if cost else "—",
            )
        console.print(table)
    for r in rows:
        if "test" not in r:
            console.print(
                f"{r['name']}: {r['cost_ms_per_call']['1_thread']:.2f} ms per call (1 thread)"
            )
            continue
        diff = r["max_rel_diff_vs_card"]
        if diff is None:
            console.print(f"{r['name']}: no card")
            continue
        sha = "matches" if r["sha256_matches_card"] else "DIFFERS from"
        console.print(
            f"{r['name']}: status {r['status']}; sha256 {sha} card; "
            f"figures vs card: max rel. diff {diff:.2e}"
        )


def markdown_table(rows: list[dict[str, Any]]) -> str:
    """The report as Markdown tables (for docs/zoo.md)."""
    out: list[str] = []
    for part, title in (
        ("test", "Test trajectories of the four test molecules (never trained on)"),
        ("heldout", "Held-out molecules (never trained on)"),
    ):
        out += [
            f"**{title}**",
            "",
            "| model | params | compression | frames | energy MAE (meV/atom) | force RMSE (eV/Å) "
            "| force MAE (eV/Å) | force R² | R² x / y / z | angle error (°) |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        for r in rows:
            if part not in r:
                continue
            m = r[part]
            comp = r["compression_vs_original"]
            out.append(
                f"| {r['name']} | {r['n_params']:,} | {f'{comp:.1f}×' if comp else '—'} "
                f"| {m['n_frames']} | {m['energy_mae_meV_per_atom']:.2f} "
                f"| {m['force_rmse_eV_per_A']:.4f} | {m['force_mae_eV_per_A']:.4f} "
                f"| {m['force_r2']:.4f} | "
                + " / ".join(f"{x:.4f}" for x in m["force_r2_xyz"])
                + f" | {m['force_angle_error_deg']:.2f} |"
            )
        out.append("")
    return "\n".join(out)


DOCS_START = "<!-- zoo-table:start (written by `mdval zoo report --update-docs`) -->"
DOCS_END = "<!-- zoo-table:end -->"


def update_docs(path: Path, rows: list[dict[str, Any]]) -> None:
    """Replace the text between the zoo-table markers of ``path`` with the current tables."""
    text = path.read_text()
    if DOCS_START not in text or DOCS_END not in text:
        raise ValueError(f"{path} has no zoo-table markers")
    head, rest = text.split(DOCS_START, 1)
    _, tail = rest.split(DOCS_END, 1)
    costs = [
        f"{r['name']}: "
        + ", ".join(f"{k.replace('_', ' ')} {v:.2f} ms" for k, v in r["cost_ms_per_call"].items())
        for r in rows
        if r.get("cost_ms_per_call")
    ]
    body = markdown_table(rows) + "\nPer-call cost (energy + forces, alanine dipeptide, "
    body += "float64, CPU, median): " + "; ".join(costs) + ".\n"
    status = ", ".join(f"{r['name']}: {r['status']}" for r in rows if "status" in r)
    body += f"\nCard status: {status}.\n"
    path.write_text(head + DOCS_START + "\n" + body + DOCS_END + tail)
