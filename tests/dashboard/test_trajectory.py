"""The numpy-only trajectory tools of the dashboard."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dashboard import trajectory as tr
from tests.dashboard.fake_data import STRUCTURES, read_xyz


def _frame_text(symbols: list[str], pos: np.ndarray, step: int, t: float) -> str:
    lines = [
        str(len(symbols)),
        f'Properties=species:S:1:pos:R:3 step={step} time_ps={t} pbc="F F F"',
    ]
    lines += [f"{s} {x} {y} {z}" for s, (x, y, z) in zip(symbols, pos, strict=True)]
    return "\n".join(lines) + "\n"


def test_the_last_complete_frame_is_read_from_the_end_of_a_file_being_written(
    tmp_path: Path,
) -> None:
    symbols, pos, _ = read_xyz(STRUCTURES["H2O"])
    text = "".join(_frame_text(symbols, pos + k, k * 10, k * 0.01) for k in range(200))
    path = tmp_path / "trajectory.extxyz"
    path.write_text(text + "3\nProperties=species:S:1:pos:R:3 step=2000\nO 0 0")  # partial frame
    frame = tr.read_last_frame(path)
    assert frame is not None and frame.info["step"] == 1990
    assert frame.symbols == ["O", "H", "H"]
    np.testing.assert_allclose(frame.positions, pos + 199)
    assert len(tr.read_frames(path, max_frames=50)) == 50


def test_lattice_is_read_as_the_cell() -> None:
    lattice = 'Lattice="7.22 0.0 0.0 0.0 7.22 0.0 0.0 0.0 7.22"'
    text = f"1\n{lattice} Properties=species:S:1:pos:R:3 step=0\nCu 0 0 0\n"
    (frame,) = tr.parse_extxyz(text)
    assert frame.cell is not None
    np.testing.assert_allclose(np.diag(frame.cell), np.full(3, 7.22))


def test_bonds_of_methane_and_water() -> None:
    symbols, pos, _ = read_xyz(STRUCTURES["CH4"])
    assert sorted(map(tuple, tr.bonds(symbols, pos).tolist())) == [(0, 1), (0, 2), (0, 3), (0, 4)]
    symbols, pos, _ = read_xyz(STRUCTURES["H2O"])
    assert len(tr.bonds(symbols, pos)) == 2


def test_kabsch_rmsd_is_zero_for_a_rotated_copy_and_known_for_a_shift() -> None:
    rng = np.random.default_rng(1)
    p = rng.normal(size=(10, 3))
    c, s = np.cos(0.7), np.sin(0.7)
    rot = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])
    assert tr.kabsch_rmsd_A(p, p @ rot.T + 3.0) == pytest.approx(0.0, abs=1e-9)
    q = p.copy()
    q[0] += [0.0, 0.0, 1.0]  # one atom moved: RMSD > 0 but below the naive sqrt(1/10)
    assert 0 < tr.kabsch_rmsd_A(p, q) <= np.sqrt(0.1) + 1e-12


def test_distance_histogram_integrates_to_one() -> None:
    symbols, pos, _ = read_xyz(STRUCTURES["alanine-dipeptide"])
    r, h = tr.distance_histogram([tr.Frame(symbols, pos)])
    assert np.sum(h) * (r[1] - r[0]) == pytest.approx(1.0)
    assert tr.hr_error(h, h, r[1] - r[0]) == 0.0


def test_phi_psi_of_alanine_dipeptide_and_none_for_water() -> None:
    symbols, pos, _ = read_xyz(STRUCTURES["alanine-dipeptide"])
    angles = tr.phi_psi_deg([tr.Frame(symbols, pos)])
    assert angles is not None and angles.shape == (1, 2)
    assert np.all(np.abs(angles) <= 180)
    symbols, pos, _ = read_xyz(STRUCTURES["H2O"])
    assert tr.phi_psi_deg([tr.Frame(symbols, pos)]) is None


def test_dihedral_sign_convention() -> None:
    # i-j-k-l with l turned +90° about j->k from i: IUPAC +90
    pos = np.array([[[1.0, 0, 0], [0, 0, 0], [0, 0, 1.0], [0, 1.0, 1.0]]])
    assert tr.dihedral_deg(pos, 0, 1, 2, 3)[0] == pytest.approx(90.0)


def test_trajectory_path_stays_inside_the_artifact_store(tmp_path: Path) -> None:
    run = {"id": 3, "attempt": 1}
    assert tr.run_trajectory_path(run, tmp_path) is None
    path = tmp_path / "runs" / "3" / "attempt-1" / "trajectory.extxyz"
    path.parent.mkdir(parents=True)
    path.write_text("")
    assert tr.run_trajectory_path(run, tmp_path) == path.resolve()
    assert tr.run_trajectory_path({"id": 3, "attempt": 0}, tmp_path) is None


def test_batched_kabsch_matches_the_single_one() -> None:
    rng = np.random.default_rng(3)
    p, q = rng.normal(size=(5, 7, 3)), rng.normal(size=(5, 7, 3))
    batch = tr.kabsch_rmsd_batch_A(p, q)
    np.testing.assert_allclose(batch, [tr.kabsch_rmsd_A(a, b) for a, b in zip(p, q, strict=True)])
