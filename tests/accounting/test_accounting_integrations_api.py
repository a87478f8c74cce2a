"""/api/v1/accounting-integrations/: integrations with their maps."""

import pytest

from accounting.models import AccountingIntegration
from integration_hub.models import AuditEntry, Integration
from tests.factories import IntegrationFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/accounting-integrations/"


@pytest.fixture
def books(db):
    return IntegrationFactory(kind=Integration.Kind.ACCOUNTING)


def _body(books, maps):
    return {
        "subscriberId": 1,
        "integrationType": "GENERIC",
        "integration": books.pk,
        "summarizeData": True,
        "enabled": True,
        "maps": maps,
    }


MAPS = [
    {"kind": "REVENUE_CATEGORY", "source": "Classes", "target": "4000"},
    {"kind": "PAYMENT_METHOD", "source": "VISA", "target": "1200"},
    {"kind": "TAX_RATE", "source": "0.08", "target": "TAX8"},
]


def test_system_admin_creates_an_integration_with_its_maps(
    api_as, system_admin, system_config, books
):
    response = api_as(system_admin).post(URL, _body(books, MAPS), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["integrationType"] == "GENERIC"
    assert body["summarizeData"] is True
    assert {"kind": "TAX_RATE", "source": "0.0800", "target": "TAX8"} in body["maps"]
    listed = api_as(system_config).get(URL.rstrip("/")).json()
    assert listed["count"] == 1
    assert listed["results"][0]["id"] == body["id"]


@pytest.mark.parametrize(
    ("bad_row", "message"),
    [
        ({"kind": "PAYMENT_METHOD", "source": "VISA", "target": "9999"}, "Row 4"),
        ({"kind": "CURRENCY", "source": "USD", "target": "X"}, "Row 4: kind"),
        ({"kind": "REVENUE_CATEGORY", "source": "Retail", "target": ""}, "Row 4"),
        ({"kind": "TAX_RATE", "source": "0.0800", "target": "T"}, "row 3"),
    ],
)
def test_invalid_maps_are_refused_with_400_naming_the_row(
    api_as, system_admin, books, bad_row, message
):
    response = api_as(system_admin).post(URL, _body(books, [*MAPS, bad_row]), format="json")
    assert response.status_code == 400
    assert any(message in text for text in response.json()["maps"]), response.json()
    assert not AccountingIntegration.objects.exists()


def test_a_second_integration_of_the_same_type_for_a_subscriber_is_a_409_conflict(
    api_as, system_admin, books
):
    client = api_as(system_admin)
    assert client.post(URL, _body(books, MAPS), format="json").status_code == 201
    response = client.post(URL, _body(books, []), format="json")
    assert response.status_code == 409
    assert "integrationType" in response.json()
    assert AccountingIntegration.objects.count() == 1


def test_patching_an_integration_into_the_type_of_another_is_a_409_conflict(
    api_as, system_admin, books
):
    client = api_as(system_admin)
    client.post(URL, _body(books, []), format="json")
    xero = client.post(URL, {**_body(books, []), "integrationType": "XERO"}, format="json")
    response = client.patch(
        f"{URL}{xero.json()['id']}", {"integrationType": "GENERIC"}, format="json"
    )
    assert response.status_code == 409
    assert "integrationType" in response.json()
    assert AccountingIntegration.objects.get(pk=xero.json()["id"]).integration_type == "XERO"


@pytest.mark.parametrize(
    ("field", "unknown", "message"),
    [
        ("subscriberId", 999_999, "No subscriber 999999."),
        ("subscriberId", 10**30, f"No subscriber {10**30}."),
        ("integration", 999_999, "No integration 999999."),
        ("integration", 10**30, f"No integration {10**30}."),
    ],
)
def test_an_id_in_the_body_that_names_nothing_is_404_naming_the_field_and_writes_nothing(
    api_as, system_admin, books, field, unknown, message
):
    response = api_as(system_admin).post(URL, {**_body(books, MAPS), field: unknown}, format="json")
    assert response.status_code == 404
    assert response.json() == {field: [message]}
    assert not AccountingIntegration.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="accounting_integration").exists()


def test_patching_with_an_unknown_integration_is_404_and_changes_nothing(
    api_as, system_admin, books
):
    client = api_as(system_admin)
    created = client.post(URL, _body(books, MAPS), format="json").json()
    response = client.patch(f"{URL}{created['id']}", {"integration": 999_999}, format="json")
    assert response.status_code == 404
    assert "integration" in response.json()
    assert AccountingIntegration.objects.get(pk=created["id"]).integration_id == books.pk


@pytest.mark.parametrize("blank", ["", "   "])
def test_a_blank_map_source_is_refused_as_the_schema_says(api_as, system_admin, books, blank):
    row = {"kind": "PAYMENT_METHOD", "source": blank, "target": "1200"}
    response = api_as(system_admin).post(URL, _body(books, [row]), format="json")
    assert response.status_code == 400
    assert response.json()["maps"][0].startswith("Row 1: source")


def test_an_integration_that_is_not_of_kind_accounting_is_refused(api_as, system_admin):
    webhook = IntegrationFactory(kind=Integration.Kind.WEBHOOK)
    response = api_as(system_admin).post(URL, _body(webhook, MAPS), format="json")
    assert response.status_code == 400
    assert "integration" in response.json()


def test_patching_maps_replaces_them_and_delete_removes_the_integration(
    api_as, system_admin, books
):
    client = api_as(system_admin)
    created = client.post(URL, _body(books, MAPS), format="json").json()
    detail = f"{URL}{created['id']}"
    new_maps = [{"kind": "PAYMENT_METHOD", "source": "CASH", "target": "1000"}]
    response = client.patch(detail, {"maps": new_maps, "enabled": False}, format="json")
    assert response.status_code == 200
    assert response.json()["maps"] == new_maps
    assert response.json()["enabled"] is False
    assert client.delete(detail + "/").status_code == 204
    assert client.get(detail).status_code == 404


def test_owners_and_job_admins_may_not_manage_accounting_integrations(
    api_as, owner, job_admin, api_client, books
):
    assert api_as(owner).post(URL, _body(books, MAPS), format="json").status_code == 403
    assert api_as(job_admin).get(URL).status_code == 403
    assert api_client.get(URL).status_code == 401
