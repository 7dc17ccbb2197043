"""A few training steps on a tiny GFN2-xTB dataset, TorchScript export, reload, report."""

from __future__ import annotations

import json
from typing import Any

import pytest
import torch

from mdval.zoo import WEIGHTS_DIR, ZOO_NAMES
from mdval.zoo.dataset import FrameSet
from mdval.zoo.model import energy_and_forces
from mdval.zoo.report import DOCS_END, DOCS_START, build_report, markdown_table, update_docs
from mdval.zoo.sizes import build


def test_training_ran_and_checkpointed(tiny_run: dict[str, Any]) -> None:
    state = tiny_run["state"]
    assert state["epoch"] == 2 and state["finished"]
    assert (tiny_run["run"] / "state.pt").exists()
    lines = (tiny_run["run"] / "log.jsonl").read_text().splitlines()
    assert len(lines) == 2


def test_data_splits_by_trajectory(tiny_run: dict[str, Any]) -> None:
    data = FrameSet.load(tiny_run["data"])
    a = data.arrays
    names = data.molecule_names()
    split_of: dict[tuple[int, int], set[int]] = {}
    for mol, traj, split in zip(a["molecule"], a["trajectory"], a["split"], strict=True):
        if traj >= 0:
            split_of.setdefault((int(mol), int(traj)), set()).add(int(split))
    assert all(len(s) == 1 for s in split_of.values())  # one split per trajectory
    held = names.index("2-propanol")
    assert set(a["split"][a["molecule"] == held]) == {3}  # held out: never train/val
    water = names.index("water")
    assert {2, 0, 1} <= set(a["split"][a["molecule"] == water])
    # the core molecules' extra trajectories are numbered after the base plan (7
    # trajectories): the relaxed one is 7, the one from its own conformer 8
    water_traj = a["trajectory"][a["molecule"] == water]
    assert {7, 8} <= set(water_traj.tolist()) and int(water_traj.max()) == 8


def test_exported_torchscript_reloads_with_same_energies_and_forces(
    tiny_run: dict[str, Any],
) -> None:
    data = FrameSet.load(tiny_run["data"])
    eager = build("ultra-tiny", data.elements()).double()
    eager.load_state_dict(torch.load(tiny_run["run"] / "best.pt", weights_only=True))
    scripted = torch.jit.load(str(tiny_run["weights"] / "ultra-tiny.pt"))
    batch = next(data.batches(8, dtype=torch.float64))
    args = (batch.positions, batch.numbers, batch.system_index, batch.n_systems)
    e_ref, f_ref = energy_and_forces(eager, *args)
    e, f = energy_and_forces(scripted, *args)
    assert e.dtype == torch.float64
    torch.testing.assert_close(e, e_ref, rtol=1e-10, atol=0)
    torch.testing.assert_close(f, f_ref, rtol=1e-10, atol=1e-10 * float(f_ref.abs().max()))


def test_card_is_written_with_the_weights_hash(tiny_run: dict[str, Any]) -> None:
    from mdval.zoo.card import sha256_file

    card = json.loads((tiny_run["weights"] / "ultra-tiny.json").read_text())
    assert card["sha256"] == sha256_file(tiny_run["weights"] / "ultra-tiny.pt")
    assert card["n_params"] == sum(
        p.numel() for p in torch.jit.load(str(tiny_run["weights"] / "ultra-tiny.pt")).parameters()
    )
    for key in (
        "energy_mae_meV_per_atom",
        "force_rmse_eV_per_A",
        "force_r2",
        "force_r2_xyz",
        "force_angle_error_deg",
    ):
        assert (key in card["test"] and key in card["heldout"]) or card["heldout"]["n_frames"] == 0
    assert (tiny_run["weights"] / "ultra-tiny.md").read_text().startswith("# zoo:ultra-tiny")


def test_report_reproduces_card_figures(tiny_run: dict[str, Any]) -> None:
    rows = build_report(weights_dir=tiny_run["weights"], test_set_path=tiny_run["test_set"])
    assert [r["name"] for r in rows] == ["ultra-tiny"]
    assert rows[0]["sha256_matches_card"]
    assert rows[0]["max_rel_diff_vs_card"] < 0.01
    text = markdown_table(rows)
    assert "Held-out molecules" in text and "| ultra-tiny |" in text
    doc = tiny_run["root"] / "zoo.md"
    doc.write_text(f"# zoo\n{DOCS_START}\nold\n{DOCS_END}\nafter\n")
    update_docs(doc, rows)
    new = doc.read_text()
    assert "old" not in new and "| ultra-tiny |" in new and new.endswith("after\n")


@pytest.mark.physics  # evaluates each shipped student on the 2,000 committed test frames
@pytest.mark.parametrize("name", ZOO_NAMES)
def test_report_reproduces_shipped_cards(name: str) -> None:
    if not (WEIGHTS_DIR / f"{name}.pt").exists():
        pytest.skip(f"zoo:{name} not shipped yet")
    (row,) = build_report(names=(name,))
    assert row["sha256_matches_card"]
    assert row["max_rel_diff_vs_card"] < 0.01


def test_a_fine_tune_can_start_from_an_exported_student(tiny_run: dict[str, Any]) -> None:
    """``--init-from`` takes a shipped TorchScript student as well as a ``best.pt``."""
    from mdval.zoo.train import initial_state

    from_script = initial_state(tiny_run["weights"] / "ultra-tiny.pt")
    from_best = initial_state(tiny_run["run"] / "best.pt")
    assert from_script.keys() == from_best.keys()
    for name, value in from_best.items():
        torch.testing.assert_close(from_script[name].to(value.dtype), value, rtol=1e-6, atol=0)


def test_a_fine_tunes_card_records_the_chain_of_phases(tmp_path: Any) -> None:
    import json as _json

    from mdval.zoo.publish import _recipe, _started_from

    shipped = tmp_path / "original.pt"
    shipped.write_bytes(b"")
    cfg = {"init_from": str(shipped), "focus_molecules": ["water"], "focus_factor": 2}
    old: dict[str, Any] = {"sha256": "ab", "test": {"force_rmse_eV_per_A": 0.08}}
    old["training"] = {"phase_1": {"epochs_done": 38}}  # a phase-2 card of session 1
    (tmp_path / "original.json").write_text(_json.dumps(old))
    start = _started_from(cfg)
    assert start is not None and start["phase"] == 2 and start["sha256"] == "ab"
    assert _recipe(cfg, start).startswith(f"phase 3: fine-tuned from {shipped} (phase 2)")
    old["training"] = {"started_from": {"phase": 2}}
    (tmp_path / "original.json").write_text(_json.dumps(old))
    assert _started_from(cfg)["phase"] == 3  # type: ignore[index]
    assert _recipe({"init_from": None}, None).startswith("phase 1: from scratch")


def test_a_fine_tunes_recipe_says_what_was_repeated() -> None:
    from mdval.zoo.publish import _recipe

    cfg: dict[str, Any] = {"init_from": "a.pt", "focus_molecules": ["water", "methane"]}
    repeated = _recipe({**cfg, "focus_factor": 3}, {"phase": 3})
    assert repeated.startswith("phase 4: fine-tuned from a.pt (phase 3)")
    assert "water, methane repeated 3x" in repeated
    once = _recipe({**cfg, "focus_factor": 1}, {"phase": 3})
    assert "repeated 1x" not in once and "(those of water, methane not repeated)" in once
    assert "validation trajectories of water, methane" in once
    plain = _recipe({"init_from": "a.pt", "focus_molecules": [], "focus_factor": 1}, None)
    assert plain.startswith("phase 2: fine-tuned from a.pt (phase 1) on all training molecules")


def test_a_finished_run_publishes_elsewhere_with_the_same_figures(
    tiny_run: dict[str, Any], tmp_path: Any
) -> None:
    """`mdval zoo publish`: a run trained into one folder lands in another with a fresh card
    whose figures are those the training's own export wrote."""
    from mdval.zoo.train import publish_run

    card = publish_run(
        tiny_run["run"],
        tiny_run["data"],
        weights_dir=tmp_path,
        test_set_path=tiny_run["test_set"],
    )
    trained = json.loads((tiny_run["weights"] / "ultra-tiny.json").read_text())
    assert (tmp_path / "ultra-tiny.pt").exists() and card["status"] == "final"
    assert card["training"]["best_epoch"] == trained["training"]["best_epoch"]
    for part in ("test", "heldout"):
        for key in ("force_rmse_eV_per_A", "energy_mae_meV_per_atom", "force_r2"):
            assert card[part][key] == pytest.approx(trained[part][key], rel=1e-12)
