"""The exported report: one self-contained HTML file with the five sections."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from dashboard.report import ReportData, build_report

REPO = Path(__file__).resolve().parents[2]


def _data() -> ReportData:
    rows = []
    runs = {}
    for i, (spec, rec, rmse, ms) in enumerate(
        (
            ("zoo:original", "production with caveats", 0.15, 9.0),
            ("zoo:tiny", "pre-equilibration only", 0.27, 4.0),
            ("zoo:<b>evil</b>", None, None, None),
        )
    ):
        rows.append(
            {
                "model": spec,
                "name": spec.split(":")[1],
                "kind": "zoo",
                "n_params": 1000 * (i + 1),
                "runs": 3,
                "completed": 3,
                "crashed": 0,
                "failed": 0,
                "cancelled": 0,
                "passed": 2,
                "pass_rate": 2 / 3,
                "crash_rate": 0.0,
                "median_drift_percent": 0.4,
                "median_abs_drift_meV_per_atom_per_ps": 0.03,
                "median_force_rmse_eV_per_A": rmse,
                "median_force_mae_eV_per_A": rmse,
                "median_force_r2": 0.9,
                "median_force_angle_error_deg": 5.0,
                "median_energy_rmse_meV_per_atom": 2.0,
                "median_inference_ms_per_step": ms,
                "speedup": 9.0 / ms if ms else None,
                "recommendation": rec,
                "recommendation_evidence": [f"rule 2: {spec} evidence"],
                "last_finished_at": None,
            }
        )
        runs[spec] = [
            {
                "structure": "H2O",
                "temperature_K": t,
                "timestep_fs": dt,
                "status": "completed",
                "verdict": "pass",
                "metrics": {
                    "drift_percent": 0.1 * dt,
                    "force_rmse_eV_per_A": rmse,
                    "force_r2": 0.9,
                    "inference_ms_per_step": ms,
                },
            }
            for t in (100.0, 300.0)
            for dt in (0.5, 1.0)
        ]
    suite = yaml.safe_load((REPO / "mdval/suites/data/m6-quick.yaml").read_text())
    profile = yaml.safe_load((REPO / "mdval/criteria/profiles/m6.yaml").read_text())
    return ReportData(
        suite="m6-quick",
        suite_definition=suite,
        profile=profile,
        rows=rows,
        runs=runs,
        baseline="zoo:original",
    )


def test_report_is_one_self_contained_html_file_with_every_section(tmp_path: Path) -> None:
    html = build_report(_data())
    for section in (
        "Executive summary",
        "Methodology",
        "Results per potential",
        "Performance",
        "Recommendations",
    ):
        assert f">{section}</h2>" in html
    # plotly.js embedded once, nothing fetched from the network
    assert html.count("plotly.js v") >= 1
    assert len(re.findall(r"<script[^>]+src=", html)) == 0
    assert html.count('class="figure"') == 4 and html.count("Plotly.newPlot") == 4
    # content: best candidate, thresholds of the profile, evidence, escaped names
    assert "Best candidate: <b>original</b>" in html
    assert "rule 2: zoo:original evidence" in html
    assert "<b>evil</b>" not in html and "&lt;b&gt;evil&lt;/b&gt;" in html
    assert "stable_duration" in html and "drift_percent" in html
    (tmp_path / "report.html").write_text(html)
    assert (tmp_path / "report.html").stat().st_size < 8_000_000


def test_report_of_an_empty_suite() -> None:
    data = _data()
    data.rows, data.runs = [], {}
    html = build_report(data)
    assert "No finished runs in this suite yet." in html


def test_methodology_is_filled_from_the_runs_the_api_returned() -> None:
    data = _data()
    data.suite, data.suite_definition = None, None  # "all runs": no suite definition
    for runs in data.runs.values():
        for seed, run in enumerate(runs):
            run.update(duration_ps=5.0, equilibration_ps=1.0, seed=seed % 2,
                       reference="gfn2-xtb", profile="m6")  # fmt: skip
    section = build_report(data).split(">Methodology</h2>")[1].split("<h3>")[0]
    cells = dict(re.findall(r"<tr><td>([^<]+)</td><td>([^<]*)</td></tr>", section))
    assert cells["structures"] == "H2O"
    assert cells["temperatures"] == "100 K, 300 K" and cells["timesteps"] == "0.5 fs, 1 fs"
    assert cells["NVE production"] == "5 ps" and cells["NVT equilibration (Langevin)"] == "1 ps"
    assert cells["seeds"] == "0, 1" and cells["reference (teacher)"] == "gfn2-xtb"
    assert cells["profile"] == "m6" and "—" not in section
    # no runs yet: the suite's definition (as GET /suites returns it) says what will run
    data.runs, data.suite_definition = {}, {**(_data().suite_definition or {}), "seeds": [0, 1, 2]}
    section = build_report(data).split(">Methodology</h2>")[1].split("<h3>")[0]
    cells = dict(re.findall(r"<tr><td>([^<]+)</td><td>([^<]*)</td></tr>", section))
    assert cells["structures"] == "CH4, H2O, alanine-dipeptide" and cells["seeds"] == "0, 1, 2"


def test_report_medians_never_mix_structures() -> None:
    from dashboard.report import _by_structure

    data = _data()
    one = _by_structure(data.runs)
    assert set(one) == set(data.runs)  # one structure: a line per model, named by it
    data.runs["zoo:original"] = data.runs["zoo:original"] + [
        {**data.runs["zoo:original"][0], "structure": "CH4"}
    ]
    split = _by_structure(data.runs)
    assert {"zoo:original · H2O", "zoo:original · CH4", "zoo:tiny · H2O"} <= set(split)
    assert all(len({r["structure"] for r in runs}) == 1 for runs in split.values())
