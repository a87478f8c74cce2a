import pytest
from django.utils import timezone

from integration_hub.models import ClusterHeartbeat
from integration_hub.tasks import cluster_heartbeat

pytestmark = pytest.mark.django_db


def _panels(response) -> set[str]:
    return {item["panel"].name for item in response.context["panels"]}


def test_an_owner_sees_connections_and_accounting_but_not_data_sync(client, owner):
    client.force_login(owner)
    response = client.get("/")
    assert response.status_code == 200
    assert _panels(response) == {"connections", "accounting", "outcomes"}
    assert "Owner of: Default subscriber" in response.content.decode()


def test_admin_roles_see_data_sync_and_background_jobs(client, job_admin):
    client.force_login(job_admin)
    assert _panels(client.get("/")) == {"datasync", "system", "outcomes"}


def test_a_user_without_roles_is_told_what_to_ask_for(client, plain_user):
    client.force_login(plain_user)
    body = client.get("/").content.decode()
    assert "An administrator can give you the Owner role" in body


def test_the_background_jobs_panel_says_whether_a_cluster_reported(client, system_admin):
    client.force_login(system_admin)
    assert "No task cluster has reported" in client.get("/").content.decode()
    cluster_heartbeat()
    assert ClusterHeartbeat.objects.get().seen_at <= timezone.now()
    assert "Background jobs are running." in client.get("/").content.decode()


def test_sign_in_and_sign_out(client, owner):
    from tests.factories import PASSWORD

    page = client.get("/login/")
    assert page.status_code == 200
    assert 'autocomplete="current-password"' in page.content.decode()
    wrong = client.post("/login/", {"username": owner.username, "password": "nope"})
    assert wrong.status_code == 200
    assert "correct username and password" in wrong.content.decode()
    signed_in = client.post("/login/", {"username": owner.username, "password": PASSWORD})
    assert signed_in.status_code == 302
    assert signed_in.url == "/"
    assert client.get("/").status_code == 200
    assert client.post("/logout/").status_code == 302
    assert client.get("/").status_code == 302
