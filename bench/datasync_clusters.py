"""Data Sync across clusters (DESIGN.md, "Data Sync": lanes; "Performance budgets"). Prints
figures and the ratio; never asserts.

20,000 records of 2,000 customers at DataSyncConcurrency 8, drained by django-q2 clusters
(`Q_WORKERS=1` each) on PostgreSQL + Redis to a threaded receiver answering in 20 ms: two
clusters ÷ one (budget >= 1.5x), and 0 records lost or delivered twice (at the receiver).

The clusters share one queue name, as in production: one `datasync.tasks.datasync_run_now`
is queued per cluster, and Redis hands each waiting cluster one (the runs each cluster ran
are printed, so a cluster that took both would show). A run that ends its slice with work
left queues its continuation on the same queue.

    .venv/bin/python bench/datasync_clusters.py [--small]

Needs PostgreSQL at BENCH_POSTGRES (default postgres://postgres@127.0.0.1:5432; the database
bench_datasync_clusters is created afresh there) and Redis at REDIS_URL (default
redis://127.0.0.1:6379/0).
"""

import contextlib
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._datasync import Receiver, arrivals_check, customer_records_queue, datasync_configure
from bench._django import django_setup

API_DELAY = 0.020
DATABASE = "bench_datasync_clusters"
DRAIN_TIMEOUT = 900.0


def database_create(server: str) -> str:
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DATABASE}"')
    return f"{server}/{DATABASE}"


def cluster_ready(cluster) -> None:
    """Wait until the cluster has run a task (it is up, its worker has Django loaded)."""
    from django_q.models import Task

    task_id = cluster.enqueue("math.floor", 1.5)
    cluster.wait_until(lambda: Task.objects.filter(id=task_id).exists(), timeout=120)


def drain(receiver: Receiver, *, clusters: int, count: int, customers: int) -> float:
    from datasync.models import ProgressRecord, SyncRun
    from datasync.services.queues import pending_exists
    from tests.reliability.cluster import run_cluster

    receiver.reset()
    SyncRun.objects.all().delete()
    queued = customer_records_queue(count=count, customers=customers)
    name = f"bench-{uuid.uuid4().hex[:8]}"  # one queue for all the clusters of this drain
    with contextlib.ExitStack() as stack:
        started = []
        for _ in range(clusters):
            cluster = stack.enter_context(
                run_cluster(workers=1, extra_env={"Q_CLUSTER_NAME": name})
            )
            cluster.name = name  # the queue and signing salt its tasks need
            started.append(cluster)
        for cluster in started:
            cluster_ready(cluster)
        began = time.time()
        for cluster in started:
            cluster.enqueue("datasync.tasks.datasync_run_now")
        deadline = time.monotonic() + DRAIN_TIMEOUT
        while receiver.count() < count and time.monotonic() < deadline:
            time.sleep(0.2)
        # Let the runs end (a record sent twice would arrive by then).
        started[0].wait_until(
            lambda: not SyncRun.objects.filter(status=SyncRun.Status.RUNNING).exists(),
            timeout=60,
        )
    arrivals = receiver.report()
    elapsed = max(a.at for a in arrivals) - began
    print(
        f"  {clusters} cluster{'s' if clusters > 1 else ''}: {elapsed:.2f} s, "
        f"{count / elapsed:,.0f} records/s"
    )
    runs = SyncRun.objects.order_by("pk")
    by_worker: dict[str, list[str]] = {}
    for run in runs:
        by_worker.setdefault(run.worker, []).append(f"{run.status} sent {run.sent}")
    for worker, summary in by_worker.items():
        print(f"    runs by {worker}: {', '.join(summary)}")
    left = ProgressRecord.objects.count() + pending_exists()
    if left:
        print(f"    {left} records still queued")
    for line in arrivals_check(queued, arrivals).lines():
        print(f"    {line}")
    return elapsed


def main() -> None:
    small = "--small" in sys.argv
    count, customers = (4_000, 400) if small else (20_000, 2_000)
    server = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
    os.environ["REDIS_URL"] = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    database_url = database_create(server)
    receiver = Receiver(delay=API_DELAY)
    try:
        with tempfile.TemporaryDirectory() as workdir:
            django_setup(Path(workdir), database_url)
            from integration_hub.services.system_settings import setting_set

            datasync_configure(receiver)
            setting_set(key="DataSyncConcurrency", value=8)
            print(
                f"clusters: {count:,} records of {customers:,} customers, DataSyncConcurrency 8, "
                f"Q_WORKERS=1 each, PostgreSQL + Redis, receiver answering in "
                f"{API_DELAY * 1000:.0f} ms"
            )
            one = drain(receiver, clusters=1, count=count, customers=customers)
            two = drain(receiver, clusters=2, count=count, customers=customers)
            print(f"  two clusters ÷ one: {one / two:.2f}x  (budget >= 1.5x)")
    finally:
        receiver.stop()
        from django.db import connections

        connections.close_all()


if __name__ == "__main__":
    main()
