"""Client of the Organisation Kit API that partners implement (DESIGN.md, "Connections and
inbound sync", the table of calls), built on the one outbound client.

    kit = OrganisationKitClient.for_integration(integration)
    account_ids = kit.accounts_search(ssn="198001011234")

Every failure is a typed PartnerError: PartnerNotFound (404), PartnerUnauthorised (401, after
the outbound client's one token re-fetch), PartnerRateLimited (429, with `retry_after` in
seconds), PartnerServerError (5xx), PartnerTimeout, and PartnerError for anything else
(another status, a refused connection, a body that is not the expected JSON).
"""

from datetime import date
from typing import Any
from urllib.parse import quote

import requests

from integration_hub.outbound import (
    OutboundClient,
    OutboundError,
    OutboundHTTPError,
    OutboundTimeout,
    ensure_success,
)
from integration_hub.services.errors import integration_enabled_guard


class PartnerError(Exception):
    """A call to the partner's Organisation Kit failed."""

    kind = "error"

    def __init__(self, message: str, *, status_code: int | None = None):
        super().__init__(message)
        self.status_code = status_code


class PartnerNotFound(PartnerError):
    kind = "not_found"


class PartnerUnauthorised(PartnerError):
    kind = "unauthorised"


class PartnerRateLimited(PartnerError):
    kind = "rate_limited"

    def __init__(self, message: str, *, status_code: int | None = 429, retry_after=None):
        super().__init__(message, status_code=status_code)
        self.retry_after: float | None = retry_after


class PartnerServerError(PartnerError):
    kind = "server_error"


class PartnerTimeout(PartnerError):
    kind = "timeout"


def _partner_error(error: OutboundError) -> PartnerError:
    if isinstance(error, OutboundTimeout):
        return PartnerTimeout(str(error))
    if not isinstance(error, OutboundHTTPError):
        return PartnerError(str(error))
    status = error.status_code
    message = str(error)
    if status == 404:
        return PartnerNotFound(message, status_code=status)
    if status == 401:
        return PartnerUnauthorised(message, status_code=status)
    if status == 429:
        return PartnerRateLimited(message, status_code=status, retry_after=error.retry_after)
    if status >= 500:
        return PartnerServerError(message, status_code=status)
    return PartnerError(message, status_code=status)


def _segment(value: str) -> str:
    """One path segment, percent-encoded, so that an id never reaches another path."""
    text = str(value)
    if text in ("", ".", ".."):
        raise PartnerNotFound(f"{text!r} is not an id.")
    return quote(text, safe="")


def _invoice_path(account_id: str, invoice_id: str) -> str:
    return f"accounts/{_segment(account_id)}/invoices/{_segment(invoice_id)}"


def _iso(day: date | str | None) -> str | None:
    return day.isoformat() if isinstance(day, date) else day


class OrganisationKitClient:
    """One partner's Organisation Kit, plus the simulated BankID flow of the sandbox."""

    def __init__(self, outbound: OutboundClient):
        self.outbound = outbound

    @classmethod
    def for_integration(cls, integration) -> "OrganisationKitClient":
        """PartnerError when the integration's setup is unusable (no credentials, say);
        IntegrationDisabled when it is disabled (never called)."""
        integration_enabled_guard(integration=integration)
        try:
            return cls(OutboundClient.for_integration(integration))
        except (OutboundError, ValueError) as exc:
            raise PartnerError(
                f"The integration {integration.name!r} cannot be called: {exc}"
            ) from None

    def _call(self, method: str, path: str, **kwargs) -> requests.Response:
        try:
            return ensure_success(self.outbound.request(method, path, **kwargs))
        except OutboundError as exc:
            raise _partner_error(exc) from None

    def _json(self, method: str, path: str, **kwargs) -> Any:
        response = self._call(method, path, **kwargs)
        try:
            return response.json()
        except ValueError:
            raise PartnerError(
                f"{method} {path}: the partner's answer is not JSON",
                status_code=response.status_code,
            ) from None

    def _list(self, path: str, **kwargs) -> list[dict]:
        body = self._json("GET", path, **kwargs)
        if not isinstance(body, list) or not all(isinstance(item, dict) for item in body):
            raise PartnerError(f"GET {path}: expected a JSON array of objects")
        return body

    def _object(self, method: str, path: str, **kwargs) -> dict:
        body = self._json(method, path, **kwargs)
        if not isinstance(body, dict):
            raise PartnerError(f"{method} {path}: expected a JSON object")
        return body

    # Reads (reference 001, "Integration Steps")

    def accounts_search(self, *, ssn: str | None = None, email: str | None = None) -> list[str]:
        if bool(ssn) == bool(email):
            raise ValueError("Search by exactly one of ssn or email.")
        params = {"ssn": ssn} if ssn else {"email": email}
        body = self._object("GET", "accounts/search", params=params)
        account_ids = body.get("accountIds")
        if not isinstance(account_ids, list):
            raise PartnerError("GET accounts/search: no accountIds in the answer")
        return [str(account_id) for account_id in account_ids]

    def account_get(self, account_id: str) -> dict:
        return self._object("GET", f"accounts/{_segment(account_id)}")

    def account_users(self, account_id: str) -> list[dict]:
        return self._list(f"accounts/{_segment(account_id)}/users")

    def account_locations(self, account_id: str) -> list[dict]:
        return self._list(f"accounts/{_segment(account_id)}/locations")

    def service_agreements(self, service_id: str) -> list[dict]:
        return self._list(f"services/{_segment(service_id)}/agreements")

    def service_products(self, service_id: str) -> list[dict]:
        return self._list(f"services/{_segment(service_id)}/products")

    def account_invoices(
        self, account_id: str, *, from_date: date | str, to_date: date | str
    ) -> list[dict]:
        params = {"fromDate": _iso(from_date), "toDate": _iso(to_date)}
        return self._list(f"accounts/{_segment(account_id)}/invoices", params=params)

    def invoice_url(self, account_id: str, invoice_id: str) -> str:
        body = self._object(
            "GET", f"accounts/{_segment(account_id)}/invoices/{_segment(invoice_id)}/url"
        )
        if not isinstance(body.get("url"), str):
            raise PartnerError("GET invoice url: no url in the answer")
        return body["url"]

    def invoice_stream(self, account_id: str, invoice_id: str) -> requests.Response:
        """The open response: iterate `iter_content()` and close it."""
        return self._call(
            "GET",
            f"accounts/{_segment(account_id)}/invoices/{_segment(invoice_id)}/stream",
            stream=True,
        )

    def measurements(
        self, measurement_id: str, *, from_date: date | str, to_date: date | str
    ) -> dict:
        params = {"fromDate": _iso(from_date), "toDate": _iso(to_date)}
        return self._object("GET", f"measurements/{_segment(measurement_id)}", params=params)

    def cost(self, cost_id: str, *, from_date: date | str, to_date: date | str) -> dict:
        params = {"fromDate": _iso(from_date), "toDate": _iso(to_date)}
        return self._object("GET", f"costs/{_segment(cost_id)}", params=params)

    # Writes

    def user_update(
        self,
        user_id: str,
        *,
        phone_number: str | None = None,
        email_address: str | None = None,
    ) -> dict:
        body = {
            key: value
            for key, value in (("phoneNumber", phone_number), ("emailAddress", email_address))
            if value is not None
        }
        return self._object("PATCH", f"users/{_segment(user_id)}", json=body)

    def user_add(self, account_id: str, *, user: dict, role: str = "GUEST") -> dict:
        response = self._call(
            "POST", f"accounts/{_segment(account_id)}/users", json={"role": role, "user": user}
        )
        try:
            body = response.json()
        except ValueError:
            return {}
        return body if isinstance(body, dict) else {}

    def event_report(self, account_id: str, *, event_type: str, timestamp: int, data: dict) -> None:
        self._call(
            "POST",
            f"accounts/{_segment(account_id)}/events",
            json={"type": event_type, "timestamp": timestamp, "data": data},
        )

    # Identity (reference 001: BankID start, then collect until complete)

    def bankid_start(self, *, personal_number: str) -> str:
        body = self._object("POST", "bankid/auth", json={"personalNumber": personal_number})
        if not isinstance(body.get("orderRef"), str):
            raise PartnerError("POST bankid/auth: no orderRef in the answer")
        return body["orderRef"]

    def bankid_collect(self, *, order_ref: str) -> dict:
        """{"orderRef", "status": "pending"|"complete"|"failed", "completionData": {"user":
        {"personalNumber", "name"}}} (completionData only when complete)."""
        return self._object("POST", "bankid/collect", json={"orderRef": order_ref})
