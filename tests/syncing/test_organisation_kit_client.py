"""The Organisation Kit client: every call of DESIGN.md's table, and typed partner errors."""

import json

import pytest
import requests
import responses

from syncing.organisation_kit import (
    OrganisationKitClient,
    PartnerError,
    PartnerNotFound,
    PartnerRateLimited,
    PartnerServerError,
    PartnerTimeout,
    PartnerUnauthorised,
)

pytestmark = pytest.mark.django_db
KIT = "https://kit.example.com/api"


@pytest.fixture
def kit(kit_integration):
    return OrganisationKitClient.for_integration(kit_integration)


@responses.activate
def test_every_read_calls_its_path_and_returns_the_partners_json(kit):
    answers = {
        "/accounts/search": {"accountIds": ["A1"]},
        "/accounts/A1": {"id": "A1", "customerId": "C", "name": "N", "type": "T"},
        "/accounts/A1/users": [{"role": "OWNER", "user": {"id": "U1"}}],
        "/accounts/A1/locations": [{"id": "L1", "services": []}],
        "/services/S1/agreements": [{"id": "AG1"}],
        "/services/S1/products": [{"id": "P1"}],
        "/accounts/A1/invoices": [{"id": "I1", "status": "new"}],
        "/accounts/A1/invoices/I1/url": {"url": "https://kit.example.com/pdf/I1"},
        "/measurements/M1": {"measurementId": "M1", "unit": "kWh", "values": []},
        "/costs/C1": {"costId": "C1", "currency": "SEK", "values": []},
    }
    for path, body in answers.items():
        responses.get(f"{KIT}{path}", json=body)
    responses.get(f"{KIT}/accounts/A1/invoices/I1/stream", body=b"%PDF-1.4")

    assert kit.accounts_search(ssn="198001011234") == ["A1"]
    assert kit.account_get("A1")["customerId"] == "C"
    assert kit.account_users("A1")[0]["role"] == "OWNER"
    assert kit.account_locations("A1")[0]["id"] == "L1"
    assert kit.service_agreements("S1") == [{"id": "AG1"}]
    assert kit.service_products("S1") == [{"id": "P1"}]
    assert kit.account_invoices("A1", from_date="2026-01-01", to_date="2026-11-22")[0]["id"] == "I1"
    assert kit.invoice_url("A1", "I1") == "https://kit.example.com/pdf/I1"
    assert kit.measurements("M1", from_date="2026-11-01", to_date="2026-11-02")["unit"] == "kWh"
    assert kit.cost("C1", from_date="2026-11-01", to_date="2026-11-02")["currency"] == "SEK"
    stream = kit.invoice_stream("A1", "I1")
    assert b"".join(stream.iter_content()) == b"%PDF-1.4"
    queries = {
        call.request.url.split("?")[-1] for call in responses.calls if "?" in call.request.url
    }
    assert "ssn=198001011234" in queries
    assert "fromDate=2026-01-01&toDate=2026-11-22" in queries


@responses.activate
def test_the_writes_send_the_shapes_of_the_table(kit):
    responses.patch(f"{KIT}/users/U1", json={"id": "U1", "phoneNumber": "+46 1"})
    responses.post(f"{KIT}/accounts/A1/users", json={"role": "GUEST"}, status=201)
    responses.post(f"{KIT}/accounts/A1/events", status=202)

    kit.user_update("U1", phone_number="+46 1")
    kit.user_add("A1", user={"name": "Guest", "emailAddress": "g@x.se"})
    kit.event_report("A1", event_type="INVOICE_NEW", timestamp=1763800000, data={"id": "I1"})

    bodies = [json.loads(call.request.body) for call in responses.calls]
    assert bodies == [
        {"phoneNumber": "+46 1"},
        {"role": "GUEST", "user": {"name": "Guest", "emailAddress": "g@x.se"}},
        {"type": "INVOICE_NEW", "timestamp": 1763800000, "data": {"id": "I1"}},
    ]


@pytest.mark.parametrize(
    ("status", "error_type"),
    [
        (404, PartnerNotFound),
        (401, PartnerUnauthorised),
        (500, PartnerServerError),
        (503, PartnerServerError),
        (400, PartnerError),
    ],
)
@responses.activate
def test_a_failing_status_becomes_a_typed_partner_error(kit, status, error_type):
    responses.get(f"{KIT}/accounts/A1", status=status, json={"detail": "no"})

    with pytest.raises(error_type) as caught:
        kit.account_get("A1")

    assert caught.value.status_code == status


@responses.activate
def test_a_rate_limited_call_carries_its_retry_after(kit):
    responses.get(f"{KIT}/accounts/A1/users", status=429, headers={"Retry-After": "30"})

    with pytest.raises(PartnerRateLimited) as caught:
        kit.account_users("A1")

    assert caught.value.retry_after == 30.0


@responses.activate
def test_a_partner_that_does_not_answer_in_time_is_a_timeout(kit):
    responses.get(f"{KIT}/accounts/A1/locations", body=requests.exceptions.ReadTimeout("slow"))

    with pytest.raises(PartnerTimeout):
        kit.account_locations("A1")


@responses.activate
def test_an_answer_of_the_wrong_shape_is_a_partner_error(kit):
    responses.get(f"{KIT}/accounts/A1/locations", json={"not": "a list"})
    responses.get(f"{KIT}/accounts/search", body="<html>")

    with pytest.raises(PartnerError):
        kit.account_locations("A1")
    with pytest.raises(PartnerError):
        kit.accounts_search(email="anna@x.se")
