"""Lanes (DESIGN.md, "Data Sync"): above DataSyncConcurrency 1 a run delivers several lanes at
once, each customer's messages still in capture order, one deliverer per lane, a failed batch
retried one message per POST; over a real local receiver."""

import collections
import json

import pytest
from django.core.management import CommandError, call_command
from django.db.backends.signals import connection_created

from datasync.models import LaneLease, ProgressRecord, SyncRun
from datasync.services.queues import lane_for
from datasync.services.run import datasync_run
from integration_hub.models import Customer
from integration_hub.selectors import default_subscriber
from integration_hub.services.customers import customer_create, customer_update
from integration_hub.system_settings import setting_get

from .conftest import customers_changed, receiver_configure
from .receiver import Behaviour

pytestmark = pytest.mark.django_db


def _by_customer(messages: list[dict]) -> dict[str, list[int]]:
    """Each customer's uniqueIds in the order the receiver got them."""
    seen = collections.defaultdict(list)
    for message in messages:
        seen[json.loads(message["payload"])["customerID"]].append(int(message["uniqueId"]))
    return seen


def _run() -> SyncRun:
    return datasync_run(trigger=SyncRun.Trigger.COMMAND, honour_backoff=False)


def test_each_customers_order_is_kept_at_concurrency_8_with_a_random_latency(local_receiver):
    receiver_configure(local_receiver, DataSyncConcurrency=8)
    customers_changed(customers=40, updates=4)
    local_receiver.behaviour = Behaviour(latency=(0.0, 0.03))

    run = _run()

    assert run.status == "SUCCEEDED", run.last_error
    assert run.sent == 200
    by_customer = _by_customer(local_receiver.messages())
    assert len(by_customer) == 40
    for ids in by_customer.values():
        assert len(ids) == 5
        assert ids == sorted(ids), "a customer's messages left their capture order"
    assert local_receiver.most_in_flight > 1, "the lanes were not delivered side by side"
    assert not ProgressRecord.objects.exists()
    assert not LaneLease.objects.exclude(holder="").exists(), "every lane given back"


def test_a_run_opens_no_database_connection_besides_its_own_whatever_its_concurrency(
    local_receiver,
):
    receiver_configure(local_receiver, DataSyncConcurrency=16)
    customers_changed(customers=64, updates=1)
    # The receiver refuses the token the run starts with: its HTTP threads fetch another
    # one, which reads and writes the database.
    local_receiver.behaviour = Behaviour(valid_token="token-2", latency=(0.0, 0.01))
    opened = []

    def count(sender, connection, **kwargs):
        opened.append(connection)

    connection_created.connect(count)
    try:
        run = _run()
    finally:
        connection_created.disconnect(count)

    assert run.status == "SUCCEEDED", run.last_error
    assert run.sent == 128
    assert local_receiver.tokens_issued == 2  # one 401 burst, one new token
    assert opened == []


def test_a_failed_batch_is_retried_one_message_per_post_so_its_neighbours_are_delivered(
    local_receiver,
):
    receiver_configure(local_receiver, DataSyncMessagesPerRequest=10, DataSyncMaxAttempts=1)
    customers_changed(customers=6, updates=0)
    bad = Customer.objects.get(customer_id="C002")
    customer_update(customer=bad, first_name="later")  # queued behind the bad record

    def reject(messages):
        return any(json.loads(m["payload"])["customerID"] == "C002" for m in messages)

    local_receiver.behaviour = Behaviour(reject=reject)

    run = _run()

    assert run.status == "FAILED"
    # The batch of 7 failed; alone, C000 and C001 went through, then C002 failed alone.
    assert [len(d.messages) for d in local_receiver.rejected] == [7, 1]
    delivered = {json.loads(m["payload"])["customerID"] for m in local_receiver.messages()}
    assert delivered == {"C000", "C001"}
    assert run.failed == 1
    # Only C002's record counted an attempt (and, at DataSyncMaxAttempts 1, is dead-lettered
    # with its later record); its other neighbours wait for the next run, unharmed.
    dead = ProgressRecord.objects.filter(is_dead_letter=True)
    assert set(dead.values_list("customer_key", flat=True)) == {"C002"}
    assert dead.count() == 2
    waiting = ProgressRecord.objects.filter(is_dead_letter=False)
    assert set(waiting.values_list("customer_key", flat=True)) == {"C003", "C004", "C005"}
    assert set(waiting.values_list("attempts", flat=True)) == {0}

    local_receiver.behaviour = Behaviour()
    assert _run().status == "SUCCEEDED"
    delivered = {json.loads(m["payload"])["customerID"] for m in local_receiver.messages()}
    assert delivered == {"C000", "C001", "C003", "C004", "C005"}


def test_a_failed_batch_of_one_lane_spares_its_neighbours_at_concurrency_8(local_receiver):
    receiver_configure(
        local_receiver,
        DataSyncMessagesPerRequest=10,
        DataSyncMaxAttempts=1,
        DataSyncConcurrency=8,
    )
    subscriber = default_subscriber()
    lane = lane_for(subscriber_id=subscriber.pk, customer_key="N0", unique_id="N0")
    same_lane = [
        key
        for key in (f"N{n}" for n in range(2000))
        if lane_for(subscriber_id=subscriber.pk, customer_key=key, unique_id=key) == lane
    ][:4]
    for key in same_lane:
        customer_create(subscriber=subscriber, customer_id=key)
    bad = same_lane[1]

    def reject(messages):
        return any(json.loads(m["payload"])["customerID"] == bad for m in messages)

    local_receiver.behaviour = Behaviour(reject=reject)

    run = _run()

    assert run.status == "FAILED"
    # The lane's batch of 4 failed; alone, the first went through, then the bad one failed.
    assert [len(d.messages) for d in local_receiver.rejected] == [4, 1]
    delivered = [json.loads(m["payload"])["customerID"] for m in local_receiver.messages()]
    assert delivered == [same_lane[0]]
    dead = ProgressRecord.objects.filter(is_dead_letter=True)
    assert list(dead.values_list("customer_key", flat=True)) == [bad]
    waiting = ProgressRecord.objects.filter(is_dead_letter=False)
    assert set(waiting.values_list("customer_key", flat=True)) == set(same_lane[2:])
    assert set(waiting.values_list("attempts", flat=True)) == {0}


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["0", "33", "-1"])
def test_a_concurrency_outside_1_to_32_is_refused_naming_the_setting(value):
    with pytest.raises(CommandError, match=r"DataSyncConcurrency: Must be (at least 1|at most 32)"):
        call_command("config", "set", "DataSyncConcurrency", value)
    assert setting_get("DataSyncConcurrency") == 1
    call_command("config", "set", "DataSyncConcurrency", "32")
    assert setting_get("DataSyncConcurrency") == 32


@pytest.mark.django_db
def test_a_customers_records_share_one_lane_and_customers_spread_over_all_64():
    lanes = {lane_for(subscriber_id=1, customer_key=f"C{n}", unique_id="x") for n in range(2000)}
    assert lanes == set(range(64))
    assert lane_for(subscriber_id=1, customer_key="C1", unique_id="T1") == lane_for(
        subscriber_id=1, customer_key="C1", unique_id="C1"
    )
    # A transaction without a customer goes by its own id.
    assert (
        len({lane_for(subscriber_id=1, customer_key="", unique_id=f"T{n}") for n in range(500)})
        > 32
    )


def test_the_lanes_posts_log_with_the_task_id_of_their_run(local_receiver, project_logging):
    """The POSTs go out from the run's threads; their log lines carry the run's task id."""
    from integration_hub import logs

    receiver_configure(local_receiver, DataSyncConcurrency=4)
    customers_changed(customers=16, updates=1)
    log = project_logging("json")
    logs.task_context_set(task={"id": "task-7", "name": "datasync-run"})
    try:
        run = _run()
    finally:
        logs.task_context_clear()

    assert run.status == "SUCCEEDED", run.last_error
    posts = [
        line
        for line in log.objects()
        if line["logger"] == "integration_hub.outbound"
        and line["message"].startswith("POST")
        and "/api" in line["message"]
    ]
    assert len(posts) == 32
    assert {line.get("taskId") for line in posts} == {"task-7"}
