"""``/api/v1/families``: the published model families (ANI, SevenNet, CHGNet, MACE, Orb,
fairchem), their shipped checkpoints and options — the core's declarations, which import
neither torch nor ase. Whether a family's package is installed is the workers' to say: a
run that names a family they cannot load is a 422 naming the extra."""

from __future__ import annotations

from fastapi import APIRouter

from app.api.deps import ReaderDep
from app.schemas.families import FamilyList, FamilyOption, FamilyRead
from mdval.potentials.families.declared import DECLARED

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
