"""Daily schedule per enabled integration, the admin pages, the dashboard panel, the demo."""

import pytest
from django.core.management import call_command
from django_q.models import Schedule

from accounting.demo import accounting_demo_setup
from accounting.models import AccountingIntegration, Packet, SyncRecord
from accounting.services.integrations import accounting_schedules_ensure
from integration_hub.schedules import schedules_ensure
from tests.factories import AccountingIntegrationFactory

pytestmark = pytest.mark.django_db


def _sync_schedules():
    return list(
        Schedule.objects.filter(func="accounting.tasks.scheduled_sync").values_list(
            "name", "args", "cron"
        )
    )


def test_each_enabled_integration_gets_one_daily_schedule_and_ensuring_twice_changes_nothing():
    enabled = AccountingIntegrationFactory()
    AccountingIntegrationFactory(integration_type="XERO", enabled=False)
    accounting_schedules_ensure()
    assert accounting_schedules_ensure() == [(f"Accounting sync {enabled.pk}", "unchanged")]
    assert _sync_schedules() == [(f"Accounting sync {enabled.pk}", f"({enabled.pk},)", "0 2 * * *")]


def test_disabling_an_integration_removes_its_schedule():
    accounting_integration = AccountingIntegrationFactory()
    accounting_schedules_ensure()
    AccountingIntegration.objects.filter(pk=accounting_integration.pk).update(enabled=False)
    accounting_schedules_ensure()
    assert _sync_schedules() == []


def test_the_core_schedules_command_ensures_the_accounting_schedules_through_its_hook():
    accounting_integration = AccountingIntegrationFactory()
    outcome = dict(schedules_ensure())
    assert outcome[f"Accounting sync {accounting_integration.pk}"] == "created"
    assert "Accounting sync watchdog" in outcome
    call_command("schedules")
    assert len(_sync_schedules()) == 1


def test_the_scheduled_sync_queues_a_record_and_skips_quietly_when_one_is_running(tasks):
    from accounting.tasks import scheduled_sync

    accounting_integration = AccountingIntegrationFactory()
    scheduled_sync(accounting_integration.pk)
    scheduled_sync(accounting_integration.pk)
    assert SyncRecord.objects.filter(accounting_integration=accounting_integration).count() == 1


def test_the_admin_shows_records_read_only_with_packets_and_resends_failed_ones(
    client, django_user_model, tasks
):
    root = django_user_model.objects.create_superuser("root", "r@example.com", "pw")
    client.force_login(root)
    record = SyncRecord.objects.create(
        accounting_integration=AccountingIntegrationFactory(),
        status="Success",
        requested_at="2026-11-20T10:00:00Z",
    )
    Packet.objects.create(
        sync_record=record,
        key="T1",
        state="Failed",
        content={"date": "2026-11-20", "payments": [["VISA", 100]], "lines": []},
        error='No map for PAYMENT_METHOD "VISA".',
        idempotency_key="k1",
    )
    listing = client.get("/admin/accounting/syncrecord/?status__exact=Success")
    assert listing.status_code == 200
    page = client.get(f"/admin/accounting/syncrecord/{record.pk}/change/")
    assert page.status_code == 200
    assert b"No map for PAYMENT_METHOD" in page.content
    assert b'name="_save"' not in page.content
    response = client.post(
        "/admin/accounting/syncrecord/",
        {"action": "resend_failed_packets", "_selected_action": [record.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert b"0 packet(s) queued" in response.content  # still no map for VISA


def test_the_dashboard_panel_lists_the_owners_integrations_with_a_sync_button(client, owner, tasks):
    accounting_integration = AccountingIntegrationFactory()
    client.force_login(owner)
    page = client.get("/")
    assert b"Sync now" in page.content
    assert b"Never" in page.content
    response = client.post(f"/accounting/{accounting_integration.pk}/sync/", follow=True)
    assert response.status_code == 200
    assert SyncRecord.objects.filter(accounting_integration=accounting_integration).count() == 1
    assert b"Queued" in response.content


def test_another_subscribers_owner_cannot_press_sync_on_this_integration(client, make_user, tasks):
    accounting_integration = AccountingIntegrationFactory()
    client.force_login(make_user("Owner"))
    assert client.post(f"/accounting/{accounting_integration.pk}/sync/").status_code == 404
    assert not SyncRecord.objects.exists()


def test_a_user_listed_as_owner_without_the_owner_role_cannot_press_sync(client, make_user, tasks):
    from integration_hub.models import SubscriberOwner
    from integration_hub.selectors import default_subscriber

    accounting_integration = AccountingIntegrationFactory()
    former_owner = make_user()  # the Owner role was taken away in the admin
    SubscriberOwner.objects.create(user=former_owner, subscriber=default_subscriber())
    client.force_login(former_owner)

    assert client.post(f"/accounting/{accounting_integration.pk}/sync/").status_code == 403
    assert not SyncRecord.objects.exists()


def test_the_demo_sets_up_a_summarised_integration_with_maps_over_the_demo_data_once():
    first = accounting_demo_setup(base_url="http://127.0.0.1:8000")
    again = accounting_demo_setup(base_url="http://127.0.0.1:8000")
    assert first.pk == again.pk
    assert first.summarize_data
    assert first.enabled
    assert first.integration.base_url == "http://127.0.0.1:8000/sandbox/receiver/accounting/"
    sources = set(first.maps.values_list("source", flat=True))
    assert {"Classes", "Retail", "Memberships", "Gift cards", "VISA", "MASTERCARD"} <= sources
    assert {"CASH", "AMEX", "0.0800", "0.0000"} <= sources
