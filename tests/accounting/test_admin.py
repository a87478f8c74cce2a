"""The SyncRecord admin: records and their packets are looked at, never edited, and its pages
run a fixed number of queries."""

import pytest
from django.utils import timezone

from accounting.models import Packet, SyncRecord
from tests.conftest import page_queries
from tests.factories import AccountingIntegrationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser_client(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("root", "r@example.com", "pw"))
    return client


def _record(accounting_integration, packets: int, *, requested_by=None) -> SyncRecord:
    now = timezone.now()
    record = SyncRecord.objects.create(
        accounting_integration=accounting_integration,
        status="Success",
        requested_by=requested_by,
        requested_at=now,
        finished_at=now,
    )
    Packet.objects.bulk_create(
        Packet(
            sync_record=record,
            key=f"T{n}",
            state="Failed" if n % 2 else "Sent",
            content={},
            error=f"No map for T{n}." if n % 2 else "",
            idempotency_key=f"{record.pk}-{n}",
        )
        for n in range(packets)
    )
    return record


def test_the_record_page_shows_its_packets_read_only(superuser_client):
    record = _record(AccountingIntegrationFactory(), 3)

    page = superuser_client.get(f"/admin/accounting/syncrecord/{record.pk}/change/")

    assert page.status_code == 200
    html = page.content.decode()
    assert "No map for T1." in html
    assert "T2" in html
    inline = page.context["inline_admin_formsets"][0]
    assert inline.opts.model is Packet
    assert not inline.has_add_permission
    assert not inline.has_change_permission
    assert not inline.has_delete_permission
    assert 'name="packets-0-key"' not in html  # shown as text, not as an input
    assert 'name="_save"' not in html


def test_the_record_page_runs_the_same_queries_for_one_packet_as_for_thirty(
    superuser_client, make_user
):
    requester = make_user("Owner")
    one = _record(AccountingIntegrationFactory(), 1, requested_by=requester)
    xero = AccountingIntegrationFactory(integration_type="XERO")
    many = _record(xero, 30, requested_by=requester)

    def queries(record):
        return page_queries(superuser_client, f"/admin/accounting/syncrecord/{record.pk}/change/")

    assert queries(one) == queries(many)


def test_the_record_list_runs_the_same_queries_for_one_record_as_for_twenty(superuser_client):
    from tests.factories import SubscriberFactory

    _record(AccountingIntegrationFactory(), 2)
    few = page_queries(superuser_client, "/admin/accounting/syncrecord/")
    for n in range(19):
        _record(AccountingIntegrationFactory(subscriber=SubscriberFactory(name=f"S{n}")), 2)
    assert page_queries(superuser_client, "/admin/accounting/syncrecord/") == few
