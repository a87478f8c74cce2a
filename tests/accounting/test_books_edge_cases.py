"""Books equal to the point of sale at the edges (DESIGN.md, "Accounting"): summarizeData
turned on or off, a create whose answer was lost, a run the watchdog gave up on. Each test
is one sequence that once left the receiver's books different from the point of sale."""

import json
from decimal import Decimal

import pytest
import requests
import responses

from accounting.models import SyncRecord
from accounting.services.sync import sync_request
from integration_hub.models import OrderPayment
from integration_hub.services.orders import PaymentInput, order_modify

from .conftest import BOOKS_URL, connected_system

pytestmark = pytest.mark.django_db


def _sync(accounting_integration, tasks) -> SyncRecord:
    record = sync_request(accounting_integration=accounting_integration, acting_user=None)
    tasks.run()
    record.refresh_from_db()
    assert record.status == SyncRecord.Status.SUCCESS, record.failure_reason
    return record


def _books_total() -> Decimal:
    """What a GENERIC receiver holds: the last body per reference replaces the earlier ones."""
    held: dict[str, dict] = {}
    for call in responses.calls:
        body = json.loads(call.request.body)
        held[body["reference"]] = body
    return sum(
        (Decimal(p["amount"]) for body in held.values() for p in body["payments"]), Decimal(0)
    )


def _point_of_sale_total() -> Decimal:
    return sum(OrderPayment.objects.values_list("amount", flat=True), Decimal(0))


@responses.activate
def test_turning_summarize_on_books_the_orders_exported_one_by_one_again(
    accounting_integration, tasks, post_order
):
    responses.post(BOOKS_URL, json={}, status=201)
    post_order("T1")
    post_order("T2")
    _sync(accounting_integration, tasks)  # keys T1 and T2: 43.20 booked
    assert _books_total() == _point_of_sale_total() == Decimal("43.20")

    accounting_integration.summarize_data = True
    accounting_integration.save()
    post_order("T3")  # a late order of the same day
    _sync(accounting_integration, tasks)

    # 2026-11-20/VISA now carries T1 + T2 + T3 (64.80) while T1 and T2 stay booked under
    # their own keys: 108.00 booked for 64.80 sold.
    assert _books_total() == _point_of_sale_total()


@responses.activate
def test_turning_summarize_off_empties_a_day_with_orders_still_in_it(
    accounting_integration, tasks, post_order
):
    accounting_integration.summarize_data = True
    accounting_integration.save()
    responses.post(BOOKS_URL, json={}, status=201)
    post_order("T1")
    t2 = post_order("T2")
    _sync(accounting_integration, tasks)  # key 2026-11-20/VISA: 43.20
    assert _books_total() == _point_of_sale_total() == Decimal("43.20")

    accounting_integration.summarize_data = False
    accounting_integration.save()
    order_modify(order=t2, payments=[PaymentInput("CASH", Decimal("21.60"))])
    _sync(accounting_integration, tasks)

    # The day's key is recomputed per order (no order has the id "2026-11-20/VISA"), so it
    # is sent empty; T2 is booked under "T2" and T1 is in the books no more.
    assert _books_total() == _point_of_sale_total()


SAGE_PAYMENTS = "https://api.accounting.sage.com/v3.1/other_payments"


@pytest.fixture
def sage(db):
    return connected_system("SAGE")


class _FakeSage:
    """Sage's other payments as the reference tells them: a repeated idempotency_id creates
    once and answers the same; `lose_next` stores the next create, then loses its answer."""

    def __init__(self):
        self.payments: dict[str, dict] = {}
        self.by_idempotency: dict[str, str] = {}
        self.lose_next = False

    def create(self, request):
        payment = json.loads(request.body)["other_payment"]
        payment_id = self.by_idempotency.get(payment["idempotency_id"])
        if payment_id is None:
            payment_id = f"pay-{len(self.by_idempotency) + 1}"
            self.by_idempotency[payment["idempotency_id"]] = payment_id
            self.payments[payment_id] = payment
        if self.lose_next:
            self.lose_next = False
            raise requests.exceptions.ReadTimeout("answer lost")
        return 201, {}, json.dumps({"id": payment_id})

    def update(self, request):
        payment_id = request.url.rsplit("/", 1)[-1]
        self.payments[payment_id] = json.loads(request.body)["other_payment"]
        return 200, {}, json.dumps({"id": payment_id})

    def delete(self, request):
        self.payments.pop(request.url.rsplit("/", 1)[-1], None)
        return 204, {}, ""

    def install(self):
        import re

        one = re.compile(re.escape(SAGE_PAYMENTS) + r"/.+")
        responses.add_callback(responses.POST, SAGE_PAYMENTS, callback=self.create)
        responses.add_callback(responses.PUT, one, callback=self.update)
        responses.add_callback(responses.DELETE, one, callback=self.delete)

    def total(self) -> Decimal:
        return sum((Decimal(str(p["total_amount"])) for p in self.payments.values()), Decimal(0))


@responses.activate
def test_a_create_whose_answer_was_lost_is_not_created_again_when_the_order_changes(
    sage, tasks, post_order
):
    """The POST that timed out did create the payment in Sage; the hub holds nothing for
    T1. The order changes before anyone resends: the next packet's body differs, so its
    create has a new idempotency_id and Sage books T1 twice."""
    from integration_hub.services.orders import ItemInput

    books = _FakeSage()
    books.install()
    order = post_order("T1")
    books.lose_next = True
    record = _sync(sage, tasks)
    assert record.packets.get().state == "Failed"

    order_modify(
        order=order,
        items=[ItemInput("Classes", Decimal("0.0800"), Decimal("2"), Decimal("20.00"))],
        payments=[PaymentInput("VISA", Decimal("43.20"))],
    )
    _sync(sage, tasks)

    assert books.total() == _point_of_sale_total() == Decimal("43.20")


@responses.activate
def test_a_create_retried_after_a_lost_answer_keeps_its_idempotency_id_after_a_delete(
    sage, tasks, post_order
):
    """Sage, one call per payment: an order moved from CASH to VISA deletes the CASH
    payment (the key holds nothing for a moment: revision + 1, saved at once), then creates
    the VISA one with a key of the old revision. When that create's answer is lost (timeout,
    or a killed worker), the retry is computed with the new revision: another
    idempotency_id, so Sage creates the VISA payment a second time."""
    from accounting.services.sync import packets_resend

    books = _FakeSage()
    books.install()
    order = post_order("T1", payments=[("CASH", "21.60")])
    _sync(sage, tasks)

    order_modify(order=order, payments=[PaymentInput("VISA", Decimal("21.60"))])
    books.lose_next = True
    record = _sync(sage, tasks)
    assert record.packets.get().state == "Failed"

    assert packets_resend(sync_record=record, acting_user=None) == 1  # the same body again
    tasks.run()

    assert books.total() == _point_of_sale_total() == Decimal("21.60")


@responses.activate
def test_a_run_the_watchdog_failed_never_makes_its_packets_the_books_truth(
    accounting_integration, tasks, post_order, monkeypatch
):
    """A run slow enough in processing to be marked Failed by the watchdog is still alive:
    a new Sync may have committed fresher packets of the same keys meanwhile. The stale run
    must not then become the keys' current truth (and replace the fresh packets)."""
    from accounting.models import ExportedKey
    from accounting.services import sync as sync_module
    from accounting.services.sync import sync_records_watchdog

    responses.post(BOOKS_URL, json={}, status=201)
    post_order("T1")
    real_window_keys = sync_module.window_keys

    def window_keys_then_lost(**kwargs):
        found = real_window_keys(**kwargs)
        # The watchdog's verdict on this run, taken while it still transforms.
        running = SyncRecord.objects.get(status=SyncRecord.Status.IN_PROGRESS)
        SyncRecord.objects.filter(pk=running.pk).update(
            updated_at=running.started_at - sync_module.STUCK_AFTER * 2
        )
        assert sync_records_watchdog() == [running.pk]
        return found

    monkeypatch.setattr(sync_module, "window_keys", window_keys_then_lost)
    record = sync_request(accounting_integration=accounting_integration, acting_user=None)
    tasks.run()

    record.refresh_from_db()
    assert record.status == SyncRecord.Status.FAILED
    assert not ExportedKey.objects.filter(latest_packet__sync_record=record).exists()
    assert len(responses.calls) == 0
