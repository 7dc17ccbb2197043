"""Settings: MDVAL_ prefix, unsafe secrets refused outside development."""

from __future__ import annotations

import pytest

from app.core.config import UNSAFE_SECRET, Settings


def test_reads_mdval_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MDVAL_DATABASE_URL", "postgresql+psycopg://u:p@db/mdval")
    monkeypatch.setenv("MDVAL_BROKER_URL", "redis://broker:6379/0")
    monkeypatch.setenv("MDVAL_ARTIFACTS_DIR", "/srv/artifacts")
    s = Settings()
    assert s.database_url.endswith("@db/mdval")
    assert s.result_backend_url == "redis://broker:6379/0"
    assert str(s.artifacts_path) == "/srv/artifacts"


def test_placeholder_secret_is_refused_in_production() -> None:
    with pytest.raises(ValueError, match="MDVAL_SECRET_KEY"):
        Settings(environment="production", secret_key=UNSAFE_SECRET)
    with pytest.raises(ValueError, match="MDVAL_ADMIN_TOKEN"):
        Settings(environment="production", secret_key="x" * 32, admin_token="short")
    with pytest.raises(ValueError, match="MDVAL_DATABASE_URL"):
        Settings(
            environment="production",
            secret_key="x" * 32,
            database_url=f"postgresql+psycopg://mdval:{UNSAFE_SECRET}@db/mdval",
        )


def test_development_tolerates_the_placeholder() -> None:
    assert Settings(environment="development").secret_key == UNSAFE_SECRET


def test_visibility_timeout_exceeds_the_hard_time_limit() -> None:
    s = Settings(run_time_limit_s=7200)
    assert s.visibility_timeout_s > s.run_time_limit_s


def test_celery_settings_for_hour_long_jobs() -> None:
    from workers.celery_app import create_celery

    s = Settings(broker_url="redis://127.0.0.1:6379/15", run_time_limit_s=7200, queue_prefix="p-")
    conf = create_celery(s).conf
    assert conf.task_acks_late is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.worker_cancel_long_running_tasks_on_connection_loss is False  # issue 13, item 5
    vt = s.visibility_timeout_s
    assert conf.broker_transport_options["visibility_timeout"] == vt
    assert conf.result_backend_transport_options["visibility_timeout"] == vt
    assert conf.visibility_timeout == vt
    assert vt > conf.task_time_limit
    assert {q.name for q in conf.task_queues} == {"p-gpu", "p-cpu", "p-validate", "p-demo"}
