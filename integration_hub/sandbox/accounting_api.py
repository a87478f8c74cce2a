"""What the sandbox's three accounting APIs share: the Bearer token check, the company a call
is for (only those the token was granted), the rolling-minute rate limit, the record of
every call, and reading JSON bodies with their amounts as `Decimal`.

Each system gives its own `ErrorStyle` (how it says 401, 403 and 429) and a handler that
answers one call; `api_call_handle` runs them in that order and records the call.
"""

import hashlib
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.http import HttpResponse
from django.utils import timezone

from . import accounting_data as data
from .accounting_models import (
    AccountingCall,
    AccountingCompany,
    AccountingGrant,
    AccountingObject,
    AccountingToken,
)

SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "x-api-key"})
RATE_WINDOW = timedelta(minutes=1)
# Calls refused before reaching the company's books do not count toward its limit.
NOT_COUNTED = (401, 403, 429)
# Older calls of a company are pruned (checked on every 100th call).
KEEP_CALLS_PER_SYSTEM = 5000


@dataclass
class Answer:
    """What a sandbox system answers to one call: JSON `body` (None: no body)."""

    status: int
    body: object = None
    headers: dict = field(default_factory=dict)
    accounting_object: AccountingObject | None = None
    is_replay: bool = False


class ErrorStyle:
    """How a system says "no valid token", "not your company" and "too many calls"."""

    def unauthorized(self) -> Answer:
        raise NotImplementedError

    def forbidden(self, tenant_id: str | None) -> Answer:
        raise NotImplementedError

    def throttled(self, retry_after: int) -> Answer:
        raise NotImplementedError

    def rate_headers(self, remaining: int) -> dict:
        return {}


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def bearer_grant(request, *, system: str) -> AccountingGrant | None:
    """The live grant of the request's Bearer access token for `system`, or None."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    access = (
        AccountingToken.objects.select_related("grant__app")
        .filter(
            token_hash=token_hash(token.strip()),
            kind=AccountingToken.Kind.ACCESS,
            expires_at__gt=timezone.now(),
            grant__revoked_at__isnull=True,
            grant__app__system=system,
        )
        .first()
    )
    return access.grant if access else None


def company_get(*, system: str, tenant_id: str) -> AccountingCompany | None:
    """The sandbox company `tenant_id` of `system` (its row created on first use)."""
    company = AccountingCompany.objects.filter(system=system, tenant_id=tenant_id).first()
    if company is not None:
        return company
    known = next((c for c in data.COMPANIES[system] if c.tenant_id == tenant_id), None)
    if known is None:
        return None
    company, _ = AccountingCompany.objects.get_or_create(
        system=system,
        tenant_id=tenant_id,
        defaults={"name": known.name, "rate_limit_per_minute": data.RATE_LIMITS[system]},
    )
    return company


def companies_of(grant: AccountingGrant) -> list[AccountingCompany]:
    companies = (company_get(system=grant.app.system, tenant_id=t) for t in grant.tenant_ids)
    return [company for company in companies if company is not None]


def _retry_after(company: AccountingCompany) -> int | None:
    """Seconds until the company accepts a call again, or None when it accepts one now."""
    now = timezone.now()
    recent = AccountingCall.objects.filter(
        company=company, created_at__gt=now - RATE_WINDOW
    ).exclude(response_status__in=NOT_COUNTED)
    limit = company.rate_limit_per_minute
    if recent.count() < limit:
        return None
    # The call that frees a slot is the limit-th newest.
    freeing = recent.order_by("-created_at", "-id").values_list("created_at", flat=True)[limit - 1]
    return max(1, math.ceil((freeing + RATE_WINDOW - now).total_seconds()))


def _remaining(company: AccountingCompany) -> int:
    used = (
        AccountingCall.objects.filter(company=company, created_at__gt=timezone.now() - RATE_WINDOW)
        .exclude(response_status__in=NOT_COUNTED)
        .count()
    )
    return max(0, company.rate_limit_per_minute - used)


def body_sha256(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def _call_record(
    request,
    *,
    system: str,
    company: AccountingCompany | None,
    answer: Answer,
    body: bytes,
    idempotency_key: str,
    response_text: str,
) -> AccountingCall:
    call = AccountingCall.objects.create(
        system=system,
        company=company,
        method=request.method,
        path=request.get_full_path()[:2000],
        headers={
            name: value
            for name, value in request.headers.items()
            if name.lower() not in SECRET_HEADERS
        },
        body=body[: AccountingCall.BODY_LIMIT].decode("utf-8", errors="replace"),
        body_sha256=body_sha256(body),
        idempotency_key=idempotency_key[:200],
        is_replay=answer.is_replay,
        response_status=answer.status,
        response_headers=answer.headers,
        response_body=response_text,
        accounting_object=answer.accounting_object,
    )
    if call.pk % 100 == 0:
        boundary = (
            AccountingCall.objects.filter(system=system)
            .order_by("-id")
            .values_list("id", flat=True)[KEEP_CALLS_PER_SYSTEM : KEEP_CALLS_PER_SYSTEM + 1]
            .first()
        )
        if boundary is not None:
            AccountingCall.objects.filter(system=system, id__lte=boundary).delete()
    return call


def _response(answer: Answer) -> tuple[HttpResponse, str]:
    if answer.body is None:
        response, text = HttpResponse(status=answer.status), ""
    else:
        text = json.dumps(json_ready(answer.body))
        response = HttpResponse(text, status=answer.status, content_type="application/json")
    for name, value in answer.headers.items():
        response[name] = value
    return response, text


def api_call_handle(
    request,
    *,
    system: str,
    style: ErrorStyle,
    tenant_id: str | None,
    handler: Callable[..., Answer],
    idempotency_key: str = "",
    is_tenant_call: bool = True,
) -> HttpResponse:
    """Token, then company (when `is_tenant_call`), then rate limit, then `handler(grant=,
    company=, body=)` in a transaction; the call is recorded with what it answered."""
    body = request.body
    grant = bearer_grant(request, system=system)
    company = None
    if grant is None:
        answer = style.unauthorized()
    elif is_tenant_call and (not tenant_id or tenant_id not in grant.tenant_ids):
        answer = style.forbidden(tenant_id)
        if tenant_id:
            company = company_get(system=system, tenant_id=tenant_id)
    elif not is_tenant_call:
        answer = handler(grant=grant, company=None, body=body)
    else:
        company = company_get(system=system, tenant_id=tenant_id)
        if company is None:
            answer = style.forbidden(tenant_id)
        elif (seconds := _retry_after(company)) is not None:
            answer = style.throttled(seconds)
        else:
            with transaction.atomic():
                answer = handler(grant=grant, company=company, body=body)
            answer.headers.update(style.rate_headers(_remaining(company) - 1))
    response, text = _response(answer)
    _call_record(
        request,
        system=system,
        company=company,
        answer=answer,
        body=body,
        idempotency_key=idempotency_key,
        response_text=text,
    )
    return response


def call_replay_find(
    *, company: AccountingCompany, idempotency_key: str, since=None
) -> AccountingCall | None:
    """The first call that was answered (not refused for its token, company or rate) with
    this idempotency key, within `since` when given."""
    calls = AccountingCall.objects.filter(
        company=company, idempotency_key=idempotency_key, is_replay=False
    ).exclude(response_status__in=NOT_COUNTED)
    if since is not None:
        calls = calls.filter(created_at__gte=since)
    return calls.order_by("id").first()


def replay_answer(call: AccountingCall) -> Answer:
    body = json.loads(call.response_body, parse_float=Decimal) if call.response_body else None
    return Answer(
        status=call.response_status,
        body=body,
        headers=dict(call.response_headers),
        accounting_object=call.accounting_object,
        is_replay=True,
    )


# --- Bodies and amounts ---------------------------------------------------------------------


def json_body(body: bytes) -> object:
    """The request body parsed with its decimals as `Decimal`; raises ValueError."""
    return json.loads(body.decode("utf-8"), parse_float=Decimal)


def decimal_copy(value):
    """A stored JSON value with its decimals back as `Decimal`."""
    return json.loads(json.dumps(value), parse_float=Decimal)


def json_ready(value):
    """`value` with every `Decimal` turned into a JSON number (float: amounts are cents)."""
    if isinstance(value, Decimal):
        number = float(value)
        return number if math.isfinite(number) else str(value)
    if isinstance(value, dict):
        return {key: json_ready(item) for key, item in value.items()}
    if isinstance(value, list):
        return [json_ready(item) for item in value]
    return value


def is_number(value) -> bool:
    """A JSON number (a string, even "21.60", is not)."""
    return isinstance(value, (int, Decimal)) and not isinstance(value, bool)


def has_at_most_decimals(value, places: int) -> bool:
    return is_number(value) and Decimal(value).as_tuple().exponent >= -places


def amount(value) -> Decimal:
    return Decimal(value) if is_number(value) else Decimal(0)


def iso_date(value) -> bool:
    try:
        date.fromisoformat(value)
    except (TypeError, ValueError):
        return False
    return len(value) == 10


def timestamp() -> str:
    return timezone.now().isoformat(timespec="milliseconds")
