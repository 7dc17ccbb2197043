"""``family:target?key=value&...``: the spec of a published model, parsed and validated.

A family spec names an adapter (``ani``, ``sevennet``, ``chgnet``, ``mace``, ``orb``,
``fairchem``), a target (a shipped checkpoint's name or a local file) and options. Each
family declares the options it accepts and their allowed values; anything else is an
:class:`~mdval.errors.PotentialError` naming what is accepted. The canonical form fills in
every default and sorts the options, so ``ani:1x`` and ``ani:1x?dtype=float32`` are one
model, with one identity.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl

from mdval.errors import PotentialError


@dataclass(frozen=True)
class Option:
    """One option of a family: its allowed values (the first is the default)."""

    name: str
    choices: tuple[str, ...]
    help: str = ""

    @property
    def default(self) -> str:
        return self.choices[0]


#: The options every torch family understands.
DEVICE = Option("device", ("auto", "cpu", "cuda"), "where the model runs; auto: the run's device")


@dataclass(frozen=True)
class FamilySpec:
    """A parsed family spec with every option set (defaults filled in)."""

    family: str
    target: str
    options: tuple[tuple[str, str], ...]

    def option(self, name: str) -> str:
        return dict(self.options)[name]

    @property
    def canonical(self) -> str:
        """``family:target?k=v&...`` with every option that changes the numbers (defaults
        included, sorted), and ``device`` only where it is pinned."""
        shown = [(k, v) for k, v in self.options if k != DEVICE.name or v != DEVICE.default]
        query = "&".join(f"{k}={v}" for k, v in shown)
        return f"{self.family}:{self.target}" + (f"?{query}" if query else "")

    @property
    def identity_options(self) -> tuple[tuple[str, str], ...]:
        """The options that change the numbers a model gives (all but ``device``)."""
        return tuple((k, v) for k, v in self.options if k != DEVICE.name)


def split_family(text: str) -> tuple[str, str, str]:
    """``(family, target, query)`` of ``family:target?query`` (family lower-cased)."""
    family, _, rest = text.strip().partition(":")
    target, _, query = rest.partition("?")
    return family.strip().lower(), target.strip(), query


def parse_family_spec(text: str, *, options: tuple[Option, ...]) -> FamilySpec:
    """Parse and validate ``text`` against a family's ``options``."""
    family, target, query = split_family(text)
    if not target:
        raise PotentialError(f"{text!r}: name a checkpoint or a file after '{family}:'")
    known = {o.name: o for o in options}
    given: dict[str, str] = {}
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query))
    except ValueError:
        raise PotentialError(
            f"{text!r}: options must read key=value&key=value, e.g. {family}:{target}?"
            + "&".join(f"{o.name}={o.default}" for o in options[:2])
        ) from None
    for key, value in pairs:
        key, value = key.strip().lower(), value.strip().lower()
        if key not in known:
            accepted = ", ".join(sorted(known)) or "none"
            raise PotentialError(f"{text!r}: unknown option {key!r}; {family} accepts {accepted}")
        if key in given:
            raise PotentialError(f"{text!r}: option {key!r} given twice")
        if value not in known[key].choices:
            raise PotentialError(
                f"{text!r}: {key}={value!r} is not allowed; use one of "
                + ", ".join(known[key].choices)
            )
        given[key] = value
    filled = tuple(sorted((o.name, given.get(o.name, o.default)) for o in options))
    return FamilySpec(family=family, target=target, options=filled)
