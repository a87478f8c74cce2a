import json
import re
from datetime import date, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses
from django.test import TestCase
from django.utils import timezone

from tests.factories import OrganisationKitIntegrationFactory, UserFactory, VerifiedIdentityFactory

KIT = "https://kit.example.com/api"
ANNA_NUMBER = "198001011234"


# The partner lists Anna with her personal number, so the hub matches her by it.
ANNA = {"id": "U1", "name": "Anna", "emailAddress": "anna@x.se", "personalNumber": ANNA_NUMBER}


PDF = b"%PDF-1.4 fake invoice\n%%EOF\n"


def invoice(invoice_id: str, status: str, issued: date) -> dict:
    return {
        "id": invoice_id,
        "status": status,
        "amount": "123.45",
        "currency": "SEK",
        "issueDate": issued.isoformat(),
        "dueDate": (issued + timedelta(days=30)).isoformat(),
    }


class FakePartner:
    """An Organisation Kit mocked with `responses`: two accounts for Anna (OWNER of A1,
    GUEST of A2). `fail(path_regex, status)` makes matching calls fail; `calls` lists the
    paths called, in order."""

    def __init__(self, mock: responses.RequestsMock):
        self.mock = mock  # for the tests' own mocked endpoints (a notification webhook)
        self.accounts = {
            "A1": {"id": "A1", "customerId": "CUST-1", "name": "Home", "type": "PRIVATE"},
            "A2": {"id": "A2", "customerId": "CUST-2", "name": "Office", "type": "BUSINESS"},
        }
        self.users = {
            "A1": [
                {"role": "OWNER", "user": ANNA},
                {
                    "role": "GUEST",
                    "user": {"id": "U2", "name": "Erik", "emailAddress": "erik@x.se"},
                },
            ],
            "A2": [
                {
                    "role": "OWNER",
                    "user": {"id": "U2", "name": "Erik", "emailAddress": "erik@x.se"},
                },
                {"role": "GUEST", "user": ANNA},
            ],
        }
        today = timezone.localdate()
        # Two invoices of A1 within a month (the first invoice window), none of A2.
        self.invoices = {
            "A1": [
                invoice("INV-2", "new", today - timedelta(days=5)),
                invoice("INV-1", "paid", today - timedelta(days=20)),
            ],
            "A2": [],
        }
        self.has_pdf_stream = True
        self.version = 1
        self.failures: list[tuple[re.Pattern, int, dict]] = []
        self.calls: list[str] = []
        self.timeouts: list[re.Pattern] = []
        self.events: list[dict] = []
        self.query_calls: list[str] = []
        for method in (responses.GET, responses.POST, responses.PATCH):
            mock.add_callback(method, re.compile(rf"{KIT}/.*"), callback=self._answer)

    def fail(self, path_regex: str, status: int = 500, headers: dict | None = None) -> None:
        self.failures.append((re.compile(path_regex), status, headers or {}))

    def time_out(self, path_regex: str) -> None:
        self.timeouts.append(re.compile(path_regex))

    def locations(self, account_id: str) -> list[dict]:
        return [
            {
                "id": f"{account_id}-L1",
                "name": f"Location v{self.version}",
                "address": "Storgatan 1",
                "services": [
                    {
                        "id": f"{account_id}-S1",
                        "type": "ELECTRICITY",
                        "name": "Electricity",
                        "measurementId": f"M-{account_id}-S1",
                        "costId": f"C-{account_id}-S1",
                    }
                ],
            }
        ]

    def invoice_calls(self, account_id: str = "A1") -> list[dict]:
        """The query of each invoices call of an account, in order."""
        return [
            {key: values[0] for key, values in parse_qs(urlsplit(call).query).items()}
            for call in self.query_calls
            if urlsplit(call).path == f"accounts/{account_id}/invoices"
        ]

    def _answer(self, request):
        parts = urlsplit(request.url)
        path = parts.path.removeprefix("/api/")
        self.calls.append(path if request.method == "GET" else f"{request.method} {path}")
        self.query_calls.append(f"{path}?{parts.query}")
        if any(pattern.fullmatch(path) for pattern in self.timeouts):
            raise requests.exceptions.ReadTimeout("the partner did not answer in time")
        for pattern, status, headers in self.failures:
            if pattern.fullmatch(path):
                return status, headers, json.dumps({"detail": "failing on purpose"})
        if request.method != "GET":
            return self._write(request.method, path, json.loads(request.body or b"{}"))
        if path.endswith("/stream") and self.has_pdf_stream:
            return 200, {"Content-Type": "application/pdf"}, PDF
        body = self._body(path, parse_qs(parts.query))
        if body is None:
            return 404, {}, json.dumps({"detail": "not found"})
        return 200, {"Content-Type": "application/json"}, json.dumps(body)

    def _write(self, method: str, path: str, body: dict):
        segments = path.split("/")
        if path == "bankid/auth":
            return 200, {"Content-Type": "application/json"}, json.dumps({"orderRef": "ORDER-1"})
        if method == "PATCH" and segments[0] == "users":
            found = None
            for entries in self.users.values():
                for entry in entries:
                    if entry["user"]["id"] == segments[1]:
                        entry["user"] = found = {**entry["user"], **body}
            if found is None:
                return 404, {}, json.dumps({"detail": "no such user"})
            return 200, {"Content-Type": "application/json"}, json.dumps(found)
        if method == "POST" and segments[0] == "accounts" and segments[2] == "users":
            user = {**body["user"], "id": f"G{len(self.users[segments[1]])}"}
            self.users[segments[1]].append({"role": body["role"], "user": user})
            return (
                201,
                {"Content-Type": "application/json"},
                json.dumps({"role": body["role"], "user": user}),
            )
        if method == "POST" and segments[0] == "accounts" and segments[2] == "events":
            self.events.append({"account": segments[1], **body})
            return 202, {"Content-Type": "application/json"}, json.dumps({"accepted": True})
        return 404, {}, json.dumps({"detail": "not found"})

    def _body(self, path: str, query: dict):
        segments = path.split("/")
        if path == "accounts/search":
            is_anna = query.get("ssn") == [ANNA_NUMBER] or query.get("email") == ["anna@x.se"]
            return {"accountIds": sorted(self.accounts) if is_anna else []}
        if segments[0] == "accounts" and segments[1] in self.accounts:
            account_id = segments[1]
            if len(segments) == 2:
                return self.accounts[account_id]
            if segments[2] == "users":
                return self.users[account_id]
            if segments[2] == "locations":
                return self.locations(account_id)
            if segments[2] == "invoices" and len(segments) == 3:
                from_date = date.fromisoformat(query["fromDate"][0])
                to_date = date.fromisoformat(query["toDate"][0])
                return [
                    item
                    for item in self.invoices[account_id]
                    if from_date <= date.fromisoformat(item["issueDate"]) <= to_date
                ]
            if segments[2] == "invoices" and segments[4] == "url":
                if segments[3] not in {item["id"] for item in self.invoices[account_id]}:
                    return None
                return {"url": f"https://files.example.com/{segments[3]}.pdf"}
        if segments[0] in ("measurements", "costs"):
            key = "measurementId" if segments[0] == "measurements" else "costId"
            return {
                key: segments[1],
                "unit": "kWh",
                "currency": "SEK",
                "values": [{"timestamp": 1763800000, "value": "1.25"}],
            }
        if segments[0] == "services" and segments[2] == "agreements":
            return [
                {
                    "id": f"{segments[1]}-AG1",
                    "name": f"Agreement v{self.version}",
                    "status": "ACTIVE",
                    "startDate": "2025-01-01",
                    "endDate": "2027-01-01",
                }
            ]
        if segments[0] == "services" and segments[2] == "products":
            return [{"id": f"{segments[1]}-P1", "name": "Usage", "price": "1.85", "unit": "kWh"}]
        return None


@pytest.fixture
def partner():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield FakePartner(mock)


@pytest.fixture
def kit_integration(db):
    return OrganisationKitIntegrationFactory(name="Energy Co")


@pytest.fixture
def anna(make_user):
    user = make_user("Owner", username="anna", email="anna@x.se")
    VerifiedIdentityFactory(user=user, value=ANNA_NUMBER)
    return user


@pytest.fixture
def connect(django_capture_on_commit_callbacks, tasks):
    """connect(user, integration) → the connection, its initial sync queued (not run)."""
    from syncing.services.connections import connection_create

    def make(user, integration, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return connection_create(user=user, integration_id=integration.pk, **kwargs)

    return make


@pytest.fixture
def other_user(db):
    user = UserFactory(username="erik", email="erik@x.se")
    VerifiedIdentityFactory(user=user, value="197505052345")
    return user


@pytest.fixture
def request_sync(tasks):
    """request_sync(connection, kind) → (job, created), queued as after a commit."""
    from syncing.services.sync_jobs import sync_request

    def request(connection, kind):
        with TestCase.captureOnCommitCallbacks(execute=True):
            return sync_request(connection=connection, kind=kind)

    return request


@pytest.fixture
def synced_anna(anna, kit_integration, partner, connect, tasks):
    """Anna's synced connection: OWNER of A1 (service A1-S1), GUEST of A2 (service A2-S1)."""
    connection = connect(anna, kit_integration)
    tasks.run()
    connection.refresh_from_db()
    assert connection.status == "SUCCESS", connection.last_error
    partner.calls.clear()
    partner.query_calls.clear()
    return connection
