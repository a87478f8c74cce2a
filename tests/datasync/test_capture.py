"""Capture (reference 003, "Pending Queues"; DESIGN.md, the capture table): every change
through the API, the admin or a batch import queues its record in the same transaction."""

import io
import json
from datetime import date
from decimal import Decimal

import pytest
from django.db import transaction

from datasync.models import (
    CustomerPendingRecord,
    ProgressRecord,
    TransactionPendingRecord,
)
from datasync.payloads import customer_json
from integration_hub.batch_import import customers_import
from integration_hub.models import Customer
from integration_hub.selectors import default_subscriber
from integration_hub.services.customers import (
    customer_create,
    customer_delete,
    customer_merge,
    customer_note_add,
    customer_segment_join,
    customer_segment_leave,
    customer_update,
)
from integration_hub.services.orders import ItemInput, PaymentInput, order_post
from integration_hub.services.system_settings import setting_set

pytestmark = pytest.mark.django_db


def _customer(customer_id="C1", **fields):
    fields = {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com", **fields}
    return customer_create(subscriber=default_subscriber(), customer_id=customer_id, **fields)


def _order(customer=None, retail_transaction_id="T1"):
    return order_post(
        subscriber=default_subscriber(),
        retail_transaction_id=retail_transaction_id,
        business_date=date(2026, 11, 20),
        currency="USD",
        customer=customer,
        items=[ItemInput("Classes", Decimal("0.0800"), Decimal("1"), Decimal("20.00"), "Yoga")],
        payments=[PaymentInput("VISA", Decimal("21.60"))],
    )


def _queued(model=CustomerPendingRecord):
    return list(model.objects.order_by("capture_order").values_list("unique_id", "action"))


def test_nothing_is_captured_while_data_sync_is_disabled(db):
    customer = _customer()
    customer_update(customer=customer, first_name="Grace")
    _order(customer)
    assert not CustomerPendingRecord.objects.exists()
    assert not TransactionPendingRecord.objects.exists()


def test_creating_a_customer_queues_a_create_with_the_customer_json(datasync_on):
    customer = _customer(phone="+4670000001")
    customer_note_add(customer=customer, text="prefers email")  # not in the CREATE's JSON
    record = CustomerPendingRecord.objects.order_by("capture_order").first()
    assert (record.object_name, record.unique_id, record.action) == ("Customer", "C1", "CREATE")
    assert record.json_object["customerID"] == "C1"
    individual = record.json_object["entityInformation"]["individual"]
    assert individual["name"]["name"][0] == {"location": "FIRST", "value": "Ada"}
    assert individual["contactInformation"]["email"] == [{"emailAddress": "ada@example.com"}]
    assert individual["contactInformation"]["telephone"] == [{"number": "+4670000001"}]
    assert record.json_object["customerNotes"] == {"customerNote": []}


def test_updating_a_customer_queues_an_update_with_its_new_fields(datasync_on):
    customer = _customer()
    customer_update(customer=customer, first_name="Grace")
    record = CustomerPendingRecord.objects.get(action="UPDATE")
    names = record.json_object["entityInformation"]["individual"]["name"]["name"]
    assert names[0]["value"] == "Grace"


def test_a_note_and_segment_changes_each_queue_an_update_with_notes_and_segments(datasync_on):
    customer = _customer()
    customer_note_add(customer=customer, text="prefers email")
    customer_segment_join(customer=customer, segment_name="VIP")
    customer_segment_leave(customer=customer, segment_name="VIP")
    updates = list(CustomerPendingRecord.objects.filter(action="UPDATE").order_by("capture_order"))
    assert len(updates) == 3
    assert updates[0].json_object["customerNotes"] == {"customerNote": [{"text": "prefers email"}]}
    assert updates[1].json_object["customerSegments"] == {"segment": [{"name": "VIP"}]}
    assert updates[2].json_object["customerSegments"] == {"segment": []}


def test_an_update_queues_the_customer_as_stored_with_every_note_and_segment_in_order(
    datasync_on,
):
    customer = _customer(phone="+4670000001", street="1 Main St", signup_date=date(2026, 1, 2))
    for text in ("first", "second", "third"):
        customer_note_add(customer=customer, text=text)
    for name in ("Zeta", "Alpha", "Mid"):
        customer_segment_join(customer=customer, segment_name=name)
    customer_update(customer=customer, last_name="Byron")
    record = CustomerPendingRecord.objects.order_by("capture_order").last()
    stored = Customer.objects.get(pk=customer.pk)
    assert record.json_object == json.loads(json.dumps(customer_json(stored)))
    assert record.json_object["customerNotes"]["customerNote"] == [
        {"text": "first"},
        {"text": "second"},
        {"text": "third"},
    ]
    assert record.json_object["customerSegments"]["segment"] == [
        {"name": "Alpha"},
        {"name": "Mid"},
        {"name": "Zeta"},
    ]


def test_an_update_through_a_stale_copy_queues_the_other_changes_made_since(datasync_on):
    """The service holds a copy read before another change committed: the queued JSON is
    the customer as stored, with both changes."""
    customer = _customer()
    stale = Customer.objects.get(pk=customer.pk)
    customer_update(customer=customer, email="grace@example.com")
    customer_update(customer=stale, first_name="Grace")
    record = CustomerPendingRecord.objects.order_by("capture_order").last()
    individual = record.json_object["entityInformation"]["individual"]
    assert individual["name"]["name"][0] == {"location": "FIRST", "value": "Grace"}
    assert individual["contactInformation"]["email"] == [{"emailAddress": "grace@example.com"}]


def test_deleting_a_customer_purges_its_records_in_both_queues_then_queues_a_delete(datasync_on):
    customer = _customer()
    keep = _customer("C2")
    _order(customer, "T1")
    _order(keep, "T2")
    ProgressRecord.objects.create(
        object_name="Customer",
        unique_id="C1",
        action="UPDATE",
        json_object={},
        capture_order=1,
        subscriber_id=customer.subscriber_id,
        customer_key="C1",
    )
    customer_delete(customer=customer)
    assert _queued() == [("C2", "CREATE"), ("C2", "UPDATE"), ("C1", "DELETE")]
    assert CustomerPendingRecord.objects.get(unique_id="C1").json_object is None
    assert _queued(TransactionPendingRecord) == [("T2", "CREATE")]
    assert not ProgressRecord.objects.filter(customer_key="C1").exists()


def test_merging_purges_the_merged_customers_and_queues_deletes_then_a_create(datasync_on):
    _customer("C2")
    c3 = _customer("C3", first_name="")
    customer_note_add(customer=c3, text="from C3")
    merged = customer_merge(subscriber=default_subscriber(), customer_ids=["C2", "C3"])
    assert _queued() == [("C2", "DELETE"), ("C3", "DELETE"), (merged.customer_id, "CREATE")]
    create = CustomerPendingRecord.objects.get(action="CREATE")
    assert create.json_object["customerNotes"] == {"customerNote": [{"text": "from C3"}]}


def test_posting_an_order_queues_the_transaction_then_an_update_of_its_customer(datasync_on):
    customer = _customer()
    CustomerPendingRecord.objects.all().delete()
    _order(customer)
    transaction_record = TransactionPendingRecord.objects.get()
    customer_record = CustomerPendingRecord.objects.get()
    assert (transaction_record.unique_id, transaction_record.action) == ("T1", "CREATE")
    assert (customer_record.unique_id, customer_record.action) == ("C1", "UPDATE")
    assert transaction_record.capture_order < customer_record.capture_order
    payload = transaction_record.json_object
    assert payload["customerId"] == "C1"
    assert payload["total"] == "21.60"
    assert [line["lineItemTypeCode"] for line in payload["lineItems"]] == ["Sale", "Tax", "Tender"]
    assert payload["lineItems"][0]["quantity"] == 1
    assert payload["lineItems"][2]["tenderType"] == "VISA"


def test_an_order_without_a_customer_queues_only_the_transaction(datasync_on):
    _order(None)
    assert _queued(TransactionPendingRecord) == [("T1", "CREATE")]
    assert not CustomerPendingRecord.objects.exists()


def test_a_note_added_in_the_instant_of_the_last_change_is_still_captured(datasync_on, monkeypatch):
    """A note or segment change touches only the customer's updated_at: it is captured even
    when the clock gives the same instant again (a coarse or stepped clock)."""
    from django.utils import timezone

    from integration_hub.services.customers import customer_note_add

    instant = timezone.now()
    monkeypatch.setattr(timezone, "now", lambda: instant)
    customer = _customer()
    customer_note_add(customer=customer, text="first")
    customer_note_add(customer=customer, text="second")
    notes = [
        r.json_object["customerNotes"]["customerNote"]
        for r in CustomerPendingRecord.objects.filter(action="UPDATE").order_by("capture_order")
    ]
    assert notes == [[{"text": "first"}], [{"text": "first"}, {"text": "second"}]]


def test_a_rolled_back_change_leaves_nothing_queued(datasync_on):
    def change_then_fail():
        with transaction.atomic():
            _customer()
            raise RuntimeError("the caller's transaction fails after the change")

    with pytest.raises(RuntimeError):
        change_then_fail()
    assert not CustomerPendingRecord.objects.exists()


def test_a_change_made_through_the_rest_api_is_captured(datasync_on, api_as, system_admin):
    client = api_as(system_admin)
    assert client.post("/api/v1/customers/", {"customerId": "A1"}, format="json").status_code == 201
    assert (
        client.patch("/api/v1/customers/A1/", {"firstName": "Ada"}, format="json").status_code
        == 200
    )
    assert client.delete("/api/v1/customers/A1").status_code == 204
    assert _queued() == [("A1", "DELETE")]  # the purge removed the create and the update


def test_a_batch_import_is_captured_row_by_row(datasync_on):
    source = io.StringIO("Action,customerId,firstName\nAdd,B1,Ada\nAddorUpdate,B1,Grace\n")
    customers_import(source=source, name="customers.csv")
    assert _queued() == [("B1", "CREATE"), ("B1", "UPDATE")]


def test_enabling_data_sync_is_seen_by_the_next_save_without_a_restart(db):
    _customer("C1")
    setting_set(key="DataSyncEnabled", value=True)
    _customer("C2")
    assert _queued() == [("C2", "CREATE")]


def _queue_fields(record) -> dict:
    """Every column a queued record carries, as the models declare them (a column added to
    the queues is compared here without being named)."""
    own = {"id", "created_at", "updated_at"}
    return {
        field.attname: getattr(record, field.attname)
        for field in CustomerPendingRecord._meta.concrete_fields
        if field.attname not in own
    }


def test_a_captured_record_moved_to_the_progress_queue_keeps_every_field(datasync_on):
    from datasync.services.queues import pending_batch_move

    customer = _customer()
    _order(customer)
    captured = [
        _queue_fields(record)
        for model in (CustomerPendingRecord, TransactionPendingRecord)
        for record in model.objects.all()
    ]
    assert len(captured) == 3

    assert pending_batch_move(batch_size=10)[0] == 3

    moved = [_queue_fields(record) for record in ProgressRecord.objects.order_by("id")]
    assert moved == sorted(captured, key=lambda fields: fields["capture_order"])
    assert all(None not in fields.values() for fields in moved)
    assert not CustomerPendingRecord.objects.exists()
    assert not TransactionPendingRecord.objects.exists()
