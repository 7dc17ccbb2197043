"""Leaderboards, cached per API process until a run finishes.

Every request first reads a cheap version of the finished runs (count and newest
``finished_at``, from the ``finished_at`` index, plus the newest recommendation); the
aggregate is recomputed only when that version changed. The dashboard polls this endpoint,
and between two finished runs every poll is a cache hit.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.crud.leaderboard import leaderboard
from app.db.models import Recommendation, Run

#: Distinct filter combinations kept per process.
CACHE_ENTRIES = 64


def data_version(session: Session) -> tuple[Any, ...]:
    runs = session.execute(
        select(func.count(Run.finished_at), func.max(Run.finished_at)).where(
            Run.finished_at.is_not(None)
        )
    ).one()
    recs = session.execute(
        select(func.count(), func.max(Recommendation.updated_at)).select_from(Recommendation)
    ).one()
    return (*runs, *recs)


class LeaderboardCache:
    def __init__(self, size: int = CACHE_ENTRIES) -> None:
        self.size = size
        self.entries: OrderedDict[tuple[Any, ...], tuple[tuple[Any, ...], list[dict[str, Any]]]] = (
            OrderedDict()
        )
        self.lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, session: Session, **filters: Any) -> list[dict[str, Any]]:
        """:func:`app.crud.leaderboard.leaderboard` with these filters, from the cache when
        no run finished since it was computed."""
        key = tuple(sorted(filters.items()))
        version = data_version(session)
        with self.lock:
            cached = self.entries.get(key)
            if cached is not None and cached[0] == version:
                self.entries.move_to_end(key)
                self.hits += 1
                return cached[1]
        rows = leaderboard(session, **filters)
        with self.lock:
            self.misses += 1
            self.entries[key] = (version, rows)
            self.entries.move_to_end(key)
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)
        return rows
