"""What every benchmark does first: Django on a fresh SQLite file in the run's own folder (or
on the database `database_url` names), migrated, with quiet logs. Not a benchmark itself
(`make bench` runs bench/*.py but the ones whose name starts with _)."""

import os
import subprocess
import sys
from pathlib import Path

POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/postgres"


def django_setup(workdir: Path, database_url: str | None = None) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "integration_hub.test_settings"
    os.environ["DATABASE_URL"] = database_url or f"sqlite:///{workdir / 'bench.sqlite3'}"
    os.environ["LOG_LEVEL"] = "WARNING"
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def postgres_child_run(label: str, script: str, *args: str) -> None:
    """Run `script` again in a child process (Django is set up once per process) with `args`
    and, last, the URL of a database created for it on the server of BENCH_POSTGRES_URL
    (default POSTGRES_URL) and dropped after. When that server cannot be reached, prints that
    `label` is skipped."""
    import psycopg

    server = os.environ.get("BENCH_POSTGRES_URL", POSTGRES_URL)
    name = f"bench_{Path(script).stem}_{os.getpid()}"
    try:
        admin = psycopg.connect(server, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        print(f"{label}: skipped, {server} not reachable ({exc})".strip())
        return
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            url = server.rsplit("/", 1)[0] + f"/{name}"
            sys.stdout.flush()
            # This interpreter, a bench script of this folder.
            subprocess.run([sys.executable, script, *args, url], check=True)  # noqa: S603
        finally:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
