"""`/metrics` scrape time (DESIGN.md, "Performance budgets": ≤ 100 ms with 100,000 records
queued). Prints times and their ratio to the empty-queue scrape of the same run; never
asserts.

For each database: a scrape of a fresh hub (empty queues, nothing counted), then 100,000
records queued (50,000 pending, 45,000 in progress, 5,000 dead letters) and the counters and
histograms of 10 worker processes, each started afresh, counting (outbound requests to 20
integrations, Data Sync deliveries and runs, sync jobs, accounting packets), flushing as a
django-q2 worker does after its task, and exiting, as a recycled worker does. The scrape is a
full request through the middleware (Django's test client, with the bearer token), timed 30
times; the median and the slowest are printed.

    .venv/bin/python bench/metrics_scrape.py [--small]

--small queues 10,000 records. SQLite on a temporary file; PostgreSQL in a child process on
a database created for this run on the server of BENCH_POSTGRES_URL (default
postgres://postgres@127.0.0.1:5432/postgres) and dropped after; when that server cannot be
reached the PostgreSQL figures are skipped with a note.
"""

import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._django import django_setup, postgres_child_run

WORKERS = 10
SCRAPES = 30
TOKEN = "bench-metrics-token"  # noqa: S105 (a made-up token for this run)
COUNTS_PER_WORKER = 2_000


def records_queue(count: int) -> None:
    """Half pending, 45% in progress, 5% dead letters, of 2,000 customers."""
    from django.db import transaction

    from datasync.models import CustomerPendingRecord, ProgressRecord
    from datasync.services.queues import lane_for

    pending = count // 2
    dead = count // 20
    fields = {"object_name": "Customer", "action": "UPDATE", "subscriber_id": 1}
    with transaction.atomic():
        batch = []
        for number in range(1, count + 1):
            customer = f"C{number % 2000}"
            record = {
                **fields,
                "unique_id": customer,
                "customer_key": customer,
                "json_object": {"customerID": customer},
                "capture_order": number,
                "lane": lane_for(subscriber_id=1, customer_key=customer, unique_id=customer),
            }
            if number <= pending:
                batch.append(CustomerPendingRecord(**record))
            else:
                batch.append(
                    ProgressRecord(id=number, is_dead_letter=number > count - dead, **record)
                )
            if len(batch) == 5000:
                type(batch[0]).objects.bulk_create(batch)
                batch = []
        if batch:
            type(batch[0]).objects.bulk_create(batch)


def worker(database_url: str, seed: int) -> None:
    """One worker process's life: count, flush after its task, exit (no atexit in a
    recycled django-q2 worker)."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "integration_hub.test_settings"
    os.environ["DATABASE_URL"] = database_url
    os.environ["LOG_LEVEL"] = "WARNING"
    import django

    django.setup()
    from accounting.metrics import packets_count
    from datasync.metrics import DELIVERED, RUN_SECONDS, RUNS
    from integration_hub.metrics import metrics_flush
    from integration_hub.outbound.metrics import outbound_request_count
    from syncing.metrics import SYNC_JOBS

    rng = random.Random(seed)
    for n in range(COUNTS_PER_WORKER):
        outbound_request_count(
            integration=f"Integration {n % 20}",
            status=rng.choice([200, 200, 200, 201, 404, 429, 500, None]),
            seconds=rng.expovariate(10),
        )
        DELIVERED.inc()
        if n % 100 == 0:
            RUNS.inc(status=rng.choice(["succeeded", "failed"]))
            RUN_SECONDS.observe(rng.uniform(0.05, 120))
            SYNC_JOBS.inc(kind=rng.choice(["all", "account", "invoices"]), outcome="success")
            packets_count(state=rng.choice(["Sent", "Failed"]))
    if not metrics_flush():
        sys.exit("flush failed")


def workers_run(database_url: str) -> float:
    started = time.perf_counter()
    processes = [
        subprocess.Popen(  # noqa: S603 (this interpreter, this script)
            [sys.executable, __file__, "--worker", database_url, str(seed)]
        )
        for seed in range(WORKERS)
    ]
    for process in processes:
        if process.wait() != 0:
            raise SystemExit(f"a worker failed with {process.returncode}")
    return time.perf_counter() - started


def scrape_times(client) -> tuple[float, float, bytes]:
    """Median and slowest of SCRAPES scrapes, in milliseconds, and the last body."""
    client.get("/metrics")  # the first one opens the connection
    times = []
    for _ in range(SCRAPES):
        started = time.perf_counter()
        response = client.get("/metrics")
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.status_code
    return statistics.median(times), max(times), response.content


def measure(vendor: str, database_url: str | None, records: int) -> None:
    with tempfile.TemporaryDirectory() as workdir:
        django_setup(Path(workdir), database_url=database_url)
        from django.conf import settings
        from django.test import Client
        from prometheus_client.parser import text_string_to_metric_families

        from integration_hub.models import MetricTotal

        settings.METRICS_TOKEN = TOKEN
        url = os.environ["DATABASE_URL"]
        client = Client(HTTP_HOST="127.0.0.1", headers={"Authorization": f"Bearer {TOKEN}"})
        empty_median, empty_max, _ = scrape_times(client)

        records_queue(records)
        workers_seconds = workers_run(url)
        full_median, full_max, body = scrape_times(client)

        samples = {
            (sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(body.decode())
            for sample in family.samples
        }
        delivered = samples[("hub_datasync_delivered_total", ())]
        dead = samples[("hub_datasync_queue_records", (("queue", "dead"),))]
        print(f"/metrics scrape on {vendor}:")
        print(
            f"  empty queues, nothing counted:  {empty_median:6.1f} ms median, {empty_max:.1f} max"
        )
        print(
            f"  {records:,} queued, {WORKERS} workers' counters: {full_median:6.1f} ms median, "
            f"{full_max:.1f} max  (budget <= 100 ms)"
        )
        print(f"  ratio to the empty scrape:      {full_median / empty_median:6.2f}")
        print(
            f"  {MetricTotal.objects.count()} series rows, {len(body):,} bytes; delivered summed "
            f"over the workers: {delivered:,.0f} (expected {WORKERS * COUNTS_PER_WORKER:,}); "
            f"dead letters {dead:,.0f}; the {WORKERS} workers took {workers_seconds:.1f} s"
        )


def main() -> None:
    if sys.argv[1:2] == ["--worker"]:
        worker(sys.argv[2], int(sys.argv[3]))
        return
    if sys.argv[1:2] == ["--postgres-child"]:
        measure("PostgreSQL", sys.argv[3], int(sys.argv[2]))
        return
    records = 10_000 if "--small" in sys.argv else 100_000
    measure("SQLite", None, records)
    postgres_child_run("/metrics scrape on PostgreSQL", __file__, "--postgres-child", str(records))


if __name__ == "__main__":
    main()
