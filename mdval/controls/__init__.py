"""Control runs: the reference potential under the identical protocol (METRICS.md).

A *control* is the reference run with the same structure, temperature, timestep, durations,
intervals and seed as the run under judgement. It is cached by content
(:func:`~mdval.controls.key.control_key`) and reused by every model judged in that cell.
A cell whose control does not itself pass is ``protocol invalid``: the protocol, not the
model, is at fault.

- :mod:`.key` — the control's config and content key
- :mod:`.evidence` — what a control contributes to a judgement (summary + frames)
- :mod:`.judgement` — is the control valid; the verdict against it
- :mod:`.compare` — equilibrium observables of a run against its control
- :mod:`.cache` — find a cached control or run it (imports the protocol)
"""

from mdval.controls.evidence import ControlEvidence
from mdval.controls.key import control_config, control_key

__all__ = ["ControlEvidence", "control_config", "control_key"]
