"""The sandbox's QuickBooks Online: JournalEntry create, sparse update and delete, its Faults
(also inside a 200 on request), requestid repeats, tenant scoping and throttling."""

from decimal import Decimal

import pytest

from integration_hub.sandbox.models import AccountingCall, AccountingCompany, AccountingObject

from .conftest import QUICKBOOKS_REALM, bearer, json_text, post_json

pytestmark = pytest.mark.django_db

PATH = f"/sandbox/quickbooks/v3/company/{QUICKBOOKS_REALM}/journalentry?minorversion=75"


def _line(posting: str, amount, account: str, description: str = "") -> dict:
    return {
        "DetailType": "JournalEntryLineDetail",
        "Amount": amount,
        "Description": description,
        "JournalEntryLineDetail": {"PostingType": posting, "AccountRef": {"value": account}},
    }


def _entry(visa="108.00", classes="100.00", tax="8.00", doc="2026-11-20/VISA") -> dict:
    """A balanced JournalEntry (amounts as Decimal, written as JSON numbers)."""
    return {
        "TxnDate": "2026-11-20",
        "DocNumber": doc,
        "PrivateNote": "Point of sale",
        "Line": [
            _line("Debit", _number(visa), "35", "VISA"),
            _line("Credit", _number(classes), "79", "Classes"),
            _line("Credit", _number(tax), "89", "Tax 8%"),
        ],
    }


def _number(value: str):
    """A JSON number, or the string itself when quoted ('"108.00"')."""
    return value.strip('"') if value.startswith('"') else Decimal(value)


@pytest.fixture
def token(client, quickbooks):
    return quickbooks.connect(client)


def _post(client, token, body, query: str = ""):
    return post_json(client, PATH + query, body, **bearer(token))


def _fault_codes(response) -> list[str]:
    return [error["code"] for error in response.json()["Fault"]["Error"]]


def test_a_journal_entry_is_created_with_an_id_and_sync_token_0(client, token):
    response = _post(client, token, _entry(), "&requestid=r-1")

    assert response.status_code == 200
    entry = response.json()["JournalEntry"]
    assert entry["SyncToken"] == "0"
    assert entry["DocNumber"] == "2026-11-20/VISA"
    assert entry["TotalAmt"] == 108.0
    assert [line["Amount"] for line in entry["Line"]] == [108.0, 100.0, 8.0]
    assert "time" in response.json()
    stored = AccountingObject.objects.get()
    assert stored.external_id == entry["Id"]
    assert stored.object_type == "JournalEntry"
    call = AccountingCall.objects.get()
    assert call.accounting_object == stored
    assert call.idempotency_key == "r-1"
    assert "authorization" not in {name.lower() for name in call.headers}


def test_a_sparse_update_with_the_current_sync_token_changes_the_entry_in_place(client, token):
    created = _post(client, token, _entry()).json()["JournalEntry"]
    update = {
        "Id": created["Id"],
        "SyncToken": "0",
        "sparse": True,
        "Line": [
            _line("Debit", Decimal("216.00"), "35"),
            _line("Credit", Decimal("200.00"), "79"),
            _line("Credit", Decimal("16.00"), "89"),
        ],
    }

    response = _post(client, token, update)

    assert response.status_code == 200
    entry = response.json()["JournalEntry"]
    assert (entry["Id"], entry["SyncToken"]) == (created["Id"], "1")
    assert entry["TotalAmt"] == 216.0
    assert entry["DocNumber"] == "2026-11-20/VISA"  # kept: sparse
    stored = AccountingObject.objects.get()
    assert stored.version == 1
    assert stored.body["Line"][0]["Amount"] == 216.0


def test_an_update_with_a_stale_sync_token_is_a_5010_fault(client, token):
    created = _post(client, token, _entry()).json()["JournalEntry"]
    _post(
        client, token, {"Id": created["Id"], "SyncToken": "0", "sparse": True, "PrivateNote": "x"}
    )

    stale = _post(
        client, token, {"Id": created["Id"], "SyncToken": "0", "sparse": True, "PrivateNote": "y"}
    )

    assert stale.status_code == 400
    assert _fault_codes(stale) == ["5010"]
    assert stale.json()["Fault"]["Error"][0]["Message"] == "Stale Object Error"
    assert AccountingObject.objects.get().body["PrivateNote"] == "x"


def test_delete_with_id_and_sync_token_deletes_the_entry(client, token):
    created = _post(client, token, _entry()).json()["JournalEntry"]

    deleted = _post(client, token, {"Id": created["Id"], "SyncToken": "0"}, "&operation=delete")
    again = _post(client, token, {"Id": created["Id"], "SyncToken": "1"}, "&operation=delete")

    assert deleted.status_code == 200
    assert deleted.json()["JournalEntry"] == {
        "domain": "QBO",
        "status": "Deleted",
        "Id": created["Id"],
    }
    assert AccountingObject.objects.get().is_deleted
    assert again.status_code == 400
    assert _fault_codes(again) == ["610"]


@pytest.mark.parametrize(
    ("body", "code", "detail"),
    [
        (_entry(visa="108.01"), "6000", "debits and credits must balance"),
        (_entry(visa='"108.00"'), "2010", "Line[0].Amount must be a number"),
        (_entry(doc="2026-11-20/MASTERCARD-X"), "2050", "Max:21 supported. Supplied length:23"),
        (_entry(tax="8.001", visa="108.001"), "6000", "at most 2 decimals"),
        (json_text(_entry()).replace('"89"', '"999"'), "2500", "element id 999 not found"),
        ({"TxnDate": "2026-11-20"}, "2020", "Required parameter Line is missing"),
    ],
)
def test_a_broken_entry_is_a_fault_with_its_code_and_nothing_is_booked(
    client, token, body, code, detail
):
    response = _post(client, token, body)

    assert response.status_code == 400
    assert code in _fault_codes(response)
    assert any(detail in error["Detail"] for error in response.json()["Fault"]["Error"])
    assert response.json()["Fault"]["type"] == "ValidationFault"
    assert not AccountingObject.objects.exists()


def test_an_unknown_account_is_invalid_reference_id(client, token):
    response = _post(client, token, json_text(_entry()).replace('"79"', '"4000"'))

    error = response.json()["Fault"]["Error"][0]
    assert error["Message"] == "Invalid Reference Id"
    assert error["code"] == "2500"


def test_a_company_set_to_fault_with_200_answers_its_fault_inside_a_200(client, token):
    _post(client, token, _entry())  # the company's row exists once it was called
    AccountingCompany.objects.filter(tenant_id=QUICKBOOKS_REALM).update(fault_status=200)

    response = _post(client, token, _entry(visa="1.00"))

    assert response.status_code == 200
    assert _fault_codes(response) == ["6000"]
    assert "JournalEntry" not in response.json()
    assert AccountingObject.objects.count() == 1


def test_a_repeated_requestid_gets_the_original_answer_and_books_once(client, token):
    first = _post(client, token, _entry(), "&requestid=abc-1")
    repeat = _post(client, token, _entry(), "&requestid=abc-1")
    other = _post(client, token, _entry(), "&requestid=abc-2")

    assert repeat.status_code == 200
    assert repeat.json() == first.json()
    assert other.json()["JournalEntry"]["Id"] != first.json()["JournalEntry"]["Id"]
    assert AccountingObject.objects.count() == 2
    assert AccountingCall.objects.filter(is_replay=True).count() == 1


def test_a_requestid_over_50_characters_is_refused(client, token):
    response = _post(client, token, _entry(), "&requestid=" + "r" * 51)

    assert response.status_code == 400
    assert "at most 50" in response.json()["Fault"]["Error"][0]["Detail"]


def test_no_token_is_a_401_authentication_fault(client, token):
    response = post_json(client, PATH, _entry(), HTTP_AUTHORIZATION="Bearer wrong")

    assert response.status_code == 401
    assert response.json()["Fault"]["type"] == "AUTHENTICATION"
    assert not AccountingObject.objects.exists()


def test_another_realm_is_refused_with_403(client, token):
    response = post_json(
        client, "/sandbox/quickbooks/v3/company/123/journalentry", _entry(), **bearer(token)
    )

    assert response.status_code == 403
    assert _fault_codes(response) == ["3100"]


def test_a_burst_over_the_limit_is_a_429_throttle_fault_without_retry_after(client, token):
    _post(client, token, _entry(doc="a"))
    AccountingCompany.objects.update(rate_limit_per_minute=2)
    _post(client, token, _entry(doc="b"))

    throttled = _post(client, token, _entry(doc="c"))

    assert throttled.status_code == 429
    assert _fault_codes(throttled) == ["3001"]
    assert "Retry-After" not in throttled.headers
    assert AccountingObject.objects.count() == 2
