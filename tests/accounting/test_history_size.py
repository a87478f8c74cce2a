"""History never grows with a record's packets (DESIGN.md, "Accounting"; issue 14, finding 1:
one record of 60,000 failed packets made a 6.8 MB History): counts, at most 100 packets
(failed first), and every packet through the paginated .../Packets list."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounting.models import Packet, SyncRecord

pytestmark = pytest.mark.django_db


def _url(accounting_integration, tail: str) -> str:
    return (
        f"/Subscriber_{accounting_integration.subscriber_id}/AccountingIntegration/"
        f"Type_{accounting_integration.integration_type}/{tail}"
    )


def _record_of(accounting_integration, packets: int, *, failed_every: int = 3) -> SyncRecord:
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
                state="Failed" if n % failed_every == 0 else "Sent",
                content={},
                error="HTTP 500" if n % failed_every == 0 else "",
                idempotency_key=f"k{n}",
            )
            for n in range(packets)
        ),
        batch_size=2000,
    )
    return record


def _history(client, accounting_integration):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(_url(accounting_integration, "History"))
    assert response.status_code == 200
    return response, len(queries)


def test_a_record_of_ten_thousand_packets_answers_as_small_as_one_of_ten(
    api_as, owner, accounting_integration, time_machine
):
    # The clock stands still: a token's last use is written once a minute, and a minute
    # turning between the two pages would add that write to one of them.
    time_machine.move_to(timezone.now(), tick=False)
    client = api_as(owner)
    client.get(_url(accounting_integration, "History"))  # the token's last use: once a minute
    _record_of(accounting_integration, 10)
    small, small_queries = _history(client, accounting_integration)
    SyncRecord.objects.all().delete()
    _record_of(accounting_integration, 10_000)

    large, large_queries = _history(client, accounting_integration)

    record = large.json()["results"][0]
    assert record["packetCount"] == 10_000
    assert record["packetCounts"] == {"Pending": 0, "Sent": 6666, "Failed": 3334}
    assert len(record["packets"]) == 100
    assert {p["state"] for p in record["packets"]} == {"Failed"}  # failed first
    assert large_queries == small_queries
    assert len(large.content) < 15 * len(small.content)  # 100 packets shown, not 10,000


def test_the_packets_list_pages_every_packet_failed_first_then_by_key(
    api_as, owner, accounting_integration
):
    record = _record_of(accounting_integration, 250)
    client = api_as(owner)
    url = _url(accounting_integration, f"History/{record.pk}/Packets")

    first = client.get(url, {"pageSize": 200}).json()
    second = client.get(url, {"pageSize": 200, "page": 2}).json()

    assert first["count"] == 250
    keys = [p["key"] for p in first["results"] + second["results"]]
    states = [p["state"] for p in first["results"] + second["results"]]
    assert states == ["Failed"] * 84 + ["Sent"] * 166
    assert keys[:84] == sorted(keys[:84])
    assert keys[84:] == sorted(keys[84:])
    failed = client.get(url, {"state": "Failed"}).json()
    assert failed["count"] == 84
    refused = client.get(url, {"state": "Lost"})
    assert refused.status_code == 400
    assert "state" in refused.json()


def test_the_packets_list_is_the_owners_alone(api_as, make_user, accounting_integration):
    record = _record_of(accounting_integration, 3)
    stranger = make_user("Owner")
    url = _url(accounting_integration, f"History/{record.pk}/Packets")

    assert api_as(stranger).get(url).status_code == 403


def test_a_full_page_of_two_hundred_records_each_with_its_packets(
    api_as, owner, accounting_integration
):
    """More records than SQLite takes parts in one compound SELECT (500 ÷ 3 states)."""
    for n in range(200):
        record = SyncRecord.objects.create(
            accounting_integration=accounting_integration,
            status="Success",
            requested_at=timezone.now(),
        )
        Packet.objects.create(
            sync_record=record, key=f"K{n}", state="Sent", content={}, idempotency_key=f"k{n}"
        )

    response = api_as(owner).get(_url(accounting_integration, "History"), {"pageSize": 200})

    assert response.status_code == 200
    results = response.json()["results"]
    assert len(results) == 200
    assert all(len(r["packets"]) == 1 and r["packetCount"] == 1 for r in results)
