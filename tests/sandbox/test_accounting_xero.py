"""The sandbox's Xero: BankTransactions created, updated and deleted, ValidationException and
Warnings, Idempotency-Key repeats, the xero-tenant-id scope and the minute limit."""

from datetime import timedelta
from decimal import Decimal

import pytest

from integration_hub.sandbox.models import AccountingCall, AccountingCompany, AccountingObject

from .conftest import XERO_TENANTS, bearer, post_json

pytestmark = pytest.mark.django_db

PATH = "/sandbox/xero/api.xro/2.0/BankTransactions"


def _transaction(bank="091", account="200", tax_type="TAX001", unit="100.00", tax="8.00"):
    return {
        "Type": "RECEIVE",
        "Contact": {"Name": "Point of sale"},
        "BankAccount": {"Code": bank},
        "Date": "2026-11-20",
        "Reference": "2026-11-20/VISA",
        "LineAmountTypes": "Exclusive",
        "Status": "AUTHORISED",
        "LineItems": [
            {
                "Description": "Classes",
                "Quantity": 1,
                "UnitAmount": Decimal(unit) if unit[0].isdigit() else unit,
                "AccountCode": account,
                "TaxType": tax_type,
                "TaxAmount": Decimal(tax),
            }
        ],
    }


@pytest.fixture
def token(client, xero):
    return xero.connect(client)


def _send(client, token, body, *, method="put", tenant=XERO_TENANTS[0], key=None):
    headers = {"HTTP_XERO_TENANT_ID": tenant} if tenant else {}
    if key is not None:
        headers["HTTP_IDEMPOTENCY_KEY"] = key
    return post_json(client, PATH, body, method=method, **bearer(token), **headers)


def _messages(response) -> list[str]:
    return [
        error["Message"]
        for element in response.json()["Elements"]
        for error in element["ValidationErrors"]
    ]


def test_a_put_creates_bank_transactions_and_answers_their_ids(client, token):
    response = _send(client, token, {"BankTransactions": [_transaction()]})

    assert response.status_code == 200
    body = response.json()
    assert body["Status"] == "OK"
    [created] = body["BankTransactions"]
    assert created["StatusAttributeString"] == "OK"
    assert (created["SubTotal"], created["TotalTax"], created["Total"]) == (100.0, 8.0, 108.0)
    assert "Warnings" not in created
    stored = AccountingObject.objects.get()
    assert stored.external_id == created["BankTransactionID"]
    assert stored.company.tenant_id == XERO_TENANTS[0]
    assert response["X-MinLimit-Remaining"] == "59"


def test_a_post_with_the_id_updates_the_transaction_in_place(client, token):
    created = _send(client, token, {"BankTransactions": [_transaction()]}).json()
    transaction_id = created["BankTransactions"][0]["BankTransactionID"]
    changed = {**_transaction(unit="200.00", tax="16.00"), "BankTransactionID": transaction_id}

    response = _send(client, token, {"BankTransactions": [changed]}, method="post")

    assert response.status_code == 200
    [updated] = response.json()["BankTransactions"]
    assert updated["BankTransactionID"] == transaction_id
    assert updated["Total"] == 216.0
    stored = AccountingObject.objects.get()
    assert stored.version == 1
    assert stored.body["LineItems"][0]["UnitAmount"] == 200.0


def test_status_deleted_deletes_the_transaction(client, token):
    created = _send(client, token, {"BankTransactions": [_transaction()]}).json()
    transaction_id = created["BankTransactions"][0]["BankTransactionID"]
    deletion = {"BankTransactions": [{"BankTransactionID": transaction_id, "Status": "DELETED"}]}

    deleted = _send(client, token, deletion, method="post")
    edit_after = _send(
        client,
        token,
        {"BankTransactions": [{**_transaction(), "BankTransactionID": transaction_id}]},
        method="post",
    )

    assert deleted.status_code == 200
    assert deleted.json()["BankTransactions"][0]["Status"] == "DELETED"
    assert AccountingObject.objects.get().is_deleted
    assert edit_after.status_code == 400
    assert "deleted" in _messages(edit_after)[0]


@pytest.mark.parametrize(
    ("transaction", "message"),
    [
        (_transaction(bank="999"), "Account code '999' is not a valid bank account code."),
        (
            _transaction(tax_type="OUTPUT9"),
            "The TaxType code 'OUTPUT9' does not exist or cannot be used for this type of "
            "transaction.",
        ),
        ({**_transaction(), "Contact": {}}, "A Contact must be specified"),
        (_transaction(unit="abc"), "LineItems[0].UnitAmount must be a number, not 'abc'."),
        ({**_transaction(), "LineItems": []}, "at least one line item"),
    ],
)
def test_a_broken_transaction_is_a_validation_exception_and_nothing_is_saved(
    client, token, transaction, message
):
    response = _send(client, token, {"BankTransactions": [_transaction(), transaction]})

    assert response.status_code == 400
    body = response.json()
    assert (body["ErrorNumber"], body["Type"]) == (10, "ValidationException")
    assert body["Elements"][0]["ValidationErrors"] == []
    assert any(message in text for text in _messages(response))
    assert not AccountingObject.objects.exists()


def test_an_unknown_line_account_is_kept_with_a_warning(client, token):
    response = _send(client, token, {"BankTransactions": [_transaction(account="4999")]})

    assert response.status_code == 200
    [created] = response.json()["BankTransactions"]
    assert created["StatusAttributeString"] == "WARNING"
    assert created["Warnings"] == [
        {"Message": "Account code '4999' is not a valid code; the line was left uncoded."}
    ]
    assert AccountingObject.objects.count() == 1


def test_a_repeated_idempotency_key_gets_the_original_answer(client, token):
    body = {"BankTransactions": [_transaction()]}

    first = _send(client, token, body, key="k-1")
    repeat = _send(client, token, body, key="k-1")

    assert repeat.status_code == 200
    assert repeat.json() == first.json()
    assert AccountingObject.objects.count() == 1


def test_the_same_key_with_another_body_is_a_400(client, token):
    _send(client, token, {"BankTransactions": [_transaction()]}, key="k-1")

    response = _send(client, token, {"BankTransactions": [_transaction(unit="1.00")]}, key="k-1")

    assert response.status_code == 400
    assert response.json()["Message"] == (
        "The Idempotency-Key has already been used with a different request."
    )
    assert AccountingObject.objects.count() == 1


def test_a_key_is_forgotten_after_six_minutes_and_one_over_128_refused(client, token):
    body = {"BankTransactions": [_transaction()]}
    _send(client, token, body, key="k-1")
    AccountingCall.objects.update(
        created_at=AccountingCall.objects.get().created_at - timedelta(minutes=7)
    )

    later = _send(client, token, body, key="k-1")
    too_long = _send(client, token, body, key="k" * 129)

    assert later.status_code == 200
    assert AccountingObject.objects.count() == 2
    assert too_long.status_code == 400


def test_the_tenant_header_is_required_and_limited_to_the_granted_organisations(client, token):
    missing = _send(client, token, {"BankTransactions": [_transaction()]}, tenant="")
    not_granted = _send(
        client, token, {"BankTransactions": [_transaction()]}, tenant=XERO_TENANTS[1]
    )

    for response in (missing, not_granted):
        assert response.status_code == 403
        assert response.json()["Title"] == "Forbidden"
    assert not AccountingObject.objects.exists()


def test_a_token_for_both_organisations_posts_into_each(client, xero):
    token = xero.connect(client, tenants=XERO_TENANTS)

    for tenant in XERO_TENANTS:
        response = _send(client, token, {"BankTransactions": [_transaction()]}, tenant=tenant)
        assert response.status_code == 200

    assert sorted(AccountingObject.objects.values_list("company__tenant_id", flat=True)) == sorted(
        XERO_TENANTS
    )


def test_a_burst_over_the_minute_limit_is_a_429_with_retry_after(client, token):
    _send(client, token, {"BankTransactions": [_transaction()]})
    AccountingCompany.objects.update(rate_limit_per_minute=2)
    _send(client, token, {"BankTransactions": [_transaction()]})

    throttled = _send(client, token, {"BankTransactions": [_transaction()]})

    assert throttled.status_code == 429
    assert 1 <= int(throttled["Retry-After"]) <= 60
    assert throttled["X-Rate-Limit-Problem"] == "minute"
    assert AccountingObject.objects.count() == 2
    assert AccountingCall.objects.filter(response_status=429).count() == 1


def test_a_call_without_a_token_is_401(client, token):
    response = post_json(
        client, PATH, {"BankTransactions": [_transaction()]}, HTTP_XERO_TENANT_ID=XERO_TENANTS[0]
    )

    assert response.status_code == 401
    assert response.json()["Title"] == "Unauthorized"
