"""A disabled Organisation Kit integration is never called (DESIGN.md, "Connections and
inbound sync"): manual syncs and live reads and writes answer 409 naming it, the schedules
skip it, and a sync queued before it was disabled ends without calling the partner."""

from datetime import datetime

import pytest
from django.test import TestCase
from django.utils import timezone

from syncing.models import Event, SyncJob
from syncing.services import sync_run, triggers

pytestmark = pytest.mark.django_db

DISABLED = {"detail": "The integration Energy Co is disabled."}


@pytest.fixture
def disabled(synced_anna, kit_integration, partner):
    """Anna's synced connection, its integration then disabled; no partner call so far."""
    kit_integration.enabled = False
    kit_integration.save()
    partner.mock.calls.reset()
    return synced_anna


def assert_partner_never_called(partner):
    assert len(partner.mock.calls) == 0, [call.request.url for call in partner.mock.calls]
    assert partner.calls == []


def post(client, path, **kwargs):
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(path, **kwargs)


@pytest.mark.parametrize(
    "path", ["/v2.1/connections/{id}/synchronize", "/v2.1/connections/synchronize"]
)
def test_a_manual_sync_through_the_api_answers_409_naming_the_integration(
    disabled, anna, api_as, partner, tasks, path
):
    response = post(api_as(anna), path.format(id=disabled.pk))

    assert response.status_code == 409, response.content
    assert response.json() == DISABLED
    assert not disabled.sync_jobs.filter(status__in=SyncJob.ACTIVE).exists()
    tasks.run()
    assert_partner_never_called(partner)


def test_sync_account_answers_409_and_queues_nothing(
    disabled, system_admin, api_as, partner, tasks
):
    response = post(
        api_as(system_admin), "/api/v1/sync-account", data={"customerId": "CUST-1"}, format="json"
    )

    assert response.status_code == 409, response.content
    assert response.json() == DISABLED
    tasks.run()
    assert_partner_never_called(partner)


@pytest.mark.parametrize("path", ["/connections/{id}/sync/", "/connections/sync/"])
def test_sync_now_on_the_pages_says_the_integration_is_disabled(
    disabled, anna, client, partner, tasks, path
):
    client.force_login(anna)

    background = post(client, path.format(id=disabled.pk), HTTP_ACCEPT="application/json")
    page = post(client, path.format(id=disabled.pk), follow=True)

    assert background.status_code == 409
    assert background.json() == DISABLED
    assert "Not synced: The integration Energy Co is disabled." in page.content.decode()
    tasks.run()
    assert_partner_never_called(partner)


def test_the_admin_sync_now_action_says_the_integration_is_disabled(
    disabled, client, system_admin, partner, tasks
):
    client.force_login(system_admin)

    response = post(
        client,
        "/admin/syncing/connection/",
        data={"action": "sync_now", "_selected_action": [disabled.pk]},
        follow=True,
    )

    page = response.content.decode()
    assert "0 sync(s) queued" in page
    assert f"connection {disabled.pk}: The integration Energy Co is disabled." in page
    tasks.run()
    assert_partner_never_called(partner)


LIVE_CALLS = [
    ("get", "accounts/A1/invoices/", None),
    ("get", "accounts/A1/invoices/INV-2/pdf", None),
    ("get", "services/A1-S1/measurements/", None),
    ("get", "services/A1-S1/cost/", None),
    ("patch", "users/U1/", {"phoneNumber": "+46701234567"}),
    ("post", "accounts/A1/guests/", {"name": "Karin", "emailAddress": "karin@x.se"}),
]


@pytest.mark.parametrize(("method", "rest", "body"), LIVE_CALLS)
def test_live_reads_and_writes_answer_409_naming_the_integration(
    disabled, anna, api_as, partner, method, rest, body
):
    client = api_as(anna)
    path = f"/api/v1/connections/{disabled.pk}/{rest}"

    response = getattr(client, method)(path, body, format="json" if body else None)

    assert response.status_code == 409, response.content
    assert response.json() == DISABLED
    assert_partner_never_called(partner)


def test_the_schedules_and_sign_in_skip_it(disabled, anna, partner, tasks):
    noon = datetime(2026, 3, 2, 12, 0, tzinfo=timezone.get_current_timezone())

    assert triggers.sync_on_sign_in(user=anna) == []
    assert triggers.account_sync_nightly() == []
    assert triggers.auto_sync_daily() == []
    assert triggers.invoice_sync_hourly(now=noon) == []
    tasks.run()
    assert_partner_never_called(partner)


def test_a_sync_queued_before_it_was_disabled_ends_without_calling_the_partner(
    synced_anna, kit_integration, request_sync, partner, tasks
):
    job, created = request_sync(synced_anna, SyncJob.Kind.ALL)
    assert created
    kit_integration.enabled = False
    kit_integration.save()
    partner.mock.calls.reset()

    tasks.run()

    job.refresh_from_db()
    synced_anna.refresh_from_db()
    assert job.status == SyncJob.Status.ERROR
    assert job.error == "The integration Energy Co is disabled."
    assert synced_anna.status == "ERROR"
    ended = Event.objects.filter(event_type="SYNC_ALL_ERROR").last()
    assert ended.resource["error"] == "The integration Energy Co is disabled."
    assert_partner_never_called(partner)


def test_a_sync_disabled_between_slices_calls_nothing_more(
    synced_anna, kit_integration, request_sync, partner, tasks, monkeypatch
):
    monkeypatch.setattr(sync_run, "SLICE_SECONDS", 0)
    job, _ = request_sync(synced_anna, SyncJob.Kind.ALL)
    with TestCase.captureOnCommitCallbacks(execute=True):
        sync_run.sync_job_run(job_id=job.pk)  # the first slice: step 1, then the next queued
    job.refresh_from_db()
    assert (job.status, job.next_step) == (SyncJob.Status.RUNNING, 2)
    kit_integration.enabled = False
    kit_integration.save()
    partner.mock.calls.reset()
    partner.calls.clear()

    tasks.run()

    job.refresh_from_db()
    assert job.status == SyncJob.Status.ERROR
    assert job.error == "The integration Energy Co is disabled."
    assert_partner_never_called(partner)


@pytest.mark.parametrize("path", ["accounts/A1/invoices/", "services/A1-S1/"])
def test_the_live_pages_say_the_integration_is_disabled(disabled, anna, client, partner, path):
    client.force_login(anna)

    response = client.get(f"/connections/{disabled.pk}/{path}")

    assert response.status_code == 409
    assert "The integration Energy Co is disabled." in response.content.decode()
    assert_partner_never_called(partner)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("users/U1/", {"phone_number": "+46 70 000 00 00", "email_address": ""}),
        ("accounts/A1/guests/", {"name": "Karin", "email_address": "karin@x.se"}),
    ],
)
def test_the_write_forms_say_the_integration_is_disabled(
    disabled, anna, client, partner, path, body
):
    client.force_login(anna)

    response = client.post(f"/connections/{disabled.pk}/{path}", body, follow=True)

    assert "The integration Energy Co is disabled." in response.content.decode()
    assert_partner_never_called(partner)
