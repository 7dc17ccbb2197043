"""Service tests of the workers: real Postgres, Redis and Celery worker (tests/utils/service.py)."""

from tests.utils.service import *  # noqa: F403 - fixtures
