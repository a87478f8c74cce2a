"""The demo Owner's connection, and the Connections panel of the dashboard."""

import io

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_q.models import Schedule

from syncing.models import Connection, SyncJob

pytestmark = pytest.mark.django_db


def test_the_demo_gives_the_owner_a_verified_identity_and_one_connection_with_its_sync_queued(
    settings, django_capture_on_commit_callbacks
):
    settings.DEBUG = True

    with django_capture_on_commit_callbacks(execute=True):
        call_command("demo", stdout=io.StringIO())
        call_command("demo", stdout=io.StringIO())

    connection = Connection.objects.get(user__username="owner")
    assert connection.integration.name == "Sandbox Organisation Kit"
    assert connection.integration.base_url == "http://127.0.0.1:8000/sandbox/organisation-kit/"
    assert connection.identity.value == "198001011234"
    assert list(connection.sync_jobs.values_list("kind", "status")) == [
        (SyncJob.Kind.INITIAL, SyncJob.Status.QUEUED)
    ]
    # Once the web server (the simulator) is up: make run starts it with the cluster.
    scheduled = Schedule.objects.get(name=f"sync job {connection.sync_jobs.get().pk}")
    assert scheduled.func == "syncing.tasks.sync_job_run_task"
    assert scheduled.next_run > timezone.now()


def test_the_connections_panel_shows_the_owners_connections_with_their_status(
    client, anna, kit_integration, partner, connect, tasks
):
    connect(anna, kit_integration)
    tasks.run()
    client.force_login(anna)

    page = client.get("/").content.decode()

    assert "Energy Co" in page
    assert "Success" in page
    assert "No connections yet" not in page
