"""``/api/v1/models``: registered potentials and TorchScript uploads."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, Response, UploadFile
from sqlalchemy import select

from app.api.deps import QueueDep, ReaderDep, SessionDep, SettingsDep, SubmitterDep
from app.api.errors import ApiError
from app.crud import catalog
from app.db.models import Potential
from app.schemas.common import ERROR_RESPONSES, Text
from app.schemas.models import ModelList, ModelRead
from app.services.uploads import check_content_length, clean_name, receive_upload

router = APIRouter(prefix="/models", tags=["models"], responses=ERROR_RESPONSES)

#: TorchScript archives (torch.jit.save) are zip files.
ZIP_MAGIC = b"PK\x03\x04"


@router.get("", response_model=ModelList)
def list_models(session: SessionDep, _reader: ReaderDep, status: Text | None = None) -> ModelList:
    """Every registered potential: built-ins, the zoo, uploads."""
    rows = catalog.list_potentials(session, status=status)
    return ModelList(items=[ModelRead.model_validate(r) for r in rows])


@router.get("/{spec:path}", response_model=ModelRead)
def get_model(spec: Text, session: SessionDep, _reader: ReaderDep) -> ModelRead:
    row = catalog.get_potential(session, key=spec)
    if row is None:
        raise ApiError(404, f"no model '{spec}'", field="spec")
    return ModelRead.model_validate(row)


@router.post(
    "",
    status_code=201,
    response_model=ModelRead,
    responses={
        200: {"model": ModelRead, "description": "The same file under the same name exists."},
        202: {"model": ModelRead, "description": "Stored; the test forward pass is still going."},
        413: {"description": "Larger than MDVAL_MAX_MODEL_UPLOAD_MB."},
    },
)
def upload_model(
    request: Request,
    token: SubmitterDep,
    session: SessionDep,
    settings: SettingsDep,
    queue: QueueDep,
    response: Response,
    file: Annotated[UploadFile, File(description="A TorchScript file (torch.jit.save).")],
    name: Annotated[
        Text | None, Form(description="Registry name; default: the file's stem.")
    ] = None,
) -> ModelRead:
    """Upload a TorchScript potential. It is loaded with ``torch.jit.load`` (never unpickled)
    and test-forwarded on a worker before any run may use it; the answer waits for that
    check (``MDVAL_VALIDATE_TIMEOUT_S``) and is 202 with ``status='checking'`` if it takes
    longer. Its spec is ``upload:<name>``."""
    max_bytes = int(settings.max_model_upload_mb * 1e6)
    check_content_length(
        request, max_bytes=max_bytes, what="model file", setting="MDVAL_MAX_MODEL_UPLOAD_MB"
    )
    model_name = clean_name(name, file.filename)
    spec = f"upload:{model_name}"
    # received into a temporary file and checked there: only an accepted upload is stored
    # under its content address, and a refusal leaves nothing behind
    pending = receive_upload(
        file,
        dest_dir=settings.artifacts_path / "models",
        suffix=".pt",
        max_bytes=max_bytes,
        what="model file",
        setting="MDVAL_MAX_MODEL_UPLOAD_MB",
    )
    try:
        if not pending.head.startswith(ZIP_MAGIC):
            raise ApiError(
                422,
                "not a TorchScript file: expected the zip archive written by torch.jit.save "
                "(pickled checkpoints and state dicts are refused)",
                field="file",
            )
        existing = catalog.get_potential(session, key=spec)
        if existing is not None and existing.status == "rejected":
            session.delete(existing)
            session.flush()
            existing = None
        if existing is not None:
            if existing.sha256 == pending.sha256:
                pending.discard()
                response.status_code = 200
                return ModelRead.model_validate(existing)
            raise ApiError(
                409,
                f"a model named '{model_name}' exists with other content; choose another name",
                field="name",
            )
    except BaseException:
        pending.discard()
        raise
    stored = pending.keep()
    try:
        row = catalog.upsert_potential(
            session,
            spec=spec,
            values={
                "name": model_name,
                "kind": "torchscript",
                "core_spec": str(stored.path.resolve()),
                "sha256": stored.sha256,
                "supported_elements": None,
                "status": "checking",
                "builtin": False,
                "size_bytes": stored.size_bytes,
                "created_by": token.name,
            },
        )
        session.commit()
    except BaseException:
        session.rollback()
        _discard(session, stored.path)
        raise

    answer = queue.check_model(row.id)
    session.refresh(row)
    if answer is None or row.status == "checking":
        response.status_code = 202
        return ModelRead.model_validate(row)
    if row.status == "rejected":
        message = row.error or (answer or {}).get("error") or "the test forward pass failed"
        session.delete(row)
        session.commit()
        _discard(session, stored.path)
        raise ApiError(422, f"model '{model_name}' was rejected: {message}", field="file")
    return ModelRead.model_validate(row)


def _discard(session: SessionDep, path: Path) -> None:
    """Delete a stored upload unless another registered model uses the same file."""
    in_use = session.scalar(
        select(Potential.id).where(Potential.core_spec == str(path.resolve())).limit(1)
    )
    if in_use is None:
        path.unlink(missing_ok=True)
