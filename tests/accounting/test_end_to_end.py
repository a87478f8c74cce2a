"""A Sync delivered over real HTTP, OAuth2 included, to the sandbox's accounting receiver."""

import json

import pytest

from accounting.demo import accounting_demo_setup
from accounting.models import Packet, SyncRecord
from accounting.services.sync import sync_request
from integration_hub.sandbox.models import ReceivedRequest


@pytest.mark.django_db(transaction=True)
def test_a_sync_of_the_demo_integration_arrives_at_the_sandbox_receiver(
    live_server, tasks, post_order
):
    accounting_integration = accounting_demo_setup(base_url=live_server.url)
    post_order(
        "E2E-1",
        items=[("Classes", "0.0800", "1", "20.00"), ("Retail", "0.0800", "2", "2.50")],
        payments=[("VISA", "15.00"), ("CASH", "12.00")],
    )
    post_order(
        "E2E-2", items=[("Gift cards", "0.0000", "1", "50.00")], payments=[("AMEX", "50.00")]
    )

    record = sync_request(accounting_integration=accounting_integration, acting_user=None)
    tasks.run()

    record.refresh_from_db()
    assert record.status == SyncRecord.Status.SUCCESS
    assert record.order_count == 2
    packets = {p.key: p for p in record.packets.all()}
    assert set(packets) == {"2026-11-20/VISA", "2026-11-20/CASH", "2026-11-20/AMEX"}
    assert all(p.state == Packet.State.SENT for p in packets.values())
    received = list(ReceivedRequest.objects.filter(receiver__slug="accounting").order_by("id"))
    assert len(received) == 3
    bodies = {json.loads(r.body)["reference"]: r for r in received}
    cash = json.loads(bodies["2026-11-20/CASH"].body)
    assert cash["payments"] == [{"depositAccount": "1000", "amount": "12.00"}]
    headers = {k.lower(): v for k, v in bodies["2026-11-20/CASH"].headers.items()}
    assert headers["idempotency-key"] == packets["2026-11-20/CASH"].idempotency_key
    assert "authorization" not in headers  # the sandbox never stores credentials
