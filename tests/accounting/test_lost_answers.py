"""Answers lost on the way back (a gateway error, a timeout inside an update) and payments
that come and go within a key (DESIGN.md, "Accounting": a modified or late order is never
booked twice). Each test is one sequence that once left the accounting system's books, or
the work of every later Sync, different from what the point of sale says."""

import json
import re
from decimal import Decimal

import pytest
import responses

from accounting.models import ExportedKey, SyncRecord
from accounting.services.sync import sync_request
from integration_hub.models import OrderPayment
from integration_hub.services.orders import ItemInput, PaymentInput, order_modify

from .conftest import BOOKS_URL, connected_system

pytestmark = pytest.mark.django_db

SAGE_PAYMENTS = "https://api.accounting.sage.com/v3.1/other_payments"


def _sync(accounting_integration, tasks) -> SyncRecord:
    record = sync_request(accounting_integration=accounting_integration, acting_user=None)
    tasks.run()
    record.refresh_from_db()
    assert record.status == SyncRecord.Status.SUCCESS, record.failure_reason
    return record


def _point_of_sale_total() -> Decimal:
    return sum(OrderPayment.objects.values_list("amount", flat=True), Decimal(0))


@pytest.fixture
def sage(db):
    return connected_system("SAGE")


class _FakeSage:
    """Sage's other payments as the hub models them: a repeated idempotency_id answers with
    the payment it made then (deleted since or not) and creates nothing. `fail_next` stores
    the next create, then answers it with that gateway status (the answer is lost)."""

    def __init__(self):
        self.payments: dict[str, dict] = {}
        self.by_idempotency: dict[str, str] = {}
        self.fail_next: int | None = None

    def create(self, request):
        payment = json.loads(request.body)["other_payment"]
        payment_id = self.by_idempotency.get(payment["idempotency_id"])
        if payment_id is None:
            payment_id = f"pay-{len(self.by_idempotency) + 1}"
            self.by_idempotency[payment["idempotency_id"]] = payment_id
            self.payments[payment_id] = payment
        if self.fail_next is not None:
            status, self.fail_next = self.fail_next, None
            return status, {}, "<html>504 Gateway Time-out</html>"
        return 201, {}, json.dumps({"id": payment_id})

    def update(self, request):
        payment_id = request.url.rsplit("/", 1)[-1]
        if payment_id not in self.payments:
            return 404, {}, json.dumps([{"$severity": "error", "$message": "Not found"}])
        self.payments[payment_id] = json.loads(request.body)["other_payment"]
        return 200, {}, json.dumps({"id": payment_id})

    def delete(self, request):
        self.payments.pop(request.url.rsplit("/", 1)[-1], None)
        return 204, {}, ""

    def install(self):
        one = re.compile(re.escape(SAGE_PAYMENTS) + r"/.+")
        responses.add_callback(responses.POST, SAGE_PAYMENTS, callback=self.create)
        responses.add_callback(responses.PUT, one, callback=self.update)
        responses.add_callback(responses.DELETE, one, callback=self.delete)

    def total(self) -> Decimal:
        return sum((Decimal(str(p["total_amount"])) for p in self.payments.values()), Decimal(0))


@responses.activate
def test_a_key_of_the_other_shape_is_recomputed_once_not_by_every_later_sync(
    accounting_integration, tasks, post_order
):
    """ledger_commit writes `summarized` only on the keys it creates: T1 keeps False after
    its emptied packet is committed under summarizeData true, so every later Sync (and
    every key exported before the books, left NULL) is recomputed and sent again forever."""
    responses.post(BOOKS_URL, json={}, status=201)
    post_order("T1")
    _sync(accounting_integration, tasks)
    accounting_integration.summarize_data = True
    accounting_integration.save()
    switched = _sync(accounting_integration, tasks)
    assert sorted(switched.packets.values_list("key", flat=True)) == ["2026-11-20/VISA", "T1"]
    sent = len(responses.calls)

    quiet = _sync(accounting_integration, tasks)  # nothing sold or changed since

    assert list(quiet.packets.values_list("key", flat=True)) == []
    assert len(responses.calls) == sent
    assert set(ExportedKey.objects.values_list("summarized", flat=True)) == {True}


@responses.activate
def test_a_create_answered_by_a_gateway_error_is_repeated_before_a_changed_order_is_booked(
    sage, tasks, post_order
):
    """A 502/503/504 is a lost answer: the payment may well be in Sage. The create is
    crossed out of `pending` on any status, so the next packet (the order changed) creates
    a second payment under a new idempotency_id."""
    books = _FakeSage()
    books.install()
    order = post_order("T1")
    books.fail_next = 504
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
def test_a_payment_deleted_from_a_key_that_keeps_others_is_booked_again_when_it_comes_back(
    sage, tasks, post_order
):
    """Sage, one payment per call: T1 paid CASH + VISA; then CASH only (the VISA payment is
    deleted, the key still holds CASH: no new revision); then CASH + VISA again. The VISA
    create's body, index and revision equal the first one's: the same idempotency_id, so
    Sage answers with the deleted payment and nothing is booked for VISA."""
    books = _FakeSage()
    books.install()
    order = post_order("T1", payments=[("CASH", "10.00"), ("VISA", "11.60")])
    _sync(sage, tasks)
    assert books.total() == Decimal("21.60")

    order_modify(order=order, payments=[PaymentInput("CASH", Decimal("21.60"))])
    _sync(sage, tasks)
    assert books.total() == Decimal("21.60")

    order_modify(
        order=order,
        payments=[PaymentInput("CASH", Decimal("10.00")), PaymentInput("VISA", Decimal("11.60"))],
    )
    _sync(sage, tasks)

    assert books.total() == _point_of_sale_total() == Decimal("21.60")


XERO_TRANSACTIONS = "https://api.xero.com/api.xro/2.0/BankTransactions"


@pytest.fixture
def xero(db):
    return connected_system("XERO")


class _FakeXero:
    """Xero's BankTransactions: an Idempotency-Key seen before answers as it did then; a
    transaction without BankTransactionID is created, one with it updated (or deleted).
    `lose_next` applies the next call, then loses its answer."""

    def __init__(self):
        self.transactions: dict[str, dict] = {}
        self.answers: dict[str, str] = {}
        self.lose_next = False

    def call(self, request):
        import requests

        key = request.headers["Idempotency-Key"]
        if key not in self.answers:
            answered = []
            for sent in json.loads(request.body)["BankTransactions"]:
                transaction_id = sent.get("BankTransactionID")
                if sent.get("Status") == "DELETED":
                    self.transactions.pop(transaction_id, None)
                else:
                    transaction_id = transaction_id or f"bt-{len(self.answers)}-{len(answered)}"
                    self.transactions[transaction_id] = sent
                answered.append({"BankTransactionID": transaction_id})
            self.answers[key] = json.dumps({"BankTransactions": answered})
        if self.lose_next:
            self.lose_next = False
            raise requests.exceptions.ReadTimeout("answer lost")
        return 200, {}, self.answers[key]

    def install(self):
        responses.add_callback(responses.PUT, XERO_TRANSACTIONS, callback=self.call)
        responses.add_callback(responses.POST, XERO_TRANSACTIONS, callback=self.call)

    def total(self) -> Decimal:
        return sum(
            (
                Decimal(str(item["UnitAmount"])) + Decimal(str(item["TaxAmount"]))
                for transaction in self.transactions.values()
                for item in transaction["LineItems"]
            ),
            Decimal(0),
        )


@responses.activate
def test_a_xero_update_that_creates_a_payment_and_lost_its_answer_is_not_created_again(
    xero, tasks, post_order
):
    """Once a key holds a BankTransaction, a new payment is created inside the POST that
    updates the others (action "update"): it is never written down in `pending`. Its answer
    lost, the order changes again before a Resend: the next POST's body differs (a new
    Idempotency-Key) and carries the CASH transaction without an id: Xero books it twice."""
    books = _FakeXero()
    books.install()
    order = post_order("T1", payments=[("VISA", "21.60")])
    _sync(xero, tasks)
    assert books.total() == Decimal("21.60")

    order_modify(
        order=order,
        payments=[PaymentInput("CASH", Decimal("10.00")), PaymentInput("VISA", Decimal("11.60"))],
    )
    books.lose_next = True
    record = _sync(xero, tasks)
    assert record.packets.get().state == "Failed"

    order_modify(
        order=order,
        payments=[PaymentInput("CASH", Decimal("11.00")), PaymentInput("VISA", Decimal("10.60"))],
    )
    _sync(xero, tasks)

    assert books.total() == _point_of_sale_total() == Decimal("21.60")
