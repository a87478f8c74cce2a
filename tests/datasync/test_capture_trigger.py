"""PostgreSQL captures a customer's UPDATE with a trigger on the customer table (migration
datasync 0005), in the UPDATE statement itself; SQLite with the Python receiver. Both must
queue the same record: the JSON of datasync.payloads.customer_json, the lane of lane_for."""

import random
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from datasync.models import CustomerPendingRecord
from datasync.payloads import customer_json
from datasync.services.queues import lane_for
from integration_hub.models import Customer, CustomerNote, Subscriber
from integration_hub.selectors import default_subscriber
from integration_hub.services.customers import (
    customer_create,
    customer_note_add,
    customer_segment_join,
    customer_segment_leave,
    customer_update,
)
from integration_hub.services.system_settings import setting_set

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

EVERY_FIELD = {
    "first_name": 'Åsa "Ace"',
    "middle_name": "Ö\\ß",
    "last_name": "O'Brien 🚀",
    "email": "asa@example.com",
    "phone": "+46 70 000 00 01",
    "street": "Storgatan 1",
    "city": "Malmö",
    "postal_code": "211 34",
    "country_code": "SE",
    "language_code": "sv-SE",
    "signup_date": date(1999, 12, 31),
    "retail_store_id": "S-9",
    "customer_class": "GOLD",
    "prospect": True,
}

CUSTOMERS = {
    "nothing but an id, no signup date": {"signup_date": None},
    "every field": EVERY_FIELD,
    "an address of only a city": {"city": "Lund"},
    "an address of only a country": {"country_code": "NO"},
    "a phone, no email": {"phone": "+1 555 0100"},
    "an email, no phone": {"email": "x@example.org", "prospect": True},
    "a signup date before year 1000": {"signup_date": date(987, 6, 5)},
}


def _last_update(customer: Customer) -> CustomerPendingRecord:
    return (
        CustomerPendingRecord.objects.filter(customer_key=customer.customer_id, action="UPDATE")
        .order_by("capture_order")
        .last()
    )


def _assert_queued_as_the_receiver_would(customer: Customer) -> None:
    stored = Customer.objects.get(pk=customer.pk)
    record = _last_update(stored)
    assert record.json_object == customer_json(stored)
    assert (record.object_name, record.unique_id, record.customer_key) == (
        "Customer",
        stored.customer_id,
        stored.customer_id,
    )
    assert record.subscriber_id == stored.subscriber_id
    assert record.lane == lane_for(
        subscriber_id=stored.subscriber_id,
        customer_key=stored.customer_id,
        unique_id=stored.customer_id,
    )


@pytest.mark.parametrize("fields", CUSTOMERS.values(), ids=CUSTOMERS.keys())
def test_an_update_queues_the_json_and_lane_the_python_capture_gives(datasync_on, fields):
    customer = customer_create(subscriber=default_subscriber(), customer_id="C-1")
    customer = customer_update(customer=customer, **fields)
    _assert_queued_as_the_receiver_would(customer)


def test_notes_and_segments_are_queued_in_the_python_capture_order(datasync_on):
    subscriber = Subscriber.objects.create(name="Second")
    customer = customer_create(subscriber=subscriber, customer_id="Kund-Ärlig-7", **EVERY_FIELD)
    for text in ("first", "second, same instant", "third"):
        customer_note_add(customer=customer, text=text)
    # Two notes written in the same instant are in the order they were added (by id).
    first = CustomerNote.objects.filter(customer=customer).order_by("id").first()
    CustomerNote.objects.filter(customer=customer, text__startswith="second").update(
        created_at=first.created_at
    )
    for name in ("beta", "Alpha", "alpha", "Ωmega", "zeta"):
        customer_segment_join(customer=customer, segment_name=name)
    customer_segment_leave(customer=customer, segment_name="zeta")
    _assert_queued_as_the_receiver_would(customer)

    customer = customer_update(customer=customer, first_name="Åsa-Maria")
    _assert_queued_as_the_receiver_would(customer)
    payload = _last_update(customer).json_object
    assert [n["text"] for n in payload["customerNotes"]["customerNote"]] == [
        "first",
        "second, same instant",
        "third",
    ]
    assert len(payload["customerSegments"]["segment"]) == 4


def test_the_database_lane_of_any_customer_id_is_lane_for(db):
    """The trigger computes lanes with its own CRC-32; it must agree with zlib's for every id
    (non-ASCII, the longest allowed, digits only), or a customer's records would be split
    between two lanes and could be delivered out of order."""
    rng = random.Random(17)  # noqa: S311 (test data, not a secret)
    alphabet = "abcXYZ019-_./ ÅÄÖåäöß€𝄞🚀中文"
    ids = ["C1", "0", "x" * 64, "Ω" * 64, "🚀" * 64]
    ids += ["".join(rng.choices(alphabet, k=rng.randint(1, 64))) for _ in range(500)]
    keys = [(rng.randint(1, 10**12), customer_id) for customer_id in ids]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT datasync_crc32(convert_to(s::text || '/' || c, 'UTF8')) %% 64"
            " FROM unnest(%s::bigint[], %s::text[]) WITH ORDINALITY AS k(s, c, n) ORDER BY n",
            [[s for s, _ in keys], [c for _, c in keys]],
        )
        lanes = [row[0] for row in cursor.fetchall()]
    assert lanes == [lane_for(subscriber_id=s, customer_key=c, unique_id=c) for s, c in keys]


def test_capturing_an_update_adds_no_statement_to_the_save(db):
    """The point of the trigger: a captured save costs no round trip of its own."""
    customer = customer_create(subscriber=default_subscriber(), customer_id="C-1")

    def statements(first_name: str) -> int:
        found = Customer.objects.get(pk=customer.pk)
        with CaptureQueriesContext(connection) as queries:
            customer_update(customer=found, first_name=first_name)
        return len(queries)

    off = statements("Off")
    setting_set(key="DataSyncEnabled", value=True)
    statements("Warm")  # the settings cache sees the change
    on = statements("On")
    assert on == off
    assert (
        _last_update(customer).json_object["entityInformation"]["individual"]["name"]["name"][0][
            "value"
        ]
        == "On"
    )


def test_the_setting_is_read_as_stored_by_another_process(db):
    """The trigger reads DataSyncEnabled's row, not a process's cache: a change made by
    another process (here: written to the table directly) counts at the next save."""
    from integration_hub.models import SystemSetting

    customer = customer_create(subscriber=default_subscriber(), customer_id="C-1")
    SystemSetting.objects.create(key="DataSyncEnabled", value="true")
    customer_update(customer=customer, first_name="Captured")
    SystemSetting.objects.filter(key="DataSyncEnabled").update(value="false")
    customer_update(customer=customer, first_name="Not captured")
    assert list(CustomerPendingRecord.objects.values_list("action", flat=True)) == ["UPDATE"]


def test_a_hand_written_update_is_captured_with_the_same_json(datasync_on):
    """The trigger captures an UPDATE that bypasses the services too (a data migration, a
    bulk update), with the JSON the Python capture gives: here a year before 1000."""
    from datetime import UTC, datetime

    customer = customer_create(subscriber=default_subscriber(), customer_id="C-1")
    Customer.objects.filter(pk=customer.pk).update(
        city="Ystad", updated_at=datetime(987, 6, 5, 4, 3, 2, 1, tzinfo=UTC)
    )
    _assert_queued_as_the_receiver_would(customer)
    assert _last_update(customer).json_object["lastUpdateInfo"] == "0987-06-05T04:03:02Z"


def test_without_the_trigger_the_python_capture_takes_over(datasync_on, monkeypatch):
    """A process whose database lacks the trigger (started before `migrate`, or the migration
    unapplied) captures from Python: no change goes uncaptured, none is captured twice."""
    from datasync.services import capture

    with connection.cursor() as cursor:  # rolled back with the test's transaction
        cursor.execute(
            "ALTER TABLE integration_hub_customer DISABLE TRIGGER datasync_customer_updated"
        )
    customer = customer_create(subscriber=default_subscriber(), customer_id="C-1")
    monkeypatch.setattr(capture, "_update_trigger", {"checked_at": float("-inf"), "on": True})
    customer = customer_update(customer=customer, first_name="Ada")
    _assert_queued_as_the_receiver_would(customer)
    customer_note_add(customer=customer, text="by Python")
    _assert_queued_as_the_receiver_would(customer)
    assert list(CustomerPendingRecord.objects.values_list("action", flat=True)) == [
        "CREATE",
        "UPDATE",
        "UPDATE",
    ]
