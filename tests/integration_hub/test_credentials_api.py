import logging

import pytest

from integration_hub.models import Credential

pytestmark = pytest.mark.django_db

SECRET = "api-secret-never-returned"


def test_system_admin_saves_credentials_and_the_response_holds_no_secret(
    api_as, system_admin, caplog
):
    caplog.set_level(logging.DEBUG)
    body = {"keyName": "datasync", "clientId": "cid", "clientSecret": SECRET}
    response = api_as(system_admin).post("/api/v1/credentials/", body, format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["mapName"] == "ce_credentials"
    assert data["hasClientSecret"] is True
    assert data["hasApiKey"] is False
    assert SECRET not in response.content.decode()
    assert SECRET not in caplog.text
    assert Credential.objects.get().client_secret == SECRET

    listing = api_as(system_admin).get("/api/v1/credentials")
    assert listing.json()["results"][0]["clientId"] == "cid"
    assert SECRET not in listing.content.decode()


def test_a_client_id_without_its_secret_is_a_400_naming_the_missing_field(api_as, system_admin):
    response = api_as(system_admin).post(
        "/api/v1/credentials/", {"keyName": "datasync", "clientId": "cid"}, format="json"
    )
    assert response.status_code == 400
    assert "enter both" in response.json()["clientSecret"][0]
    assert not Credential.objects.exists()


@pytest.mark.parametrize("role_fixture", ["system_config", "job_admin", "owner"])
def test_no_other_role_saves_or_deletes_secrets(request, api_as, role_fixture):
    client = api_as(request.getfixturevalue(role_fixture))
    response = client.post("/api/v1/credentials/", {"keyName": "k", "apiKey": "v"}, format="json")
    assert response.status_code == 403
    assert not Credential.objects.exists()


def test_system_config_may_list_but_not_delete(api_as, system_config, system_admin):
    api_as(system_admin).post(
        "/api/v1/credentials/", {"keyName": "k", "apiKey": "v"}, format="json"
    )
    credential = Credential.objects.get()
    client = api_as(system_config)
    assert client.get("/api/v1/credentials/").status_code == 200
    assert client.delete(f"/api/v1/credentials/{credential.pk}/").status_code == 403
    assert api_as(system_admin).delete(f"/api/v1/credentials/{credential.pk}").status_code == 204
    assert not Credential.objects.exists()


def test_owners_and_job_admins_cannot_list_credentials(api_as, owner, job_admin):
    assert api_as(owner).get("/api/v1/credentials/").status_code == 403
    assert api_as(job_admin).get("/api/v1/credentials/").status_code == 403
