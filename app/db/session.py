"""Engines and sessions for Postgres (production, tests) and SQLite (embedded default)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

#: How long a SQLite writer waits for the lock held by another process, in seconds.
SQLITE_BUSY_TIMEOUT_S = 30.0


def make_engine(database_url: str, **kwargs: Any) -> Engine:
    """An engine for ``database_url``.

    SQLite is shared by the API and the worker processes of the embedded default: WAL
    journal, a busy timeout, and transactions begun by their first statement
    (:func:`_sqlite_transactions`): a read runs in a deferred transaction (readers never
    wait for each other, nor for a writer), a write takes the write lock first.
    """
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        kwargs.setdefault("pool_pre_ping", True)
        return create_engine(url, **kwargs)

    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False}, **kwargs
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # let the "begin" hook emit BEGIN
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    _sqlite_transactions(engine)
    return engine


#: The first word of a statement that writes (or opens a savepoint, used around writes).
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "CREATE", "DROP", "ALTER", "SAVEPOINT")
_STATE = "mdval_sqlite_txn"  # connection info: None, "pending", "read" or "write"


def _is_write(statement: str) -> bool:
    head = statement.lstrip().split(None, 1)
    word = head[0].upper() if head else ""
    if word == "WITH":  # a CTE: writes when it holds a writing statement
        upper = statement.upper()
        return any(f"{w} " in upper for w in _WRITES[:4])
    return word in _WRITES


def _sqlite_transactions(engine: Engine) -> None:
    """Begin each SQLite transaction at its first statement, by what that statement does.

    A ``BEGIN IMMEDIATE`` for every transaction (before) made every reader take the write
    lock: a second reader waited behind a slow one and failed "database is locked" after the
    busy timeout. Now a transaction whose first statement reads begins ``DEFERRED`` (WAL:
    readers share a snapshot, no lock); one whose first statement writes begins
    ``IMMEDIATE`` (it waits for the write lock with the busy timeout). A deferred
    transaction that then writes ends its read snapshot (COMMIT: it wrote nothing) and
    begins ``IMMEDIATE`` before the write — upgrading in place would fail at once, without
    waiting, whenever another connection wrote meanwhile. Later statements see the data
    committed by then: the isolation of Postgres' READ COMMITTED, which the code is written
    for (transitions are conditional UPDATEs, not read-then-write).
    """

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.info[_STATE] = "pending"  # BEGIN comes with the first statement

    @event.listens_for(engine, "before_cursor_execute")
    def _before_execute(
        conn: Any, cursor: Any, statement: str, _params: Any, _context: Any, _many: bool
    ) -> None:
        state = conn.info.get(_STATE)
        if state not in ("pending", "read"):
            return
        write = _is_write(statement)
        if state == "pending":
            cursor.execute("BEGIN IMMEDIATE" if write else "BEGIN DEFERRED")
            conn.info[_STATE] = "write" if write else "read"
        elif write:
            cursor.execute("COMMIT")
            cursor.execute("BEGIN IMMEDIATE")
            conn.info[_STATE] = "write"

    def _ended(conn: Any) -> None:
        conn.info[_STATE] = None

    event.listen(engine, "commit", _ended)
    event.listen(engine, "rollback", _ended)


@lru_cache(maxsize=8)
def get_engine(database_url: str) -> Engine:
    """One engine per URL and process."""
    return make_engine(database_url)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    with Session(engine, expire_on_commit=False) as session, session.begin():
        yield session
