"""The student zoo: compact potentials distilled from the GFN2-xTB teacher.

Modules, one job each:

- :mod:`mdval.zoo.molecules` — the SMILES list and its seeded 3D embedding
- :mod:`mdval.zoo.teacher` — teacher data: GFN2-xTB MD, displaced and stretched geometries
- :mod:`mdval.zoo.dataset` — the flat npz dataset format, splits and batching
- :mod:`mdval.zoo.model` — the student architecture (radial message passing)
- :mod:`mdval.zoo.sizes` — the three sizes and their widths
- :mod:`mdval.zoo.train` — training loop with checkpoints and export
- :mod:`mdval.zoo.evaluate` — offline accuracy figures (the model card's numbers)
- :mod:`mdval.zoo.card` — model cards (JSON + Markdown) and per-call timing
- :mod:`mdval.zoo.report` — the offline table of all three students
- :mod:`mdval.zoo.plugins` — ``py:`` factories for real teachers (Orb, MACE)
"""

from __future__ import annotations

from pathlib import Path

#: Shipped TorchScript weights and cards: ``NAME.pt``, ``NAME.json``, ``NAME.md``.
WEIGHTS_DIR = Path(__file__).parent / "weights"
#: Data shipped with the package (SMILES list, the small committed test subset).
PACKAGE_DATA_DIR = Path(__file__).parent / "data"
#: Zoo model names, biggest first.
ZOO_NAMES = ("original", "tiny", "ultra-tiny")
