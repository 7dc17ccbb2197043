"""Service commands of ``mdval``: ``standalone``, ``migrate``, ``worker``, ``token``, ``submit``.

Plugged into the core's ``mdval`` command through the ``mdval.cli`` entry point (the core
never imports this module). Heavy imports happen inside the commands.
Also runnable as ``python -m app.cli``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False)
token_app = typer.Typer(help="API tokens (stored hashed; shown once).", no_args_is_help=True)
app.add_typer(token_app, name="token")

ROLES = ("viewer", "submitter", "admin")


@app.command()
def standalone(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port of the API and the dashboard.")] = 8000,
    data_dir: Annotated[
        Path, typer.Option(help="Where the SQLite database, queue and artifacts live.")
    ] = Path(".mdval"),
    demo: Annotated[
        bool,
        typer.Option(
            help="Queue the demo-sized demo suite (minutes on a CPU) for the zoo students and "
            "the LJ toy, on a worker of its own."
        ),
    ] = False,
) -> None:
    """The whole service in one command, no Postgres or Redis: SQLite, a filesystem queue,
    workers started alongside, the API under /api/v1 and the dashboard at /."""
    from app.standalone import serve

    serve(host=host, port=port, data_dir=data_dir, demo=demo)


@app.command()
def migrate(
    seed: Annotated[
        bool, typer.Option(help="Also register the core's potentials, structures and suites.")
    ] = False,
) -> None:
    """Bring the database (MDVAL_DATABASE_URL) to the newest schema."""
    from app.core.config import get_settings
    from app.db.migrate import upgrade

    settings = get_settings()
    upgrade(settings.database_url)
    typer.echo("database at the newest revision")
    if seed:
        _seed(settings.database_url)


def _seed(database_url: str) -> None:
    from app.db.session import make_engine
    from workers.seed import seed_catalog

    engine = make_engine(database_url)
    try:
        counts = seed_catalog(engine)
    finally:
        engine.dispose()
    typer.echo("registered " + ", ".join(f"{n} {kind}" for kind, n in counts.items()))


@app.command()
def worker(
    queues: Annotated[
        str, typer.Option(help="Comma-separated: gpu, cpu, validate (MDVAL_QUEUE_PREFIX added).")
    ] = "gpu,cpu,validate",
    concurrency: Annotated[int, typer.Option(help="Processes (one per GPU on 'gpu').")] = 1,
    pool: Annotated[str, typer.Option(help="prefork, threads or solo.")] = "prefork",
    name: Annotated[str, typer.Option(help="Worker node name.")] = "mdval@%h",
) -> None:
    """A Celery worker of the service (production: one per GPU on queue 'gpu')."""
    from app.core.config import get_settings
    from workers.celery_app import celery_app, ensure_local_dirs

    settings = get_settings()
    ensure_local_dirs(settings)
    names = [settings.queue(q.strip()) for q in queues.split(",") if q.strip()]
    celery_app.worker_main(
        [
            "worker",
            "-Q",
            ",".join(names),
            "-c",
            str(concurrency),
            "-P",
            pool,
            "-n",
            name,
            "--loglevel",
            "INFO",
        ]
    )


@token_app.command("create")
def token_create(
    name: Annotated[str, typer.Option(help="Who or what uses it, e.g. 'ci'.")],
    role: Annotated[str, typer.Option(help="viewer, submitter or admin.")] = "viewer",
) -> None:
    """Create a token and print it once (only its hash is stored)."""
    if role not in ROLES:
        raise typer.BadParameter(f"role must be one of {', '.join(ROLES)}", param_hint="--role")
    from sqlalchemy.orm import Session

    from app.core.config import get_settings
    from app.crud.tokens import create_token
    from app.db.session import make_engine

    engine = make_engine(get_settings().database_url)
    with Session(engine) as session:
        _row, plaintext = create_token(session, name=name, role=role)
        session.commit()
    engine.dispose()
    typer.echo(plaintext)


@token_app.command("list")
def token_list() -> None:
    """Tokens (names, roles, prefixes; never the tokens)."""
    from sqlalchemy.orm import Session

    from app.core.config import get_settings
    from app.crud.tokens import list_tokens
    from app.db.session import make_engine

    with Session(make_engine(get_settings().database_url)) as session:
        for t in list_tokens(session):
            state = "revoked" if t.revoked_at else "active"
            typer.echo(f"{t.id}\t{t.name}\t{t.role}\t{t.prefix}…\t{state}")


@token_app.command("revoke")
def token_revoke(
    name: Annotated[str, typer.Option(help="Revoke every token of this name.")],
) -> None:
    """Revoke tokens by name."""
    from sqlalchemy.orm import Session

    from app.core.config import get_settings
    from app.crud.tokens import revoke_tokens
    from app.db.session import make_engine

    with Session(make_engine(get_settings().database_url)) as session:
        n = revoke_tokens(session, name=name)
        session.commit()
    typer.echo(f"revoked {n} token(s)")


@app.command()
def submit(
    server: Annotated[str, typer.Option(envvar="MDVAL_SERVER", help="e.g. http://host:8000")],
    token: Annotated[str, typer.Option(envvar="MDVAL_TOKEN", help="A submitter token.")],
    model: Annotated[str, typer.Option(help="A registered spec, or a TorchScript file to upload.")],
    suite: Annotated[str | None, typer.Option(help="Queue this suite (e.g. m6-quick).")] = None,
    structure: Annotated[
        str | None, typer.Option(help="One run on this structure instead.")
    ] = None,
    reference: Annotated[str | None, typer.Option(help="Reference spec ('none' to skip).")] = None,
    temperature_k: Annotated[float | None, typer.Option("--temperature-k")] = None,
    timestep_fs: Annotated[float | None, typer.Option("--timestep-fs")] = None,
    duration_ps: Annotated[float | None, typer.Option("--duration-ps")] = None,
    equilibration_ps: Annotated[float | None, typer.Option("--equilibration-ps")] = None,
    seed: Annotated[int | None, typer.Option()] = None,
    profile: Annotated[str | None, typer.Option()] = None,
    device: Annotated[str | None, typer.Option(help="auto, cpu or cuda.")] = None,
    wait: Annotated[
        bool,
        typer.Option(help="Wait for the verdict; exit 0 pass, 1 fail, 3 inconclusive."),
    ] = False,
    poll_s: Annotated[float, typer.Option(help="Polling interval while waiting, s.")] = 5.0,
    timeout_s: Annotated[float, typer.Option(help="Give up waiting after this long, s.")] = 86400.0,
) -> None:
    """Queue a suite (or one run) on a server; with --wait, show progress and the verdict
    table, then exit 0 when every run passes, 1 when one fails, 2 on bad input, 3 when
    the evidence is inconclusive, 4 on an internal error."""
    from app.client import SubmitOptions, run_submit

    options = SubmitOptions(
        server=server,
        token=token,
        model=model,
        suite=suite,
        structure=structure,
        reference=reference,
        parameters={
            k: v
            for k, v in {
                "temperature_K": temperature_k,
                "timestep_fs": timestep_fs,
                "duration_ps": duration_ps,
                "equilibration_ps": equilibration_ps,
                "seed": seed,
                "profile": profile,
                "device": device,
            }.items()
            if v is not None
        },
        wait=wait,
        poll_s=poll_s,
        timeout_s=timeout_s,
    )
    raise typer.Exit(run_submit(options))


if __name__ == "__main__":
    app()
