"""Books equal to the point of sale (DESIGN.md, "Accounting"): a packet is the current truth
for its key; a sync recomputes every key its window touches, the key a modified order left
included, with the totals of every order now under it. GENERIC receivers get the key's full
totals again under the same reference, which they treat as a replacement."""

import json
from datetime import date
from decimal import Decimal

import pytest
import responses

from accounting.models import ExportedKey, Packet, SyncRecord
from accounting.services.sync import packets_resend, sync_request
from integration_hub.services.orders import ItemInput, PaymentInput, order_modify

from .conftest import BOOKS_URL

pytestmark = pytest.mark.django_db

DAY = date(2026, 11, 20)


@pytest.fixture
def summarised(accounting_integration):
    accounting_integration.summarize_data = True
    accounting_integration.save()
    return accounting_integration


def _sync(accounting_integration, tasks) -> SyncRecord:
    record = sync_request(accounting_integration=accounting_integration, acting_user=None)
    tasks.run()
    record.refresh_from_db()
    return record


def _bodies_since(start: int) -> dict[str, dict]:
    return {
        body["reference"]: body
        for body in (json.loads(call.request.body) for call in responses.calls[start:])
    }


def _total(body: dict) -> Decimal:
    return sum((Decimal(p["amount"]) for p in body["payments"]), Decimal(0))


@responses.activate
def test_a_modified_order_sends_its_key_again_with_the_full_totals_never_an_increment(
    summarised, tasks, post_order
):
    responses.post(BOOKS_URL, json={}, status=201)
    post_order("T1")
    t2 = post_order("T2")
    _sync(summarised, tasks)
    assert _total(_bodies_since(0)["2026-11-20/VISA"]) == Decimal("43.20")

    order_modify(
        order=t2,
        items=[ItemInput("Classes", Decimal("0.0800"), Decimal("2"), Decimal("20.00"))],
        payments=[PaymentInput("VISA", Decimal("43.20"))],
    )
    seen = len(responses.calls)
    record = _sync(summarised, tasks)

    [packet] = record.packets.all()
    assert packet.key == "2026-11-20/VISA"
    assert packet.content["orders"] == 2
    body = _bodies_since(seen)["2026-11-20/VISA"]
    assert _total(body) == Decimal("64.80")  # T1 21.60 + T2 now 43.20: the truth, not +21.60
    assert body["lines"] == [
        {"account": "4000", "taxCode": "TAX8", "netAmount": "60.00", "taxAmount": "4.80"}
    ]


@responses.activate
def test_a_late_order_for_a_day_already_exported_resends_that_day_with_every_order(
    summarised, tasks, post_order
):
    responses.post(BOOKS_URL, json={}, status=201)
    post_order("T1")
    _sync(summarised, tasks)
    post_order("T9")  # rung up on the 20th, posted after the day was exported
    seen = len(responses.calls)

    record = _sync(summarised, tasks)

    assert record.order_count == 1
    assert _total(_bodies_since(seen)["2026-11-20/VISA"]) == Decimal("43.20")


@responses.activate
def test_an_order_moved_to_another_day_updates_both_keys(summarised, tasks, post_order):
    responses.post(BOOKS_URL, json={}, status=201)
    post_order("T1")
    moved = post_order("T2")
    _sync(summarised, tasks)

    order_modify(order=moved, business_date=date(2026, 11, 21))
    seen = len(responses.calls)
    record = _sync(summarised, tasks)

    assert sorted(record.packets.values_list("key", flat=True)) == [
        "2026-11-20/VISA",
        "2026-11-21/VISA",
    ]
    bodies = _bodies_since(seen)
    assert _total(bodies["2026-11-20/VISA"]) == Decimal("21.60")  # T1 alone now
    assert _total(bodies["2026-11-21/VISA"]) == Decimal("21.60")  # T2


@responses.activate
def test_a_key_left_with_no_orders_is_sent_empty_under_the_same_reference(
    summarised, tasks, post_order
):
    responses.post(BOOKS_URL, json={}, status=201)
    order = post_order("T1", payments=[("CASH", "21.60")])
    _sync(summarised, tasks)

    order_modify(order=order, payments=[PaymentInput("VISA", Decimal("21.60"))])
    seen = len(responses.calls)
    _sync(summarised, tasks)

    bodies = _bodies_since(seen)
    assert bodies["2026-11-20/CASH"] == {
        "reference": "2026-11-20/CASH",
        "date": "2026-11-20",
        "payments": [],
        "lines": [],
    }
    assert _total(bodies["2026-11-20/VISA"]) == Decimal("21.60")


@responses.activate
def test_an_unchanged_key_of_another_day_is_not_sent_again(summarised, tasks, post_order):
    responses.post(BOOKS_URL, json={}, status=201)
    post_order("T1", business_date=date(2026, 11, 19))
    post_order("T2")
    _sync(summarised, tasks)
    post_order("T3")
    seen = len(responses.calls)

    _sync(summarised, tasks)

    assert list(_bodies_since(seen)) == ["2026-11-20/VISA"]


@responses.activate
def test_a_packet_a_later_sync_replaced_is_never_sent_by_resend(summarised, tasks, post_order):
    """Resending an old record must not book totals a later sync has superseded."""
    responses.post(BOOKS_URL, status=503)
    post_order("T1")
    old = _sync(summarised, tasks)
    assert old.packets.get().state == Packet.State.FAILED
    post_order("T2")
    responses.replace(responses.POST, BOOKS_URL, json={}, status=201)
    seen = len(responses.calls)
    new = _sync(summarised, tasks)
    assert _total(_bodies_since(seen)["2026-11-20/VISA"]) == Decimal("43.20")

    assert packets_resend(sync_record=old, acting_user=None) == 0
    tasks.run()

    stale = old.packets.get()
    assert stale.state == Packet.State.FAILED
    assert f"Replaced by sync record {new.pk}" in stale.error
    assert len(responses.calls) == seen + 1
    assert ExportedKey.objects.get(key="2026-11-20/VISA").latest_packet == new.packets.get()


@responses.activate
def test_per_order_packets_send_a_modified_order_again_under_its_own_reference(
    accounting_integration, tasks, post_order
):
    responses.post(BOOKS_URL, json={}, status=201)
    order = post_order("T1")
    _sync(accounting_integration, tasks)

    order_modify(order=order, payments=[PaymentInput("CASH", Decimal("21.60"))])
    seen = len(responses.calls)
    record = _sync(accounting_integration, tasks)

    assert list(record.packets.values_list("key", flat=True)) == ["T1"]
    assert _bodies_since(seen)["T1"]["payments"] == [{"depositAccount": "1000", "amount": "21.60"}]
