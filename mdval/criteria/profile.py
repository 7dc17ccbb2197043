"""Acceptance-criteria profiles: policy as data.

A profile is a YAML/JSON file (built-ins live in ``mdval/criteria/profiles/``) listing
criteria. Each criterion compares one metric of a run summary against two thresholds::

    - name: energy_drift          # unique within the profile
      metric: drift_percent       # key in the run's metrics mapping
      comparison: lt              # value <comparison> threshold: lt, le, gt, ge, eq
      target: 1.0
      acceptable: 5.0
      unit: "%"
      category: energy            # stability | energy | force | speed | duration | other
      absolute: false             # compare |value| (for signed metrics such as drift slopes)
      required: false             # a missing value is an error rather than "not evaluated"

Device-dependent criteria give ``by_device: {cpu: {target, acceptable}, gpu: {...}}``
instead of ``target``/``acceptable``. Boolean criteria (``crashed``) use ``eq``.

A criterion can say what evidence it needs before it decides; without it the level is
``inconclusive`` (METRICS.md, "Control runs and verdicts")::

      capped_by: duration_cap_ps  # a miss is inconclusive when this metric misses too:
                                  # a 1 ps run cannot show 5 ps of stability
      evidence:                   # each must hold for the criterion to decide
        - metric: n_reference_frames
          comparison: ge
          value: 5
          needs: at least 5 reference frames
          when: always            # always | miss (only needed when the value misses)

A criterion may be judged relative to the run's control (the reference under the same
protocol): ``relative_to_control: excess`` compares max(0, |value| − |control's value|), the
part of the metric the protocol does not explain; without a control the value is judged as
it is.

``per: batch_size`` judges a batch-wide value per replica: a run that ran as one replica of
a batch of ``batch_size`` (a metric of the run) is judged on value / batch_size, so that it
meets the same threshold batched as alone (a speed criterion on a batch's step time).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, Strict, ValidationError, model_validator

from mdval.criteria.datafiles import (
    builtin_names,
    describe_validation_error,
    read_mapping,
    resolve,
)
from mdval.errors import InputError

PROFILES_DIR = Path(__file__).parent / "profiles"

Comparison = Literal["lt", "le", "gt", "ge", "eq"]
DeviceClass = Literal["cpu", "gpu"]
Category = Literal["stability", "energy", "force", "speed", "duration", "other"]
# Strict bool first, so that a YAML ``1`` is the number 1.0 and never ``True``.
Threshold = Annotated[bool, Strict()] | float


class Thresholds(BaseModel):
    """The two thresholds of a criterion (for one device class)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    target: Threshold
    acceptable: Threshold


class Evidence(BaseModel):
    """A condition on another metric that a criterion needs to decide (else inconclusive)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    metric: str = Field(..., min_length=1)
    comparison: Comparison
    value: Threshold
    needs: str = Field(..., min_length=1, description="What is missing, for a person.")
    when: Literal["always", "miss"] = "always"


class Criterion(BaseModel):
    """One row of a profile; see the module docstring for the fields."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(..., min_length=1)
    metric: str = Field(..., min_length=1)
    comparison: Comparison
    target: Threshold | None = None
    acceptable: Threshold | None = None
    by_device: dict[DeviceClass, Thresholds] | None = None
    unit: str | None = None
    category: Category = "other"
    absolute: bool = False
    required: bool = False
    capped_by: str | None = None
    evidence: list[Evidence] = Field(default_factory=list)
    relative_to_control: Literal["excess"] | None = None
    per: Literal["batch_size"] | None = None
    description: str = ""

    @model_validator(mode="after")
    def _thresholds_consistent(self) -> Criterion:
        flat = self.target is not None or self.acceptable is not None
        if flat and self.by_device is not None:
            raise ValueError("give either target/acceptable or by_device, not both")
        if not flat and not self.by_device:
            raise ValueError("give target and acceptable (or by_device)")
        if flat and (self.target is None or self.acceptable is None):
            raise ValueError("give both target and acceptable")
        for row in self._rows():
            _check_row(self.comparison, row)
        return self

    def _rows(self) -> list[Thresholds]:
        if self.by_device is not None:
            return list(self.by_device.values())
        assert self.target is not None and self.acceptable is not None  # checked on validation
        return [Thresholds(target=self.target, acceptable=self.acceptable)]

    @property
    def device_dependent(self) -> bool:
        return self.by_device is not None

    @property
    def boolean(self) -> bool:
        """A true/false criterion (such as ``crashed == false``)."""
        return isinstance(self._rows()[0].target, bool)

    def thresholds(self, device: DeviceClass) -> Thresholds | None:
        """The thresholds that apply on ``device``; None when the profile has no row for it."""
        if self.by_device is None:
            return self._rows()[0]
        return self.by_device.get(device)


class Profile(BaseModel):
    """A named, ordered list of criteria."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(..., min_length=1)
    description: str = ""
    criteria: list[Criterion] = Field(..., min_length=1)

    @model_validator(mode="after")
    def _unique_names(self) -> Profile:
        names = [c.name for c in self.criteria]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"criterion names must be unique; repeated: {', '.join(duplicates)}")
        return self


def _check_row(comparison: Comparison, row: Thresholds) -> None:
    is_bool = [isinstance(v, bool) for v in (row.target, row.acceptable)]
    if comparison == "eq":
        if row.target != row.acceptable:
            raise ValueError("an 'eq' criterion needs target == acceptable")
        return
    if any(is_bool):
        raise ValueError(f"'{comparison}' needs numeric thresholds, not true/false")
    target, acceptable = float(row.target), float(row.acceptable)
    looser = acceptable >= target if comparison in ("lt", "le") else acceptable <= target
    if not looser:
        raise ValueError(
            f"acceptable ({acceptable:g}) must be no stricter than target ({target:g}) "
            f"for comparison '{comparison}'"
        )


def parse_profile(data: Any, *, source: str = "profile") -> Profile:
    """Validate a profile given as a mapping; errors name ``source`` and the field."""
    try:
        return Profile.model_validate(data)
    except ValidationError as exc:
        raise InputError(f"{source}: {describe_validation_error(exc)}") from exc


def list_profiles() -> list[str]:
    """Names of the built-in profiles."""
    return builtin_names(PROFILES_DIR)


def load_profile(name_or_path: str | Path | Profile) -> Profile:
    """A built-in profile by name (``"m6"``) or a profile file (``.yaml``/``.yml``/``.json``)."""
    if isinstance(name_or_path, Profile):
        return name_or_path
    path = resolve(name_or_path, directory=PROFILES_DIR, kind="profile")
    if path.parent == PROFILES_DIR:
        return _load_builtin(path)
    return _load_file(path)


@lru_cache(maxsize=16)
def _load_builtin(path: Path) -> Profile:
    return _load_file(path)


def _load_file(path: Path) -> Profile:
    return parse_profile(read_mapping(path, kind="profile"), source=f"profile file {str(path)!r}")
