"""Sync kinds and their steps (reference 000), against a partner mocked with responses."""

from datetime import timedelta

import pytest
from django.utils import timezone

from syncing.models import Account, Agreement, Channel, Event, Location, SyncJob
from syncing.services.sync_jobs import RUN_TASK, sync_request, sync_watchdog_run
from syncing.services.sync_run import sync_job_run

pytestmark = pytest.mark.django_db

INITIAL_CALLS = [
    "accounts/search",
    "accounts/A1",
    "accounts/A2",
    "accounts/A1/users",
    "accounts/A2/users",
    "accounts/A1/locations",
    "accounts/A2/locations",
    "services/A1-S1/agreements",
    "services/A2-S1/agreements",
    "services/A1-S1/products",
    "services/A2-S1/products",
    # Step 5: the invoices of the account Anna owns (A1), not of the one she is a guest of.
    "accounts/A1/invoices",
    # Then the notification of its new invoice is reported to the organisation.
    "POST accounts/A1/events",
]


def event_types(user) -> list[str]:
    return list(Event.objects.filter(queue__user=user).values_list("event_type", flat=True))


def channel_states(connection) -> dict[str, str]:
    return dict(connection.channels.values_list("definition", "status"))


def synced(connection, partner, tasks):
    """Run what is queued, and forget the calls and events so far."""
    tasks.run()
    partner.calls.clear()
    Event.objects.all().delete()
    connection.refresh_from_db()
    return connection


def test_the_initial_sync_calls_the_partner_in_the_order_of_reference_000(
    anna, kit_integration, partner, connect, tasks
):
    connection = connect(anna, kit_integration)

    tasks.run()
    assert len(tasks.ran_of(RUN_TASK)) == 1

    assert partner.calls == INITIAL_CALLS
    job = connection.sync_jobs.get()
    assert (job.kind, job.status) == (SyncJob.Kind.INITIAL, SyncJob.Status.SUCCESS)


def test_after_a_successful_sync_events_channels_and_mirror_are_complete(
    anna, kit_integration, partner, connect, tasks
):
    connection = connect(anna, kit_integration)
    tasks.run()

    assert event_types(anna) == [
        "ACCOUNTS_SEARCH_SUCCESS",
        "ACCOUNT_SUCCESS",
        "ACCOUNT_SUCCESS",
        "USERS_SUCCESS",
        "USERS_SUCCESS",
        "LOCATIONS_SUCCESS",
        "LOCATIONS_SUCCESS",
        "AGREEMENTS_SUCCESS",
        "AGREEMENTS_SUCCESS",
        "PRODUCTS_SUCCESS",
        "PRODUCTS_SUCCESS",
        "INVOICES_SUCCESS",  # of A1 only: Anna is a guest of A2
        "SYNC_ALL_SUCCESS",
    ]
    last = Event.objects.last()
    assert last.resource["id"] == str(connection.pk)
    assert last.resource["status"] == "SUCCESS"
    connection.refresh_from_db()
    assert connection.status == "SUCCESS"
    assert set(channel_states(connection).values()) == {Channel.Status.SUCCESS}
    roles = dict(connection.accounts.values_list("partner_id", "role"))
    assert roles == {"A1": "OWNER", "A2": "GUEST"}
    assert Agreement.objects.filter(service__location__account__connection=connection).count() == 2


def test_a_sync_longer_than_a_slice_continues_step_by_step_in_new_tasks(
    anna, kit_integration, partner, connect, tasks, monkeypatch
):
    monkeypatch.setattr("syncing.services.sync_run.SLICE_SECONDS", 0)
    connection = connect(anna, kit_integration)

    tasks.run()
    assert len(tasks.ran_of(RUN_TASK)) == 5  # one slice per step

    assert partner.calls == INITIAL_CALLS
    job = connection.sync_jobs.get()
    assert (job.status, job.slice_number, job.next_step) == ("SUCCESS", 4, 5)
    assert event_types(anna)[-1] == "SYNC_ALL_SUCCESS"
    assert event_types(anna).count("SYNC_ALL_SUCCESS") == 1


def test_a_slice_delivered_twice_runs_once(
    anna, kit_integration, partner, connect, tasks, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr("syncing.services.sync_run.SLICE_SECONDS", 0)
    connection = connect(anna, kit_integration)
    with django_capture_on_commit_callbacks(execute=True):
        sync_job_run(job_id=tasks.args_of(RUN_TASK)[0][0])  # step 1, then queues slice 1
    job_id = connection.sync_jobs.get().pk
    assert tasks.args_of(RUN_TASK) == [(job_id,), (job_id, 1)]

    sync_job_run(job_id=job_id, slice_number=1)
    calls = list(partner.calls)

    assert sync_job_run(job_id=job_id, slice_number=1) is None
    assert partner.calls == calls


def test_an_account_sync_runs_steps_one_to_three_only(
    anna, kit_integration, partner, connect, tasks
):
    connection = synced(connect(anna, kit_integration), partner, tasks)

    sync_request(connection=connection, kind=SyncJob.Kind.ACCOUNT)
    job = connection.sync_jobs.filter(status="QUEUED").get()
    sync_job_run(job_id=job.pk)

    assert partner.calls == INITIAL_CALLS[:7]
    assert event_types(anna)[-1] == "SYNC_ALL_SUCCESS"
    assert "AGREEMENTS_SUCCESS" not in event_types(anna)


@pytest.mark.parametrize(
    ("failing_path", "step", "channel"),
    [
        ("accounts/search", "ACCOUNTS_SEARCH", "accounts"),
        ("accounts/A2", "ACCOUNT", "accounts"),
        ("accounts/A2/users", "USERS", "users"),
        ("accounts/A2/locations", "LOCATIONS", "locations"),
        ("services/A2-S1/agreements", "AGREEMENTS", "agreements"),
        ("services/A2-S1/products", "PRODUCTS", "products"),
    ],
)
def test_a_partner_failure_at_a_step_records_its_error_and_keeps_the_previous_mirror(
    anna, kit_integration, partner, connect, tasks, failing_path, step, channel
):
    connection = synced(connect(anna, kit_integration), partner, tasks)
    partner.version = 2  # what a full sync would now bring
    partner.fail(failing_path, 503)

    sync_request(connection=connection, kind=SyncJob.Kind.ALL)
    sync_job_run(job_id=connection.sync_jobs.get(status="QUEUED").pk)

    types = event_types(anna)
    assert f"{step}_ERROR" in types
    assert types[-1] == "SYNC_ALL_ERROR"
    error_event = Event.objects.get(event_type=f"{step}_ERROR")
    assert error_event.resource["error"]["status_code"] == 503
    connection.refresh_from_db()
    assert connection.status == "ERROR"
    assert channel_states(connection)[channel] == Channel.Status.ERROR
    # The failing step changed nothing: its part of the mirror is as the first sync left it.
    assert connection.accounts.filter(is_present=True).count() == 2
    if step in ("ACCOUNTS_SEARCH", "ACCOUNT", "USERS", "LOCATIONS"):
        assert set(Location.objects.values_list("name", flat=True)) == {"Location v1"}
    # Agreements come before products: a products failure finds them already brought up to date.
    agreements = {"Agreement v2"} if step == "PRODUCTS" else {"Agreement v1"}
    assert set(Agreement.objects.values_list("name", flat=True)) == agreements
    assert connection.sync_jobs.get(kind="ALL").status == SyncJob.Status.ERROR


def test_a_rate_limited_partner_gives_an_error_event_with_its_retry_after(
    anna, kit_integration, partner, connect, tasks
):
    partner.fail("accounts/A1/users", 429, {"Retry-After": "120"})
    connect(anna, kit_integration)

    tasks.run()

    error = Event.objects.get(event_type="USERS_ERROR").resource["error"]
    assert (error["kind"], error["status_code"], error["retry_after"]) == (
        "rate_limited",
        429,
        120.0,
    )


def test_a_partner_timeout_gives_an_error_event_and_ends_the_sync_in_error(
    anna, kit_integration, partner, connect, tasks
):
    partner.time_out("accounts/A2/locations")
    connection = connect(anna, kit_integration)

    tasks.run()

    assert Event.objects.get(event_type="LOCATIONS_ERROR").resource["error"]["kind"] == "timeout"
    assert event_types(anna)[-1] == "SYNC_ALL_ERROR"
    assert not Location.objects.exists()  # step 3 wrote nothing
    connection.refresh_from_db()
    assert connection.status == "ERROR"
    assert "LOCATIONS" in connection.last_error


def test_the_watchdog_fails_a_sync_that_no_worker_picked_up(
    anna, kit_integration, partner, connect, tasks
):
    connection = connect(anna, kit_integration)
    job = connection.sync_jobs.get()

    assert sync_watchdog_run() == []
    assert sync_watchdog_run(now=timezone.now() + timedelta(hours=1)) == [job.pk]

    job.refresh_from_db()
    assert job.status == SyncJob.Status.ERROR
    assert event_types(anna) == ["SYNC_ALL_ERROR"]
    tasks.run()  # the lost task turns up after all: it finds the job ended and does nothing
    assert partner.calls == []


def test_list_accounts_ends_with_the_account_list_and_then_runs_all(
    anna, kit_integration, partner, connect, tasks, request_sync
):
    connection = synced(connect(anna, kit_integration), partner, tasks)

    request_sync(connection, SyncJob.Kind.LIST_ACCOUNTS)
    tasks.run()

    types = event_types(anna)
    assert types[:4] == [
        "ACCOUNTS_SEARCH_SUCCESS",
        "ACCOUNT_SUCCESS",
        "ACCOUNT_SUCCESS",
        "LIST_ACCOUNTS_SUCCESS",
    ]
    listed = Event.objects.get(event_type="LIST_ACCOUNTS_SUCCESS").resource["accounts"]
    assert [a["id"] for a in listed] == ["A1", "A2"]
    assert types[-1] == "SYNC_ALL_SUCCESS"
    kinds = list(connection.sync_jobs.order_by("id").values_list("kind", "status"))
    assert kinds[-2:] == [("LIST_ACCOUNTS", "SUCCESS"), ("ALL", "SUCCESS")]


def test_an_account_that_disappeared_and_came_back_is_restored_with_its_data(
    anna, kit_integration, partner, connect, tasks, request_sync
):
    connection = synced(connect(anna, kit_integration), partner, tasks)
    gone = partner.accounts.pop("A2")

    request_sync(connection, SyncJob.Kind.LIST_ACCOUNTS)
    tasks.run()
    assert list(
        connection.accounts.filter(is_present=True).values_list("partner_id", flat=True)
    ) == ["A1"]

    partner.accounts["A2"] = gone
    request_sync(connection, SyncJob.Kind.LIST_ACCOUNTS)
    tasks.run()

    listed = Event.objects.filter(event_type="LIST_ACCOUNTS_SUCCESS").last().resource["accounts"]
    assert [a["id"] for a in listed] == ["A1", "A2"]
    restored = connection.accounts.get(partner_id="A2")
    assert restored.is_present
    assert restored.locations.count() == 1


def test_a_sync_request_while_one_is_queued_starts_nothing_new(
    anna, kit_integration, partner, connect, tasks
):
    connection = connect(anna, kit_integration)

    job, created = sync_request(connection=connection, kind=SyncJob.Kind.ALL)

    assert not created
    assert job.kind == SyncJob.Kind.INITIAL
    assert connection.sync_jobs.count() == 1
    assert len(tasks.queued) == 1


def test_the_watchdog_fails_a_sync_stuck_running_with_sync_all_error(
    anna, kit_integration, partner, connect, tasks
):
    connection = connect(anna, kit_integration)
    job = connection.sync_jobs.get()
    an_hour_ago = timezone.now() - timedelta(hours=1)
    SyncJob.objects.filter(pk=job.pk).update(
        status="RUNNING", started_at=an_hour_ago, heartbeat_at=an_hour_ago
    )
    fresh = connect(anna, OrganisationKitIntegration())
    fresh_job = fresh.sync_jobs.get()
    SyncJob.objects.filter(pk=fresh_job.pk).update(
        status="RUNNING", started_at=timezone.now(), heartbeat_at=timezone.now()
    )

    assert sync_watchdog_run() == [job.pk]

    job.refresh_from_db()
    assert job.status == SyncJob.Status.ERROR
    connection.refresh_from_db()
    assert connection.status == "ERROR"
    event = Event.objects.get(event_type="SYNC_ALL_ERROR")
    assert event.resource["id"] == str(connection.pk)
    assert "watchdog" in event.resource["error"]
    fresh_job.refresh_from_db()
    assert fresh_job.status == SyncJob.Status.RUNNING


def test_a_sync_failed_by_the_watchdog_writes_nothing_more_when_it_wakes(
    anna, kit_integration, partner, connect, tasks, monkeypatch
):
    connection = connect(anna, kit_integration)
    (job_id,) = tasks.args_of(RUN_TASK)[-1]

    def watchdog_strikes_during_step_two(account_id):
        SyncJob.objects.filter(pk=job_id).update(heartbeat_at=timezone.now() - timedelta(hours=1))
        sync_watchdog_run()
        return partner.users[account_id]

    from syncing.organisation_kit import OrganisationKitClient

    monkeypatch.setattr(
        OrganisationKitClient, "account_users", lambda self, a: watchdog_strikes_during_step_two(a)
    )
    sync_job_run(job_id=job_id)

    assert event_types(anna)[-1] == "SYNC_ALL_ERROR"
    assert "USERS_SUCCESS" not in event_types(anna)
    assert not Account.objects.filter(connection=connection).exclude(role="GUEST").exists()


def OrganisationKitIntegration():
    from tests.factories import OrganisationKitIntegrationFactory

    return OrganisationKitIntegrationFactory()
