"""The run's time series (thermo records, force-error samples): batched writes, paged reads.

Writes are one statement per batch: ``COPY ... FROM STDIN`` on Postgres, an executemany
INSERT elsewhere. Never one commit per step.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from psycopg.types.json import Jsonb
from sqlalchemy import delete, insert, select, text
from sqlalchemy.orm import Session

from app.db.models import ForceErrorRow, ThermoRow

THERMO_COLUMNS = (
    "run_id",
    "seq",
    "phase",
    "step",
    "time_ps",
    "epot_eV",
    "ekin_eV",
    "etot_eV",
    "temperature_K",
    "max_force_eV_per_A",
    "inference_ms",
    "pressure_GPa",
)
FORCE_ERROR_COLUMNS = (
    "run_id",
    "seq",
    "step",
    "time_ps",
    "force_rmse_eV_per_A",
    "energy_error_eV",
    "per_atom_error_eV_per_A",
)


#: Postgres types of the columns, for binary COPY.
THERMO_PG_TYPES = ("int8", "int4", "varchar", "int8", *(["float8"] * 8))
FORCE_ERROR_PG_TYPES = ("int8", "int4", "int8", "float8", "float8", "float8", "jsonb")


def _copy_rows(
    session: Session,
    *,
    table: str,
    columns: Sequence[str],
    types: Sequence[str],
    rows: Sequence[Sequence[Any]],
) -> None:
    """Binary COPY in the session's transaction (psycopg 3)."""
    raw: Any = session.connection().connection.driver_connection
    cols = ", ".join(f'"{c}"' for c in columns)
    with (
        raw.cursor() as cur,
        cur.copy(f"COPY {table} ({cols}) FROM STDIN (FORMAT BINARY)") as copy,
    ):
        copy.set_types(list(types))
        for row in rows:
            copy.write_row(row)


def insert_thermo(session: Session, *, rows: Sequence[Sequence[Any]]) -> int:
    """Append thermo rows, each a tuple in :data:`THERMO_COLUMNS` order. Returns the count."""
    if not rows:
        return 0
    if session.get_bind().dialect.name == "postgresql":
        _copy_rows(
            session, table="thermo", columns=THERMO_COLUMNS, types=THERMO_PG_TYPES, rows=rows
        )
    else:
        session.execute(
            insert(ThermoRow), [dict(zip(THERMO_COLUMNS, r, strict=True)) for r in rows]
        )
    return len(rows)


def insert_force_errors(session: Session, *, rows: Sequence[Sequence[Any]]) -> int:
    """Append force-error samples in :data:`FORCE_ERROR_COLUMNS` order (the last column a
    list of per-atom error norms in eV/Å)."""
    if not rows:
        return 0
    if session.get_bind().dialect.name == "postgresql":
        encoded = [(*r[:-1], Jsonb(list(r[-1]))) for r in rows]
        _copy_rows(
            session,
            table="force_errors",
            columns=FORCE_ERROR_COLUMNS,
            types=FORCE_ERROR_PG_TYPES,
            rows=encoded,
        )
    else:
        session.execute(
            insert(ForceErrorRow), [dict(zip(FORCE_ERROR_COLUMNS, r, strict=True)) for r in rows]
        )
    return len(rows)


def relax_durability(session: Session) -> None:
    """Series flushes need not wait for the WAL fsync: losing the last second of telemetry in
    a database crash is harmless (the run is retried), and the wait is most of a flush."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL synchronous_commit = off"))


def delete_series(session: Session, *, run_id: int) -> None:
    """Drop the series of an earlier attempt (a retried run starts from scratch)."""
    session.execute(delete(ThermoRow).where(ThermoRow.run_id == run_id))
    session.execute(delete(ForceErrorRow).where(ForceErrorRow.run_id == run_id))


def read_thermo(
    session: Session,
    *,
    run_id: int,
    after_seq: int | None = None,
    after_step: int | None = None,
    phase: str | None = None,
    limit: int,
) -> list[Any]:
    """Thermo rows in record order, after a cursor; ``after_step`` counts within ``phase``."""
    table = ThermoRow.__table__
    stmt = select(*(table.c[c] for c in THERMO_COLUMNS[1:])).where(table.c.run_id == run_id)
    if after_seq is not None:
        stmt = stmt.where(table.c.seq > after_seq)
    if phase is not None:
        stmt = stmt.where(table.c.phase == phase)
    if after_step is not None:
        stmt = stmt.where(table.c.step > after_step)
    return list(session.execute(stmt.order_by(table.c.seq).limit(limit)).all())


def read_force_errors(
    session: Session, *, run_id: int, after_seq: int | None = None, limit: int
) -> list[Any]:
    table = ForceErrorRow.__table__
    stmt = select(*(table.c[c] for c in FORCE_ERROR_COLUMNS[1:])).where(table.c.run_id == run_id)
    if after_seq is not None:
        stmt = stmt.where(table.c.seq > after_seq)
    return list(session.execute(stmt.order_by(table.c.seq).limit(limit)).all())
