"""What starts syncs besides /v2.1/ (references 000 and 002): sign-in, Sync Account, the
nightly account sync, the daily autoSync and the hourly invoice sync; and their schedules."""

from datetime import datetime

import pytest
from django.test import TestCase
from django.utils import timezone
from django_q.models import Schedule

from integration_hub.schedules import schedules_ensure
from integration_hub.services.system_settings import setting_set
from syncing.models import SyncJob
from syncing.services import triggers
from syncing.services.sync_jobs import RUN_TASK
from tests.factories import PASSWORD, OrganisationKitIntegrationFactory

pytestmark = pytest.mark.django_db


# An account sync is steps 1-3 (reference 000): no agreements, products or invoices.
ACCOUNT_SYNC_CALLS = [
    "accounts/search",
    "accounts/A1",
    "accounts/A2",
    "accounts/A1/users",
    "accounts/A2/users",
    "accounts/A1/locations",
    "accounts/A2/locations",
]


def sign_in(client, user):
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post("/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302, response.content
    client.post("/logout/")


def synced(connection, tasks):
    tasks.run()
    connection.refresh_from_db()
    assert connection.status == "SUCCESS", connection.last_error
    return connection


def test_two_sign_ins_start_one_account_sync(anna, kit_integration, partner, connect, tasks):
    connection = synced(connect(anna, kit_integration), tasks)

    sign_in(TestCase.client_class(), anna)
    sign_in(TestCase.client_class(), anna)

    active = connection.sync_jobs.filter(status__in=SyncJob.ACTIVE)
    assert list(active.values_list("kind", flat=True)) == [SyncJob.Kind.ACCOUNT]
    partner.calls.clear()
    assert len(tasks.args_of(RUN_TASK)) == 1
    tasks.run()
    assert partner.calls == ACCOUNT_SYNC_CALLS


def test_signing_in_with_a_connection_never_synced_runs_its_initial_sync(
    anna, kit_integration, partner, connect, tasks
):
    partner.fail("accounts/search", 503)
    connection = connect(anna, kit_integration)
    tasks.run()
    assert connection.sync_jobs.get().status == SyncJob.Status.ERROR

    sign_in(TestCase.client_class(), anna)

    assert connection.sync_jobs.get(status=SyncJob.Status.QUEUED).kind == SyncJob.Kind.INITIAL


@pytest.fixture
def sync_account(api_as):
    def call(user, body):
        with TestCase.captureOnCommitCallbacks(execute=True):
            return api_as(user).post("/api/v1/sync-account", body, format="json")

    return call


def test_sync_account_runs_an_account_sync_and_then_an_invoice_sync(
    anna, kit_integration, partner, connect, tasks, sync_account, system_config
):
    connection = synced(connect(anna, kit_integration), tasks)
    partner.calls.clear()

    response = sync_account(system_config, {"customerId": "CUST-1"})

    assert response.status_code == 202, response.content
    assert response.json() == {"customerId": "CUST-1", "connectionIds": [connection.pk]}
    assert len(tasks.args_of(RUN_TASK)) == 1
    tasks.run()
    assert partner.calls == [*ACCOUNT_SYNC_CALLS, "accounts/A1/invoices"]
    assert connection.sync_jobs.first().kind == SyncJob.Kind.ACCOUNT_INVOICES


def test_sync_account_widens_a_queued_account_sync_to_fetch_invoices_too(
    anna, kit_integration, partner, connect, tasks, sync_account, system_admin
):
    connection = synced(connect(anna, kit_integration), tasks)
    sign_in(TestCase.client_class(), anna)  # queues an account sync

    assert sync_account(system_admin, {"customerId": "CUST-2"}).status_code == 202

    assert connection.sync_jobs.filter(status=SyncJob.Status.QUEUED).count() == 1
    assert connection.sync_jobs.first().kind == SyncJob.Kind.ACCOUNT_INVOICES


def test_the_service_user_of_an_integration_reaches_only_its_connections(
    anna, kit_integration, partner, connect, tasks, sync_account, make_user
):
    synced(connect(anna, kit_integration), tasks)
    service_user = make_user(username="energy-co")
    kit_integration.service_user = service_user
    kit_integration.save()
    other_service_user = make_user(username="other-org")
    OrganisationKitIntegrationFactory(name="Other Org", service_user=other_service_user)

    assert sync_account(service_user, {"customerId": "CUST-1"}).status_code == 202
    refused = sync_account(other_service_user, {"customerId": "CUST-1"})
    assert refused.status_code == 404  # its integration has no connection holding CUST-1


@pytest.mark.parametrize("who", ["anonymous", "owner", "job_admin"])
def test_sync_account_is_refused_to_anyone_else(
    who, anna, kit_integration, partner, connect, tasks, sync_account, api_client, request
):
    synced(connect(anna, kit_integration), tasks)
    if who == "anonymous":
        response = api_client.post("/api/v1/sync-account", {"customerId": "CUST-1"})
        assert response.status_code == 401
    else:
        response = sync_account(request.getfixturevalue(who), {"customerId": "CUST-1"})
        assert response.status_code == 403
        assert "service user" in response.json()["detail"]
    assert not SyncJob.objects.filter(status=SyncJob.Status.QUEUED).exists()


def test_sync_account_names_a_missing_or_unknown_customer_id(system_admin, sync_account):
    missing = sync_account(system_admin, {})
    assert missing.status_code == 400
    assert "customerId" in missing.json()

    unknown = sync_account(system_admin, {"customerId": "NOBODY"})
    assert unknown.status_code == 404
    assert "NOBODY" in unknown.json()["detail"]


def test_the_nightly_account_sync_covers_every_connection_holding_a_customer_id(
    anna, other_user, kit_integration, partner, connect, tasks
):
    annas = synced(connect(anna, kit_integration), tasks)
    eriks = connect(other_user, kit_integration)  # the partner lists no account for Erik
    tasks.run()

    with TestCase.captureOnCommitCallbacks(execute=True):
        requested = triggers.account_sync_nightly()

    assert requested == [annas]
    assert annas.sync_jobs.first().kind == SyncJob.Kind.ACCOUNT
    assert not eriks.sync_jobs.filter(status=SyncJob.Status.QUEUED).exists()


def test_the_daily_sync_runs_all_for_connections_with_auto_sync_only(
    anna, kit_integration, partner, connect, tasks
):
    automatic = synced(connect(anna, kit_integration), tasks)
    manual_integration = OrganisationKitIntegrationFactory(name="Manual Co")
    manual = synced(connect(anna, manual_integration, auto_sync=False), tasks)

    with TestCase.captureOnCommitCallbacks(execute=True):
        triggers.auto_sync_daily()

    assert automatic.sync_jobs.first().kind == SyncJob.Kind.ALL
    assert automatic.sync_jobs.first().status == SyncJob.Status.QUEUED
    assert not manual.sync_jobs.filter(status=SyncJob.Status.QUEUED).exists()


def _local(hour: int) -> datetime:
    return datetime(2026, 11, 20, hour, 0, tzinfo=timezone.get_current_timezone())


def test_the_hourly_invoice_sync_runs_only_inside_invoice_sync_hours(
    anna, kit_integration, partner, connect, tasks
):
    connection = synced(connect(anna, kit_integration), tasks)
    setting_set(key="InvoiceSyncHours", value="8-20")

    assert triggers.invoice_sync_hourly(now=_local(7)) == []
    assert triggers.invoice_sync_hourly(now=_local(20)) == []
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert triggers.invoice_sync_hourly(now=_local(8)) == [connection]

    partner.calls.clear()
    tasks.run()
    assert partner.calls == ["accounts/A1/invoices"]  # only the account Anna owns


def test_a_connection_without_owned_accounts_gets_no_invoice_sync(
    anna, kit_integration, partner, connect, tasks
):
    connection = synced(connect(anna, kit_integration), tasks)
    connection.accounts.update(role="GUEST")

    assert triggers.invoice_sync_hourly(now=_local(12)) == []


def test_a_disabled_integration_starts_no_sync(anna, kit_integration, partner, connect, tasks):
    synced(connect(anna, kit_integration), tasks)
    kit_integration.enabled = False
    kit_integration.save()

    assert triggers.account_sync_nightly() == []
    assert triggers.auto_sync_daily() == []
    assert triggers.invoice_sync_hourly(now=_local(12)) == []


def test_the_sync_schedules_are_created_once_however_often_they_are_ensured():
    schedules_ensure()
    second = dict(schedules_ensure())

    wanted = {
        "syncing.invoices_hourly": "0 * * * *",
        "syncing.accounts_nightly": "0 2 * * *",
        "syncing.auto_sync_daily": "0 4 * * *",
    }
    for name, cron in wanted.items():
        assert second[name] == "unchanged"
        assert list(Schedule.objects.filter(name=name).values_list("cron", flat=True)) == [cron]
    assert Schedule.objects.filter(name="syncing.notifications_retry").count() == 1


def test_a_trigger_that_finds_a_sync_running_queues_its_steps_when_that_one_ends(
    anna, kit_integration, partner, connect, tasks, sync_account, system_admin
):
    connection = synced(connect(anna, kit_integration), tasks)
    running = SyncJob.objects.create(
        connection=connection, kind="ACCOUNT", status="RUNNING", started_at=timezone.now()
    )

    assert sync_account(system_admin, {"customerId": "CUST-1"}).status_code == 202

    running.refresh_from_db()
    assert running.kind == SyncJob.Kind.ACCOUNT  # running: its steps are left as they are
    assert running.then_kind == SyncJob.Kind.INVOICES  # what Sync Account adds to it
    assert not connection.sync_jobs.filter(status=SyncJob.Status.QUEUED).exists()
    from syncing.services.sync_jobs import sync_job_finish

    with TestCase.captureOnCommitCallbacks(execute=True):
        sync_job_finish(job=running)
    follow_up = connection.sync_jobs.get(status=SyncJob.Status.QUEUED)
    assert follow_up.kind == SyncJob.Kind.INVOICES
    partner.calls.clear()
    tasks.run()
    assert partner.calls[0] == "accounts/A1/invoices"


def test_a_follow_up_covers_every_request_made_while_the_sync_ran(
    anna, kit_integration, partner, connect, tasks
):
    connection = synced(connect(anna, kit_integration), tasks)
    running = SyncJob.objects.create(connection=connection, kind="INVOICES", status="RUNNING")

    with TestCase.captureOnCommitCallbacks(execute=True):
        triggers.account_sync_nightly()
        triggers.auto_sync_daily()

    running.refresh_from_db()
    assert running.then_kind == SyncJob.Kind.ALL
