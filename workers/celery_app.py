"""The Celery application: broker, queues and the settings for hour-long jobs.

Imported by the API to enqueue tasks *by name*; it must stay free of mdval/torch/ase (the
task bodies live in :mod:`workers.tasks` and :mod:`workers.bench_tasks`, imported only by
worker processes).

Queues (each prefixed by ``MDVAL_QUEUE_PREFIX``):

``gpu``       runs of torch potentials (one worker process per GPU, ``-c 1``)
``cpu``       runs of CPU potentials (GFN2-xTB, EMT, LJ) and ``device=cpu`` runs
``validate``  short checks the API waits for: resolve a potential, parse a structure, expand a
              suite, test-forward an uploaded model. Kept apart so that a queue full of
              hour-long runs never blocks a submission.
``demo``      the runs of ``mdval standalone --demo`` (:mod:`app.demo`), on a worker of their
              own so that a user's run never waits behind them.
"""

from __future__ import annotations

from celery import Celery
from kombu import Queue

from app.core.config import Settings, get_settings

TASK_RUN = "mdval.run"
TASK_VALIDATE = "mdval.validate_request"
TASK_CHECK_MODEL = "mdval.check_model"
TASK_DESCRIBE_STRUCTURE = "mdval.describe_structure"
TASK_BENCH = "mdval.bench"

QUEUE_NAMES = ("gpu", "cpu", "validate", "demo")


def broker_transport_options(settings: Settings) -> dict[str, object]:
    options: dict[str, object] = {"visibility_timeout": settings.visibility_timeout_s}
    if settings.broker_url.startswith("filesystem"):
        folder = (settings.data_dir / "broker").resolve()
        options.update(
            data_folder_in=str(folder / "queue"),
            data_folder_out=str(folder / "queue"),
            processed_folder=str(folder / "processed"),
            control_folder=str(folder / "control"),
            polling_interval=0.2,
        )
    return options


def ensure_local_dirs(settings: Settings) -> None:
    """Create the folders of the filesystem broker and result store (embedded default)."""
    if settings.broker_url.startswith("filesystem"):
        for sub in ("queue", "processed", "control"):
            (settings.data_dir / "broker" / sub).mkdir(parents=True, exist_ok=True)
    if settings.result_backend_url.startswith("file://"):
        (settings.data_dir / "results").mkdir(parents=True, exist_ok=True)


def create_celery(settings: Settings | None = None) -> Celery:
    """A Celery app configured from ``settings`` (default: the environment)."""
    settings = settings or get_settings()
    app = Celery("mdval", broker=settings.broker_url, backend=settings.result_backend_url)
    visibility = settings.visibility_timeout_s
    app.conf.update(
        include=["workers.tasks", "workers.bench_tasks"],
        task_queues=[
            Queue(settings.queue(name), routing_key=settings.queue(name)) for name in QUEUE_NAMES
        ],
        task_default_queue=settings.queue("cpu"),
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        result_expires=3600,
        # hour-long jobs: a message is acknowledged only when its run has ended, each
        # process reserves one message at a time, and no message is redelivered to a
        # second worker while the first still runs it.
        task_acks_late=True,
        worker_prefetch_multiplier=1,
        task_time_limit=settings.run_time_limit_s,
        task_soft_time_limit=settings.run_time_limit_s - 30,
        broker_transport_options=broker_transport_options(settings),
        result_backend_transport_options={"visibility_timeout": visibility},
        visibility_timeout=visibility,
        # a broker blip must not kill running MD: the runs row (claim, heartbeat), not the
        # broker connection, says who owns a run. The unacknowledged message of a running
        # task may be redelivered when the connection comes back; its claim is a no-op.
        # A worker that really died stops heartbeating and the reaper recovers its run.
        worker_cancel_long_running_tasks_on_connection_loss=False,
        broker_connection_retry_on_startup=True,
        task_track_started=False,
        worker_hijack_root_logger=False,
        # the runs table, not Celery, records what happened; results are only read for the
        # short validation tasks.
        task_ignore_result=False,
    )
    return app


celery_app = create_celery()
