"""The accounting pages of the web UI: an integration's page (history with packets, Sync now
in the background, resend) for its Owners only, with a fixed number of SQL queries."""

import pytest

from accounting.models import Packet, SyncRecord
from accounting.services.sync import ledger_commit
from tests.conftest import page_queries
from tests.factories import AccountingIntegrationFactory

pytestmark = pytest.mark.django_db


def _record(accounting_integration, *, status="Success", packets=(("T1", "Sent", ""),)):
    from django.utils import timezone

    now = timezone.now()
    record = SyncRecord.objects.create(
        accounting_integration=accounting_integration,
        status=status,
        requested_at=now,
        started_at=now,
        finished_at=now,
        window_end=now,
        order_count=len(packets),
    )
    Packet.objects.bulk_create(
        Packet(
            sync_record=record,
            key=key,
            state=state,
            error=error,
            content={},
            payload={} if state != "Failed" else None,
            idempotency_key=f"{record.pk}-{key}",
        )
        for key, state, error in packets
    )
    ledger_commit(sync_record=record)
    return record


def test_the_page_shows_each_records_packet_states_and_errors(
    client, owner, accounting_integration
):
    _record(
        accounting_integration,
        packets=[("T1", "Sent", ""), ("T2", "Failed", "No PAYMENT_METHOD map for 'AMEX'.")],
    )
    client.force_login(owner)

    page = client.get(f"/accounting/{accounting_integration.pk}/").content.decode()

    assert "1 sent" in page
    assert "1 failed" in page
    assert "No PAYMENT_METHOD map for &#x27;AMEX&#x27;." in page
    assert "Resend the failed packets" in page


def test_only_the_subscribers_owners_reach_the_page(client, make_user, accounting_integration):
    client.force_login(make_user("Owner"))  # an Owner, of no subscriber of this integration
    assert client.get(f"/accounting/{accounting_integration.pk}/").status_code == 404
    client.force_login(make_user("Job Admin"))
    assert client.get(f"/accounting/{accounting_integration.pk}/").status_code == 403


def test_sync_now_in_the_background_answers_202_then_409_while_it_is_queued(
    client, owner, accounting_integration, tasks
):
    client.force_login(owner)
    url = f"/accounting/{accounting_integration.pk}/sync/"

    first = client.post(url, HTTP_ACCEPT="application/json")
    second = client.post(url, HTTP_ACCEPT="application/json")

    assert first.status_code == 202
    assert first.json()["status"] == "Queued"
    assert second.status_code == 409
    assert "already queued or running" in second.json()["detail"]
    assert SyncRecord.objects.count() == 1


def test_the_dashboard_panel_follows_a_queued_sync_through_history_even_after_a_plain_post(
    client, owner, accounting_integration, tasks
):
    """Without the page's script Sync now posts the form and comes back to the dashboard; the
    dashboard then tells the script to follow the queued record through its History."""
    client.force_login(owner)

    response = client.post(f"/accounting/{accounting_integration.pk}/sync/", follow=True)

    assert response.redirect_chain[-1][0] == "/"
    row = response.content.decode().split(
        f'data-accounting-integration="{accounting_integration.pk}"'
    )[1]
    row = row.split("</li>")[0]
    history = (
        f"/Subscriber_{accounting_integration.subscriber_id}/AccountingIntegration/"
        f"Type_{accounting_integration.integration_type}/History"
    )
    assert f'data-history-url="{history}"' in row
    assert 'data-active="true"' in row
    assert "data-sync-form" in row
    assert client.get(history, HTTP_ACCEPT="application/json").json()["results"][0]["status"] == (
        "Queued"
    )


def test_resend_from_the_page_queues_the_failed_packets_and_says_what_still_lacks_a_map(
    client, owner, accounting_integration, tasks
):
    record = _record(
        accounting_integration, packets=[("T1", "Sent", ""), ("T2", "Failed", "HTTP 500")]
    )
    record.packets.filter(key="T2").update(
        content={"date": "2026-11-20", "payments": [], "lines": []}
    )
    client.force_login(owner)

    response = client.post(
        f"/accounting/{accounting_integration.pk}/records/{record.pk}/resend/", follow=True
    )

    assert "1 failed packet queued to send again." in response.content.decode()
    assert record.packets.get(key="T2").state == Packet.State.PENDING


def test_the_page_runs_the_same_queries_for_one_record_as_for_twenty_with_many_packets(
    client, owner, accounting_integration
):
    client.force_login(owner)
    _record(accounting_integration)
    url = f"/accounting/{accounting_integration.pk}/"
    one = page_queries(client, url)
    for n in range(19):
        _record(accounting_integration, packets=[(f"K{n}-{k}", "Sent", "") for k in range(40)])
    assert page_queries(client, url) == one


def test_the_dashboard_runs_the_same_queries_for_one_integration_as_for_four(
    client, owner, accounting_integration
):
    client.force_login(owner)
    _record(accounting_integration)
    one = page_queries(client, "/")
    for integration_type in ("XERO", "SAGE", "QUICKBOOKS_ONLINE"):
        other = AccountingIntegrationFactory(integration_type=integration_type)
        for _ in range(3):
            _record(other)
    assert page_queries(client, "/") == one


def test_a_superuser_reaches_any_integrations_page_as_the_api_allows(
    client, make_user, accounting_integration
):
    client.force_login(make_user(is_superuser=True, is_staff=True))

    assert client.get(f"/accounting/{accounting_integration.pk}/").status_code == 200


def test_an_integration_or_record_id_beyond_any_id_is_404_on_the_pages(
    client, owner, accounting_integration
):
    client.force_login(owner)
    huge = "9" * 30
    assert client.get(f"/accounting/{huge}/").status_code == 404
    assert client.post(f"/accounting/{huge}/sync/").status_code == 404
    resend = f"/accounting/{accounting_integration.pk}/records/{huge}/resend/"
    assert client.post(resend).status_code == 404
