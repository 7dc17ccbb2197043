"""Leaderboards, cached per API process until a run finishes.

Every request first reads a cheap version of the data: the ``finished_runs`` counter
(bumped in the transaction that ends a run, so commit order cannot fool it) and the newest
recommendation. The aggregate is recomputed when that version changed, and at the latest
after ``CACHE_TTL_S`` (for edits made behind the service's back). The dashboard polls this
endpoint; between two finished runs every poll is a cache hit.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.crud.leaderboard import leaderboard
from app.crud.runs import FINISHED_COUNTER
from app.db.models import Counter, Recommendation
from mdval.suites.loading import demo_suites

#: Distinct filter combinations kept per process.
CACHE_ENTRIES = 64
#: Longest time a cached leaderboard is served without recomputing, in seconds.
CACHE_TTL_S = 60.0


def data_version(session: Session) -> tuple[Any, ...]:
    stmt = select(
        select(Counter.value).where(Counter.name == FINISHED_COUNTER).scalar_subquery(),
        select(func.max(Recommendation.updated_at)).scalar_subquery(),
    )
    return tuple(session.execute(stmt).one())


class LeaderboardCache:
    def __init__(self, size: int = CACHE_ENTRIES) -> None:
        self.size = size
        self.entries: OrderedDict[tuple[Any, ...], tuple[Any, list[dict[str, Any]]]] = OrderedDict()
        self.lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, session: Session, **filters: Any) -> list[dict[str, Any]]:
        """:func:`app.crud.leaderboard.leaderboard` with these filters, from the cache when
        no run finished since it was computed."""
        key = tuple(sorted(filters.items()))
        version = data_version(session)
        now = time.monotonic()
        with self.lock:
            cached = self.entries.get(key)
            # Fresh while no run finished since and for CACHE_TTL_S after it was computed
            # (not per clock bucket: an entry made just before a bucket edge would expire
            # at once).
            if cached is not None and cached[0][0] == version and now - cached[0][1] < CACHE_TTL_S:
                self.entries.move_to_end(key)
                self.hits += 1
                return cached[1]
        rows = leaderboard(session, exclude_suites=demo_suites(), **filters)
        with self.lock:
            self.misses += 1
            self.entries[key] = ((version, now), rows)
            self.entries.move_to_end(key)
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)
        return rows
