"""What a control contributes to the judgement of a run: its summary and its frames."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class ControlEvidence:
    """A finished control run.

    ``summary`` is the control's ``summary.json``; ``frames`` the arrays of its
    :class:`~mdval.md.observers.FrameSampler` (empty when not kept); ``key`` its content key;
    ``location`` where it is cached (a directory), for people. ``is_self``: the run under
    judgement is the reference itself, so it is its own control.
    """

    summary: dict[str, Any]
    key: str
    frames: dict[str, np.ndarray] = field(default_factory=dict)
    location: str | None = None
    is_self: bool = False
