"""What each accounting system is sent for a packet, and how its answers read (DESIGN.md,
"Accounting": the table of what is sent per type; shared/reference/accounting-systems.md).
The adapters are pure: packets in, calls and answers out, no database and no HTTP."""

import json
import re
from decimal import Decimal

import pytest
import requests

from accounting.adapters import adapter_for, body_bytes
from accounting.adapters.quickbooks import doc_number
from accounting.packets import MapTable, OrderData, Summary, empty_content, order_content

REAL_SYSTEMS = ["QUICKBOOKS_ONLINE", "XERO", "SAGE"]
ALL_TYPES = ["GENERIC", *REAL_SYSTEMS]
INTEGRATION_ID = 7
TENANT = "9130357"

MAPS = MapTable(
    [
        ("REVENUE_CATEGORY", "Classes", "4000"),
        ("REVENUE_CATEGORY", "Retail", "4100"),
        ("PAYMENT_METHOD", "VISA", "1200"),
        ("PAYMENT_METHOD", "CASH", "1000"),
        ("PAYMENT_METHOD", "AMEX", "1300"),
        ("TAX_RATE", "0.08", "TAX8"),
        ("TAX_RATE", "0", "EXEMPT"),
    ]
)
# Every field each system reads as money, by the name it has in the body.
AMOUNT_FIELDS = {
    "QUICKBOOKS_ONLINE": ["Amount"],
    "XERO": ["UnitAmount", "TaxAmount"],
    "SAGE": ["net_amount", "tax_amount", "total_amount"],
}


def make_order(key, lines, payments, business_date="2026-11-20") -> OrderData:
    order = OrderData(key=key, business_date=business_date)
    for category, rate, net, tax in lines:
        order.add_item(category, Decimal(rate), Decimal(net), Decimal(tax))
    for method, paid in payments:
        order.add_payment(method, Decimal(paid))
    return order


def split_order() -> OrderData:
    """Order T1: 20.00 of Classes at 8% (1.60 tax) and 5.00 of Retail at 0%, 26.60 paid
    20.00 by VISA and 6.60 in cash."""
    return make_order(
        "T1",
        [("Classes", "0.08", "20.00", "1.60"), ("Retail", "0", "5.00", "0.00")],
        [("VISA", "20.00"), ("CASH", "6.60")],
    )


def visa_packet() -> tuple[str, dict]:
    """The summarised VISA packet of one day: T1's VISA share and T2 (10.80 by VISA)."""
    summary = Summary()
    summary.add(split_order())
    summary.add(
        make_order("T2", [("Classes", "0.08", "10.00", "0.80")], [("VISA", "10.80")]),
    )
    packets = dict(summary.packets())
    return "2026-11-20/VISA", packets["2026-11-20/VISA"]


def unsummarised_packet() -> tuple[str, dict]:
    return "T1", order_content(split_order())


def build(integration_type, key, content, maps=MAPS):
    return adapter_for(integration_type).build(key, content, maps)


def calls_for(integration_type, key, payload, objects=None, integration_id=INTEGRATION_ID):
    return adapter_for(integration_type).calls(
        accounting_integration_id=integration_id,
        key=key,
        payload=payload,
        objects=objects or {},
        tenant_id=TENANT,
    )


def sent(call) -> dict:
    """The body as the system parses it, amounts as Decimal."""
    return json.loads(call.data(), parse_float=Decimal)


def response(status, body=None, *, text=None, headers=None) -> requests.Response:
    answer = requests.Response()
    answer.status_code = status
    if body is not None:
        text = json.dumps(body)
    answer._content = (text or "").encode()
    answer.encoding = "utf-8"
    answer.headers.update(headers or {})
    return answer


def amount_texts(data: bytes, field: str) -> list[bytes]:
    return re.findall(rb'"' + field.encode() + rb'":([^,}\]]*)', data)


def assert_amounts_are_two_decimal_numbers(integration_type, calls):
    for call in calls:
        data = call.data()
        if data is None:
            continue
        for field in AMOUNT_FIELDS[integration_type]:
            for text in amount_texts(data, field):
                assert re.fullmatch(rb"-?[0-9]+\.[0-9]{2}", text), (field, text)


def cents(value: Decimal) -> int:
    assert value == value.quantize(Decimal("0.01"))
    return int(value * 100)


def content_lines(content) -> dict[str, tuple[int, int]]:
    return {category: (net, tax) for category, _rate, net, tax in content["lines"]}


def parts_by_payment(integration_type, calls) -> dict[str, tuple[int, dict[str, list[int]]]]:
    """Xero and Sage: bank account → (what the object says it received, category → [net,
    tax] of its lines), read back from the bodies sent."""
    objects = {}
    if integration_type == "XERO":
        (call,) = calls
        for transaction in sent(call)["BankTransactions"]:
            lines = {
                item["Description"]: [cents(item["UnitAmount"]), cents(item["TaxAmount"])]
                for item in transaction["LineItems"]
            }
            total = sum(net + tax for net, tax in lines.values())
            objects[transaction["BankAccount"]["Code"]] = (total, lines)
    else:
        for call in calls:
            payment = sent(call)["other_payment"]
            lines = {}
            for line in payment["payment_lines"]:
                net, tax = cents(line["net_amount"]), cents(line["tax_amount"])
                assert cents(line["total_amount"]) == net + tax
                lines[line["details"]] = [net, tax]
            assert cents(payment["total_amount"]) == sum(n + t for n, t in lines.values())
            objects[payment["bank_account_id"]] = (cents(payment["total_amount"]), lines)
    return objects


def assert_books_match(integration_type, key, content):
    """The body books exactly the packet: QuickBooks debits equal credits and equal the
    payments; Xero and Sage one object per payment, each adding up to its payment, their
    parts adding back to the packet's lines."""
    payload, problems = build(integration_type, key, content)
    assert problems == []
    calls = calls_for(integration_type, key, payload)
    assert_amounts_are_two_decimal_numbers(integration_type, calls)
    paid = {MAPS.target("PAYMENT_METHOD", method): cents for method, cents in content["payments"]}
    if integration_type == "QUICKBOOKS_ONLINE":
        (call,) = calls
        lines = sent(call)["Line"]
        debits = [cents(x["Amount"]) for x in lines if _posting(x) == "Debit"]
        credits = [cents(x["Amount"]) for x in lines if _posting(x) == "Credit"]
        assert sum(debits) == sum(credits) == sum(paid.values())
        return
    objects = parts_by_payment(integration_type, calls)
    assert {account: total for account, (total, _lines) in objects.items()} == paid
    added_back: dict[str, list[int]] = {}
    for _total, lines in objects.values():
        for category, (net, tax) in lines.items():
            sums = added_back.setdefault(category, [0, 0])
            sums[0] += net
            sums[1] += tax
    expected = {c: [net, tax] for c, (net, tax) in content_lines(content).items() if net or tax}
    assert added_back == expected


def _posting(line) -> str:
    return line["JournalEntryLineDetail"]["PostingType"]


# ---- Bodies -----------------------------------------------------------------------------


def test_generic_posts_the_packet_totals_as_json_with_amounts_as_strings():
    key, content = visa_packet()
    payload, problems = build("GENERIC", key, content)
    (call,) = calls_for("GENERIC", key, payload)

    assert problems == []
    assert (call.method, call.path) == ("POST", "")
    assert call.data() == (
        b'{"date":"2026-11-20","lines":['
        b'{"account":"4000","netAmount":"25.04","taxAmount":"2.00","taxCode":"TAX8"},'
        b'{"account":"4100","netAmount":"3.76","taxAmount":"0.00","taxCode":"EXEMPT"}],'
        b'"payments":[{"amount":"30.80","depositAccount":"1200"}],'
        b'"reference":"2026-11-20/VISA"}'
    )


def test_generic_sends_an_order_paid_two_ways_whole_with_both_payments():
    key, content = unsummarised_packet()
    payload, problems = build("GENERIC", key, content)
    body = sent(calls_for("GENERIC", key, payload)[0])

    assert problems == []
    assert body["payments"] == [
        {"depositAccount": "1000", "amount": "6.60"},
        {"depositAccount": "1200", "amount": "20.00"},
    ]
    assert [(x["account"], x["netAmount"], x["taxAmount"]) for x in body["lines"]] == [
        ("4000", "20.00", "1.60"),
        ("4100", "5.00", "0.00"),
    ]


def test_quickbooks_books_a_summarised_packet_as_one_balanced_journal_entry():
    key, content = visa_packet()
    payload, problems = build("QUICKBOOKS_ONLINE", key, content)
    (call,) = calls_for("QUICKBOOKS_ONLINE", key, payload)

    assert problems == []

    def line(amount, description, account, posting):
        return (
            b'{"Amount":' + amount + b',"Description":"' + description + b'",'
            b'"DetailType":"JournalEntryLineDetail","JournalEntryLineDetail":'
            b'{"AccountRef":{"value":"' + account + b'"},"PostingType":"' + posting + b'"}}'
        )

    assert call.data() == (
        b'{"DocNumber":"2026-11-20/VISA","Line":['
        + line(b"30.80", b"VISA takings", b"1200", b"Debit")
        + b","
        + line(b"25.04", b"Classes sales, taxed at 8%", b"4000", b"Credit")
        + b","
        + line(b"3.76", b"Retail sales, taxed at 0%", b"4100", b"Credit")
        + b","
        + line(b"2.00", b"Sales tax 8%", b"TAX8", b"Credit")
        + b'],"PrivateNote":"Point of sale 2026-11-20/VISA: 2 order(s)",'
        b'"TxnDate":"2026-11-20"}'
    )


def test_quickbooks_debits_each_payment_of_an_order_paid_two_ways():
    key, content = unsummarised_packet()
    payload, _problems = build("QUICKBOOKS_ONLINE", key, content)
    lines = sent(calls_for("QUICKBOOKS_ONLINE", key, payload)[0])["Line"]

    debits = [(x["JournalEntryLineDetail"]["AccountRef"]["value"], x["Amount"]) for x in lines]
    assert [d for d, line in zip(debits, lines, strict=True) if _posting(line) == "Debit"] == [
        ("1000", Decimal("6.60")),
        ("1200", Decimal("20.00")),
    ]
    assert_books_match("QUICKBOOKS_ONLINE", key, content)


def test_xero_books_a_summarised_packet_as_one_receive_bank_transaction():
    key, content = visa_packet()
    payload, problems = build("XERO", key, content)
    (call,) = calls_for("XERO", key, payload)

    assert problems == []
    assert call.data() == (
        b'{"BankTransactions":[{"BankAccount":{"Code":"1200"},'
        b'"Contact":{"Name":"Point of sale"},"Date":"2026-11-20",'
        b'"LineAmountTypes":"Exclusive","LineItems":['
        b'{"AccountCode":"4000","Description":"Classes","Quantity":1,"TaxAmount":2.00,'
        b'"TaxType":"TAX8","UnitAmount":25.04},'
        b'{"AccountCode":"4100","Description":"Retail","Quantity":1,"TaxAmount":0.00,'
        b'"TaxType":"EXEMPT","UnitAmount":3.76}],'
        b'"Reference":"2026-11-20/VISA","Status":"AUTHORISED","Type":"RECEIVE"}]}'
    )


def test_xero_books_an_order_paid_two_ways_as_one_transaction_per_payment():
    key, content = unsummarised_packet()
    payload, _problems = build("XERO", key, content)
    (call,) = calls_for("XERO", key, payload)

    assert call.parts == ("CASH", "VISA")
    assert parts_by_payment("XERO", [call]) == {
        "1000": (660, {"Classes": [496, 40], "Retail": [124, 0]}),
        "1200": (2000, {"Classes": [1504, 120], "Retail": [376, 0]}),
    }
    assert_books_match("XERO", key, content)


def test_sage_books_a_summarised_packet_as_one_other_receipt():
    key, content = visa_packet()
    payload, problems = build("SAGE", key, content)
    (call,) = calls_for("SAGE", key, payload)

    assert problems == []
    idempotency_id = call.idempotency_key.replace("-", "").encode()
    assert call.data() == (
        b'{"other_payment":{"bank_account_id":"1200","date":"2026-11-20",'
        b'"idempotency_id":"' + idempotency_id + b'","payment_lines":['
        b'{"details":"Classes","ledger_account_id":"4000","net_amount":25.04,'
        b'"tax_amount":2.00,"tax_rate_id":"TAX8","total_amount":27.04},'
        b'{"details":"Retail","ledger_account_id":"4100","net_amount":3.76,'
        b'"tax_amount":0.00,"tax_rate_id":"EXEMPT","total_amount":3.76}],'
        b'"reference":"2026-11-20/VISA","total_amount":30.80,'
        b'"transaction_type_id":"OTHER_RECEIPT"}}'
    )


def test_sage_books_an_order_paid_two_ways_as_one_other_receipt_per_payment():
    key, content = unsummarised_packet()
    payload, _problems = build("SAGE", key, content)
    calls = calls_for("SAGE", key, payload)

    assert [call.parts for call in calls] == [("CASH",), ("VISA",)]
    assert parts_by_payment("SAGE", calls) == {
        "1000": (660, {"Classes": [496, 40], "Retail": [124, 0]}),
        "1200": (2000, {"Classes": [1504, 120], "Retail": [376, 0]}),
    }
    assert_books_match("SAGE", key, content)


@pytest.mark.parametrize("integration_type", REAL_SYSTEMS)
def test_each_summarised_packet_of_a_day_balances_to_its_payment(integration_type):
    summary = Summary()
    summary.add(split_order())
    summary.add(make_order("T2", [("Classes", "0.08", "10.00", "0.80")], [("VISA", "10.80")]))
    packets = list(summary.packets())

    assert [key for key, _content in packets] == ["2026-11-20/CASH", "2026-11-20/VISA"]
    for key, content in packets:
        assert_books_match(integration_type, key, content)


ODD_CENT_ORDERS = {
    "three cents paid a cent at a time": make_order(
        "T9",
        [("Classes", "0.08", "0.02", "0.01")],
        [("VISA", "0.01"), ("CASH", "0.01"), ("AMEX", "0.01")],
    ),
    "ten dollars split three ways": make_order(
        "T9",
        [("Classes", "0.08", "7.41", "0.59"), ("Retail", "0", "2.00", "0.00")],
        [("VISA", "3.33"), ("CASH", "3.33"), ("AMEX", "3.34")],
    ),
}


@pytest.mark.parametrize("integration_type", REAL_SYSTEMS)
@pytest.mark.parametrize("case", list(ODD_CENT_ORDERS))
def test_an_odd_cent_split_still_balances_to_the_cent(integration_type, case):
    order = ODD_CENT_ORDERS[case]
    assert_books_match(integration_type, order.key, order_content(order))
    summary = Summary()
    summary.add(order)
    packets = list(summary.packets())
    assert len(packets) == 3
    for key, content in packets:
        assert_books_match(integration_type, key, content)


TWO_DECIMAL_SNIPPETS = {
    # Each ends in a zero that a float would drop.
    "QUICKBOOKS_ONLINE": [b'"Amount":20.00,', b'"Amount":1.60,', b'"Amount":6.60,'],
    "XERO": [b'"TaxAmount":0.40,', b'"TaxAmount":1.20,', b'"TaxAmount":0.00,'],
    "SAGE": [b'"total_amount":20.00,', b'"tax_amount":0.00,', b'"tax_amount":1.20,'],
}


@pytest.mark.parametrize("integration_type", REAL_SYSTEMS)
def test_amounts_are_json_numbers_with_two_decimals_never_strings_nor_floats(integration_type):
    key, content = unsummarised_packet()
    payload, _problems = build(integration_type, key, content)
    calls = calls_for(integration_type, key, payload)
    data = b"".join(call.data() for call in calls)

    assert_amounts_are_two_decimal_numbers(integration_type, calls)
    for snippet in TWO_DECIMAL_SNIPPETS[integration_type]:
        assert snippet in data
        number = snippet.split(b":")[1][:-1]
        assert b'"' + number + b'"' not in data
        assert b":" + number.rstrip(b"0").rstrip(b".") + snippet[-1:] not in data


# ---- QuickBooks calls -------------------------------------------------------------------


def quickbooks_entry(key="2026-11-20/VISA"):
    _key, content = visa_packet()
    payload, _problems = build("QUICKBOOKS_ONLINE", key, content)
    return payload


def test_quickbooks_creates_a_journal_entry_with_minor_version_and_request_id():
    (call,) = calls_for("QUICKBOOKS_ONLINE", "2026-11-20/VISA", quickbooks_entry())

    assert call.method == "POST"
    assert call.path == f"v3/company/{TENANT}/journalentry"
    assert call.action == "create"
    assert call.headers["Accept"] == "application/json"
    assert call.params["minorversion"] == "75"
    assert "operation" not in call.params
    assert call.params["requestid"] == call.idempotency_key
    assert len(call.params["requestid"]) == 36
    assert "Id" not in call.body
    assert "sparse" not in call.body


def test_quickbooks_updates_the_entry_it_holds_with_its_id_and_sync_token_sparse():
    objects = {"": {"id": "228", "version": "3"}}
    (call,) = calls_for("QUICKBOOKS_ONLINE", "2026-11-20/VISA", quickbooks_entry(), objects)
    body = sent(call)

    assert (call.method, call.path, call.action) == (
        "POST",
        f"v3/company/{TENANT}/journalentry",
        "update",
    )
    assert (body["Id"], body["SyncToken"], body["sparse"]) == ("228", "3", True)
    assert b'"sparse":true' in call.data()
    assert len(body["Line"]) == 4
    assert "operation" not in call.params


def test_quickbooks_deletes_the_entry_of_an_emptied_key_with_only_id_and_sync_token():
    key = "2026-11-20/VISA"
    payload, problems = build("QUICKBOOKS_ONLINE", key, empty_content("2026-11-20"))
    (call,) = calls_for("QUICKBOOKS_ONLINE", key, payload, {"": {"id": "228", "version": "4"}})

    assert (payload, problems) == ({}, [])
    assert (call.method, call.action) == ("POST", "delete")
    assert call.path == f"v3/company/{TENANT}/journalentry"
    assert call.params["operation"] == "delete"
    assert call.params["minorversion"] == "75"
    assert len(call.params["requestid"]) == 36
    assert call.data() == b'{"Id":"228","SyncToken":"4"}'


def test_quickbooks_doc_number_is_the_key_or_a_short_unique_form_of_a_long_key():
    assert doc_number("2026-11-20/VISA") == "2026-11-20/VISA"
    assert doc_number("x" * 21) == "x" * 21
    long_key = "2026-11-20/GIFT-CARD-PREPAID"
    other = "2026-11-20/GIFT-CARD-LOYALTY"
    short = doc_number(long_key)

    assert len(short) <= 21
    assert re.fullmatch(r"2026-11-20/G~[0-9a-f]{8}", short)
    assert doc_number(other) != short
    assert doc_number(long_key) == short
    payload = quickbooks_entry(long_key)
    assert payload[""]["DocNumber"] == short


def test_quickbooks_needs_no_tax_rate_map_when_the_tax_is_zero():
    maps = MapTable(
        [("REVENUE_CATEGORY", "Retail", "4100"), ("PAYMENT_METHOD", "CASH", "1000")],
    )
    content = order_content(make_order("T3", [("Retail", "0", "5.00", "0.00")], [("CASH", "5")]))
    payload, problems = build("QUICKBOOKS_ONLINE", "T3", content, maps)

    assert problems == []
    assert [x["Amount"] for x in payload[""]["Line"]] == ["5.00", "5.00"]
    content = order_content(
        make_order("T4", [("Retail", "0.08", "5.00", "0.40")], [("CASH", "5.40")])
    )
    _payload, problems = build("QUICKBOOKS_ONLINE", "T4", content, maps)
    assert problems == ["no TAX_RATE map for '0.0800'"]


def test_quickbooks_refuses_an_entry_whose_debits_do_not_equal_its_credits():
    content = {
        "date": "2026-11-20",
        "payments": [["VISA", 2000]],
        "lines": [["Classes", "0.0800", 2000, 160]],
        "orders": 1,
    }
    _payload, problems = build("QUICKBOOKS_ONLINE", "T1", content)
    assert problems == ["T1: debits 20.00 do not equal credits 21.60"]


# ---- QuickBooks answers -----------------------------------------------------------------


def quickbooks_call(objects=None, payload=None):
    payload = quickbooks_entry() if payload is None else payload
    (call,) = calls_for("QUICKBOOKS_ONLINE", "2026-11-20/VISA", payload, objects)
    return call


def test_quickbooks_success_gives_the_entry_id_and_keeps_its_sync_token():
    answer = adapter_for("QUICKBOOKS_ONLINE").read(
        quickbooks_call(),
        response(200, {"JournalEntry": {"Id": "228", "SyncToken": "0"}, "time": "2026-11-20"}),
    )
    assert answer.ok
    assert answer.external_ids == ["228"]
    assert answer.objects == {"": {"id": "228", "version": "0"}}

    updated = adapter_for("QUICKBOOKS_ONLINE").read(
        quickbooks_call({"": {"id": "228", "version": "0"}}),
        response(200, {"JournalEntry": {"Id": "228", "SyncToken": "1"}}),
    )
    assert updated.objects == {"": {"id": "228", "version": "1"}}


def test_quickbooks_delete_answer_leaves_nothing_held():
    call = quickbooks_call({"": {"id": "228", "version": "4"}}, payload={})
    answer = adapter_for("QUICKBOOKS_ONLINE").read(
        call, response(200, {"JournalEntry": {"Id": "228", "status": "Deleted"}})
    )
    assert answer.ok
    assert answer.objects == {"": None}


def test_quickbooks_fault_inside_a_200_fails_with_its_message_detail_and_code():
    fault = {
        "Fault": {
            "Error": [
                {
                    "Message": "Invalid Reference Id",
                    "Detail": "Invalid Reference Id : Accounts element id 4000 not found",
                    "code": "2500",
                    "element": "AccountRef",
                }
            ],
            "type": "ValidationFault",
        },
        "time": "2026-11-20T10:00:00.000-08:00",
    }
    answer = adapter_for("QUICKBOOKS_ONLINE").read(quickbooks_call(), response(200, fault))

    assert not answer.ok
    assert not answer.throttled
    assert answer.objects == {}
    assert "Invalid Reference Id" in answer.error
    assert "Accounts element id 4000 not found" in answer.error
    assert "2500" in answer.error


@pytest.mark.parametrize(
    ("status", "body", "headers", "retry_after"),
    [
        (429, None, {}, None),
        (429, None, {"Retry-After": "30"}, 30.0),
        (
            200,
            {
                "Fault": {
                    "Error": [
                        {
                            "Message": "message=ThrottleExceeded; errorCode=003001",
                            "Detail": "The request limit was reached.",
                            "code": "3001",
                        }
                    ],
                    "type": "SERVICE",
                }
            },
            {},
            None,
        ),
    ],
)
def test_quickbooks_throttling_pauses_instead_of_failing(status, body, headers, retry_after):
    answer = adapter_for("QUICKBOOKS_ONLINE").read(
        quickbooks_call(), response(status, body, text="Too many requests", headers=headers)
    )
    assert not answer.ok
    assert answer.throttled
    assert answer.retry_after == retry_after


def test_quickbooks_answer_without_a_journal_entry_fails_with_status_and_excerpt():
    answer = adapter_for("QUICKBOOKS_ONLINE").read(
        quickbooks_call(), response(503, text="<html>Service   Unavailable</html>")
    )
    assert not answer.ok
    assert not answer.throttled
    assert answer.error == "HTTP 503: <html>Service Unavailable</html>"


# ---- Xero calls and answers -------------------------------------------------------------


def xero_payload():
    key, content = unsummarised_packet()
    payload, _problems = build("XERO", key, content)
    return payload


def test_xero_creates_with_put_and_its_tenant_and_idempotency_headers():
    (call,) = calls_for("XERO", "T1", xero_payload())

    assert (call.method, call.path, call.action) == (
        "PUT",
        "api.xro/2.0/BankTransactions",
        "create",
    )
    assert call.headers["xero-tenant-id"] == TENANT
    assert call.headers["Idempotency-Key"] == call.idempotency_key
    assert 0 < len(call.idempotency_key) <= 128
    assert all("BankTransactionID" not in x for x in sent(call)["BankTransactions"])


def test_xero_updates_held_transactions_by_id_creates_new_ones_and_deletes_gone_ones():
    payload = xero_payload()
    del payload["CASH"]
    payload["AMEX"] = {**payload["VISA"], "BankAccount": {"Code": "1300"}}
    objects = {"CASH": {"id": "cash-1"}, "VISA": {"id": "visa-1"}}
    (call,) = calls_for("XERO", "T1", payload, objects)
    transactions = sent(call)["BankTransactions"]

    assert (call.method, call.path, call.action) == (
        "POST",
        "api.xro/2.0/BankTransactions",
        "update",
    )
    assert call.parts == ("AMEX", "CASH", "VISA")
    assert "BankTransactionID" not in transactions[0]
    assert transactions[0]["BankAccount"] == {"Code": "1300"}
    assert transactions[1] == {"BankTransactionID": "cash-1", "Status": "DELETED"}
    assert transactions[2]["BankTransactionID"] == "visa-1"
    assert transactions[2]["Status"] == "AUTHORISED"
    assert transactions[2]["BankAccount"] == {"Code": "1200"}


def test_xero_success_maps_each_transaction_id_to_its_payment_in_order():
    payload = xero_payload()
    del payload["CASH"]
    (call,) = calls_for("XERO", "T1", payload, {"CASH": {"id": "cash-1"}})
    answer = adapter_for("XERO").read(
        call,
        response(
            200,
            {
                "Status": "OK",
                "BankTransactions": [
                    {"BankTransactionID": "cash-1", "Status": "DELETED"},
                    {"BankTransactionID": "visa-2", "Status": "AUTHORISED"},
                ],
            },
        ),
    )
    assert answer.ok
    assert answer.objects == {"CASH": None, "VISA": {"id": "visa-2"}}
    assert answer.external_ids == ["cash-1", "visa-2"]
    assert answer.note == ""


def test_xero_warnings_are_kept_as_a_note_on_a_success():
    (call,) = calls_for("XERO", "T1", xero_payload())
    answer = adapter_for("XERO").read(
        call,
        response(
            200,
            {
                "Status": "OK",
                "BankTransactions": [
                    {"BankTransactionID": "cash-1"},
                    {
                        "BankTransactionID": "visa-1",
                        "Warnings": [{"Message": "Account code '4100' has been removed"}],
                    },
                ],
            },
        ),
    )
    assert answer.ok
    assert answer.objects == {"CASH": {"id": "cash-1"}, "VISA": {"id": "visa-1"}}
    assert "Account code '4100' has been removed" in answer.note


def test_xero_validation_exception_fails_with_each_validation_message():
    (call,) = calls_for("XERO", "T1", xero_payload())
    answer = adapter_for("XERO").read(
        call,
        response(
            400,
            {
                "ErrorNumber": 10,
                "Type": "ValidationException",
                "Message": "A validation exception occurred",
                "Elements": [
                    {"ValidationErrors": [{"Message": "Account code '4000' is not a valid code"}]},
                    {
                        "ValidationErrors": [
                            {"Message": "The TaxType code 'TAX8' does not exist"},
                            {"Message": "Account code '4100' is not a valid code"},
                        ]
                    },
                ],
            },
        ),
    )
    assert not answer.ok
    assert not answer.throttled
    for message in (
        "Account code '4000' is not a valid code",
        "The TaxType code 'TAX8' does not exist",
        "Account code '4100' is not a valid code",
    ):
        assert message in answer.error


def test_xero_429_pauses_for_its_retry_after():
    (call,) = calls_for("XERO", "T1", xero_payload())
    answer = adapter_for("XERO").read(
        call,
        response(429, text="", headers={"Retry-After": "42", "X-Rate-Limit-Problem": "minute"}),
    )
    assert not answer.ok
    assert answer.throttled
    assert answer.retry_after == 42.0


# ---- Sage calls and answers -------------------------------------------------------------


def sage_payload():
    key, content = unsummarised_packet()
    payload, _problems = build("SAGE", key, content)
    return payload


def test_sage_creates_each_payment_with_post_and_its_business_header():
    calls = calls_for("SAGE", "T1", sage_payload())

    assert [(c.method, c.path, c.action) for c in calls] == [
        ("POST", "v3.1/other_payments", "create"),
        ("POST", "v3.1/other_payments", "create"),
    ]
    for call in calls:
        assert call.headers["X-Business"] == TENANT
        idempotency_id = sent(call)["other_payment"]["idempotency_id"]
        assert re.fullmatch(r"[0-9a-f]{32}", idempotency_id)
        assert idempotency_id == call.idempotency_key.replace("-", "")


def test_sage_updates_held_payments_with_put_and_deletes_gone_ones():
    payload = sage_payload()
    del payload["CASH"]
    objects = {"CASH": {"id": "op-cash"}, "VISA": {"id": "op-visa"}}
    calls = calls_for("SAGE", "T1", payload, objects)

    assert [(c.method, c.path, c.action, c.parts) for c in calls] == [
        ("DELETE", "v3.1/other_payments/op-cash", "delete", ("CASH",)),
        ("PUT", "v3.1/other_payments/op-visa", "update", ("VISA",)),
    ]
    assert calls[0].data() is None
    assert calls[0].headers["X-Business"] == TENANT
    assert sent(calls[1])["other_payment"]["total_amount"] == Decimal("20.00")


def test_sage_idempotency_id_differs_per_payment_even_for_identical_bodies():
    maps = MapTable(
        [
            ("REVENUE_CATEGORY", "Retail", "4100"),
            ("PAYMENT_METHOD", "VISA", "1200"),
            ("PAYMENT_METHOD", "CASH", "1200"),
            ("TAX_RATE", "0", "EXEMPT"),
        ]
    )
    order = make_order("T5", [("Retail", "0", "10.00", "0")], [("VISA", "5"), ("CASH", "5")])
    payload, problems = build("SAGE", "T5", order_content(order), maps)
    calls = calls_for("SAGE", "T5", payload)
    bodies = [sent(call)["other_payment"] for call in calls]

    assert problems == []
    assert {k: v for k, v in bodies[0].items() if k != "idempotency_id"} == {
        k: v for k, v in bodies[1].items() if k != "idempotency_id"
    }
    assert bodies[0]["idempotency_id"] != bodies[1]["idempotency_id"]


def sage_read(call, answer):
    return adapter_for("SAGE").read(call, answer)


def test_sage_created_payment_gives_its_id():
    call = calls_for("SAGE", "T1", sage_payload())[1]
    answer = sage_read(call, response(201, {"id": "op-9", "displayed_as": "T1", "$path": "/x"}))
    assert answer.ok
    assert answer.objects == {"VISA": {"id": "op-9"}}
    assert answer.external_ids == ["op-9"]


def test_sage_422_fails_with_its_messages():
    call = calls_for("SAGE", "T1", sage_payload())[0]
    answer = sage_read(
        call,
        response(
            422,
            [
                {
                    "$severity": "error",
                    "$dataCode": "RecordInvalid",
                    "$message": "Ledger account can't be blank",
                    "$source": "payment_lines.0.ledger_account",
                },
                {
                    "$severity": "error",
                    "$dataCode": "RecordInvalid",
                    "$message": "Tax rate is not valid",
                    "$source": "",
                },
            ],
        ),
    )
    assert not answer.ok
    assert not answer.throttled
    assert "Ledger account can't be blank" in answer.error
    assert "Tax rate is not valid" in answer.error


@pytest.mark.parametrize("status", [200, 204, 404])
def test_sage_delete_answered_no_content_or_not_found_leaves_the_payment_gone(status):
    (call,) = calls_for("SAGE", "T1", {}, {"CASH": {"id": "op-cash"}})
    answer = sage_read(call, response(status, text=""))
    assert answer.ok
    assert answer.objects == {"CASH": None}


def test_sage_delete_refused_fails_and_keeps_the_payment():
    (call,) = calls_for("SAGE", "T1", {}, {"CASH": {"id": "op-cash"}})
    answer = sage_read(call, response(500, text="boom"))
    assert not answer.ok
    assert answer.objects == {}


def test_sage_429_pauses():
    call = calls_for("SAGE", "T1", sage_payload())[0]
    answer = sage_read(call, response(429, text="", headers={"Retry-After": "5"}))
    assert answer.throttled
    assert answer.retry_after == 5.0


# ---- GENERIC answers --------------------------------------------------------------------


def generic_call():
    key, content = visa_packet()
    payload, _problems = build("GENERIC", key, content)
    (call,) = calls_for("GENERIC", key, payload)
    return call


@pytest.mark.parametrize("status", [200, 201, 202, 204])
def test_generic_any_2xx_is_a_success(status):
    assert adapter_for("GENERIC").read(generic_call(), response(status, text="")).ok


def test_generic_non_2xx_fails_with_status_and_excerpt():
    answer = adapter_for("GENERIC").read(
        generic_call(), response(422, {"detail": "unknown account 4000"})
    )
    assert not answer.ok
    assert not answer.throttled
    assert answer.error == 'HTTP 422: {"detail": "unknown account 4000"}'


def test_generic_429_pauses():
    answer = adapter_for("GENERIC").read(
        generic_call(), response(429, text="slow down", headers={"Retry-After": "7"})
    )
    assert answer.throttled
    assert answer.retry_after == 7.0


# ---- Idempotency ------------------------------------------------------------------------


@pytest.mark.parametrize("integration_type", ALL_TYPES)
def test_the_same_body_always_has_the_same_key_and_a_changed_body_a_new_one(integration_type):
    key, content = unsummarised_packet()
    payload, _problems = build(integration_type, key, content)
    first = calls_for(integration_type, key, payload)
    # The payload read back from the database (keys reordered by jsonb) is the same body.
    reread = json.loads(json.dumps(payload, sort_keys=True))
    again = calls_for(integration_type, key, reread)
    changed_content = {**content, "lines": [*content["lines"]]}
    changed_content["lines"][1] = ["Retail", "0.0000", 501, 0]
    changed_content["payments"] = [["CASH", 661], ["VISA", 2000]]
    changed, _problems = build(integration_type, key, changed_content)
    after_change = calls_for(integration_type, key, changed)

    assert [c.idempotency_key for c in first] == [c.idempotency_key for c in again]
    assert [c.data() for c in first] == [c.data() for c in again]
    assert all(c.idempotency_key for c in first)
    # Only the CASH body changed; the CASH call gets a new key.
    assert first[0].idempotency_key != after_change[0].idempotency_key
    assert calls_for(integration_type, key, payload, integration_id=8)[0].idempotency_key != (
        first[0].idempotency_key
    )


def test_generic_idempotency_key_header_follows_the_body():
    key, content = visa_packet()
    payload, _problems = build("GENERIC", key, content)
    (first,) = calls_for("GENERIC", key, payload)
    (again,) = calls_for("GENERIC", key, dict(reversed(list(payload.items()))))
    (changed,) = calls_for("GENERIC", key, {**payload, "date": "2026-11-21"})

    assert first.headers["Idempotency-Key"] == again.headers["Idempotency-Key"]
    assert first.headers["Idempotency-Key"] == first.idempotency_key
    assert changed.headers["Idempotency-Key"] != first.headers["Idempotency-Key"]


def test_quickbooks_request_id_changes_with_the_sync_token():
    payload = quickbooks_entry()
    first = quickbooks_call({"": {"id": "228", "version": "0"}}, payload)
    second = quickbooks_call({"": {"id": "228", "version": "1"}}, payload)
    assert first.params["requestid"] != second.params["requestid"]


# ---- Problems ---------------------------------------------------------------------------


@pytest.mark.parametrize("integration_type", ALL_TYPES)
def test_unmapped_values_are_each_named_once(integration_type):
    order = make_order(
        "T6",
        [
            ("Gifts", "0.08", "10.00", "0.80"),
            ("Gifts", "0.0825", "10.00", "0.83"),
            ("Classes", "0.0825", "10.00", "0.83"),
        ],
        [("GIFT", "20.00"), ("VISA", "12.46")],
    )
    _payload, problems = build(integration_type, "T6", order_content(order))

    assert sorted(problems) == sorted(
        [
            "no PAYMENT_METHOD map for 'GIFT'",
            "no REVENUE_CATEGORY map for 'Gifts'",
            "no TAX_RATE map for '0.0825'",
        ]
    )


@pytest.mark.parametrize("integration_type", REAL_SYSTEMS)
def test_an_emptied_key_deletes_what_is_held_or_calls_nothing(integration_type):
    payload, problems = build(integration_type, "T1", empty_content("2026-11-20"))

    assert (payload, problems) == ({}, [])
    assert calls_for(integration_type, "T1", payload) == []
    held = {"": {"id": "228", "version": "2"}}
    if integration_type != "QUICKBOOKS_ONLINE":
        held = {"CASH": {"id": "a"}, "VISA": {"id": "b"}}
    calls = calls_for(integration_type, "T1", payload, held)
    if integration_type == "XERO":
        (call,) = calls
        assert sent(call)["BankTransactions"] == [
            {"BankTransactionID": "a", "Status": "DELETED"},
            {"BankTransactionID": "b", "Status": "DELETED"},
        ]
    else:
        assert {call.action for call in calls} == {"delete"}
        assert len(calls) == len(held)


def test_generic_emptied_key_posts_empty_lists_under_the_same_reference():
    payload, problems = build("GENERIC", "2026-11-20/VISA", empty_content("2026-11-20"))
    (call,) = calls_for("GENERIC", "2026-11-20/VISA", payload)

    assert problems == []
    assert call.data() == (
        b'{"date":"2026-11-20","lines":[],"payments":[],"reference":"2026-11-20/VISA"}'
    )


@pytest.mark.parametrize("integration_type", REAL_SYSTEMS)
@pytest.mark.parametrize(
    "payments",
    [[], [["AMEX", 1000], ["VISA", 0]]],
    ids=["no payment at all", "part left unpaid"],
)
def test_lines_that_payments_do_not_cover_are_a_problem_not_dropped(integration_type, payments):
    content = {
        "date": "2026-11-20",
        "payments": payments,
        "lines": [["Classes", "0.0800", 2000, 160]],
        "orders": 1,
    }
    _payload, problems = build(integration_type, "T1", content)
    assert any("21.60" in problem for problem in problems), problems


def test_body_bytes_writes_amount_text_as_numbers_only_in_amount_fields():
    body = {"Amount": "21.60", "Description": "21.60", "Other": ["1.50"]}
    assert body_bytes(body, frozenset({"Amount"})) == (
        b'{"Amount":21.60,"Description":"21.60","Other":["1.50"]}'
    )
    assert body_bytes(body) == b'{"Amount":"21.60","Description":"21.60","Other":["1.50"]}'


@pytest.mark.parametrize("integration_type", ALL_TYPES)
def test_an_answer_that_is_not_json_fails_with_its_status_and_a_short_excerpt(integration_type):
    key, content = unsummarised_packet()
    payload, _problems = build(integration_type, key, content)
    call = calls_for(integration_type, key, payload)[0]
    page = "<html><body>" + "Bad gateway " * 100 + "</body></html>"
    answer = adapter_for(integration_type).read(call, response(502, text=page))

    assert not answer.ok
    assert not answer.throttled
    assert answer.objects == {}
    assert answer.error.startswith("HTTP 502: <html><body>Bad gateway")
    assert len(answer.error) <= len("HTTP 502: ") + 500


@pytest.mark.parametrize("integration_type", ["QUICKBOOKS_ONLINE", "XERO", "SAGE"])
def test_a_200_without_the_created_object_is_not_taken_for_a_success(integration_type):
    key, content = unsummarised_packet()
    payload, _problems = build(integration_type, key, content)
    call = calls_for(integration_type, key, payload)[0]
    answer = adapter_for(integration_type).read(call, response(200, {"time": "now"}))

    assert not answer.ok
    assert answer.objects == {}


@pytest.mark.parametrize("integration_type", REAL_SYSTEMS)
def test_a_payment_with_no_lines_to_book_is_a_problem(integration_type):
    content = {"date": "2026-11-20", "payments": [["VISA", 500]], "lines": [], "orders": 1}
    _payload, problems = build(integration_type, "T1", content)
    assert len(problems) == 1
    assert "5.00" in problems[0]


@pytest.mark.parametrize("integration_type", REAL_SYSTEMS)
def test_a_key_booked_again_after_its_objects_were_deleted_gets_new_idempotency_keys(
    integration_type,
):
    """The same body as before the deletion must not repeat its key: QuickBooks' requestid
    and Sage's idempotency_id would answer with the deleted object."""
    key, content = visa_packet()
    payload, _ = build(integration_type, key, content)

    def keys(revision):
        calls = adapter_for(integration_type).calls(
            accounting_integration_id=INTEGRATION_ID,
            key=key,
            payload=payload,
            objects={},
            tenant_id=TENANT,
            revision=revision,
        )
        return [call.idempotency_key for call in calls]

    assert keys(0) == keys(0)
    assert set(keys(1)).isdisjoint(keys(0))
    assert set(keys(2)).isdisjoint(keys(1))


def test_a_sage_update_never_reuses_the_idempotency_id_of_the_create_with_the_same_lines():
    """Sage answers a repeated idempotency_id with the object it made then: an update of the
    same lines must not look like that create."""
    key, content = visa_packet()
    payload, _ = build("SAGE", key, content)

    [create] = calls_for("SAGE", key, payload)
    [update] = calls_for("SAGE", key, payload, objects={"VISA": {"id": "pay-1"}})

    assert update.method == "PUT"
    assert (
        sent(update)["other_payment"]["idempotency_id"]
        != sent(create)["other_payment"]["idempotency_id"]
    )
