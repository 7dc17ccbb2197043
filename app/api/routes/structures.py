"""``/api/v1/structures``: built-in, uploaded (file) and SMILES structures."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, Response, UploadFile

from app.api.deps import QueueDep, ReaderDep, SessionDep, SettingsDep, SubmitterDep
from app.api.errors import ApiError
from app.crud import catalog
from app.schemas.common import ERROR_RESPONSES, Text
from app.schemas.structures import StructureList, StructureRead
from app.services.submissions import structure_values
from app.services.uploads import check_content_length, clean_name, store_upload

router = APIRouter(prefix="/structures", tags=["structures"], responses=ERROR_RESPONSES)

#: Formats ASE reads that are plain data (no pickles).
STRUCTURE_SUFFIXES = (".xyz", ".extxyz", ".pdb", ".cif", ".traj", ".sdf", ".mol", ".vasp")
MAX_SMILES = 500


@router.get("", response_model=StructureList)
def list_structures(session: SessionDep, _reader: ReaderDep) -> StructureList:
    return StructureList(
        items=[StructureRead.model_validate(s) for s in catalog.list_structures(session)]
    )


@router.get("/{spec:path}", response_model=StructureRead)
def get_structure(spec: Text, session: SessionDep, _reader: ReaderDep) -> StructureRead:
    row = catalog.get_structure(session, key=spec)
    if row is None:
        raise ApiError(404, f"no structure '{spec}'", field="spec")
    return StructureRead.model_validate(row)


@router.post(
    "",
    status_code=201,
    response_model=StructureRead,
    responses={200: {"model": StructureRead, "description": "Already registered."}},
)
def create_structure(
    request: Request,
    token: SubmitterDep,
    session: SessionDep,
    settings: SettingsDep,
    queue: QueueDep,
    response: Response,
    file: Annotated[UploadFile | None, File(description="xyz, extxyz, pdb, cif, ...")] = None,
    smiles: Annotated[Text | None, Form(max_length=MAX_SMILES)] = None,
    name: Annotated[Text | None, Form(max_length=200)] = None,
) -> StructureRead:
    """Register a structure from a file (multipart ``file``) or a SMILES string (form field
    ``smiles``). A worker parses it with the core and rejects it with the reason (unreadable,
    atoms closer than 0.5 Å, too many atoms). Its spec is ``upload:<name>`` or
    ``smiles:<SMILES>``."""
    if (file is None) == (smiles is None):
        raise ApiError(422, "send exactly one of 'file' (a structure file) or 'smiles'")
    if smiles is not None:
        return _from_smiles(smiles.strip(), name, token.name, session, queue, response)
    assert file is not None
    max_bytes = int(settings.max_structure_upload_kb * 1e3)
    check_content_length(
        request, max_bytes=max_bytes, what="structure file", setting="MDVAL_MAX_STRUCTURE_UPLOAD_KB"
    )
    suffix = Path(file.filename or "").suffix.lower()
    if suffix not in STRUCTURE_SUFFIXES:
        raise ApiError(
            422,
            f"unsupported structure file type '{suffix or file.filename}'; use one of "
            f"{', '.join(STRUCTURE_SUFFIXES)}",
            field="file",
        )
    struct_name = clean_name(name, file.filename)
    spec = f"upload:{struct_name}"
    stored = store_upload(
        file,
        dest_dir=settings.artifacts_path / "structures",
        suffix=suffix,
        max_bytes=max_bytes,
        what="structure file",
        setting="MDVAL_MAX_STRUCTURE_UPLOAD_KB",
    )
    existing = catalog.get_structure(session, key=spec)
    if existing is not None:
        if existing.sha256 == stored.sha256:
            response.status_code = 200
            return StructureRead.model_validate(existing)
        raise ApiError(
            409,
            f"a structure named '{struct_name}' exists with other content; choose another name",
            field="name",
        )
    answer = queue.describe_structure(str(stored.path.resolve()))
    if answer.get("error"):
        if catalog.get_structure_by_sha(session, sha256=stored.sha256, source="upload") is None:
            stored.path.unlink(missing_ok=True)
        raise ApiError(422, f"structure file rejected: {answer['error']}", field="file")
    values = structure_values(
        answer["structure"],
        core_spec=str(stored.path.resolve()),
        source="upload",
        created_by=token.name,
    )
    values.update(name=struct_name, sha256=stored.sha256)
    row = catalog.upsert_structure(session, spec=spec, values=values)
    session.commit()
    return StructureRead.model_validate(row)


def _from_smiles(
    smiles: str,
    name: str | None,
    user: str,
    session: SessionDep,
    queue: QueueDep,
    response: Response,
) -> StructureRead:
    if not smiles or any(c.isspace() for c in smiles):
        raise ApiError(422, "smiles must be one SMILES string without spaces", field="smiles")
    spec = f"smiles:{smiles}"
    existing = catalog.get_structure(session, key=spec)
    if existing is not None:
        response.status_code = 200
        return StructureRead.model_validate(existing)
    answer = queue.describe_structure(spec)
    if answer.get("error"):
        raise ApiError(422, f"SMILES rejected: {answer['error']}", field="smiles")
    values = structure_values(answer["structure"], core_spec=spec, source="smiles", created_by=user)
    if name:
        values["name"] = clean_name(name, None)
    row = catalog.upsert_structure(session, spec=spec, values=values)
    session.commit()
    return StructureRead.model_validate(row)
