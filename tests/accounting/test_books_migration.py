"""Migration 0005_books: before it, a summarised packet carried only the orders of its
record's window (an increment). No such packet may become its key's truth (a Resend would
replace the day with one window of it): the next Sync recomputes the key from every order
under it."""

import json
from datetime import date
from decimal import Decimal

import pytest
import responses
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from accounting.models import SyncRecord
from accounting.services.sync import packets_resend
from integration_hub.selectors import default_subscriber
from integration_hub.services.orders import ItemInput, PaymentInput, order_post
from tests.factories import AccountingIntegrationFactory, SubscriberFactory

from .conftest import BOOKS_URL, FULL_MAPS

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE_BOOKS = [("accounting", "0003_packet_state_id_index")]


def _order(key: str) -> None:
    order_post(
        subscriber=default_subscriber(),
        retail_transaction_id=key,
        business_date=date(2026, 11, 20),
        currency="USD",
        items=[ItemInput("Classes", Decimal("0.0800"), Decimal("1"), Decimal("20.00"))],
        payments=[PaymentInput("VISA", Decimal("21.60"))],
    )


def _content(orders: int) -> dict:
    cents = 2160 * orders
    return {
        "date": "2026-11-20",
        "payments": [["VISA", cents]],
        "lines": [["Classes", "0.0800", 2000 * orders, 160 * orders]],
        "orders": orders,
    }


@responses.activate
def test_resending_a_pre_books_increment_does_not_replace_the_day_with_it(tasks):
    if default_subscriber() is None:
        SubscriberFactory(name="Default")
    accounting_integration = AccountingIntegrationFactory(summarize_data=True)
    for kind, source, target in FULL_MAPS:
        accounting_integration.maps.create(kind=kind, source=source, target=target)
    for key in ("T1", "T2", "T3"):
        _order(key)
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE_BOOKS)
    old = executor.loader.project_state(BEFORE_BOOKS).apps
    OldRecord = old.get_model("accounting", "SyncRecord")
    OldPacket = old.get_model("accounting", "Packet")
    # The day, T1 and T2, sent; then T3 (late) alone in the next record, refused.
    for n, (orders, state) in enumerate([(2, "Sent"), (1, "Failed")]):
        record = OldRecord.objects.create(
            accounting_integration_id=accounting_integration.pk,
            status="Success",
            requested_at=f"2026-11-2{1 + n}T10:00:00Z",
        )
        OldPacket.objects.create(
            sync_record=record,
            key="2026-11-20/VISA",
            state=state,
            content=_content(orders),
            idempotency_key=f"old-{n}",
        )

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    responses.post(BOOKS_URL, json={}, status=201)
    late = SyncRecord.objects.order_by("requested_at").last()
    packets_resend(sync_record=late, acting_user=None)
    tasks.run()

    # Whatever is sent for the day now is its full totals: T1 + T2 + T3.
    for call in responses.calls:
        body = json.loads(call.request.body)
        assert sum(Decimal(p["amount"]) for p in body["payments"]) == Decimal("64.80")
