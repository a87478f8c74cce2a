"""The sandbox's Xero: `GET /sandbox/xero/connections` (the organisations the token was
granted) and `PUT|POST /sandbox/xero/api.xro/2.0/BankTransactions` (header
`xero-tenant-id`), over the chart in accounting_data.

- An element with `BankTransactionID` updates that transaction (the fields given replace
  the stored ones); with `"Status": "DELETED"` it deletes it; one without creates. PUT and
  POST behave alike.
- Errors: 400 `ValidationException` with `Elements[].ValidationErrors[].Message` (unknown
  bank account, TaxType, missing fields, amounts that are not numbers); nothing is saved
  when any element fails. Bad JSON: 400 `PostDataInvalidException`.
- Warning case: a line whose `AccountCode` is not in the chart is kept as sent and its
  transaction answers `"StatusAttributeString": "WARNING"` with a `Warnings` list on that
  element (as Xero does for journal lines it cannot code).
- `Idempotency-Key` (≤ 128): a repeat within 6 minutes gets the original answer; the same
  key with another body is a 400.
- Throttling: 429 with `Retry-After` (seconds) and `X-Rate-Limit-Problem: minute`; every
  answered call carries `X-MinLimit-Remaining`.
"""

import uuid
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import partial

from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from . import accounting_data as data
from .accounting_api import (
    Answer,
    ErrorStyle,
    amount,
    api_call_handle,
    body_sha256,
    call_replay_find,
    companies_of,
    decimal_copy,
    has_at_most_decimals,
    is_number,
    iso_date,
    json_body,
    json_ready,
    replay_answer,
)
from .accounting_models import AccountingCompany, AccountingObject

IDEMPOTENCY_KEY_LIMIT = 128
IDEMPOTENCY_WINDOW = timedelta(minutes=6)
TYPES = frozenset({"RECEIVE", "SPEND"})
STATUSES = frozenset({"AUTHORISED", "DELETED"})
LINE_AMOUNT_TYPES = frozenset({"Exclusive", "Inclusive", "NoTax"})
TAX_RATES = {"TAX001": Decimal("0.08"), "NONE": Decimal(0)}
CENT = Decimal("0.01")


def _problem(status: int, title: str, detail: str) -> Answer:
    return Answer(
        status=status,
        body={
            "Type": None,
            "Title": title,
            "Status": status,
            "Detail": detail,
            "Instance": str(uuid.uuid4()),
            "Extensions": {},
        },
    )


class XeroErrors(ErrorStyle):
    def unauthorized(self) -> Answer:
        answer = _problem(401, "Unauthorized", "AuthenticationUnsuccessful")
        answer.headers["WWW-Authenticate"] = 'Bearer realm="api.xero.com"'
        return answer

    def forbidden(self, tenant_id) -> Answer:
        return _problem(403, "Forbidden", "AuthenticationUnsuccessful")

    def throttled(self, retry_after: int) -> Answer:
        answer = _problem(429, "Too Many Requests", "Minute rate limit exceeded")
        answer.headers.update({"Retry-After": str(retry_after), "X-Rate-Limit-Problem": "minute"})
        return answer

    def rate_headers(self, remaining: int) -> dict:
        return {"X-MinLimit-Remaining": str(max(0, remaining))}


def _validation_exception(elements: list[dict], message: str = "") -> Answer:
    return Answer(
        status=400,
        body={
            "ErrorNumber": 10,
            "Type": "ValidationException",
            "Message": message or "A validation exception occurred",
            "Elements": elements,
        },
    )


def _line_problems(index: int, line) -> tuple[list[str], list[str]]:
    """(errors, warnings) of one line item."""
    where = f"LineItems[{index}]"
    if not isinstance(line, dict):
        return [f"{where} must be an object."], []
    errors, warnings = [], []
    for name in ("Quantity", "UnitAmount", "TaxAmount", "LineAmount"):
        if name in line and not is_number(line[name]):
            errors.append(f"{where}.{name} must be a number, not {line[name]!r}.")
    if "UnitAmount" not in line and "LineAmount" not in line:
        errors.append(f"{where}: a UnitAmount or LineAmount must be specified.")
    if is_number(line.get("TaxAmount")) and not has_at_most_decimals(line["TaxAmount"], 2):
        errors.append(f"{where}.TaxAmount must have at most 2 decimals.")
    if "TaxType" in line and line["TaxType"] not in data.XERO_TAX_TYPES:
        errors.append(
            f"The TaxType code '{line['TaxType']}' does not exist or cannot be used for this "
            "type of transaction."
        )
    code = line.get("AccountCode")
    if not code:
        errors.append(f"{where}: Account code must be specified.")
    elif code in data.XERO_BANK_ACCOUNTS:
        errors.append(f"Account code '{code}' is a bank account and cannot be used on a line.")
    elif code not in data.XERO_ACCOUNTS:
        warnings.append(f"Account code '{code}' is not a valid code; the line was left uncoded.")
    return errors, warnings


def bank_transaction_problems(transaction: dict) -> tuple[list[str], list[str]]:
    """(errors, warnings) Xero would give `transaction` (a new or merged one)."""
    errors: list[str] = []
    if transaction.get("Type") not in TYPES:
        errors.append("The Type field is mandatory and must be RECEIVE or SPEND.")
    contact = transaction.get("Contact")
    if not isinstance(contact, dict) or not (contact.get("Name") or contact.get("ContactID")):
        errors.append("A Contact must be specified for this type of transaction.")
    bank = transaction.get("BankAccount")
    code = bank.get("Code") if isinstance(bank, dict) else None
    if not code:
        errors.append("A BankAccount with a Code must be specified.")
    elif code not in data.XERO_BANK_ACCOUNTS:
        errors.append(f"Account code '{code}' is not a valid bank account code.")
    if "Date" in transaction and not iso_date(transaction["Date"]):
        errors.append("Date must be a date (yyyy-MM-dd).")
    if transaction.get("LineAmountTypes", "Exclusive") not in LINE_AMOUNT_TYPES:
        errors.append("LineAmountTypes must be Exclusive, Inclusive or NoTax.")
    if transaction.get("Status", "AUTHORISED") not in STATUSES:
        errors.append("Status must be AUTHORISED or DELETED for a bank transaction.")
    reference = transaction.get("Reference", "")
    if not isinstance(reference, str) or len(reference) > 255:
        errors.append("Reference must be a string of at most 255 characters.")
    lines = transaction.get("LineItems")
    if not isinstance(lines, list) or not lines:
        errors.append("A bank transaction must have at least one line item.")
        return errors, []
    warnings: list[str] = []
    for index, line in enumerate(lines):
        line_errors, line_warnings = _line_problems(index, line)
        errors += line_errors
        warnings += line_warnings
    return errors, warnings


def _line_totals(line: dict) -> tuple[Decimal, Decimal]:
    if "LineAmount" in line:
        net = amount(line["LineAmount"])
    else:
        net = (amount(line.get("Quantity", 1)) * amount(line["UnitAmount"])).quantize(
            CENT, ROUND_HALF_UP
        )
    if "TaxAmount" in line:
        return net, amount(line["TaxAmount"])
    rate = TAX_RATES.get(line.get("TaxType", "NONE"), Decimal(0))
    return net, (net * rate).quantize(CENT, ROUND_HALF_UP)


def bank_transaction_json(obj: AccountingObject, warnings: list[str] = ()) -> dict:
    """The BankTransaction as Xero returns it."""
    transaction = decimal_copy(obj.body)
    totals = [_line_totals(line) for line in transaction["LineItems"]]
    subtotal = sum((net for net, _ in totals), Decimal(0))
    tax = sum((tax for _, tax in totals), Decimal(0))
    answer = {
        **transaction,
        "BankTransactionID": obj.external_id,
        "Status": transaction.get("Status", "AUTHORISED"),
        "LineAmountTypes": transaction.get("LineAmountTypes", "Exclusive"),
        "LineItems": [
            {**line, "LineItemID": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{obj.pk}/{i}"))}
            | {"LineAmount": net, "TaxAmount": line_tax}
            for i, (line, (net, line_tax)) in enumerate(
                zip(transaction["LineItems"], totals, strict=True)
            )
        ],
        "SubTotal": subtotal,
        "TotalTax": tax,
        "Total": subtotal + tax,
        "CurrencyCode": "USD",
        "IsReconciled": False,
        "UpdatedDateUTC": _xero_date(obj.updated_at),
        "StatusAttributeString": "WARNING" if warnings else "OK",
    }
    if warnings:
        answer["Warnings"] = [{"Message": message} for message in warnings]
    return answer


def _xero_date(moment) -> str:
    return f"/Date({int(moment.timestamp() * 1000)}+0000)/"


def _elements(body) -> list | None:
    if isinstance(body, dict) and isinstance(body.get("BankTransactions"), list):
        return body["BankTransactions"]
    if isinstance(body, dict) and "Type" in body:
        return [body]
    return None


def _handle(*, idempotency_key: str, grant, company: AccountingCompany, body: bytes) -> Answer:
    if len(idempotency_key) > IDEMPOTENCY_KEY_LIMIT:
        message = f"The Idempotency-Key must be at most {IDEMPOTENCY_KEY_LIMIT} characters."
        return _validation_exception([{"ValidationErrors": [{"Message": message}]}], message)
    if idempotency_key:
        earlier = call_replay_find(
            company=company,
            idempotency_key=idempotency_key,
            since=timezone.now() - IDEMPOTENCY_WINDOW,
        )
        if earlier is not None and earlier.body_sha256 != body_sha256(body):
            message = "The Idempotency-Key has already been used with a different request."
            return _validation_exception([{"ValidationErrors": [{"Message": message}]}], message)
        if earlier is not None:
            return replay_answer(earlier)
    try:
        elements = _elements(json_body(body))
    except ValueError:
        elements = None
    if elements is None:
        return Answer(
            status=400,
            body={
                "ErrorNumber": 14,
                "Type": "PostDataInvalidException",
                "Message": "The body must be JSON with a BankTransactions list.",
            },
        )
    if not elements:
        return _validation_exception([], "There are no BankTransactions to save.")
    planned, reports, has_errors = [], [], False
    for element in elements:
        obj, merged, errors, warnings = _plan(company, element)
        planned.append((obj, merged, warnings))
        reports.append(
            {
                **(element if isinstance(element, dict) else {}),
                "ValidationErrors": [{"Message": message} for message in errors],
            }
        )
        has_errors = has_errors or bool(errors)
    if has_errors:
        return _validation_exception(reports)
    saved = []
    for obj, merged, warnings in planned:
        if obj is None:
            obj = AccountingObject(
                company=company,
                object_type=AccountingObject.ObjectType.BANK_TRANSACTION,
                external_id=str(uuid.uuid4()),
            )
        else:
            obj.version += 1
        obj.body = json_ready(merged)
        obj.is_deleted = merged.get("Status") == "DELETED"
        obj.save()
        saved.append(bank_transaction_json(obj, warnings))
    return Answer(
        status=200,
        body={
            "Id": str(uuid.uuid4()),
            "Status": "OK",
            "ProviderName": grant.app.name,
            "DateTimeUTC": _xero_date(timezone.now()),
            "BankTransactions": saved,
        },
        accounting_object=obj,
    )


def _plan(company: AccountingCompany, element) -> tuple:
    """(existing object or None, the transaction to store, errors, warnings)."""
    if not isinstance(element, dict):
        return None, {}, ["A BankTransaction must be an object."], []
    given = {k: v for k, v in element.items() if k not in ("BankTransactionID", "Warnings")}
    transaction_id = element.get("BankTransactionID")
    if not transaction_id:
        if given.get("Status") == "DELETED":
            return None, given, ["Only an existing bank transaction can be DELETED."], []
        errors, warnings = bank_transaction_problems(given)
        return None, given, errors, warnings
    obj = (
        AccountingObject.objects.select_for_update()
        .filter(company=company, external_id=str(transaction_id))
        .first()
    )
    if obj is None:
        return None, given, [f"BankTransactionID {transaction_id} was not found."], []
    if obj.is_deleted:
        return obj, given, ["This bank transaction has been deleted and cannot be edited."], []
    merged = {**decimal_copy(obj.body), **given}
    if given.get("Status") == "DELETED":
        return obj, merged, [], []
    errors, warnings = bank_transaction_problems(merged)
    return obj, merged, errors, warnings


@csrf_exempt  # machine-to-machine, authenticated by Bearer token
def bank_transactions(request):
    if request.method not in ("PUT", "POST"):
        return JsonResponse({"Message": "Use PUT or POST."}, status=405)
    idempotency_key = request.headers.get("Idempotency-Key", "")
    return api_call_handle(
        request,
        system=data.XERO,
        style=XeroErrors(),
        tenant_id=request.headers.get("Xero-Tenant-Id", ""),
        handler=partial(_handle, idempotency_key=idempotency_key),
        idempotency_key=idempotency_key,
    )


def _connections(*, grant, company, body) -> Answer:
    moment = grant.created_at.isoformat(timespec="seconds").replace("+00:00", "")
    return Answer(
        status=200,
        body=[
            {
                "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"grant/{grant.pk}/{c.tenant_id}")),
                "authEventId": str(uuid.uuid5(uuid.NAMESPACE_URL, f"grant/{grant.pk}")),
                "tenantId": c.tenant_id,
                "tenantType": "ORGANISATION",
                "tenantName": c.name,
                "createdDateUtc": moment,
                "updatedDateUtc": moment,
            }
            for c in companies_of(grant)
        ],
    )


@csrf_exempt  # machine-to-machine, authenticated by Bearer token
def connections(request):
    if request.method != "GET":
        return JsonResponse({"Message": "Use GET."}, status=405)
    return api_call_handle(
        request,
        system=data.XERO,
        style=XeroErrors(),
        tenant_id=None,
        handler=_connections,
        is_tenant_call=False,
    )
