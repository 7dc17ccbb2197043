"""``/api/v1/families``: the published model families (ANI, SevenNet, CHGNet, MACE, Orb,
fairchem), their shipped checkpoints and options — the core's declarations, which import
neither torch nor ase. ``installed`` / ``missing`` come from the core's one check of a
family's package (:func:`~mdval.potentials.families.declared.not_installed`, which the
adapters' ``require`` asks too, so the list says what a run's 422 would say) in this
server's environment; the workers run the same image (Dockerfile, ``mdval standalone``), and
a worker that still lacks the package answers the run with that 422."""

from __future__ import annotations

from fastapi import APIRouter

from app.api.deps import ReaderDep
from app.schemas.families import FamilyCheckpoint, FamilyList, FamilyOption, FamilyRead
from mdval.potentials.families.declared import (
    DECLARED,
    canonical_spec,
    installed_version,
    not_installed,
)

router = APIRouter(tags=["models"])


@router.get("/families", response_model=FamilyList)
def list_families(_reader: ReaderDep) -> FamilyList:
    """Every model family a run may name as ``family:checkpoint?option=value``."""
    return FamilyList(
        items=[
            FamilyRead(
                family=d.name,
                summary=d.summary,
                example=d.example,
                shipped=list(d.shipped),
                elements=d.elements,
                extra=d.extra,
                package=d.dist,
                installed=installed_version(d.dist),
                missing=not_installed(d),
                checkpoints=[
                    FamilyCheckpoint(name=n, title=t, spec=canonical_spec(f"{d.name}:{n}"))
                    for n, t in zip(d.shipped, d.titles, strict=True)
                ],
                options=[
                    FamilyOption(
                        name=o.name, choices=list(o.choices), default=o.default, help=o.help
                    )
                    for o in d.options
                ],
            )
            for d in DECLARED.values()
        ]
    )
