"""The sandbox's Sage Accounting: other payments created (201), updated, deleted, its 422
lists, idempotency_id, the X-Business scope and throttling."""

from decimal import Decimal

import pytest

from integration_hub.sandbox import accounting_data as data
from integration_hub.sandbox.models import AccountingCompany, AccountingObject

from .conftest import SAGE_BUSINESS, bearer, post_json

pytestmark = pytest.mark.django_db

PATH = "/sandbox/sage/v3.1/other_payments"
BANK = next(iter(data.SAGE_BANK_ACCOUNTS))
LEDGER = next(iter(data.SAGE_LEDGER_ACCOUNTS))


def _payment(net="100.00", tax="8.00", total="108.00", line_total=None, **fields) -> dict:
    return {
        "other_payment": {
            "transaction_type_id": "OTHER_RECEIPT",
            "date": "2026-11-20",
            "bank_account_id": BANK,
            "reference": "2026-11-20/VISA",
            # '"108.00"': the amount as a JSON string
            "total_amount": Decimal(total) if total[0].isdigit() else total.strip('"'),
            "idempotency_id": "0123456789abcdef0123456789abcdef",
            "payment_lines": [
                {
                    "ledger_account_id": LEDGER,
                    "details": "Classes",
                    "tax_rate_id": "GB_STANDARD_8",
                    "net_amount": Decimal(net),
                    "tax_amount": Decimal(tax),
                    "total_amount": Decimal(line_total or total.strip('"')),
                }
            ],
            **fields,
        }
    }


@pytest.fixture
def token(client, sage):
    return sage.connect(client)


def _send(client, token, body, *, path=PATH, method="post", business=SAGE_BUSINESS):
    headers = {"HTTP_X_BUSINESS": business} if business else {}
    return post_json(client, path, body, method=method, **bearer(token), **headers)


def test_a_post_creates_an_other_payment_with_201(client, token):
    response = _send(client, token, _payment())

    assert response.status_code == 201
    created = response.json()
    assert created["displayed_as"] == "2026-11-20/VISA"
    assert created["$path"] == f"/other_payments/{created['id']}"
    assert created["total_amount"] == 108.0
    assert created["payment_lines"][0]["tax_rate"]["id"] == "GB_STANDARD_8"
    stored = AccountingObject.objects.get()
    assert stored.external_id == created["id"]
    assert stored.company.tenant_id == SAGE_BUSINESS


def test_a_put_updates_and_a_delete_removes_the_payment(client, token):
    payment_id = _send(client, token, _payment()).json()["id"]
    path = f"{PATH}/{payment_id}"

    updated = _send(
        client,
        token,
        _payment(net="200.00", tax="16.00", total="216.00", idempotency_id="f" * 32),
        path=path,
        method="put",
    )
    deleted = _send(client, token, None, path=path, method="delete")
    after = client.get(path, **bearer(token), HTTP_X_BUSINESS=SAGE_BUSINESS)

    assert updated.status_code == 200
    assert (updated.json()["id"], updated.json()["total_amount"]) == (payment_id, 216.0)
    assert deleted.status_code == 204
    assert after.status_code == 404
    assert after.json()[0]["$dataCode"] == "RECORDNOTFOUND"
    stored = AccountingObject.objects.get()
    assert (stored.version, stored.is_deleted) == (2, True)
    assert stored.body["total_amount"] == 216.0


@pytest.mark.parametrize(
    ("body", "source", "message"),
    [
        (_payment(line_total="109.00", total="109.00"), "payment_lines.0.total_amount", "net"),
        (_payment(total="110.00", line_total="108.00"), "total_amount", "does not match"),
        (_payment(bank_account_id="nope"), "bank_account_id", "Bank account nope not found"),
        (_payment(total='"108.00"'), "total_amount", "must be a number"),
        (_payment(idempotency_id="not-hex"), "idempotency_id", "32 hexadecimal"),
        (_payment(date=""), "date", "date is required"),
    ],
)
def test_a_broken_payment_is_a_422_list_and_nothing_is_saved(client, token, body, source, message):
    response = _send(client, token, body)

    assert response.status_code == 422
    errors = response.json()
    assert all(error["$severity"] == "error" for error in errors)
    assert any(error["$source"] == source and message in error["$message"] for error in errors)
    assert {"$severity", "$dataCode", "$message", "$source"} == set(errors[0])
    assert not AccountingObject.objects.exists()


def test_an_unknown_ledger_account_is_named(client, token):
    body = _payment()
    body["other_payment"]["payment_lines"][0]["ledger_account_id"] = "4000"

    response = _send(client, token, body)

    assert response.status_code == 422
    assert response.json()[0]["$source"] == "payment_lines.0.ledger_account_id"


def test_a_repeated_idempotency_id_returns_the_same_payment_created_once(client, token):
    first = _send(client, token, _payment())
    repeat = _send(client, token, _payment())

    assert repeat.status_code == 201
    assert repeat.json()["id"] == first.json()["id"]
    assert AccountingObject.objects.count() == 1


def test_the_business_header_is_required_and_limited_to_the_granted_business(client, token):
    missing = _send(client, token, _payment(), business="")
    other = _send(client, token, _payment(), business="f" * 32)

    assert missing.status_code == 403
    assert other.status_code == 403
    assert other.json()[0]["$source"] == "X-Business"
    assert not AccountingObject.objects.exists()


def test_a_burst_over_the_limit_is_a_429_list(client, token):
    _send(client, token, _payment(idempotency_id="1" * 32))
    AccountingCompany.objects.update(rate_limit_per_minute=2)
    _send(client, token, _payment(idempotency_id="2" * 32))

    throttled = _send(client, token, _payment(idempotency_id="3" * 32))

    assert throttled.status_code == 429
    assert throttled.json()[0]["$dataCode"] == "TooManyRequests"
    assert "Retry-After" not in throttled.headers
    assert AccountingObject.objects.count() == 2


def test_a_call_without_a_token_is_401(client, token):
    response = post_json(client, PATH, _payment(), HTTP_X_BUSINESS=SAGE_BUSINESS)

    assert response.status_code == 401
    assert response.json()[0]["$severity"] == "error"
