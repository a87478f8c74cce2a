"""What the accounting export shows in /metrics: packets a delivery ended, by state."""

import pytest
import responses

from accounting.models import Packet, SyncRecord
from accounting.services.delivery import idempotency_key_for, sync_record_deliver
from accounting.services.sync import ledger_commit
from integration_hub.metrics import metrics_flush
from integration_hub.models import Integration
from tests.factories import AccountingIntegrationFactory, IntegrationFactory
from tests.scrape import scrape

SALES_URL = "https://books.example.com/sales"


@pytest.mark.django_db(transaction=True)
def test_packets_a_delivery_ended_are_counted_by_their_final_state(client, settings, fresh_metrics):
    endpoint = IntegrationFactory(kind=Integration.Kind.ACCOUNTING, base_url=SALES_URL)
    accounting_integration = AccountingIntegrationFactory(integration=endpoint)
    record = SyncRecord.objects.create(
        accounting_integration=accounting_integration,
        status=SyncRecord.Status.IN_PROGRESS,
        requested_at="2026-11-20T10:00:00Z",
    )
    for n in range(3):
        payload = {"reference": f"T{n}"}
        Packet.objects.create(
            sync_record=record,
            key=f"T{n}",
            content={},
            payload=payload,
            idempotency_key=idempotency_key_for(
                accounting_integration_id=accounting_integration.pk, key=f"T{n}", payload=payload
            ),
        )
    ledger_commit(sync_record=record)
    with responses.RequestsMock() as mock:
        mock.post(SALES_URL, json={})
        mock.post(SALES_URL, json={})
        mock.post(SALES_URL, status=400, json={"error": "unknown account"})
        sync_record_deliver(sync_record_id=record.pk)
    states = sorted(record.packets.values_list("state", flat=True))
    assert states == ["Failed", "Sent", "Sent"]

    assert metrics_flush()
    found = scrape(client, settings)
    assert found.value("hub_accounting_packets_total", state="sent") == 2
    assert found.value("hub_accounting_packets_total", state="failed") == 1


@pytest.mark.django_db(transaction=True)
def test_packets_failed_in_a_transaction_that_rolls_back_are_not_counted(
    client, settings, fresh_metrics
):
    from django.db import transaction

    from accounting.services.delivery import _pending_fail

    endpoint = IntegrationFactory(kind=Integration.Kind.ACCOUNTING, base_url=SALES_URL)
    record = SyncRecord.objects.create(
        accounting_integration=AccountingIntegrationFactory(integration=endpoint),
        status=SyncRecord.Status.IN_PROGRESS,
        requested_at="2026-11-20T10:00:00Z",
    )
    Packet.objects.create(sync_record=record, key="T1", content={}, payload={})
    with transaction.atomic():
        _pending_fail(record, "not connected")
        transaction.set_rollback(True)
    assert record.packets.get().state == Packet.State.PENDING
    _pending_fail(record, "not connected")
    assert record.packets.get().state == Packet.State.FAILED

    metrics_flush()
    found = scrape(client, settings)
    assert found.value("hub_accounting_packets_total", state="failed") == 1
