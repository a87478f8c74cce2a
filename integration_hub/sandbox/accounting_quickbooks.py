"""The sandbox's QuickBooks Online: `POST /sandbox/quickbooks/v3/company/{realmId}/journalentry`
creates a JournalEntry, updates one (`Id` + current `SyncToken`, `"sparse": true` merges),
or deletes one (`?operation=delete` with `Id` + `SyncToken`), over the chart in
accounting_data (US company model: sales tax on a liability account).

- Errors are `Fault` bodies (code 2010 bad property, 2020 missing, 2050 too long, 2500 unknown
  account, 610 object not found, 5010 stale SyncToken, 6000 business rule such as unbalanced
  lines) with HTTP 400, or with HTTP 200 when the company's `fault_status` is set to 200 in
  the sandbox admin, so that a client's "Fault inside a 200" reading can be tried.
- `requestid` (≤ 50 characters): a repeat in the same company gets the original answer.
- Throttling: 429 with a Fault code 3001 "ThrottleExceeded" and no Retry-After (reference:
  none is documented).
"""

import uuid
from decimal import Decimal
from functools import partial

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt

from . import accounting_data as data
from .accounting_api import (
    Answer,
    ErrorStyle,
    amount,
    api_call_handle,
    call_replay_find,
    decimal_copy,
    has_at_most_decimals,
    is_number,
    iso_date,
    json_body,
    json_ready,
    replay_answer,
    timestamp,
)
from .accounting_models import AccountingCompany, AccountingObject

REQUEST_ID_LIMIT = 50
DOC_NUMBER_LIMIT = 21
# Properties a JournalEntry may carry; read-only ones are accepted and ignored.
KNOWN_PROPERTIES = frozenset(
    {
        "Id",
        "SyncToken",
        "sparse",
        "TxnDate",
        "DocNumber",
        "PrivateNote",
        "Line",
        "Adjustment",
        "CurrencyRef",
        "ExchangeRate",
        "TxnTaxDetail",
        "domain",
        "MetaData",
        "TotalAmt",
    }
)
READ_ONLY = frozenset({"Id", "SyncToken", "sparse", "domain", "MetaData", "TotalAmt"})

INVALID_PROPERTY = ("2010", "Request has invalid or unsupported property")
REQUIRED_MISSING = ("2020", "Required param missing, need to supply the required value for the API")
TOO_LONG = ("2050", "String length is either shorter or longer than supported by specification")
INVALID_REFERENCE = ("2500", "Invalid Reference Id")
NOT_FOUND = ("610", "Object Not Found")
STALE = ("5010", "Stale Object Error")
BUSINESS_RULE = ("6000", "A business validation error has occurred while processing your request")


def _fault(errors: list[tuple], *, status: int, fault_type: str = "ValidationFault") -> Answer:
    return Answer(
        status=status,
        body={
            "Fault": {
                "Error": [
                    {"Message": message, "Detail": detail, "code": code, "element": element}
                    for (code, message), detail, element in errors
                ],
                "type": fault_type,
            },
            "time": timestamp(),
        },
    )


class QuickBooksErrors(ErrorStyle):
    def unauthorized(self) -> Answer:
        answer = _fault(
            [
                (
                    ("3200", "message=AuthenticationFailed; errorCode=003200; statusCode=401"),
                    "Token invalid or expired",
                    "",
                )
            ],
            status=401,
            fault_type="AUTHENTICATION",
        )
        answer.headers["WWW-Authenticate"] = 'Bearer realm="Intuit"'
        return answer

    def forbidden(self, tenant_id):
        return _fault(
            [
                (
                    (
                        "3100",
                        "message=ApplicationAuthorizationFailed; errorCode=003100; statusCode=403",
                    ),
                    f"The token is not authorized for company {tenant_id}",
                    "",
                )
            ],
            status=403,
            fault_type="AUTHORIZATION",
        )

    def throttled(self, retry_after: int) -> Answer:
        return _fault(
            [
                (
                    ("3001", "message=ThrottleExceeded; errorCode=003001; statusCode=429"),
                    "The request limit was reached.",
                    "",
                )
            ],
            status=429,
            fault_type="SERVICE",
        )


def _line_errors(index: int, line) -> list[tuple]:
    where = f"Line[{index}]"
    if not isinstance(line, dict):
        return [(INVALID_PROPERTY, f"{where} must be an object", "Line")]
    errors = []
    if line.get("DetailType") != "JournalEntryLineDetail":
        errors.append(
            (INVALID_PROPERTY, f"{where}.DetailType must be JournalEntryLineDetail", "Line")
        )
    value = line.get("Amount")
    if value is None:
        errors.append((REQUIRED_MISSING, f"Required parameter {where}.Amount is missing", "Line"))
    elif not is_number(value):
        errors.append((INVALID_PROPERTY, f"{where}.Amount must be a number, not {value!r}", "Line"))
    elif value < 0 or not has_at_most_decimals(value, 2):
        errors.append(
            (
                BUSINESS_RULE,
                f"Business Validation Error: {where}.Amount {value} must be zero or more, "
                "with at most 2 decimals",
                "Line",
            )
        )
    detail = line.get("JournalEntryLineDetail")
    if not isinstance(detail, dict):
        return [
            *errors,
            (REQUIRED_MISSING, f"Required parameter {where}.JournalEntryLineDetail is missing", ""),
        ]
    if detail.get("PostingType") not in ("Debit", "Credit"):
        errors.append(
            (
                REQUIRED_MISSING if "PostingType" not in detail else INVALID_PROPERTY,
                f"{where}.JournalEntryLineDetail.PostingType must be Debit or Credit",
                "Line.PostingType",
            )
        )
    account = detail.get("AccountRef")
    account_id = account.get("value") if isinstance(account, dict) else None
    if not account_id:
        errors.append(
            (REQUIRED_MISSING, f"Required parameter {where} AccountRef is missing", "AccountRef")
        )
    elif str(account_id) not in data.QUICKBOOKS_ACCOUNTS:
        errors.append(
            (
                INVALID_REFERENCE,
                f"Invalid Reference Id : Accounts element id {account_id} not found",
                "Line.AccountRef",
            )
        )
    return errors


def journal_entry_errors(entry: dict) -> list[tuple]:
    """What QuickBooks would refuse in `entry`, each as ((code, message), detail, element)."""
    errors = [
        (INVALID_PROPERTY, f"Property Name:{name} specified is unsupported or invalid", name)
        for name in entry
        if name not in KNOWN_PROPERTIES
    ]
    doc_number = entry.get("DocNumber")
    if doc_number is not None and (not isinstance(doc_number, str)):
        errors.append((INVALID_PROPERTY, "DocNumber must be a string", "DocNumber"))
    elif doc_number is not None and len(doc_number) > DOC_NUMBER_LIMIT:
        errors.append(
            (
                TOO_LONG,
                f"String length specified does not match the supported length. Min:0 Max:"
                f"{DOC_NUMBER_LIMIT} supported. Supplied length:{len(doc_number)}",
                "DocNumber",
            )
        )
    if "TxnDate" in entry and not iso_date(entry["TxnDate"]):
        errors.append((INVALID_PROPERTY, "TxnDate must be a date yyyy-MM-dd", "TxnDate"))
    if "PrivateNote" in entry and not isinstance(entry["PrivateNote"], str):
        errors.append((INVALID_PROPERTY, "PrivateNote must be a string", "PrivateNote"))
    lines = entry.get("Line")
    if not isinstance(lines, list) or not lines:
        errors.append((REQUIRED_MISSING, "Required parameter Line is missing in the request", ""))
        return errors
    line_errors = [error for i, line in enumerate(lines) for error in _line_errors(i, line)]
    if line_errors:
        return errors + line_errors
    debits, credits = _totals(lines)
    if debits != credits:
        errors.append(
            (
                BUSINESS_RULE,
                "Business Validation Error: Your debits and credits must balance. "
                f"Debits {debits}, credits {credits}.",
                "Line",
            )
        )
    return errors


def _totals(lines: list[dict]) -> tuple[Decimal, Decimal]:
    debits = sum(
        (amount(line["Amount"]) for line in lines if _posting(line) == "Debit"), Decimal(0)
    )
    credits = sum(
        (amount(line["Amount"]) for line in lines if _posting(line) == "Credit"), Decimal(0)
    )
    return debits, credits


def _posting(line: dict) -> str:
    return line["JournalEntryLineDetail"]["PostingType"]


def _stored(obj: AccountingObject) -> dict:
    """The object's body with its amounts back as Decimal."""
    return decimal_copy(obj.body)


def journal_entry_json(obj: AccountingObject) -> dict:
    """The JournalEntry as QuickBooks returns it."""
    entry = _stored(obj)
    debits, _ = _totals(entry["Line"])
    return {
        **entry,
        "Line": [{"Id": str(i), **line} for i, line in enumerate(entry["Line"])],
        "Adjustment": entry.get("Adjustment", False),
        "TotalAmt": debits,
        "domain": "QBO",
        "sparse": False,
        "Id": obj.external_id,
        "SyncToken": str(obj.version),
        "MetaData": {
            "CreateTime": obj.created_at.isoformat(timespec="seconds"),
            "LastUpdatedTime": obj.updated_at.isoformat(timespec="seconds"),
        },
    }


def _saved(obj: AccountingObject) -> Answer:
    return Answer(
        status=200,
        body={"JournalEntry": journal_entry_json(obj), "time": timestamp()},
        accounting_object=obj,
    )


def _handle(*, request_id: str, operation: str, grant, company: AccountingCompany, body: bytes):
    status = company.fault_status
    if len(request_id) > REQUEST_ID_LIMIT:
        detail = f"requestid must be at most {REQUEST_ID_LIMIT} characters"
        return _fault([(INVALID_PROPERTY, detail, "requestid")], status=status)
    if request_id:
        earlier = call_replay_find(company=company, idempotency_key=request_id)
        if earlier is not None:
            return replay_answer(earlier)
    try:
        entry = json_body(body)
    except ValueError:
        entry = None
    if not isinstance(entry, dict):
        return _fault([(INVALID_PROPERTY, "The body must be a JSON object", "")], status=status)
    if operation not in ("", "delete"):
        return _fault(
            [(INVALID_PROPERTY, f"operation {operation!r} is not supported", "")], status=status
        )
    if operation == "delete" or "Id" in entry:
        obj = (
            AccountingObject.objects.select_for_update()
            .filter(company=company, external_id=str(entry.get("Id", "")), is_deleted=False)
            .first()
        )
        if obj is None:
            return _fault(
                [(NOT_FOUND, f"Object Not Found : JournalEntry {entry.get('Id')}", "Id")],
                status=status,
            )
        if "SyncToken" not in entry:
            return _fault(
                [(REQUIRED_MISSING, "Required parameter SyncToken is missing", "SyncToken")],
                status=status,
            )
        if str(entry["SyncToken"]) != str(obj.version):
            return _fault(
                [
                    (
                        STALE,
                        "Stale Object Error : You and another user were working on the same "
                        f"thing. SyncToken {entry['SyncToken']} is not the current "
                        f"{obj.version}.",
                        "SyncToken",
                    )
                ],
                status=status,
            )
        if operation == "delete":
            obj.is_deleted = True
            obj.version += 1
            obj.save()
            return Answer(
                status=200,
                body={
                    "JournalEntry": {"domain": "QBO", "status": "Deleted", "Id": obj.external_id},
                    "time": timestamp(),
                },
                accounting_object=obj,
            )
        given = {name: value for name, value in entry.items() if name not in READ_ONLY}
        merged = {**_stored(obj), **given} if entry.get("sparse") is True else given
        errors = journal_entry_errors(merged)
        if errors:
            return _fault(errors, status=status)
        obj.body = json_ready(merged)
        obj.version += 1
        obj.save()
        return _saved(obj)
    given = {name: value for name, value in entry.items() if name not in READ_ONLY}
    errors = journal_entry_errors(given)
    if errors:
        return _fault(errors, status=status)
    obj = AccountingObject.objects.create(
        company=company,
        object_type=AccountingObject.ObjectType.JOURNAL_ENTRY,
        external_id=f"tmp-{uuid.uuid4().hex}",
        body=json_ready(given),
    )
    # QuickBooks Ids are small numbers: the row's own id serves.
    obj.external_id = str(obj.pk)
    obj.save(update_fields=["external_id"])
    return _saved(obj)


def _read(*, entry_id: str, grant, company: AccountingCompany, body: bytes):
    obj = AccountingObject.objects.filter(
        company=company,
        object_type=AccountingObject.ObjectType.JOURNAL_ENTRY,
        external_id=entry_id,
        is_deleted=False,
    ).first()
    if obj is None:
        return _fault(
            [(NOT_FOUND, f"Object Not Found : JournalEntry {entry_id}", "Id")],
            status=company.fault_status,
        )
    return _saved(obj)


@csrf_exempt  # machine-to-machine, authenticated by Bearer token
def journal_entry_read(request, realm_id: str, entry_id: str):
    """GET one JournalEntry as the company holds it now (its current SyncToken)."""
    if request.method != "GET":
        return JsonResponse({"detail": "Use GET."}, status=405)
    return api_call_handle(
        request,
        system=data.QUICKBOOKS,
        style=QuickBooksErrors(),
        tenant_id=realm_id,
        handler=partial(_read, entry_id=entry_id),
        idempotency_key="",
    )


@csrf_exempt  # machine-to-machine, authenticated by Bearer token
def journal_entry(request, realm_id: str):
    if request.method != "POST":
        return JsonResponse({"detail": "Use POST."}, status=405)
    request_id = request.GET.get("requestid", "")
    return api_call_handle(
        request,
        system=data.QUICKBOOKS,
        style=QuickBooksErrors(),
        tenant_id=realm_id,
        handler=partial(_handle, request_id=request_id, operation=request.GET.get("operation", "")),
        idempotency_key=request_id,
    )
