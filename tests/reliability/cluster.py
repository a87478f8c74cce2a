"""A real django-q2 cluster in a subprocess, on the test database the test process uses.

Reliability and browser tests start one with `run_cluster()` (a context manager) and hand it
work with `cluster.enqueue(...)`. The test must commit what the cluster should see, so it
uses `@pytest.mark.django_db(transaction=True)` (or a live server).
"""

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from unittest import mock
from urllib.parse import quote

from django.conf import settings
from django.db import connection

REPO_ROOT = Path(__file__).resolve().parents[2]
STOP_TIMEOUT = 30.0


def cluster_database_url() -> str:
    """The DATABASE_URL of the database this test process is using (the test database)."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{Path(db['NAME']).resolve()}"
    if connection.vendor != "postgresql":
        raise NotImplementedError(f"no cluster subprocess for {connection.vendor}")
    credentials = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"], safe="")
    host = db["HOST"] or "localhost"
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgres://{credentials}@{host}{port}/{quote(db['NAME'], safe='')}"


@dataclass
class Cluster:
    name: str
    process: subprocess.Popen
    log_path: Path
    stopped_cleanly: bool | None = None  # set once stopped: exited by itself on SIGTERM
    final_log: str = ""

    def log(self) -> str:
        return self.final_log or self.log_path.read_text(errors="replace")

    def enqueue(self, func: str | Callable, *args, **kwargs) -> str:
        """async_task onto this cluster's queue; returns the task id.

        Settings turn Q_CLUSTER_NAME into django-q2's `name`, which is both the queue and the
        salt that signs each task, so this process signs with the cluster's name too.
        """
        from django_q.conf import Conf
        from django_q.tasks import async_task

        with mock.patch.multiple(Conf, PREFIX=self.name, CLUSTER_NAME=self.name):
            return async_task(func, *args, cluster=self.name, **kwargs)

    @contextmanager
    def receiving_this_process_tasks(self) -> Iterator[None]:
        """While inside, the tasks this process queues (its live server's, say) go to this
        cluster's queue, signed with its name."""
        from django_q.conf import Conf

        with mock.patch.multiple(Conf, PREFIX=self.name, CLUSTER_NAME=self.name):
            yield

    def wait_until(self, condition: Callable[[], bool], *, timeout: float = 60.0) -> None:
        """Poll `condition` until it holds; fail with the cluster's log if it never does."""
        deadline = time.monotonic() + timeout
        while not condition():
            if self.process.poll() is not None:
                raise AssertionError(
                    f"cluster {self.name} exited with {self.process.returncode}:\n{self.log()}"
                )
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"cluster {self.name}: condition not met within {timeout:.0f}s:\n{self.log()}"
                )
            time.sleep(0.1)


def _stop(process: subprocess.Popen) -> bool:
    """SIGTERM (django-q2 stops its workers and exits), then SIGKILL the whole process group
    if it takes too long, so that no worker is left behind. True if it exited by itself."""
    exited = process.poll() is not None
    if not exited:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=STOP_TIMEOUT)
            exited = True
        except subprocess.TimeoutExpired:
            pass
    with contextlib.suppress(ProcessLookupError, PermissionError):  # the group is gone
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    return exited and process.returncode == 0


@contextmanager
def run_cluster(*, workers: int = 1, extra_env: dict[str, str] | None = None) -> Iterator[Cluster]:
    """Start `manage.py qcluster` on the test database under a unique cluster name."""
    name = f"test-{uuid.uuid4().hex[:12]}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "integration_hub.test_settings",
        "DATABASE_URL": cluster_database_url(),
        "Q_CLUSTER_NAME": name,
        "Q_WORKERS": str(workers),
        "PYTHONUNBUFFERED": "1",
        **(extra_env or {}),
    }
    if settings.REDIS_URL:
        env["REDIS_URL"] = settings.REDIS_URL
    else:
        env.pop("REDIS_URL", None)
    log_file = tempfile.NamedTemporaryFile(  # noqa: SIM115 (closed in the finally below)
        prefix=f"{name}-", suffix=".log", delete=False
    )
    process = subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        cwd=REPO_ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log_file,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, so that stopping it reaps workers
    )
    cluster = Cluster(name=name, process=process, log_path=Path(log_file.name))
    try:
        yield cluster
    finally:
        cluster.stopped_cleanly = _stop(process)
        log_file.close()
        cluster.final_log = cluster.log_path.read_text(errors="replace")
        cluster.log_path.unlink(missing_ok=True)
