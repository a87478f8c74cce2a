"""Data Sync lanes (DESIGN.md, "Data Sync": lanes; "Performance budgets"). Prints figures and
ratios; never asserts.

A threaded receiver in its own process answers each API POST after 20 ms (the token at once)
and notes every message's uniqueId per customer in arrival order. Against it:

1. 4,000 records of 500 customers, DataSyncConcurrency 8 ÷ 1 in records per second (budget
   >= 6x), each on a fresh queue, and whether every customer's order was kept;
2. takeover after a SIGKILL with the default lease: `manage.py datasync run` at concurrency 4
   is killed with SIGKILL once deliveries are under way and a second one started at once; the
   time from the kill until deliveries resume, and until the first record of a lane the killed
   run held arrives (goal <= 20 s); records delivered twice and their uniqueIds.

    .venv/bin/python bench/datasync_lanes.py [--small]

On a temporary SQLite file; on PostgreSQL when DATABASE_URL is set (a bench database: its
Data Sync queues are emptied).
"""

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._datasync import (
    Queued,
    Receiver,
    arrivals_check,
    customer_records_queue,
    datasync_configure,
)
from bench._django import django_setup

REPO_ROOT = Path(__file__).resolve().parent.parent
API_DELAY = 0.020


def drain(concurrency: int, queued_count: int) -> float:
    """Seconds for runs in this process to deliver the whole queue."""
    from datasync.models import ProgressRecord, SyncRun
    from datasync.services.queues import pending_exists
    from datasync.services.run import datasync_run
    from integration_hub.services.system_settings import setting_set

    setting_set(key="DataSyncConcurrency", value=concurrency)
    started = time.perf_counter()
    while True:
        run = datasync_run(trigger=SyncRun.Trigger.COMMAND, honour_backoff=False)
        if run.status != SyncRun.Status.SUCCEEDED:
            print(f"  run {run.pk} {run.status}: {run.last_error}")
            break
        if not run.has_more:
            break
    elapsed = time.perf_counter() - started
    left = ProgressRecord.objects.count() + pending_exists()
    if left:
        print(f"  {left} records left queued after concurrency {concurrency}")
    return elapsed


def lanes_speedup(receiver: Receiver, count: int, customers: int) -> None:
    from integration_hub.system_settings import setting_get

    print(
        f"lanes: {count:,} records of {customers} customers, 1 message per POST, receiver "
        f"answering in {API_DELAY * 1000:.0f} ms, DataSyncBatchSize "
        f"{setting_get('DataSyncBatchSize')}"
    )
    rates = {}
    for concurrency in (1, 8):
        receiver.reset()
        queued = customer_records_queue(count=count, customers=customers)
        elapsed = drain(concurrency, count)
        rates[concurrency] = count / elapsed
        check = arrivals_check(queued, receiver.report())
        print(f"  concurrency {concurrency}: {elapsed:.2f} s, {rates[concurrency]:,.0f} records/s")
        for line in check.lines():
            print(f"    {line}")
    print(f"  concurrency 8 ÷ 1: {rates[8] / rates[1]:.2f}x  (budget >= 6x)")


def _datasync_run_process(env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "manage.py", "datasync", "run"],
        cwd=REPO_ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log.open("a"),
        stderr=subprocess.STDOUT,
    )


def takeover(receiver: Receiver, count: int, customers: int, workdir: Path) -> None:
    from django.db import connection
    from django.db.models.functions import Now

    from datasync.models import LaneLease
    from datasync.services.queues import lane_for
    from integration_hub.services.system_settings import setting_set

    setting_set(key="DataSyncConcurrency", value=4)
    receiver.reset()
    queued = customer_records_queue(count=count, customers=customers)
    connection.close()  # the runs are other processes: nothing held open on SQLite
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("DATASYNC_LEASE_SECONDS", None)  # the default lease
    log = workdir / "datasync-run.log"
    print(
        f"takeover: {count:,} records of {customers} customers, `manage.py datasync run` at "
        "concurrency 4, lease 15 s (default)"
    )
    first = _datasync_run_process(env, log)
    under_way = max(100, count // 20)
    while receiver.count() < under_way:
        if first.poll() is not None:
            print(f"  the first run exited ({first.returncode}) before {under_way} deliveries")
            print(log.read_text())
            return
        time.sleep(0.05)
    first.send_signal(signal.SIGKILL)
    killed_at = time.time()
    first.wait()
    held = set(
        LaneLease.objects.exclude(holder="")
        .filter(expires_at__gt=Now())
        .values_list("lane", flat=True)
    )
    connection.close()
    second = _datasync_run_process(env, log)
    started_again = 0
    deadline = time.monotonic() + 300
    while receiver.count() < count and time.monotonic() < deadline:
        if second.poll() is not None:
            # `datasync run` ends when no lane it may take has work; lanes a run killed
            # moments ago still look live, so this may happen before their leases expire.
            started_again += 1
            second = _datasync_run_process(env, log)
        time.sleep(0.2)
    # Duplicates may still be under way once every record arrived once: let the run finish.
    try:
        second.wait(timeout=60)
    except subprocess.TimeoutExpired:
        second.kill()
        second.wait()
    arrivals = receiver.report()
    after = [a for a in arrivals if a.at > killed_at]
    lane_of = {
        customer: lane_for(subscriber_id=1, customer_key=customer, unique_id=customer)
        for customer in set(queued.customer_of.values())
    }
    in_held = [a for a in after if lane_of[a.customer] in held]
    print(
        f"  killed (SIGKILL) after {sum(a.at <= killed_at for a in arrivals)} deliveries, "
        f"holding lanes {sorted(held)}"
    )
    if started_again:
        print(f"  `datasync run` exited with work left and was started again {started_again}x")
    if after:
        print(f"  deliveries resumed (any lane): {after[0].at - killed_at:.2f} s after the kill")
    if in_held:
        print(
            f"  first delivery in a lane the killed run held: {in_held[0].at - killed_at:.2f} s "
            "after the kill  (goal <= 20 s)"
        )
    else:
        print("  no delivery in a lane the killed run held after the kill")
    _duplicates_print(queued, arrivals)
    for line in arrivals_check(queued, arrivals).lines():
        print(f"  {line}")


def _duplicates_print(queued: Queued, arrivals) -> None:
    unique_ids: dict[int, list[int]] = {}
    for arrival in arrivals:
        unique_ids.setdefault(arrival.record, []).append(arrival.unique_id)
    twice = {record: ids for record, ids in unique_ids.items() if len(ids) > 1}
    same = all(set(ids) == {queued.unique_id_of[record]} for record, ids in twice.items())
    print(
        f"  records delivered twice: {len(twice)}"
        + (f", each time with the same uniqueId: {'yes' if same else 'no'}" if twice else "")
    )


def main() -> None:
    small = "--small" in sys.argv
    count, customers = (800, 100) if small else (4_000, 500)
    takeover_count = 3_000 if small else 8_000
    receiver = Receiver(delay=API_DELAY)
    try:
        with tempfile.TemporaryDirectory() as workdir:
            django_setup(Path(workdir), os.environ.get("DATABASE_URL"))
            from django.db import connection

            print(f"database: {connection.vendor}")
            datasync_configure(receiver)
            lanes_speedup(receiver, count, customers)
            takeover(receiver, takeover_count, customers, Path(workdir))
    finally:
        receiver.stop()


if __name__ == "__main__":
    main()
