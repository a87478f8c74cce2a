"""Lanes across runs, processes and clusters (DESIGN.md, "Data Sync": lanes; "Invariants"):
never two deliverers on one lane, a killed run's lanes taken over once their leases expire,
two real clusters draining one queue with nothing lost or sent twice. Other processes are
involved, so these tests commit their data."""

import collections
import itertools
import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from django.db import transaction

from datasync.models import CustomerPendingRecord, LaneLease, ProgressRecord, SyncRun
from datasync.services.queues import capture_number_next, lane_for
from datasync.services.run import datasync_run
from integration_hub.selectors import default_subscriber
from tests.reliability.cluster import REPO_ROOT, cluster_database_url, run_cluster

from .conftest import customers_changed, receiver_configure
from .receiver import Behaviour

pytestmark = pytest.mark.django_db(transaction=True)


def _queue_directly(count: int, customers: int) -> None:
    """`count` pending records of `customers` customers, as capture writes them, at once."""
    subscriber_id = default_subscriber().pk
    with transaction.atomic():
        records = []
        for n in range(count):
            key = f"C{n % customers:04}"
            records.append(
                CustomerPendingRecord(
                    object_name="Customer",
                    unique_id=key,
                    action="UPDATE",
                    json_object={"customerID": key, "n": n},
                    capture_order=capture_number_next(),
                    subscriber_id=subscriber_id,
                    customer_key=key,
                    lane=lane_for(subscriber_id=subscriber_id, customer_key=key, unique_id=key),
                )
            )
        CustomerPendingRecord.objects.bulk_create(records, batch_size=1000)


def _command_run(extra_env: dict[str, str] | None = None) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "integration_hub.test_settings",
        "DATABASE_URL": cluster_database_url(),
        **(extra_env or {}),
    }
    return subprocess.Popen(
        [sys.executable, "manage.py", "datasync", "run"],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _wait(condition, timeout=60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def _lane_of(message: dict) -> int:
    key = json.loads(message["payload"])["customerID"]
    return lane_for(subscriber_id=default_subscriber().pk, customer_key=key, unique_id=key)


def test_two_runs_side_by_side_never_deliver_one_lane_at_once(local_receiver):
    receiver_configure(local_receiver, DataSyncConcurrency=4)
    customers_changed(customers=80, updates=2)
    gate = threading.Event()
    local_receiver.behaviour = Behaviour(gate=gate, latency=(0.005, 0.02))
    runs = [_command_run(), _command_run()]
    try:
        # Both runs have taken their lanes before the receiver answers anything.
        _wait(lambda: SyncRun.objects.filter(status="RUNNING").count() == 2)
        _wait(lambda: LaneLease.objects.exclude(holder="").count() == 8)
        gate.set()
        for process in runs:
            assert process.wait(timeout=120) == 0, process.stderr.read().decode()
    finally:
        gate.set()
        for process in runs:
            if process.poll() is None:
                process.kill()

    by_lane = collections.defaultdict(list)
    for delivery in local_receiver.deliveries:
        (lane,) = {_lane_of(m) for m in delivery.messages}
        by_lane[lane].append((delivery.started, delivery.finished))
    for lane, spans in by_lane.items():
        spans.sort()
        for (_, end), (start, _) in itertools.pairwise(spans):
            assert start >= end, f"lane {lane} was delivered by two runs at once"
    ids = [m["uniqueId"] for m in local_receiver.messages()]
    assert len(ids) == len(set(ids)) == 240
    sent = sorted(SyncRun.objects.values_list("sent", flat=True))
    assert len(sent) == 2
    assert sent[0] > 0, f"the runs did not share the lanes: {sent}"
    assert local_receiver.most_in_flight > 4  # both runs' lanes at once


def test_a_killed_runs_lanes_are_taken_over_once_their_leases_expire(local_receiver, settings):
    settings.DATASYNC_LEASE_SECONDS = 2.0  # short, so the test does not wait 15 s
    receiver_configure(local_receiver, DataSyncConcurrency=4)
    customers_changed(customers=25, updates=7)
    expected = {
        str(n) for n in CustomerPendingRecord.objects.values_list("capture_order", flat=True)
    }
    assert len(expected) == 200
    gate = threading.Event()
    gate.set()
    local_receiver.behaviour = Behaviour(gate=gate, latency=(0.01, 0.02))
    killed = _command_run({"DATASYNC_LEASE_SECONDS": "2"})
    try:
        _wait(lambda: len(local_receiver.deliveries) >= 30)
        gate.clear()  # the run's next POSTs hang: killed mid-POST in each of its 4 lanes
        _wait(lambda: local_receiver.in_flight == 4)
    finally:
        killed.send_signal(signal.SIGKILL)
        killed.wait()
    killed_at = time.monotonic()
    held = set(LaneLease.objects.exclude(holder="").values_list("lane", flat=True))
    assert len(held) == 4, "the killed run held its lanes"
    gate.set()  # the receiver takes those POSTs in, but their 2xx reach no one

    # The next runs that start take the killed run's lanes once their leases expire.
    deadline = time.monotonic() + 60
    while ProgressRecord.objects.exists() or CustomerPendingRecord.objects.exists():
        assert time.monotonic() < deadline, "the killed run's lanes were never taken over"
        datasync_run(trigger=SyncRun.Trigger.COMMAND, honour_backoff=False)

    messages = local_receiver.messages()
    assert {m["uniqueId"] for m in messages} == expected, "a record was lost"
    delivered_at = collections.defaultdict(list)
    for delivery in local_receiver.deliveries:
        for message in delivery.messages:
            delivered_at[message["uniqueId"]].append(delivery.finished)
    repeated = {unique_id: times for unique_id, times in delivered_at.items() if len(times) > 1}
    for unique_id, times in repeated.items():
        assert len(times) == 2, f"{unique_id} was delivered {len(times)} times"
        # Repeated only if its 2xx came in the last 100 ms before the kill (not yet removed),
        # with a little slack for the time a POST's answer takes to reach the run.
        assert times[0] >= killed_at - 0.1 - 0.25, f"{unique_id} was repeated though removed"
    taken_over = {_lane_of(m) for d in local_receiver.deliveries for m in d.messages}
    assert held <= taken_over
    by_customer = collections.defaultdict(list)
    for message in messages:
        by_customer[json.loads(message["payload"])["customerID"]].append(int(message["uniqueId"]))
    for ids in by_customer.values():
        firsts = list(dict.fromkeys(ids))  # a repeat is the same message again, in place
        assert firsts == sorted(firsts)
    killed_run = SyncRun.objects.order_by("pk").first()
    assert killed_run.status == "FAILED"
    assert "Abandoned" in killed_run.last_error


@pytest.mark.postgres
@pytest.mark.cluster
def test_two_clusters_drain_5000_records_in_lanes_none_lost_none_twice(local_receiver):
    from django_q.models import Schedule

    Schedule.objects.all().delete()
    receiver_configure(local_receiver, DataSyncConcurrency=8)
    _queue_directly(5000, customers=700)
    local_receiver.behaviour = Behaviour(latency=(0.0, 0.002))
    with run_cluster(workers=1) as one, run_cluster(workers=1) as two:
        one.enqueue("datasync.tasks.datasync_run_now")
        two.enqueue("datasync.tasks.datasync_run_now")
        one.wait_until(
            lambda: (
                not CustomerPendingRecord.objects.exists()
                and not ProgressRecord.objects.exists()
                and not SyncRun.objects.filter(status="RUNNING").exists()
            ),
            timeout=300,
        )
    ids = [m["uniqueId"] for m in local_receiver.messages()]
    assert len(set(ids)) == 5000, "a record was lost"
    assert len(ids) == 5000, "a record was delivered twice"
    by_customer = collections.defaultdict(list)
    for message in local_receiver.messages():
        key = json.loads(message["payload"])["customerID"]
        by_customer[key].append(int(message["uniqueId"]))
    assert all(ids == sorted(ids) for ids in by_customer.values())
    workers = set(SyncRun.objects.filter(sent__gt=0).values_list("worker", flat=True))
    assert len(workers) == 2, "both clusters delivered"
