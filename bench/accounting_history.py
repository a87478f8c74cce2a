"""Accounting History (DESIGN.md, "Performance budgets": a body that does not grow with a
record's packets): the History of one record of 100 packets and of one of 100,000, its size
and its time, printed as ratios (budget: equal within noise). Never asserts.

    .venv/bin/python bench/accounting_history.py
"""

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._django import django_setup

ROUNDS = 20


def record_create(accounting_integration, packets: int):
    from django.utils import timezone

    from accounting.models import Packet, SyncRecord

    SyncRecord.objects.filter(accounting_integration=accounting_integration).delete()
    record = SyncRecord.objects.create(
        accounting_integration=accounting_integration,
        status="Success",
        requested_at=timezone.now(),
    )
    Packet.objects.bulk_create(
        (
            Packet(
                sync_record=record,
                key=f"K{n:06d}",
                state="Failed" if n % 2 else "Sent",
                content={},
                error="",  # the shown packets differ only in state, not in size
                idempotency_key=f"k{n}",
            )
            for n in range(packets)
        ),
        batch_size=5000,
    )


def history(client, url: str) -> tuple[int, float]:
    client.get(url)  # warm
    started = time.perf_counter()
    for _ in range(ROUNDS):
        response = client.get(url)
    elapsed = (time.perf_counter() - started) / ROUNDS
    assert response.status_code == 200
    return len(response.content), elapsed


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        django_setup(Path(tmp))
        from rest_framework.test import APIClient

        from accounting.models import AccountingIntegration
        from integration_hub.models import Integration, Subscriber, SubscriberOwner, User
        from integration_hub.services.roles import role_grant

        subscriber = Subscriber.objects.create(name="Bench")
        endpoint = Integration.objects.create(
            name="Books", kind="ACCOUNTING", base_url="https://books.example.com/"
        )
        accounting_integration = AccountingIntegration.objects.create(
            subscriber=subscriber, integration_type="GENERIC", integration=endpoint
        )
        owner = User.objects.create_user("bench-owner")
        role_grant(user=owner, role="Owner", subscriber=subscriber)
        SubscriberOwner.objects.get_or_create(user=owner, subscriber=subscriber)
        client = APIClient(SERVER_NAME="127.0.0.1")
        client.force_authenticate(owner)
        url = f"/Subscriber_{subscriber.pk}/AccountingIntegration/Type_GENERIC/History"

        record_create(accounting_integration, 100)
        small_size, small_time = history(client, url)
        record_create(accounting_integration, 100_000)
        large_size, large_time = history(client, url)

        print(f"History of a record of 100 packets: {small_size} bytes, {small_time * 1e3:.1f} ms")
        print(
            f"History of a record of 100,000 packets: {large_size} bytes, {large_time * 1e3:.1f} ms"
        )
        print(f"  size ratio 100,000 / 100: {large_size / small_size:.2f}  (budget: 1.00)")
        print(
            f"  time ratio 100,000 / 100: {large_time / small_time:.2f}"
            "  (budget: equal within noise)"
        )


if __name__ == "__main__":
    main()
