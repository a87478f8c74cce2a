"""The purge on delete (DESIGN.md, "Data Sync", the capture table): deleting or merging away a
customer removes every pending, progress and dead-lettered record of it, in both queues,
whether or not Data Sync is enabled, so its personal data is never sent later."""

import json

import pytest

from datasync.models import (
    CustomerPendingRecord,
    ProgressRecord,
    SyncRun,
    TransactionPendingRecord,
)
from datasync.services.replay import dead_letters_replay
from datasync.services.run import datasync_run
from datasync.tasks import datasync_scheduled_run
from integration_hub.selectors import default_subscriber
from integration_hub.services.customers import (
    customer_create,
    customer_delete,
    customer_merge,
    customer_note_add,
    customer_update,
)
from integration_hub.services.system_settings import setting_set

from .conftest import API_URL
from .test_capture import _order

pytestmark = pytest.mark.django_db


def _customer(customer_id, **fields):
    fields = {"first_name": "Ada", "email": f"{customer_id.lower()}@example.com", **fields}
    return customer_create(subscriber=default_subscriber(), customer_id=customer_id, **fields)


def _sent(mock_) -> list[dict]:
    return [
        message
        for call in mock_.calls
        if call.request.url == API_URL
        for message in json.loads(call.request.body)["messages"]
    ]


def _queued_keys() -> set[str]:
    keys = set()
    for model in (CustomerPendingRecord, TransactionPendingRecord, ProgressRecord):
        keys |= set(model.objects.values_list("customer_key", flat=True))
    return keys


def _queue_for_gone_and_kept(mock_) -> None:
    """While enabled: GONE gets a dead-lettered CREATE (the receiver failed it), then a
    pending UPDATE and an order; KEPT a pending CREATE."""
    setting_set(key="DataSyncMaxAttempts", value=1)
    mock_.post(API_URL, status=500)
    _customer("GONE")
    datasync_run(trigger=SyncRun.Trigger.COMMAND, honour_backoff=False)
    assert ProgressRecord.objects.filter(customer_key="GONE", is_dead_letter=True).exists()
    mock_.replace("POST", API_URL, json={})
    gone = default_subscriber().customers.get(customer_id="GONE")
    customer_update(customer=gone, last_name="Secret")
    _order(gone, "T-GONE")
    _customer("KEPT")
    assert TransactionPendingRecord.objects.filter(customer_key="GONE").exists()


def test_deleting_a_customer_while_disabled_leaves_nothing_of_it_to_send(
    datasync_on, mocked_receiver
):
    _queue_for_gone_and_kept(mocked_receiver)
    setting_set(key="DataSyncEnabled", value=False)
    customer_delete(customer=default_subscriber().customers.get(customer_id="GONE"))

    assert _queued_keys() == {"KEPT"}
    # An explicit run ignores DataSyncEnabled; a replay of every dead letter finds none of GONE.
    replayable = list(
        ProgressRecord.objects.filter(is_dead_letter=True).values_list("id", flat=True)
    )
    dead_letters_replay(record_ids=replayable)
    before = len(_sent(mocked_receiver))
    datasync_run(trigger=SyncRun.Trigger.COMMAND, honour_backoff=False)
    setting_set(key="DataSyncEnabled", value=True)
    datasync_scheduled_run()

    sent = _sent(mocked_receiver)[before:]
    assert [(m["action"], json.loads(m["payload"])["customerID"]) for m in sent] == [
        ("CUSTOMERCRE", "KEPT")
    ]
    assert "GONE" not in json.dumps(sent)
    assert not any(
        model.objects.exists()
        for model in (CustomerPendingRecord, TransactionPendingRecord, ProgressRecord)
    )


def test_merging_away_a_customer_while_disabled_leaves_nothing_of_it_to_send(
    datasync_on, mocked_receiver
):
    _queue_for_gone_and_kept(mocked_receiver)
    other = _customer("OTHER")
    customer_note_add(customer=other, text="queued note")
    setting_set(key="DataSyncEnabled", value=False)
    merged = customer_merge(subscriber=default_subscriber(), customer_ids=["GONE", "OTHER"])

    assert _queued_keys() == {"KEPT"}
    assert not CustomerPendingRecord.objects.filter(customer_key=merged.customer_id).exists()
    before = len(_sent(mocked_receiver))
    setting_set(key="DataSyncEnabled", value=True)
    datasync_run(trigger=SyncRun.Trigger.COMMAND, honour_backoff=False)

    sent = _sent(mocked_receiver)[before:]
    assert [json.loads(m["payload"])["customerID"] for m in sent] == ["KEPT"]
    assert "GONE" not in json.dumps(sent)
    assert "OTHER" not in json.dumps(sent)
    assert not ProgressRecord.objects.exists()


def test_deleting_a_customer_that_was_never_queued_while_disabled_changes_nothing(db):
    customer = _customer("C1")
    customer_delete(customer=customer)
    assert _queued_keys() == set()
    assert not default_subscriber().customers.filter(customer_id="C1").exists()
