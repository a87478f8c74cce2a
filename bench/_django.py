"""What every benchmark does first: Django on a fresh SQLite file in the run's own folder
(or on the given database), migrated, with quiet logs. Not a benchmark itself (`make bench`
runs bench/*.py but the ones whose name starts with _)."""

import os
from pathlib import Path


def django_setup(workdir: Path, *, database_url: str | None = None) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "integration_hub.test_settings"
    os.environ["DATABASE_URL"] = database_url or f"sqlite:///{workdir / 'bench.sqlite3'}"
    os.environ["LOG_LEVEL"] = "WARNING"
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
