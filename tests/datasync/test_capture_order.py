"""Capture order from the database (DESIGN.md, "Data Sync"): one sequence shared by both
pending queues, taken under the customer's row lock, never a process clock; the number is
the message's uniqueId; retailStoreID (the subscriber id) in customer and transaction
payloads."""

import json
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from datasync.models import CustomerPendingRecord, SyncRun, TransactionPendingRecord
from datasync.services import capture as capture_module
from datasync.services.run import datasync_run
from integration_hub.selectors import default_subscriber
from integration_hub.services.customers import customer_create, customer_update

from .conftest import API_URL
from .test_capture import _order

pytestmark = pytest.mark.django_db


def _messages(mock_) -> list[dict]:
    return [
        message
        for call in mock_.calls
        if call.request.url == API_URL
        for message in json.loads(call.request.body)["messages"]
    ]


def _first_name(message: dict) -> str:
    payload = json.loads(message["payload"])
    return payload["entityInformation"]["individual"]["name"]["name"][0]["value"]


def _clock_ahead(monkeypatch, seconds: float) -> None:
    """This process's clock runs `seconds` ahead (a web machine with a skewed clock)."""
    real_ns, real_now = time.time_ns, timezone.now
    monkeypatch.setattr(time, "time_ns", lambda: real_ns() + int(seconds * 1e9))
    monkeypatch.setattr(time, "time", lambda: real_ns() / 1e9 + seconds)
    monkeypatch.setattr(timezone, "now", lambda: real_now() + timedelta(seconds=seconds))


def test_changes_captured_by_machines_with_skewed_clocks_are_delivered_in_commit_order(
    datasync_on, mocked_receiver, monkeypatch
):
    mocked_receiver.post(API_URL, json={})
    subscriber = default_subscriber()
    customer = customer_create(subscriber=subscriber, customer_id="C1", first_name="Ada")
    with monkeypatch.context() as skewed:
        # Machine A, its clock 2 s ahead, commits the older change; nothing it kept in memory
        # (a per-process counter) is known to machine B.
        _clock_ahead(skewed, 2.0)
        customer_update(customer=customer, first_name="Older")
    monkeypatch.setattr(capture_module, "_last_order", 0, raising=False)  # machine B
    customer_update(customer=customer, first_name="Newer")

    run = datasync_run(trigger=SyncRun.Trigger.COMMAND, honour_backoff=False)

    assert run.status == "SUCCEEDED"
    messages = _messages(mocked_receiver)
    assert [_first_name(m) for m in messages] == ["Ada", "Older", "Newer"]
    numbers = [int(m["uniqueId"]) for m in messages]
    assert numbers == sorted(numbers)


def test_both_queues_share_one_sequence_and_the_capture_number_is_the_unique_id(
    datasync_on, mocked_receiver
):
    mocked_receiver.post(API_URL, json={})
    subscriber = default_subscriber()
    customer = customer_create(subscriber=subscriber, customer_id="C1", first_name="Ada")
    _order(customer, "T1")
    captured = sorted(
        [
            *CustomerPendingRecord.objects.values_list("capture_order", "unique_id", "action"),
            *TransactionPendingRecord.objects.values_list("capture_order", "unique_id", "action"),
        ]
    )
    numbers = [number for number, *_ in captured]
    assert numbers == list(range(numbers[0], numbers[0] + 3))  # consecutive across both queues
    assert [(uid, action) for _n, uid, action in captured] == [
        ("C1", "CREATE"),
        ("T1", "CREATE"),
        ("C1", "UPDATE"),
    ]

    datasync_run(trigger=SyncRun.Trigger.COMMAND, honour_backoff=False)

    messages = _messages(mocked_receiver)
    assert [m["uniqueId"] for m in messages] == [str(n) for n in numbers]
    assert [m["action"] for m in messages] == ["CUSTOMERCRE", "POSTRNCRE", "CUSTOMERMOD"]
    webhook_ids = [
        call.request.headers["webhook-id"]
        for call in mocked_receiver.calls
        if call.request.url == API_URL
    ]
    assert webhook_ids == [str(n) for n in numbers]


def test_customer_and_transaction_payloads_carry_the_subscriber_id_as_retail_store_id(
    datasync_on, mocked_receiver
):
    mocked_receiver.post(API_URL, json={})
    subscriber = default_subscriber()
    customer = customer_create(
        subscriber=subscriber, customer_id="C1", first_name="Ada", retail_store_id="STORE-9"
    )
    _order(customer, "T1")

    datasync_run(trigger=SyncRun.Trigger.COMMAND, honour_backoff=False)

    payloads = [json.loads(m["payload"]) for m in _messages(mocked_receiver)]
    assert [p["retailStoreID"] for p in payloads] == [str(subscriber.pk)] * 3
    assert payloads[1]["retailTransactionId"] == "T1"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_note_additions_both_end_up_in_the_last_message(mocked_receiver):
    """The second capture waits for the first's row lock, then numbers and reads after it."""
    import threading

    from django.db import connection, transaction

    from integration_hub.models import Customer
    from integration_hub.services.customers import customer_note_add

    from .conftest import TOKEN_URL, datasync_configure

    datasync_configure(api_url=API_URL, token_url=TOKEN_URL)
    mocked_receiver.post(API_URL, json={})
    customer_create(subscriber=default_subscriber(), customer_id="C1", first_name="Ada")
    added, release = threading.Event(), threading.Event()

    def add(text, hold):
        try:
            with transaction.atomic():
                customer_note_add(customer=Customer.objects.get(customer_id="C1"), text=text)
                if hold:
                    added.set()
                    release.wait(timeout=30)
        finally:
            connection.close()

    first = threading.Thread(target=add, args=("one", True))
    first.start()
    assert added.wait(timeout=30)
    second = threading.Thread(target=add, args=("two", False))
    second.start()
    second.join(timeout=1)  # it waits for the first's row lock...
    assert second.is_alive()
    release.set()  # ...until the first commits
    first.join(timeout=30)
    second.join(timeout=30)

    assert datasync_run(trigger=SyncRun.Trigger.COMMAND, honour_backoff=False).status == (
        "SUCCEEDED"
    )
    last = json.loads(_messages(mocked_receiver)[-1]["payload"])
    assert last["customerNotes"] == {"customerNote": [{"text": "one"}, {"text": "two"}]}


def test_a_number_that_commits_after_higher_ones_still_goes_before_its_customers_next(
    datasync_on, mocked_receiver, monkeypatch
):
    """On PostgreSQL a transaction takes its capture number under the customer's lock and may
    commit after other customers' higher numbers were moved and sent. The run reads on from
    the late number, so the customer's later change is not sent before it."""
    from datasync.services import queues
    from datasync.services import run as run_module
    from integration_hub.services.system_settings import setting_set

    mocked_receiver.post(API_URL, json={})
    subscriber = default_subscriber()
    ada = customer_create(subscriber=subscriber, customer_id="A", first_name="Ada")
    bea = customer_create(subscriber=subscriber, customer_id="B", first_name="Bea")
    datasync_run(trigger=SyncRun.Trigger.COMMAND, honour_backoff=False)
    setting_set(key="DataSyncBatchSize", value=2)
    late = queues.capture_number_next()  # Ada's transaction has its number, not committed
    customer_update(customer=bea, first_name="B1")
    customer_update(customer=bea, first_name="B2")
    real_move = queues.pending_batch_move
    moves = []

    def move(**kwargs):
        if len(moves) == 1:  # after Bea's two were moved (and sent), Ada's commits
            customer_update(customer=ada, first_name="Older")
            CustomerPendingRecord.objects.filter(customer_key="A").update(capture_order=late)
            customer_update(customer=ada, first_name="Newer")
        moves.append(kwargs)
        return real_move(**kwargs)

    monkeypatch.setattr(run_module, "pending_batch_move", move)
    sent_before = len(_messages(mocked_receiver))

    run = datasync_run(trigger=SyncRun.Trigger.COMMAND, honour_backoff=False)

    names = [_first_name(m) for m in _messages(mocked_receiver)[sent_before:]]
    assert names == ["B1", "B2", "Older", "Newer"]
    assert run.sent == 4


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("change", ["customer updated", "order posted"])
def test_a_change_made_while_a_note_is_being_added_goes_first_and_the_notes_capture_has_both(
    mocked_receiver, change
):
    """A note's transaction inserts the note, then UPDATEs the customer's row. A change of the
    customer in between does not wait for it: it is captured at once, without the note (not
    committed yet); the note's capture waits for that change's lock, comes after it and
    carries both."""
    import threading

    from django.db import connection, transaction
    from django.db.models.signals import post_save

    from integration_hub.models import Customer, CustomerNote
    from integration_hub.services.customers import customer_note_add

    from .conftest import TOKEN_URL, datasync_configure
    from .test_capture import _order

    datasync_configure(api_url=API_URL, token_url=TOKEN_URL)
    customer = customer_create(subscriber=default_subscriber(), customer_id="C1")
    added, release, errors = threading.Event(), threading.Event(), []

    def hold_after_note_insert(sender, instance, **kwargs):
        if threading.current_thread().name == "note":
            added.set()
            release.wait(timeout=30)

    def run(work):
        try:
            with transaction.atomic():
                work()
        except Exception as exc:  # reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    def change_customer():
        found = Customer.objects.get(pk=customer.pk)
        if change == "customer updated":
            customer_update(customer=found, first_name="Ada")
        else:
            _order(found)

    post_save.connect(hold_after_note_insert, sender=CustomerNote, dispatch_uid="hold")
    try:
        note = threading.Thread(
            target=run,
            args=(
                lambda: customer_note_add(
                    customer=Customer.objects.get(pk=customer.pk), text="in flight"
                ),
            ),
            name="note",
        )
        note.start()
        assert added.wait(timeout=30)
        changer = threading.Thread(target=run, args=(change_customer,))
        changer.start()
        changer.join(timeout=10)
        assert not changer.is_alive()
        release.set()
        note.join(timeout=30)
    finally:
        release.set()
        post_save.disconnect(dispatch_uid="hold", sender=CustomerNote)

    assert errors == []
    updates = list(CustomerPendingRecord.objects.filter(action="UPDATE").order_by("capture_order"))
    assert [u.json_object["customerNotes"]["customerNote"] for u in updates] == [
        [],
        [{"text": "in flight"}],
    ]
    if change == "customer updated":
        names = [
            u.json_object["entityInformation"]["individual"]["name"]["name"][0]["value"]
            for u in updates
        ]
        assert names == ["Ada", "Ada"]
    else:
        assert TransactionPendingRecord.objects.get().capture_order < updates[1].capture_order
