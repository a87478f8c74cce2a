"""No captured change is lost: a run killed with SIGKILL, and two clusters at once
(DESIGN.md, "Invariants"). These use other processes, so they commit their data."""

import collections
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from datasync.models import CustomerPendingRecord, LaneLease, ProgressRecord, SyncRun
from datasync.services.run import datasync_run
from integration_hub.selectors import default_subscriber
from integration_hub.services.customers import customer_create
from tests.reliability.cluster import REPO_ROOT, cluster_database_url, run_cluster

from .conftest import datasync_configure
from .receiver import Behaviour

pytestmark = pytest.mark.django_db(transaction=True)


def _wait(condition, timeout=60.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def test_a_run_killed_halfway_loses_nothing_and_repeats_only_in_flight_messages(local_receiver):
    datasync_configure(
        api_url=local_receiver.base_url + "/api", token_url=local_receiver.base_url + "/token"
    )
    for n in range(40):
        customer_create(subscriber=default_subscriber(), customer_id=f"C{n:02}")
    local_receiver.behaviour = Behaviour(hang_seconds=0.05)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "integration_hub.test_settings",
        "DATABASE_URL": cluster_database_url(),
    }
    process = subprocess.Popen(
        [sys.executable, "manage.py", "datasync", "run"],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait(lambda: len(local_receiver.deliveries) >= 10)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    killed_at = len(local_receiver.deliveries)
    assert killed_at < 40, "the run finished before it could be killed"
    assert SyncRun.objects.get().status == "RUNNING"
    # Time passes: the killed run's lease expires.
    LaneLease.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    SyncRun.objects.update(heartbeat_at=timezone.now() - timedelta(minutes=1))
    local_receiver.behaviour = Behaviour()
    run = datasync_run(trigger=SyncRun.Trigger.COMMAND, honour_backoff=False)
    assert run.status == "SUCCEEDED"
    messages = local_receiver.messages()
    by_customer = collections.defaultdict(set)
    for message in messages:
        by_customer[message["payload"]].add(message["uniqueId"])
    customers = {m["payload"] for m in messages}
    assert len(by_customer) == 40  # nothing lost
    # A repeated customer was repeated with the same uniqueId (it was in flight).
    assert all(len(ids) == 1 for ids in by_customer.values())
    repeats = len(messages) - 40
    assert repeats <= 5  # only what was delivered but not yet removed (≤100 ms of sends)
    assert not ProgressRecord.objects.exists()
    assert not CustomerPendingRecord.objects.exists()
    assert SyncRun.objects.filter(status="FAILED", last_error__contains="Abandoned").exists()
    assert customers


@pytest.mark.postgres
@pytest.mark.cluster
def test_two_clusters_draining_at_once_deliver_no_record_twice(local_receiver):
    from django_q.models import Schedule

    Schedule.objects.all().delete()
    datasync_configure(
        api_url=local_receiver.base_url + "/api", token_url=local_receiver.base_url + "/token"
    )
    for n in range(150):
        customer_create(subscriber=default_subscriber(), customer_id=f"C{n:03}")
    with run_cluster(workers=2) as one, run_cluster(workers=2) as two:
        for _ in range(3):
            one.enqueue("datasync.tasks.datasync_run_now")
            two.enqueue("datasync.tasks.datasync_run_now")
        one.wait_until(
            lambda: (
                not CustomerPendingRecord.objects.exists()
                and not ProgressRecord.objects.exists()
                and not SyncRun.objects.filter(status="RUNNING").exists()
            ),
            timeout=120,
        )
    ids = [m["uniqueId"] for m in local_receiver.messages()]
    assert len(ids) == 150
    assert len(set(ids)) == 150


@pytest.mark.postgres
def test_an_order_posted_while_its_customer_changes_never_leaves_the_older_state_last(
    mocked_receiver,
):
    """The order's customer UPDATE is read under the customer's row lock: the receiver's last
    message of the customer carries the change that committed last."""
    import json
    import threading
    from decimal import Decimal

    from django.db import connection, transaction

    from integration_hub.models import Customer
    from integration_hub.services.customers import customer_update
    from integration_hub.services.orders import ItemInput, PaymentInput, order_post

    from .conftest import API_URL, TOKEN_URL

    datasync_configure(api_url=API_URL, token_url=TOKEN_URL)
    mocked_receiver.post(API_URL, json={})
    subscriber = default_subscriber()
    customer_create(subscriber=subscriber, customer_id="C1", first_name="Old")
    changed, release = threading.Event(), threading.Event()

    def rename():
        try:
            with transaction.atomic():
                customer = Customer.objects.get(customer_id="C1")
                customer_update(customer=customer, first_name="New")
                changed.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    def post():
        try:
            order_post(
                subscriber=subscriber,
                retail_transaction_id="T1",
                business_date=timezone.localdate(),
                currency="USD",
                customer=Customer.objects.get(customer_id="C1"),
                items=[
                    ItemInput(
                        revenue_category="Classes",
                        tax_rate=Decimal("0"),
                        quantity=Decimal(1),
                        unit_price=Decimal("10.00"),
                    )
                ],
                payments=[PaymentInput(payment_method="CASH", amount=Decimal("10.00"))],
            )
        finally:
            connection.close()

    renamer = threading.Thread(target=rename)
    renamer.start()
    assert changed.wait(timeout=30)
    poster = threading.Thread(target=post)
    poster.start()
    poster.join(timeout=1)  # it waits for the rename's row lock...
    release.set()  # ...until the rename commits
    renamer.join(timeout=30)
    poster.join(timeout=30)
    assert not poster.is_alive()

    assert datasync_run(trigger=SyncRun.Trigger.COMMAND, honour_backoff=False).status == (
        "SUCCEEDED"
    )
    customer_messages = [
        json.loads(m["payload"])
        for call in mocked_receiver.calls
        if call.request.url == API_URL
        for m in json.loads(call.request.body)["messages"]
        if m["type"] == "CUSTOMER"
    ]
    last_name = customer_messages[-1]["entityInformation"]["individual"]["name"]["name"][0]
    assert last_name["value"] == "New"
