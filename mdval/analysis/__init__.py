"""What the service shows of a run, computed by the core: frames for the 3D view, h(r),
φ/ψ, bonds, trajectory comparison (Kabsch RMSD), criteria levels.

numpy, scipy and pydantic only — no ase, no torch — so that the API process can call it on
demand (``GET /api/v1/runs/{id}/frames``, ``/runs/{id}/analysis``, ``/compare``,
``/profiles/{name}/levels``). Every number is one of :mod:`mdval.metrics` or
:mod:`mdval.criteria`; this package only reads the trajectory files and puts the results
into JSON-ready dicts.
"""

from __future__ import annotations

from mdval.analysis.extxyz import Frame, parse_extxyz, read_frames, read_last_frame
from mdval.analysis.trajectory import compare_frames, frame_view, run_analysis

__all__ = [
    "Frame",
    "compare_frames",
    "frame_view",
    "parse_extxyz",
    "read_frames",
    "read_last_frame",
    "run_analysis",
]
