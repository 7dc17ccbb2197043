"""SQLite sessions of the embedded default (issue 13, item 11a): readers take no write lock;
writers still serialise on it, waiting with the busy timeout."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from app.db import session as db_session


@pytest.fixture
def engines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Engine, Engine]]:
    """Two engines on one file (as the API and a worker process), busy timeout 1 s."""
    monkeypatch.setattr(db_session, "SQLITE_BUSY_TIMEOUT_S", 1.0)
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    first, second = db_session.make_engine(url), db_session.make_engine(url)
    with Session(first) as s:
        s.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)"))
        s.execute(text("INSERT INTO t (id, v) VALUES (1, 0)"))
        s.commit()
    yield first, second
    first.dispose()
    second.dispose()


def test_a_second_reader_does_not_wait_for_a_slow_reader(engines: tuple[Engine, Engine]) -> None:
    first, second = engines
    with Session(first) as slow:
        assert slow.scalar(text("SELECT v FROM t WHERE id = 1")) == 0  # transaction left open
        started = time.monotonic()
        with Session(second) as other:
            assert other.scalar(text("SELECT count(*) FROM t")) == 1
        assert time.monotonic() - started < 0.5  # did not wait for a lock
        # a writer does not wait for the reader either (WAL), and the reader keeps its snapshot
        with Session(second) as writer:
            writer.execute(text("UPDATE t SET v = 5 WHERE id = 1"))
            writer.commit()
        assert slow.scalar(text("SELECT v FROM t WHERE id = 1")) == 0


def test_read_then_write_after_another_writer_committed(engines: tuple[Engine, Engine]) -> None:
    """Upgrading a read snapshot in place fails at once (SQLITE_BUSY_SNAPSHOT) when another
    connection wrote meanwhile; the session ends the snapshot and takes the write lock."""
    first, second = engines
    with Session(first) as reader_writer:
        assert reader_writer.scalar(text("SELECT v FROM t WHERE id = 1")) == 0
        with Session(second) as other:
            other.execute(text("UPDATE t SET v = v + 1 WHERE id = 1"))
            other.commit()
        reader_writer.execute(text("UPDATE t SET v = v + 10 WHERE id = 1"))
        reader_writer.commit()
    with Session(second) as check:
        assert check.scalar(text("SELECT v FROM t WHERE id = 1")) == 11  # no update lost


def test_writers_still_serialise_on_the_write_lock(engines: tuple[Engine, Engine]) -> None:
    first, second = engines
    with Session(first) as writer:
        writer.execute(text("UPDATE t SET v = 1 WHERE id = 1"))  # holds the write lock
        with Session(second) as blocked:
            started = time.monotonic()
            with pytest.raises(Exception, match="locked"):
                blocked.execute(text("UPDATE t SET v = 2 WHERE id = 1"))
            assert time.monotonic() - started >= 0.9  # it waited the busy timeout
        writer.commit()
