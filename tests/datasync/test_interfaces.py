"""Run history API, the `datasync` command, the admin's Data Sync page, Run now, the schedule
and the dashboard panel."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_q.models import Schedule

from datasync.declarations import SCHEDULE_NAME
from datasync.models import ProgressRecord, SyncRun
from integration_hub import roles
from integration_hub.models import Credential
from integration_hub.schedules import schedules_ensure
from integration_hub.selectors import default_subscriber
from integration_hub.services.customers import customer_create
from integration_hub.services.system_settings import setting_set

from .receiver import Behaviour

pytestmark = pytest.mark.django_db

PAGE = "/admin/datasync/syncrun/data-sync/"


def _finished_run(**fields):
    now = timezone.now()
    return SyncRun.objects.create(
        trigger="SCHEDULE",
        started_at=now,
        finished_at=now,
        status="FAILED",
        last_error="HTTP 500: boom",
        last_status_code=500,
        last_response_excerpt="boom",
        **fields,
    )


@pytest.mark.parametrize("role", [roles.JOB_ADMIN, roles.SYSTEM_ADMIN, roles.SYSTEM_CONFIG])
def test_admin_roles_list_the_run_history(api_as, make_user, role):
    _finished_run(sent=3, worker="worker-1 pid 42", concurrency=8)
    response = api_as(make_user(role)).get("/api/v1/datasync/runs")
    assert response.status_code == 200
    (run,) = response.json()["results"]
    assert (run["status"], run["sent"], run["lastStatusCode"]) == ("FAILED", 3, 500)
    assert run["lastResponseExcerpt"] == "boom"
    assert (run["worker"], run["concurrency"]) == ("worker-1 pid 42", 8)


def test_owners_and_anonymous_callers_may_not_list_runs(api_as, owner, api_client):
    assert api_as(owner).get("/api/v1/datasync/runs/").status_code == 403
    assert api_client.get("/api/v1/datasync/runs/").status_code == 401


def test_the_status_command_prints_depths_and_last_runs(db):
    _finished_run()
    ProgressRecord.objects.create(
        object_name="Customer",
        unique_id="C1",
        action="CREATE",
        capture_order=1,
        subscriber_id=1,
        customer_key="C1",
    )
    out = StringIO()
    call_command("datasync", "status", stdout=out)
    assert "progress 1" in out.getvalue()
    assert "FAILED" in out.getvalue()
    assert "HTTP 500: boom" in out.getvalue()


def test_the_run_command_exits_0_on_success_and_1_on_failure(local_receiver):
    from .conftest import datasync_configure

    datasync_configure(
        api_url=local_receiver.base_url + "/api", token_url=local_receiver.base_url + "/token"
    )
    customer_create(subscriber=default_subscriber(), customer_id="C1")
    local_receiver.behaviour = Behaviour(status=500)
    with pytest.raises(SystemExit) as failed:
        call_command("datasync", "run", stdout=StringIO(), stderr=StringIO())
    assert failed.value.code == 1
    local_receiver.behaviour = Behaviour()
    with pytest.raises(SystemExit) as succeeded:
        call_command("datasync", "run", stdout=StringIO())
    assert succeeded.value.code == 0
    assert not ProgressRecord.objects.exists()


def test_the_sample_command_shows_the_status_and_body(local_receiver):
    from .conftest import datasync_configure

    datasync_configure(
        api_url=local_receiver.base_url + "/api", token_url=local_receiver.base_url + "/token"
    )
    local_receiver.behaviour = Behaviour(status=200, body=b'{"thanks": 1}')
    out = StringIO()
    with pytest.raises(SystemExit) as done:
        call_command("datasync", "sample", stdout=out)
    assert done.value.code == 0
    assert "Status code: 200" in out.getvalue()
    assert '{"thanks": 1}' in out.getvalue()
    assert local_receiver.messages()[0]["payload"] == "Test message"


def test_the_data_sync_page_saves_settings(client, system_config):
    client.force_login(system_config)
    response = client.post(PAGE, {"DataSyncBatchSize": "250", "DataSyncIntervalMinutes": "5"})
    assert response.status_code == 302
    from integration_hub.system_settings import setting_get

    assert setting_get("DataSyncBatchSize") == 250


def test_saving_credentials_needs_both_client_id_and_secret(client, system_admin):
    client.force_login(system_admin)
    response = client.post(PAGE, {"action": "credentials", "client_id": "abc"})
    assert response.status_code == 200
    assert not Credential.objects.filter(key_name="datasync").exists()
    response = client.post(
        PAGE, {"action": "credentials", "client_id": "abc", "client_secret": "shh-its-secret"}
    )
    assert response.status_code == 302
    credential = Credential.objects.get(key_name="datasync")
    assert (credential.client_id, credential.client_secret) == ("abc", "shh-its-secret")
    page = client.get(PAGE).content.decode()
    assert "shh-its-secret" not in page


def test_only_system_admin_may_save_credentials(client, system_config):
    client.force_login(system_config)
    response = client.post(
        PAGE, {"action": "credentials", "client_id": "abc", "client_secret": "x"}
    )
    assert response.status_code == 403
    assert "Only System Admin may save" in client.get(PAGE).content.decode()


def test_send_sample_message_shows_the_status_code_and_body(client, make_user, local_receiver):
    from .conftest import datasync_configure

    datasync_configure(
        api_url=local_receiver.base_url + "/api", token_url=local_receiver.base_url + "/token"
    )
    local_receiver.behaviour = Behaviour(status=418, body=b"I am a teapot")
    user = make_user(roles.SYSTEM_CONFIG, roles.JOB_ADMIN, is_staff=True)
    client.force_login(user)
    page = client.post(PAGE, {"action": "sample"}).content.decode()
    assert "418" in page
    assert "I am a teapot" in page


@pytest.mark.parametrize("role", [roles.SYSTEM_CONFIG, roles.JOB_ADMIN])
def test_send_sample_message_is_refused_to_one_of_the_two_roles_alone(client, make_user, role):
    client.force_login(make_user(role, is_staff=True))
    assert "Send Sample Message" not in client.get(PAGE).content.decode()
    assert client.post(PAGE, {"action": "sample"}).status_code == 403


def test_job_admin_may_run_now_and_system_config_may_not(client, job_admin, system_config, tasks):
    client.force_login(system_config)
    assert client.post("/admin/datasync/syncrun/run-now/").status_code == 403
    assert tasks.queued == []
    client.force_login(job_admin)
    response = client.post("/admin/datasync/syncrun/run-now/")
    assert response.status_code == 302
    assert tasks.queued == [("datasync.tasks.datasync_run_now", ())]


def test_the_queues_are_read_only_in_the_admin_and_show_their_depth(client, system_admin):
    ProgressRecord.objects.create(
        object_name="Customer",
        unique_id="C1",
        action="CREATE",
        capture_order=1,
        subscriber_id=1,
        customer_key="C1",
    )
    client.force_login(system_admin)
    page = client.get("/admin/datasync/progressrecord/").content.decode()
    assert "Progress queue: 1 records" in page
    assert client.get("/admin/datasync/progressrecord/add/").status_code == 403


def test_replay_from_the_admin_requeues_a_customers_dead_letters(client, job_admin):
    ids = [
        ProgressRecord.objects.create(
            object_name="Customer",
            unique_id="C1",
            action="UPDATE",
            capture_order=n,
            subscriber_id=1,
            customer_key="C1",
            is_dead_letter=True,
            attempts=10,
        ).id
        for n in range(2)
    ]
    client.force_login(job_admin)
    response = client.post(
        "/admin/datasync/progressrecord/",
        {"action": "replay", "_selected_action": [ids[0]]},
    )
    assert response.status_code == 302
    assert not ProgressRecord.objects.filter(is_dead_letter=True).exists()
    assert set(ProgressRecord.objects.values_list("attempts", flat=True)) == {0}


def test_changing_the_interval_rewrites_the_schedule(db, django_capture_on_commit_callbacks):
    schedules_ensure()
    assert Schedule.objects.get(name=SCHEDULE_NAME).minutes == 5
    with django_capture_on_commit_callbacks(execute=True):
        setting_set(key="DataSyncIntervalMinutes", value=2)
    schedule = Schedule.objects.get(name=SCHEDULE_NAME)
    assert (schedule.minutes, schedule.func) == (2, "datasync.tasks.datasync_scheduled_run")


def test_the_dashboard_panel_shows_depths_and_runs_to_admin_roles_only(client, job_admin, owner):
    _finished_run(sent=7)
    client.force_login(job_admin)
    page = client.get("/").content.decode()
    assert 'data-panel="datasync"' in page
    assert "HTTP 500" in page
    client.force_login(owner)
    assert 'data-panel="datasync"' not in client.get("/").content.decode()


def test_the_demo_setup_points_data_sync_at_the_sandbox_receiver(db):
    from datasync.demo import datasync_demo_setup
    from integration_hub.sandbox.services import sandbox_demo_setup
    from integration_hub.system_settings import setting_get

    integration = sandbox_demo_setup(base_url="http://127.0.0.1:8000")
    url = datasync_demo_setup(
        base_url="http://127.0.0.1:8000",
        sandbox_map=integration.credential_map,
        sandbox_key=integration.credential_key,
    )
    assert url == "http://127.0.0.1:8000/sandbox/receiver/datasync/"
    assert setting_get("DataSyncEnabled") is True
    assert setting_get("DataSyncTokenUrl") == "http://127.0.0.1:8000/sandbox/o/token/"
    assert Credential.objects.get(key_name="datasync").has_client_secret
    assert json.dumps(url)


def test_run_now_in_the_admin_never_redirects_to_another_site(client, job_admin, tasks):
    client.force_login(job_admin)

    outside = client.post("/admin/datasync/syncrun/run-now/", {"next": "https://evil.example/"})
    inside = client.post("/admin/datasync/syncrun/run-now/", {"next": "/admin/datasync/"})

    assert outside.status_code == 302
    assert outside["Location"] == "/admin/datasync/syncrun/"
    assert inside["Location"] == "/admin/datasync/"
