"""The Data Sync page of the web UI: admin roles only; Run now for Job Admin; Send Sample
Message for System Admin or System Config with Job Admin; replay of dead letters; a fixed
number of SQL queries."""

import pytest
from django.test import TestCase
from django.utils import timezone

from datasync.models import ProgressRecord, SyncRun
from tests.conftest import page_queries

from .conftest import API_URL

pytestmark = pytest.mark.django_db


def _dead_letter(customer_key: str, n: int = 1) -> ProgressRecord:
    return ProgressRecord.objects.create(
        object_name="Customer",
        unique_id=customer_key,
        action="UPDATE",
        capture_order=n,
        subscriber_id=1,
        customer_key=customer_key,
        attempts=10,
        is_dead_letter=True,
        last_error="HTTP 500: receiver down",
    )


@pytest.mark.parametrize("role", ["owner", "plain_user"])
def test_users_without_an_admin_role_neither_see_nor_reach_data_sync(client, request, role):
    client.force_login(request.getfixturevalue(role))

    dashboard = client.get("/").content.decode()
    assert 'href="/datasync/"' not in dashboard
    assert client.get("/datasync/").status_code == 403
    assert client.post("/datasync/run/").status_code == 403
    assert client.post("/datasync/sample/").status_code == 403
    assert client.post("/datasync/replay/", {"record": "1"}).status_code == 403


def test_a_job_admin_sees_queues_runs_and_dead_letters_and_may_run_and_replay(client, job_admin):
    SyncRun.objects.create(
        trigger="SCHEDULE",
        status="FAILED",
        started_at=timezone.now(),
        finished_at=timezone.now(),
        last_status_code=503,
        last_error="HTTP 503: busy",
    )
    dead = _dead_letter("C7")
    client.force_login(job_admin)

    page = client.get("/datasync/").content.decode()

    assert "HTTP 503: HTTP 503: busy" in page  # the status code, then the error
    assert "Run now" in page
    assert "Send Sample Message" not in page  # Job Admin alone may not
    assert f'data-dead-letter="{dead.pk}"' in page
    with TestCase.captureOnCommitCallbacks(execute=True):
        replayed = client.post("/datasync/replay/", {"record": dead.pk}, follow=True)
    assert "1 record back in the queue" in replayed.content.decode()
    dead.refresh_from_db()
    assert not dead.is_dead_letter


def test_system_config_alone_may_not_run_now(client, system_config):
    client.force_login(system_config)
    assert client.get("/datasync/").status_code == 200
    assert client.post("/datasync/run/").status_code == 403


def test_run_now_queues_the_job(client, job_admin, tasks):
    client.force_login(job_admin)

    response = client.post("/datasync/run/", follow=True)

    assert tasks.queued == [("datasync.tasks.datasync_run_now", ())]
    assert "Data Sync run queued" in response.content.decode()


def test_send_sample_message_shows_the_status_code_and_the_body(
    client, make_user, datasync_on, mocked_receiver
):
    mocked_receiver.post(API_URL, json={"received": 1}, status=201)
    client.force_login(make_user("System Config", "Job Admin"))

    page = client.post("/datasync/sample/").content.decode()

    assert "The receiver answered <strong>201</strong>." in page
    assert "{&quot;received&quot;: 1}" in page


def test_the_page_runs_the_same_queries_for_one_dead_letter_as_for_thirty(
    client, job_admin, settings_cache_steady
):
    client.force_login(job_admin)
    _dead_letter("C0")
    page_queries(client, "/datasync/")  # the settings it reads are cached from here on
    one = page_queries(client, "/datasync/")
    for n in range(1, 30):
        _dead_letter(f"C{n}", n)
        SyncRun.objects.create(trigger="SCHEDULE", status="RUNNING", started_at=timezone.now())
    assert page_queries(client, "/datasync/") == one
