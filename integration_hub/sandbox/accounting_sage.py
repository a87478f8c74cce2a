"""The sandbox's Sage Accounting (API v3.1): `GET /sandbox/sage/v3.1/businesses`, and
`POST /sandbox/sage/v3.1/other_payments` (201), `GET|PUT|DELETE .../other_payments/{id}`
(header `X-Business`), over the chart in accounting_data.

- Errors: 422 list of `{"$severity": "error", "$dataCode", "$message", "$source"}` (missing
  or unknown ids, amounts that are not numbers, a line whose net + tax is not its total, a
  total that is not the sum of the lines); 404 the same shape with `RECORDNOTFOUND`.
- `idempotency_id` (32 hex) in the body: a repeat in the same business returns the object
  it created (201), created once.
- PUT replaces the fields given (`payment_lines` as a whole); DELETE answers 204.
- Throttling: 429 with a `TooManyRequests` list and no Retry-After (none is documented for
  v3.1; clients wait their default).
"""

import re
import uuid
from decimal import Decimal
from functools import partial

from django.db import IntegrityError, transaction
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt

from . import accounting_data as data
from .accounting_api import (
    Answer,
    ErrorStyle,
    amount,
    api_call_handle,
    companies_of,
    decimal_copy,
    has_at_most_decimals,
    is_number,
    iso_date,
    json_body,
    json_ready,
)
from .accounting_models import AccountingCompany, AccountingObject

IDEMPOTENCY_ID = re.compile(r"^[0-9a-fA-F]{32}$")
TRANSACTION_TYPES = {"OTHER_RECEIPT": "Other Receipt", "OTHER_PAYMENT": "Other Payment"}


def _error(source: str, message: str, data_code: str = "RECORDINVALID") -> dict:
    return {"$severity": "error", "$dataCode": data_code, "$message": message, "$source": source}


class SageErrors(ErrorStyle):
    def unauthorized(self) -> Answer:
        answer = Answer(
            status=401,
            body=[_error("", "The access token is missing, invalid or expired.", "invalid_token")],
        )
        answer.headers["WWW-Authenticate"] = 'Bearer realm="sage"'
        return answer

    def forbidden(self, tenant_id) -> Answer:
        message = (
            "X-Business is required."
            if not tenant_id
            else f"The token has no access to business {tenant_id}."
        )
        return Answer(status=403, body=[_error("X-Business", message, "AccessDenied")])

    def throttled(self, retry_after: int) -> Answer:
        return Answer(
            status=429,
            body=[_error("", "Too many requests: slow down and retry.", "TooManyRequests")],
        )


def _amount_errors(source: str, value, *, required: bool) -> list[dict]:
    if value is None:
        return [_error(source, f"{source} is required")] if required else []
    if not is_number(value):
        return [_error(source, f"{source} must be a number, not {value!r}")]
    if not has_at_most_decimals(value, 2):
        return [_error(source, f"{source} must have at most 2 decimals")]
    return []


def _line_errors(index: int, line) -> list[dict]:
    where = f"payment_lines.{index}"
    if not isinstance(line, dict):
        return [_error(where, "A payment line must be an object")]
    errors = []
    ledger = line.get("ledger_account_id")
    if not ledger:
        errors.append(_error(f"{where}.ledger_account_id", "Ledger account is required"))
    elif ledger not in data.SAGE_LEDGER_ACCOUNTS:
        errors.append(_error(f"{where}.ledger_account_id", f"Ledger account {ledger} not found"))
    if "tax_rate_id" in line and line["tax_rate_id"] not in data.SAGE_TAX_RATES:
        errors.append(_error(f"{where}.tax_rate_id", f"Tax rate {line['tax_rate_id']} not found"))
    for name, required in (("net_amount", False), ("tax_amount", False), ("total_amount", True)):
        errors += _amount_errors(f"{where}.{name}", line.get(name), required=required)
    if errors:
        return errors
    has_parts = "net_amount" in line and "tax_amount" in line
    parts = amount(line.get("net_amount")) + amount(line.get("tax_amount"))
    if has_parts and parts != amount(line["total_amount"]):
        errors.append(
            _error(
                f"{where}.total_amount",
                "The total amount must equal the net amount plus the tax amount",
            )
        )
    return errors


def other_payment_errors(payment: dict) -> list[dict]:
    """The 422 list Sage would answer for `payment` (a new or merged one)."""
    errors = []
    if payment.get("transaction_type_id") not in TRANSACTION_TYPES:
        errors.append(
            _error("transaction_type_id", "Transaction type must be OTHER_RECEIPT or OTHER_PAYMENT")
        )
    if not iso_date(payment.get("date")):
        errors.append(_error("date", "date is required (yyyy-mm-dd)"))
    bank = payment.get("bank_account_id")
    if not bank:
        errors.append(_error("bank_account_id", "Bank account is required"))
    elif bank not in data.SAGE_BANK_ACCOUNTS:
        errors.append(_error("bank_account_id", f"Bank account {bank} not found"))
    if "reference" in payment and not isinstance(payment["reference"], str):
        errors.append(_error("reference", "reference must be a string"))
    idempotency_id = payment.get("idempotency_id")
    if idempotency_id is not None and not IDEMPOTENCY_ID.match(str(idempotency_id)):
        errors.append(_error("idempotency_id", "idempotency_id must be 32 hexadecimal digits"))
    errors += _amount_errors("total_amount", payment.get("total_amount"), required=True)
    lines = payment.get("payment_lines")
    if not isinstance(lines, list) or not lines:
        errors.append(_error("payment_lines", "At least one payment line is required"))
        return errors
    line_errors = [error for i, line in enumerate(lines) for error in _line_errors(i, line)]
    if line_errors or errors:
        return errors + line_errors
    lines_total = sum((amount(line["total_amount"]) for line in lines), Decimal(0))
    if lines_total != amount(payment["total_amount"]):
        errors.append(
            _error(
                "total_amount",
                f"The total amount {payment['total_amount']} does not match the sum of the "
                f"payment lines {lines_total}",
            )
        )
    return errors


def _link(kind: str, item_id: str, names: dict) -> dict:
    return {
        "id": item_id,
        "displayed_as": names.get(item_id, item_id),
        "$path": f"/{kind}/{item_id}",
    }


def other_payment_json(obj: AccountingObject) -> dict:
    """The other payment as Sage returns it."""
    payment = decimal_copy(obj.body)
    lines = payment["payment_lines"]
    type_id = payment["transaction_type_id"]
    return {
        "id": obj.external_id,
        "displayed_as": payment.get("reference") or TRANSACTION_TYPES[type_id],
        "$path": f"/other_payments/{obj.external_id}",
        "transaction": {
            "id": uuid.uuid5(uuid.NAMESPACE_URL, f"transaction/{obj.external_id}").hex,
            "$path": f"/transactions/{obj.external_id}",
        },
        "transaction_type": {"id": type_id, "displayed_as": TRANSACTION_TYPES[type_id]},
        "created_at": obj.created_at.isoformat(timespec="seconds"),
        "updated_at": obj.updated_at.isoformat(timespec="seconds"),
        "date": payment["date"],
        "reference": payment.get("reference", ""),
        "bank_account": _link("bank_accounts", payment["bank_account_id"], data.SAGE_BANK_ACCOUNTS),
        "net_amount": sum((amount(line.get("net_amount", 0)) for line in lines), Decimal(0)),
        "tax_amount": sum((amount(line.get("tax_amount", 0)) for line in lines), Decimal(0)),
        "total_amount": payment["total_amount"],
        "payment_lines": [
            {
                "id": uuid.uuid5(uuid.NAMESPACE_URL, f"{obj.external_id}/{obj.version}/{i}").hex,
                "displayed_as": line.get("details", ""),
                "ledger_account": _link(
                    "ledger_accounts", line["ledger_account_id"], data.SAGE_LEDGER_ACCOUNTS
                ),
                "details": line.get("details", ""),
                "tax_rate": (
                    _link("tax_rates", line["tax_rate_id"], data.SAGE_TAX_RATES)
                    if "tax_rate_id" in line
                    else None
                ),
                "net_amount": line.get("net_amount", line["total_amount"]),
                "tax_amount": line.get("tax_amount", 0),
                "total_amount": line["total_amount"],
            }
            for i, line in enumerate(lines)
        ],
        "deleted_at": None,
    }


def _payment_in(body: bytes) -> dict | None:
    try:
        parsed = json_body(body)
    except ValueError:
        return None
    payment = parsed.get("other_payment") if isinstance(parsed, dict) else None
    return payment if isinstance(payment, dict) else None


BAD_BODY = Answer(
    status=422, body=[_error("other_payment", 'The body must be {"other_payment": {...}}')]
)


def _create(*, grant, company: AccountingCompany, body: bytes) -> Answer:
    payment = _payment_in(body)
    if payment is None:
        return BAD_BODY
    idempotency_id = str(payment.get("idempotency_id") or "").lower()
    if idempotency_id and IDEMPOTENCY_ID.match(idempotency_id):
        earlier = AccountingObject.objects.filter(
            company=company, idempotency_id=idempotency_id
        ).first()
        if earlier is not None:
            return Answer(
                status=201,
                body=other_payment_json(earlier),
                accounting_object=earlier,
                is_replay=True,
            )
    errors = other_payment_errors(payment)
    if errors:
        return Answer(status=422, body=errors)
    try:
        with transaction.atomic():
            obj = AccountingObject.objects.create(
                company=company,
                object_type=AccountingObject.ObjectType.OTHER_PAYMENT,
                external_id=uuid.uuid4().hex,
                body=json_ready(payment),
                idempotency_id=idempotency_id,
            )
    except IntegrityError:  # the same idempotency_id created at this very moment
        obj = AccountingObject.objects.get(company=company, idempotency_id=idempotency_id)
        return Answer(
            status=201, body=other_payment_json(obj), accounting_object=obj, is_replay=True
        )
    return Answer(status=201, body=other_payment_json(obj), accounting_object=obj)


def _not_found(payment_id: str) -> Answer:
    return Answer(
        status=404,
        body=[_error("id", f"Other payment {payment_id} not found", "RECORDNOTFOUND")],
    )


def _change(*, method: str, payment_id: str, grant, company: AccountingCompany, body: bytes):
    obj = (
        AccountingObject.objects.select_for_update()
        .filter(company=company, external_id=payment_id, is_deleted=False)
        .first()
    )
    if obj is None:
        return _not_found(payment_id)
    if method == "GET":
        return Answer(status=200, body=other_payment_json(obj), accounting_object=obj)
    if method == "DELETE":
        obj.is_deleted = True
        obj.version += 1
        obj.save()
        return Answer(status=204, accounting_object=obj)
    given = _payment_in(body)
    if given is None:
        return BAD_BODY
    merged = {**decimal_copy(obj.body), **given}
    errors = other_payment_errors(merged)
    if errors:
        return Answer(status=422, body=errors)
    obj.body = json_ready(merged)
    obj.version += 1
    obj.save()
    return Answer(status=200, body=other_payment_json(obj), accounting_object=obj)


@csrf_exempt  # machine-to-machine, authenticated by Bearer token
def other_payments(request):
    if request.method != "POST":
        return JsonResponse([_error("", "Use POST.")], status=405, safe=False)
    return api_call_handle(
        request,
        system=data.SAGE,
        style=SageErrors(),
        tenant_id=request.headers.get("X-Business", ""),
        handler=_create,
    )


@csrf_exempt  # machine-to-machine, authenticated by Bearer token
def other_payment(request, payment_id: str):
    if request.method not in ("GET", "PUT", "DELETE"):
        return JsonResponse([_error("", "Use GET, PUT or DELETE.")], status=405, safe=False)
    return api_call_handle(
        request,
        system=data.SAGE,
        style=SageErrors(),
        tenant_id=request.headers.get("X-Business", ""),
        handler=partial(_change, method=request.method, payment_id=payment_id),
    )


def _businesses(*, grant, company, body) -> Answer:
    items = [
        {
            "id": c.tenant_id,
            "displayed_as": c.name,
            "$path": f"/businesses/{c.tenant_id}",
            "name": c.name,
        }
        for c in companies_of(grant)
    ]
    return Answer(
        status=200,
        body={
            "$total": len(items),
            "$page": 1,
            "$next": None,
            "$back": None,
            "$itemsPerPage": 20,
            "$items": items,
        },
    )


@csrf_exempt  # machine-to-machine, authenticated by Bearer token
def businesses(request):
    if request.method != "GET":
        return JsonResponse([_error("", "Use GET.")], status=405, safe=False)
    return api_call_handle(
        request,
        system=data.SAGE,
        style=SageErrors(),
        tenant_id=None,
        handler=_businesses,
        is_tenant_call=False,
    )
