import json
import re

import pytest

from integration_hub.models import AuditEntry, Integration
from tests.factories import IntegrationFactory

pytestmark = pytest.mark.django_db

BODY = {
    "name": "Energy Co",
    "kind": "ORGANISATION_KIT",
    "baseUrl": "https://energy.example.com/api",
    "authType": "OAUTH2_CLIENT_CREDENTIALS",
    "tokenUrl": "https://energy.example.com/oauth/token",
    "credentialMap": "ce_credentials",
    "credentialKey": "energy",
    "enabled": True,
}


def test_anonymous_callers_get_401_with_a_challenge(api_client):
    response = api_client.get("/api/v1/integrations/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_a_bad_token_gets_401(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert api_client.get("/api/v1/integrations/").status_code == 401


@pytest.mark.parametrize("keyword", ["Token", "Bearer"])
def test_system_admin_creates_an_integration_with_either_token_keyword(
    api_as, system_admin, keyword
):
    response = api_as(system_admin, keyword).post("/api/v1/integrations/", BODY, format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["id"] == Integration.objects.get().pk
    assert data["baseUrl"] == BODY["baseUrl"]
    assert data["authType"] == "OAUTH2_CLIENT_CREDENTIALS"
    assert AuditEntry.objects.filter(action="integration.created", actor=system_admin).exists()


@pytest.mark.parametrize("role_fixture", ["job_admin", "owner", "plain_user"])
def test_other_roles_cannot_create_change_or_delete(request, api_as, role_fixture):
    integration = IntegrationFactory()
    client = api_as(request.getfixturevalue(role_fixture))
    assert client.post("/api/v1/integrations/", BODY, format="json").status_code == 403
    url = f"/api/v1/integrations/{integration.pk}/"
    assert client.patch(url, {"enabled": False}, format="json").status_code == 403
    assert client.delete(url).status_code == 403
    assert Integration.objects.get().enabled


def test_signed_in_users_list_only_enabled_organisation_kits_by_id_and_name(api_as, owner):
    kit = IntegrationFactory(name="Energy Co", kind="ORGANISATION_KIT")
    IntegrationFactory(name="Disabled Co", kind="ORGANISATION_KIT", enabled=False)
    IntegrationFactory(name="Books", kind="ACCOUNTING")
    response = api_as(owner).get("/api/v1/integrations/")
    assert response.status_code == 200
    assert response.json()["results"] == [{"id": kit.pk, "name": "Energy Co"}]


def test_admins_list_every_integration_in_full_with_pagination(api_as, system_admin):
    for n in range(5):
        IntegrationFactory(name=f"I{n}")
    response = api_as(system_admin).get("/api/v1/integrations/?pageSize=2&page=2")
    data = response.json()
    assert data["count"] == 5
    assert [row["name"] for row in data["results"]] == ["I2", "I3"]
    assert "pageSize=2" in data["next"]
    assert "page" in data["previous"]
    assert set(data["results"][0]) >= {"id", "name", "kind", "baseUrl", "authType", "enabled"}


def test_page_size_is_capped_at_200(api_as, system_admin):
    IntegrationFactory.create_batch(205)
    response = api_as(system_admin).get("/api/v1/integrations/?pageSize=1000")
    assert len(response.json()["results"]) == 200


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"tokenUrl": ""}, "tokenUrl", "OAuth2 needs the token endpoint"),
        ({"credentialKey": ""}, "credentialKey", "Name the credential store key"),
        ({"baseUrl": "ftp://energy.example.com"}, "baseUrl", "Only https and http URLs"),
        ({"kind": "FAX"}, "kind", "is not a valid choice"),
        ({"name": ""}, "name", "may not be blank"),
    ],
)
def test_invalid_integrations_are_refused_naming_the_field(
    api_as, system_admin, change, field, message
):
    response = api_as(system_admin).post("/api/v1/integrations/", {**BODY, **change}, format="json")
    assert response.status_code == 400
    assert any(message in m for m in response.json()[field]), response.json()
    assert not Integration.objects.exists()


def test_endpoints_on_private_networks_are_refused_when_the_policy_says_so(
    api_as, system_admin, settings
):
    settings.OUTBOUND_ALLOW_PRIVATE_NETWORKS = False
    body = {**BODY, "baseUrl": "http://127.0.0.1:9000/api", "tokenUrl": "http://[::1]/token"}
    response = api_as(system_admin).post("/api/v1/integrations/", body, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"baseUrl", "tokenUrl"}


def test_duplicate_names_are_refused_as_a_conflict(api_as, system_admin):
    client = api_as(system_admin)
    assert client.post("/api/v1/integrations/", BODY, format="json").status_code == 201
    again = client.post("/api/v1/integrations/", BODY, format="json")
    assert again.status_code == 409
    assert "name" in again.json()
    assert Integration.objects.count() == 1


def test_read_patch_and_delete_with_and_without_trailing_slash(api_as, system_config):
    integration = IntegrationFactory(name="Books")
    client = api_as(system_config)
    for url in (
        f"/api/v1/integrations/{integration.pk}/",
        f"/api/v1/integrations/{integration.pk}",
    ):
        response = client.get(url)
        assert response.status_code == 200
        assert response.json()["name"] == "Books"
    patched = client.patch(
        f"/api/v1/integrations/{integration.pk}", {"enabled": False}, format="json"
    )
    assert patched.status_code == 200
    assert patched.json()["enabled"] is False
    assert AuditEntry.objects.get(action="integration.changed").details["fields"] == ["enabled"]
    assert client.get("/api/v1/integrations").status_code == 200
    assert client.delete(f"/api/v1/integrations/{integration.pk}").status_code == 204
    assert client.get(f"/api/v1/integrations/{integration.pk}/").status_code == 404


def test_a_body_over_2_5_mb_gets_413(api_as, system_admin):
    client = api_as(system_admin)
    body = json.dumps({**BODY, "name": "x" * 2_700_000})
    response = client.generic(
        "POST", "/api/v1/integrations/", body, content_type="application/json"
    )
    assert response.status_code == 413
    assert "2.5 MB" in response.json()["detail"]
    assert not Integration.objects.exists()


def test_malformed_json_is_a_400_not_a_500(api_as, system_admin):
    response = api_as(system_admin).generic(
        "POST", "/api/v1/integrations/", "{not json", content_type="application/json"
    )
    assert response.status_code == 400


@pytest.mark.parametrize("service_user", [424242, 10**40])
def test_a_service_user_that_names_nobody_is_a_404_naming_the_field(
    api_as, system_config, service_user
):
    body = {**BODY, "serviceUser": service_user}
    response = api_as(system_config).post("/api/v1/integrations/", body, format="json")
    assert response.status_code == 404
    assert "serviceUser" in response.json()
    assert not Integration.objects.exists()


def test_a_refusal_of_several_kinds_stays_a_400(api_as, system_config):
    IntegrationFactory(name="Energy Co")
    body = {**BODY, "baseUrl": "http://", "serviceUser": 424242}
    response = api_as(system_config).post("/api/v1/integrations/", body, format="json")
    assert response.status_code == 400
    assert {"name", "baseUrl", "serviceUser"} <= response.json().keys()


def test_a_null_character_is_refused_and_the_schema_says_so(api_as, system_config, client):
    body = {**BODY, "name": "Energy\x00Co"}
    response = api_as(system_config).post("/api/v1/integrations/", body, format="json")
    assert response.status_code == 400
    assert "name" in response.json()
    schema = client.get("/api/schema/?format=json").json()
    name = schema["components"]["schemas"]["IntegrationInputRequest"]["properties"]["name"]
    assert re.fullmatch(name["pattern"], "Energy Co")
    assert not re.fullmatch(name["pattern"], "Energy\x00Co")
    assert not re.fullmatch(name["pattern"], "   ")
