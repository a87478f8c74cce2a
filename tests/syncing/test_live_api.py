"""Live reads and writes at the partner under /api/v1/connections/... (DESIGN.md), the
restrictions of a GUEST on each, partner failures as clear API errors, and notifications."""

import pytest
from django.test import TestCase

from syncing.models import AccountUser, Event, Notification

pytestmark = pytest.mark.django_db


@pytest.fixture
def as_anna(anna, api_as):
    return api_as(anna)


def url(connection, rest: str) -> str:
    return f"/api/v1/connections/{connection.pk}/{rest}"


def test_an_owner_reads_the_accounts_invoices_live_from_the_partner(synced_anna, as_anna, partner):
    response = as_anna.get(
        url(synced_anna, "accounts/A1/invoices/"),
        {"fromDate": "2025-01-01", "toDate": "2027-12-31"},
    )

    assert response.status_code == 200, response.content
    assert [item["id"] for item in response.json()] == ["INV-2", "INV-1"]
    assert set(response.json()[0]) == {"id", "status", "amount", "currency", "issueDate", "dueDate"}
    assert partner.invoice_calls("A1") == [{"fromDate": "2025-01-01", "toDate": "2027-12-31"}]


def test_the_invoice_pdf_is_streamed_from_the_partner(synced_anna, as_anna):
    response = as_anna.get(url(synced_anna, "accounts/A1/invoices/INV-2/pdf"))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'inline; filename="INV-2.pdf"'
    assert b"".join(response.streaming_content).startswith(b"%PDF-1.4")


def test_a_partner_that_offers_only_a_url_for_the_pdf_gets_a_redirect(
    synced_anna, as_anna, partner
):
    partner.has_pdf_stream = False

    response = as_anna.get(url(synced_anna, "accounts/A1/invoices/INV-2/pdf"))

    assert response.status_code == 302
    assert response["Location"] == "https://files.example.com/INV-2.pdf"


def test_measurements_are_live_for_owners_and_guests_alike(synced_anna, as_anna, partner):
    for service in ("A1-S1", "A2-S1"):
        response = as_anna.get(url(synced_anna, f"services/{service}/measurements/"))
        assert response.status_code == 200, response.content
        assert response.json() == {
            "measurementId": f"M-{service}",
            "unit": "kWh",
            "values": [{"timestamp": 1763800000, "value": "1.25"}],
        }
    assert partner.calls == ["measurements/M-A1-S1", "measurements/M-A2-S1"]


def test_an_owner_reads_the_cost_of_a_service(synced_anna, as_anna):
    response = as_anna.get(url(synced_anna, "services/A1-S1/cost/"))

    assert response.status_code == 200
    assert response.json()["costId"] == "C-A1-S1"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "accounts/A2/invoices/", None),
        ("get", "accounts/A2/invoices/X/pdf", None),
        ("get", "services/A2-S1/cost/", None),
        ("post", "accounts/A2/guests/", {"name": "Bo"}),
    ],
)
def test_a_guest_of_the_account_is_refused_what_only_owners_see(
    synced_anna, as_anna, partner, method, path, body
):
    response = getattr(as_anna, method)(url(synced_anna, path), body, format="json")

    assert response.status_code == 403, response.content
    assert partner.calls == []  # refused before the partner is asked


@pytest.mark.parametrize(
    "path",
    [
        "accounts/A2/invoices/",
        "services/A2-S1/measurements/",
        "accounts/A1/invoices/INV-2/pdf",
    ],
)
def test_another_users_connection_is_not_found(synced_anna, other_user, api_as, path):
    response = api_as(other_user).get(url(synced_anna, path))

    assert response.status_code == 404


def test_an_unknown_account_or_service_is_a_404(synced_anna, as_anna):
    assert as_anna.get(url(synced_anna, "accounts/NOPE/invoices/")).status_code == 404
    assert as_anna.get(url(synced_anna, "services/NOPE/measurements/")).status_code == 404


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"fromDate": "yesterday"}, "fromDate"),
        ({"toDate": "2026-13-01"}, "toDate"),
        ({"fromDate": "2026-11-20", "toDate": "2026-11-01"}, "fromDate"),
        ({"fromDate": "2020-01-01", "toDate": "2026-11-01"}, "toDate"),  # too long a range
    ],
)
def test_bad_dates_are_a_400_naming_the_parameter(synced_anna, as_anna, partner, query, field):
    response = as_anna.get(url(synced_anna, "services/A1-S1/measurements/"), query)

    assert response.status_code == 400
    assert field in response.json()
    assert partner.calls == []


def test_a_failing_partner_is_a_502_naming_the_cause(synced_anna, as_anna, partner):
    partner.fail("accounts/A1/invoices", 503)

    response = as_anna.get(url(synced_anna, "accounts/A1/invoices/"))

    assert response.status_code == 502
    assert "HTTP 503" in response.json()["detail"]


def test_a_partner_that_does_not_answer_in_time_is_a_502_saying_so(synced_anna, as_anna, partner):
    partner.time_out("measurements/.*")

    response = as_anna.get(url(synced_anna, "services/A1-S1/measurements/"))

    assert response.status_code == 502
    assert "did not answer in time" in response.json()["detail"]


def test_a_rate_limiting_partner_is_passed_on_with_its_retry_after(synced_anna, as_anna, partner):
    partner.fail("costs/.*", 429, {"Retry-After": "120"})

    response = as_anna.get(url(synced_anna, "services/A1-S1/cost/"))

    assert response.status_code == 429
    assert response["Retry-After"] == "120"
    assert "rate limiting" in response.json()["detail"]


def test_a_partner_without_the_invoice_is_a_404(synced_anna, as_anna, partner):
    partner.has_pdf_stream = False

    response = as_anna.get(url(synced_anna, "accounts/A1/invoices/NOPE/pdf"))

    assert response.status_code == 404
    assert "partner" in response.json()["detail"]


def test_a_user_updates_their_own_phone_number_and_the_mirror_follows(
    synced_anna, as_anna, partner
):
    response = as_anna.patch(
        url(synced_anna, "users/U1/"), {"phoneNumber": "+46 70 123 45 67"}, format="json"
    )

    assert response.status_code == 200, response.content
    assert response.json()["phoneNumber"] == "+46 70 123 45 67"
    assert partner.calls[0] == "PATCH users/U1"
    # Anna is a user of both accounts: both are refreshed from the partner.
    assert set(partner.calls[1:]) == {"accounts/A1/users", "accounts/A2/users"}
    mirrored = set(
        AccountUser.objects.filter(partner_id="U1").values_list("phone_number", flat=True)
    )
    assert mirrored == {"+46 70 123 45 67"}
    assert Event.objects.last().event_type == "UPDATE_USER_SUCCESS"


def test_not_even_an_owner_may_change_another_users_contact_details(synced_anna, as_anna, partner):
    response = as_anna.patch(
        url(synced_anna, "users/U2/"), {"emailAddress": "anna@x.se"}, format="json"
    )

    # Erik is a guest of A1, which Anna owns; were his email Anna's, the next sync would make
    # Anna the owner of A2, which Erik owns.
    assert response.status_code == 403, response.content
    assert partner.calls == []


def test_a_user_of_an_account_the_user_only_visits_is_not_theirs_to_update(
    anna, kit_integration, partner, connect, tasks, api_as
):
    partner.users["A2"].append({"role": "GUEST", "user": {"id": "U3", "name": "Sara"}})
    connection = connect(anna, kit_integration)
    tasks.run()
    partner.calls.clear()

    response = api_as(anna).patch(
        url(connection, "users/U3/"), {"phoneNumber": "+4670"}, format="json"
    )

    # Anna is a guest of A2 and Sara is not Anna.
    assert response.status_code == 403, response.content
    assert partner.calls == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "phoneNumber"),
        ({"phoneNumber": "call me"}, "phoneNumber"),
        ({"emailAddress": "not-an-email"}, "emailAddress"),
        ({"emailAddress": 5}, "emailAddress"),
    ],
)
def test_a_bad_user_update_is_a_400_naming_the_field(synced_anna, as_anna, partner, body, field):
    response = as_anna.patch(url(synced_anna, "users/U1/"), body, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert partner.calls == []


def test_an_owner_adds_a_guest_and_the_mirror_lists_them(synced_anna, as_anna, partner):
    response = as_anna.post(
        url(synced_anna, "accounts/A1/guests/"),
        {"name": "Bo Ek", "emailAddress": "bo@x.se", "phoneNumber": "+46701111111"},
        format="json",
    )

    assert response.status_code == 201, response.content
    assert response.json()["role"] == "GUEST"
    assert response.json()["user"]["name"] == "Bo Ek"
    assert partner.calls == ["POST accounts/A1/users", "accounts/A1/users"]
    names = set(synced_anna.accounts.get(partner_id="A1").users.values_list("name", flat=True))
    assert "Bo Ek" in names
    assert Event.objects.last().event_type == "ADD_USER_SUCCESS"


def test_a_guest_without_a_name_is_a_400(synced_anna, as_anna, partner):
    response = as_anna.post(url(synced_anna, "accounts/A1/guests/"), {}, format="json")

    assert response.status_code == 400
    assert "name" in response.json()
    assert partner.calls == []


def test_notifications_list_only_the_users_own_and_can_be_marked_read(
    synced_anna, as_anna, other_user, api_as
):
    notification = Notification.objects.get()  # the new invoice INV-2

    listed = as_anna.get("/api/v1/notifications/").json()
    assert [n["id"] for n in listed["results"]] == [notification.pk]
    assert listed["results"][0]["kind"] == "INVOICE_NEW"
    assert listed["results"][0]["accountId"] == "A1"
    assert api_as(other_user).get("/api/v1/notifications/").json()["count"] == 0
    assert (
        api_as(other_user).post(f"/api/v1/notifications/{notification.pk}/read").status_code == 404
    )

    assert as_anna.post(f"/api/v1/notifications/{notification.pk}/read").status_code == 204
    assert as_anna.get("/api/v1/notifications/", {"unread": "true"}).json()["count"] == 0


def test_the_dashboard_shows_the_owners_unread_notifications(synced_anna, anna, client):
    client.force_login(anna)
    with TestCase.captureOnCommitCallbacks(execute=True):
        page = client.get("/")

    assert "New invoice INV-2 for Home." in page.content.decode()
