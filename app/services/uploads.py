"""Uploaded files: size-limited, content-addressed (sha256) in the artifact store."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from fastapi import Request, UploadFile

from app.api.errors import ApiError

CHUNK = 1 << 20
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


@dataclass(frozen=True)
class StoredFile:
    path: Path
    sha256: str
    size_bytes: int
    head: bytes  # the first bytes, for format sniffing


def check_content_length(request: Request, *, max_bytes: int, what: str, setting: str) -> None:
    """Refuse an oversized upload before reading it (when the client says its size)."""
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > max_bytes + 64 * 1024:
        raise ApiError(413, _too_large(what, max_bytes, setting), field="file")


def _too_large(what: str, max_bytes: int, setting: str) -> str:
    return f"the {what} is larger than the limit of {max_bytes / 1e6:g} MB ({setting})"


@dataclass(frozen=True)
class PendingUpload:
    """An upload received into a hidden temporary file of ``dest_dir``, not yet stored:
    :meth:`keep` moves it to its content address, :meth:`discard` removes it."""

    tmp_path: Path
    dest_dir: Path
    suffix: str
    sha256: str
    size_bytes: int
    head: bytes

    @property
    def final_path(self) -> Path:
        return self.dest_dir / f"{self.sha256}{self.suffix}"

    def keep(self) -> StoredFile:
        final = self.final_path
        os.replace(self.tmp_path, final)
        return StoredFile(
            path=final, sha256=self.sha256, size_bytes=self.size_bytes, head=self.head
        )

    def discard(self) -> None:
        self.tmp_path.unlink(missing_ok=True)


def receive_upload(
    upload: UploadFile, *, dest_dir: Path, suffix: str, max_bytes: int, what: str, setting: str
) -> PendingUpload:
    """Copy ``upload`` to a temporary file in ``dest_dir``, hashing and counting as it goes;
    nothing is left behind when it is refused (too large, empty)."""
    dest_dir.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    head = b""
    fd, tmp_name = tempfile.mkstemp(dir=dest_dir, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := upload.file.read(CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise ApiError(413, _too_large(what, max_bytes, setting), field="file")
                if len(head) < 64:
                    head += chunk[: 64 - len(head)]
                digest.update(chunk)
                out.write(chunk)
        if size == 0:
            raise ApiError(422, f"the {what} is empty", field="file")
        return PendingUpload(
            tmp_path=Path(tmp_name),
            dest_dir=dest_dir,
            suffix=suffix,
            sha256=digest.hexdigest(),
            size_bytes=size,
            head=head,
        )
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def store_upload(
    upload: UploadFile, *, dest_dir: Path, suffix: str, max_bytes: int, what: str, setting: str
) -> StoredFile:
    """Copy ``upload`` to ``dest_dir/<sha256><suffix>``, hashing and counting as it goes."""
    return receive_upload(
        upload, dest_dir=dest_dir, suffix=suffix, max_bytes=max_bytes, what=what, setting=setting
    ).keep()


def clean_name(name: str | None, filename: str | None, *, field: str = "name") -> str:
    """A registry name: the given one, else the file's stem; letters, digits, ``._-``."""
    candidate = name or (Path(filename).stem if filename else "")
    if not NAME_RE.match(candidate):
        raise ApiError(
            422,
            f"name {candidate!r} is not usable: 1-100 characters of letters, digits, '.', '_' "
            "or '-', starting with a letter or digit",
            field=field,
        )
    return candidate
