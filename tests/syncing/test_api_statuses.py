"""What the inbound sync APIs answer for ids that name nothing or lie beyond any id, for a
disabled integration, and what the schema declares of the constraints they enforce
(issue 12, item 7)."""

import pytest

from syncing.models import Connection
from tests.factories import IntegrationFactory

pytestmark = pytest.mark.django_db

BEYOND_ANY_ID = "9" * 40
LARGEST_PATH_ID = "9" * 18


def test_connecting_to_an_integration_that_does_not_exist_is_a_404_naming_the_field(
    anna, kit_integration, api_as
):
    response = api_as(anna).post(
        "/v2.1/connections", {"integration": kit_integration.pk + 1000}, format="json"
    )

    assert response.status_code == 404, response.content
    assert response.json() == {"integration": [f"No integration {kit_integration.pk + 1000}."]}
    assert not Connection.objects.exists()


def test_connecting_to_a_disabled_integration_is_a_409(anna, kit_integration, api_as):
    kit_integration.enabled = False
    kit_integration.save()

    response = api_as(anna).post(
        "/v2.1/connections", {"integration": kit_integration.pk}, format="json"
    )

    assert response.status_code == 409, response.content
    assert response.json() == {"detail": f"Integration {kit_integration.pk} is disabled."}
    assert not Connection.objects.exists()


def test_refusing_an_integration_does_not_tell_its_name(anna, api_as):
    """Anyone signed in may try an id; only enabled Organisation Kit integrations are theirs to
    see by name (DESIGN.md, "REST API": integrations)."""
    from tests.factories import AccountingIntegrationFactory

    hidden = AccountingIntegrationFactory().integration

    response = api_as(anna).post("/v2.1/connections", {"integration": hidden.pk}, format="json")

    assert response.status_code == 400
    assert hidden.name not in response.content.decode()


def test_an_integration_id_beyond_any_id_in_a_body_is_a_400_never_a_500(anna, api_as):
    for path, body in (
        ("/v2.1/connections", {"integration": int(BEYOND_ANY_ID)}),
        (
            "/api/v1/identities/bankid/",
            {"integration": int(BEYOND_ANY_ID), "personalNumber": "198001011234"},
        ),
    ):
        response = api_as(anna).post(path, body, format="json")

        assert response.status_code == 400, (path, response.content)
        assert "integration" in response.json()


def test_bankid_at_an_integration_that_does_not_exist_is_a_404_naming_the_field(anna, api_as):
    missing = IntegrationFactory().pk + 1000

    response = api_as(anna).post(
        "/api/v1/identities/bankid/",
        {"integration": missing, "personalNumber": "198001011234"},
        format="json",
    )

    assert response.status_code == 404, response.content
    assert response.json() == {"integration": [f"No integration {missing}."]}


@pytest.mark.parametrize(
    "path",
    [
        f"/v2.1/connections/{BEYOND_ANY_ID}",
        f"/v2.1/connections/{LARGEST_PATH_ID}",
        f"/api/v1/connections/{BEYOND_ANY_ID}/accounts/",
        f"/api/v1/connections/{LARGEST_PATH_ID}/accounts/",
        f"/v2.1/queues/{LARGEST_PATH_ID}",
    ],
)
def test_a_path_id_beyond_any_id_is_a_404(anna, api_as, path):
    assert api_as(anna).get(path).status_code == 404


def test_a_page_for_a_connection_id_beyond_any_id_is_a_404(anna, client):
    client.force_login(anna)

    assert client.get(f"/connections/{BEYOND_ANY_ID}/").status_code == 404
    assert client.post(f"/notifications/{BEYOND_ANY_ID}/read/").status_code == 404


def test_an_after_beyond_any_event_id_is_a_404_and_after_0_reads_from_the_start(
    anna, kit_integration, connect, api_as
):
    connect(anna, kit_integration)
    client = api_as(anna)
    queue_id = client.get("/v2.1/queues").json()[0]["id"]

    beyond = client.get(f"/v2.1/queues/{queue_id}?after={BEYOND_ANY_ID}")
    from_start = client.get(f"/v2.1/queues/{queue_id}?after=0")

    assert beyond.status_code == 404, beyond.content
    assert from_start.status_code == 200
    assert from_start.json() == client.get(f"/v2.1/queues/{queue_id}").json()
    assert client.get(f"/v2.1/queues/{queue_id}?after=-1").status_code == 400


def _schema(client) -> dict:
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    return response.json()


def _request_schema(schema: dict, path: str, method: str) -> dict:
    body = schema["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]
    if "$ref" in body:
        return schema["components"]["schemas"][body["$ref"].rsplit("/", 1)[-1]]
    return body


def test_the_schema_declares_the_personal_number_pattern_the_apis_enforce(client):
    schema = _schema(client)

    for path in ("/api/v1/identities/bankid/", "/v2.1/connections/"):
        number = _request_schema(schema, path, "post")["properties"]["personalNumber"]
        assert number["pattern"] == "^[0-9]{10,12}$", path
        assert number["maxLength"] == 12, path


def test_the_schema_declares_the_ranges_of_ids_in_bodies_and_queries(client):
    schema = _schema(client)

    integration = _request_schema(schema, "/v2.1/connections/", "post")["properties"]
    assert (integration["integration"]["minimum"], integration["integration"]["maximum"]) == (
        1,
        10**18 - 1,
    )
    parameters = schema["paths"]["/v2.1/queues/{queue_id}/"]["get"]["parameters"]
    after = next(p for p in parameters if p["name"] == "after")["schema"]
    assert (after["minimum"], after["maximum"]) == (0, 10**18 - 1)
    synchronize = schema["paths"]["/v2.1/connections/{connection_id}/synchronize/"]["post"]
    kind = next(p for p in synchronize["parameters"] if p["name"] == "type")["schema"]
    assert kind["enum"] == ["ALL", "LIST_ACCOUNTS"]


def test_the_schema_declares_the_phone_and_email_limits_of_a_user_update(client):
    schema = _schema(client)

    body = _request_schema(schema, "/api/v1/connections/{connection_id}/users/{user_id}/", "patch")
    phone, email = body["properties"]["phoneNumber"], body["properties"]["emailAddress"]
    assert (phone["pattern"], phone["maxLength"]) == (r"^\+?[0-9][0-9 ()-]{3,30}$", 32)
    assert (email["format"], email["maxLength"]) == ("email", 254)
    assert (
        "at least one of phoneNumber and emailAddress"
        in (
            schema["paths"]["/api/v1/connections/{connection_id}/users/{user_id}/"]["patch"][
                "description"
            ]
        )
    )


def test_the_schema_lists_the_date_rules_of_live_reads_in_their_descriptions(client):
    schema = _schema(client)

    for path in (
        "/api/v1/connections/{connection_id}/accounts/{account_id}/invoices/",
        "/api/v1/connections/{connection_id}/services/{service_id}/measurements/",
        "/api/v1/connections/{connection_id}/services/{service_id}/cost/",
    ):
        description = schema["paths"][path]["get"]["description"]
        assert "fromDate is not after toDate" in description, path
        assert "400" in schema["paths"][path]["get"]["responses"], path
