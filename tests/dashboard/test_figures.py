"""Figure builders: units on every axis, WebGL for long series, the live view's trace order."""

from __future__ import annotations

from typing import Any

import numpy as np
import plotly.graph_objects as go
import pytest

from dashboard import comparison_figures as cf
from dashboard import figures as f
from dashboard.molecule import molecule_figure
from mdval.analysis import Frame, frame_view
from tests.dashboard.fake_data import STRUCTURES, read_xyz

UNITS = ("(", "%")
CATEGORY_AXES = {"model"}


def _layout(fig: Any) -> dict[str, Any]:
    return fig.to_plotly_json()["layout"] if isinstance(fig, go.Figure) else fig["layout"]


def _axis_titles(fig: Any) -> list[str]:
    layout = _layout(fig)
    titles = []
    for key, axis in layout.items():
        if key.startswith(("xaxis", "yaxis")) and axis.get("visible", True) is not False:
            titles.append(((axis.get("title") or {}).get("text")) or "")
    for scene in (v for k, v in layout.items() if k.startswith("scene")):
        titles += [scene[a]["title"]["text"] for a in ("xaxis", "yaxis", "zaxis")]
    return titles


def _has_units(fig: Any) -> None:
    titles = _axis_titles(fig)
    assert titles, "no axes"
    for title in set(titles) - CATEGORY_AXES:
        assert any(u in title for u in UNITS), f"axis title without a unit: {title!r}"


def test_energy_figure_has_four_panels_in_the_live_order_webgl_for_long_runs() -> None:
    points = {
        "t": [0.0, 0.1],
        "epot_eV": [-1.0, -1.1],
        "ekin_eV": [0.5, 0.6],
        "temperature_K": [300.0, 310.0],
        "t_prod": [0.0, 0.1],
        "detot_meV": [0.0, 0.2],
    }
    assert [t["type"] for t in f.energy_figure(points)["data"]] == ["scatter"] * 4
    fig = f.energy_figure(points, webgl=True)
    assert [t["type"] for t in fig["data"]] == ["scattergl"] * 4
    assert [t["name"] for t in fig["data"]] == ["ΔE_tot", "E_pot", "E_kin", "T"]
    assert fig["data"][0]["y"] == [0.0, 0.2] and fig["data"][3]["y"] == [300.0, 310.0]
    assert fig["layout"]["uirevision"] == "energy"
    _has_units(fig)
    shaded = f.shade_equilibration(fig, 0.5)
    assert len(shaded["layout"]["shapes"]) == 3


def test_drift_and_histogram_carry_thresholds_and_units() -> None:
    drift = f.drift_figure([0.1, 0.2], [0.5, 0.7], target=1.0, acceptable=5.0)
    assert len(drift["layout"]["shapes"]) == 2 and drift["layout"]["yaxis"]["type"] == "log"
    _has_units(drift)
    hist = f.force_error_histogram([3, 0, 1], 0.1, target=0.2, acceptable=0.3)
    assert hist["data"][0]["type"] == "bar" and hist["data"][0]["y"] == [3, 0, 1]
    assert hist["data"][0]["x"] == pytest.approx([0.05, 0.15, 0.25])
    _has_units(hist)
    # the skeletons are cached: a second figure must not share the first one's arrays
    other = f.force_error_histogram([1], 0.1)
    assert hist["data"][0]["y"] == [3, 0, 1] and other["data"][0]["y"] == [1]


def test_molecule_figure_draws_atoms_bonds_and_the_cell() -> None:
    symbols, pos, _ = read_xyz(STRUCTURES["CH4"])
    view = frame_view(Frame(symbols, pos, cell=np.eye(3) * 5))  # the API's FrameView body
    fig = molecule_figure(view, title="step 0")
    names = [t.name for t in fig.data]
    assert names[:2] == ["bonds", "cell"] and set(names[2:]) == {"C", "H"}
    bonds = fig.data[0]
    assert np.count_nonzero(np.isnan(np.asarray(bonds.x, float))) == 4  # 4 C-H segments
    _has_units(fig)
    assert molecule_figure(None).layout.annotations[0].text == "No frame written yet"


@pytest.mark.parametrize(
    "fig",
    [
        cf.drift_vs_timestep({"a": [(0.5, 0.1), (1.0, 0.4)], "b": [(0.5, 0.2)]}),
        cf.force_vs_temperature({"a": [(300.0, 0.1)]}),
        cf.rmsd_figure({"a": ([0.0, 1.0], [0.0, 0.2])}),
        cf.hr_figure({"a": (np.linspace(0, 10, 5), np.ones(5))}),
        cf.phi_psi_figure({"a": np.array([[-60.0, 140.0]]), "b": np.array([[-70.0, 150.0]])}),
        cf.ke_traces({"a": ([0.0, 1.0], [0.5, 0.6])}),
        cf.speed_figure([{"name": "a", "median_inference_ms_per_step": 2.0}]),
    ],
)
def test_comparison_figures_have_units(fig: go.Figure) -> None:
    _has_units(fig)


def test_pareto_front_and_figure() -> None:
    assert cf.pareto_front([(1, 0.5), (2, 0.4), (3, 0.45), (4, 0.1)]) == [
        (1, 0.5),
        (2, 0.4),
        (4, 0.1),
    ]
    rows = [
        {"model": m, "name": m, "median_inference_ms_per_step": ms, "median_force_rmse_eV_per_A": e}
        for m, ms, e in (("a", 1, 0.3), ("b", 5, 0.1))
    ]
    fig = cf.pareto_figure(rows, ["b"])
    assert fig.data[0].name == "Pareto front" and len(fig.data) == 3
    _has_units(fig)


def test_empty_inputs_give_a_message_not_an_error() -> None:
    for fig in (
        cf.drift_vs_timestep({}),
        cf.pareto_figure([]),
        cf.rmsd_figure({}),
        cf.phi_psi_figure({}),
        cf.ke_traces({}),
    ):
        assert fig.layout.annotations and fig.layout.annotations[0].text


def test_a_true_false_criterion_names_what_it_asks_in_every_cell() -> None:
    from dashboard.components import criteria_table

    row = {"name": "no_crash", "metric": "crashed", "value": True, "target": False,
           "acceptable": False, "comparison": "eq", "level": "fail"}  # fmt: skip
    drift = {"name": "energy_drift", "metric": "drift_percent", "value": 0.5, "target": 1.0,
             "acceptable": 5.0, "comparison": "lt", "unit": "%", "level": "target"}  # fmt: skip
    body = criteria_table([row, drift], provisional=False).children[2]
    crash, energy = ([td.children for td in tr.children[:4]] for tr in body.children)
    # "no crash | crashed: yes | crashed = no": never "no crash | yes"
    assert crash == ["no crash", "crashed: yes", "crashed = no", "crashed = no"]
    assert energy == ["energy drift", "0.5 %", "< 1 %", "< 5 %"]
