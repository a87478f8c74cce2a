"""The Organisation Kit simulator at /sandbox/organisation-kit/: every call of DESIGN.md's
table over the generated partner data (organisation_kit_data), the writes remembered in the
sandbox's models, and a simulated BankID (start, the person completing on their phone,
collect). Every call needs a Bearer token from the sandbox's OAuth2 provider."""

import json
import secrets
from datetime import date, timedelta
from functools import wraps

from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from oauth2_provider.oauth2_backends import get_oauthlib_core

from . import organisation_kit_data as data
from .organisation_kit_models import (
    BankIdOrder,
    OrganisationKitAddedUser,
    OrganisationKitEvent,
    OrganisationKitUserChange,
)

MINIMAL_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def _error(status: int, detail: str) -> JsonResponse:
    return JsonResponse({"detail": detail}, status=status)


def partner_endpoint(*methods: str):
    """Bearer token required (any scope the sandbox issued); only `methods` allowed."""

    def decorate(view):
        @csrf_exempt  # machine-to-machine, authenticated by Bearer token
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if request.method not in methods:
                return _error(405, f"{request.method} is not allowed here.")
            is_valid, _ = get_oauthlib_core().verify_request(request, scopes=[])
            if not is_valid:
                response = _error(401, "A valid Bearer token is required.")
                response["WWW-Authenticate"] = 'Bearer realm="sandbox"'
                return response
            return view(request, *args, **kwargs)

        return wrapped

    return decorate


def _body(request) -> dict | None:
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _dates(request) -> tuple[date, date] | None:
    today = timezone.localdate()
    try:
        from_date = date.fromisoformat(request.GET.get("fromDate") or str(today))
        to_date = date.fromisoformat(request.GET.get("toDate") or str(today))
    except ValueError:
        return None
    return (from_date, to_date) if from_date <= to_date else None


def _user_json(user_id: str, name: str, email: str, phone: str, personal_number: str = ""):
    change = OrganisationKitUserChange.objects.filter(user_id=user_id).first()
    user = {
        "id": user_id,
        "name": name,
        "emailAddress": (change and change.email_address) or email,
        "phoneNumber": (change and change.phone_number) or phone,
    }
    if personal_number:
        # Not in the table of DESIGN.md, but partners may send it: the hub matches on it.
        user["personalNumber"] = personal_number
    return user


def _account_users(account_id: str) -> list[dict]:
    users = [
        {"role": role, "user": _user_json(p.id, p.name, p.email, p.phone, p.personal_number)}
        for p, role in data.account_members(account_id)
    ]
    for added in OrganisationKitAddedUser.objects.filter(account_id=account_id).order_by("id"):
        users.append(
            {
                "role": added.role,
                "user": _user_json(
                    added.user_id, added.name, added.email_address, added.phone_number
                ),
            }
        )
    return users


@partner_endpoint("GET")
def accounts_search(request):
    ssn, email = request.GET.get("ssn"), request.GET.get("email")
    if not ssn and not email:
        return _error(400, "Give ssn or email.")
    return JsonResponse({"accountIds": data.account_ids_for(ssn=ssn, email=email)})


@partner_endpoint("GET")
def account_detail(request, account_id: str):
    found = data.account(account_id)
    return JsonResponse(found) if found else _error(404, "No such account.")


@partner_endpoint("GET", "POST")
def account_users(request, account_id: str):
    if data.account(account_id) is None:
        return _error(404, "No such account.")
    if request.method == "GET":
        return JsonResponse(_account_users(account_id), safe=False)
    body = _body(request)
    user = body.get("user") if body else None
    if not isinstance(user, dict) or not isinstance(user.get("name"), str) or not user["name"]:
        return _error(400, 'Send {"role": "GUEST", "user": {"name", "emailAddress", ...}}.')
    role = body.get("role", "GUEST")
    if role not in ("OWNER", "GUEST"):
        return _error(400, "role is OWNER or GUEST.")
    added = OrganisationKitAddedUser.objects.create(
        account_id=account_id,
        user_id=f"U-{secrets.token_hex(4)}",
        role=role,
        name=user["name"][:200],
        email_address=str(user.get("emailAddress") or "")[:254],
        phone_number=str(user.get("phoneNumber") or "")[:50],
    )
    user_json = _user_json(added.user_id, added.name, added.email_address, added.phone_number)
    return JsonResponse({"role": added.role, "user": user_json}, status=201)


@partner_endpoint("GET")
def account_locations(request, account_id: str):
    if data.account(account_id) is None:
        return _error(404, "No such account.")
    return JsonResponse(data.locations(account_id), safe=False)


@partner_endpoint("GET")
def service_agreements(request, service_id: str):
    if data.service(service_id) is None:
        return _error(404, "No such service.")
    return JsonResponse(data.agreements(service_id), safe=False)


@partner_endpoint("GET")
def service_products(request, service_id: str):
    if data.service(service_id) is None:
        return _error(404, "No such service.")
    return JsonResponse(data.products(service_id), safe=False)


@partner_endpoint("GET")
def account_invoices(request, account_id: str):
    if data.account(account_id) is None:
        return _error(404, "No such account.")
    dates = _dates(request)
    if dates is None:
        return _error(400, "fromDate and toDate are YYYY-MM-DD, fromDate first.")
    from_date, to_date = dates
    invoices = [
        invoice
        for invoice in data.invoices(account_id, today=timezone.localdate())
        if from_date <= date.fromisoformat(invoice["issueDate"]) <= to_date
    ]
    return JsonResponse(invoices, safe=False)


def _invoice(account_id: str, invoice_id: str) -> dict | None:
    if data.account(account_id) is None:
        return None
    today = timezone.localdate()
    return next((i for i in data.invoices(account_id, today=today) if i["id"] == invoice_id), None)


@partner_endpoint("GET")
def invoice_url(request, account_id: str, invoice_id: str):
    if _invoice(account_id, invoice_id) is None:
        return _error(404, "No such invoice.")
    stream = request.build_absolute_uri().removesuffix("/").removesuffix("url") + "stream"
    return JsonResponse({"url": stream})


@partner_endpoint("GET")
def invoice_stream(request, account_id: str, invoice_id: str):
    if _invoice(account_id, invoice_id) is None:
        return _error(404, "No such invoice.")
    response = HttpResponse(MINIMAL_PDF, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{invoice_id}.pdf"'
    return response


@partner_endpoint("GET")
def measurements(request, measurement_id: str):
    dates = _dates(request)
    if dates is None:
        return _error(400, "fromDate and toDate are YYYY-MM-DD, fromDate first.")
    found = data.measurements(measurement_id, from_date=dates[0], to_date=dates[1])
    return JsonResponse(found) if found else _error(404, "No such measurement.")


@partner_endpoint("GET")
def costs(request, cost_id: str):
    dates = _dates(request)
    if dates is None:
        return _error(400, "fromDate and toDate are YYYY-MM-DD, fromDate first.")
    found = data.cost(cost_id, from_date=dates[0], to_date=dates[1])
    return JsonResponse(found) if found else _error(404, "No such cost.")


@partner_endpoint("PATCH")
def user_update(request, user_id: str):
    generated = data.person(user_id)
    added = OrganisationKitAddedUser.objects.filter(user_id=user_id).first()
    if generated is None and added is None:
        return _error(404, "No such user.")
    body = _body(request)
    if body is None or not all(
        isinstance(body.get(key, ""), str) for key in ("phoneNumber", "emailAddress")
    ):
        return _error(400, "phoneNumber and emailAddress are strings.")
    change, _ = OrganisationKitUserChange.objects.get_or_create(user_id=user_id)
    change.phone_number = body.get("phoneNumber", change.phone_number)[:50]
    change.email_address = body.get("emailAddress", change.email_address)[:254]
    change.save()
    if generated is not None:
        return JsonResponse(
            _user_json(
                generated.id,
                generated.name,
                generated.email,
                generated.phone,
                generated.personal_number,
            )
        )
    return JsonResponse(
        _user_json(added.user_id, added.name, added.email_address, added.phone_number)
    )


@partner_endpoint("POST")
def event_report(request, account_id: str):
    if data.account(account_id) is None:
        return _error(404, "No such account.")
    body = _body(request)
    if body is None or not isinstance(body.get("type"), str):
        return _error(400, 'Send {"type", "timestamp", "data"}.')
    timestamp = body.get("timestamp")
    OrganisationKitEvent.objects.create(
        account_id=account_id,
        event_type=body["type"][:100],
        timestamp=timestamp if isinstance(timestamp, int) else int(timezone.now().timestamp()),
        data=body.get("data") if isinstance(body.get("data"), dict) else {},
    )
    return JsonResponse({"accepted": True}, status=202)


# BankID (simulated): orders expire after this long.
BANKID_ORDER_LIFETIME = timedelta(minutes=3)


@partner_endpoint("POST")
def bankid_start(request):
    body = _body(request)
    personal_number = body.get("personalNumber") if body else None
    if not isinstance(personal_number, str) or not personal_number.isdigit():
        return _error(400, "personalNumber is 12 digits.")
    order = BankIdOrder.objects.create(
        order_ref=secrets.token_hex(16), personal_number=personal_number
    )
    return JsonResponse({"orderRef": order.order_ref})


@partner_endpoint("POST")
def bankid_complete(request):
    """The simulated person opens BankID on their phone and signs."""
    body = _body(request) or {}
    updated = BankIdOrder.objects.filter(
        order_ref=str(body.get("orderRef", "")), status=BankIdOrder.Status.PENDING
    ).update(status=BankIdOrder.Status.COMPLETE, updated_at=timezone.now())
    return JsonResponse({}, status=200) if updated else _error(404, "No such pending order.")


@partner_endpoint("POST")
def bankid_collect(request):
    body = _body(request) or {}
    order = BankIdOrder.objects.filter(order_ref=str(body.get("orderRef", ""))).first()
    if order is None:
        return _error(404, "No such order.")
    if (
        order.status == BankIdOrder.Status.PENDING
        and timezone.now() - order.created_at > BANKID_ORDER_LIFETIME
    ):
        order.status = BankIdOrder.Status.FAILED
        order.save(update_fields=["status", "updated_at"])
    answer = {"orderRef": order.order_ref, "status": order.status}
    if order.status == BankIdOrder.Status.COMPLETE:
        match = next((p for p in data.PEOPLE if p.personal_number == order.personal_number), None)
        answer["completionData"] = {
            "user": {
                "personalNumber": order.personal_number,
                "name": match.name if match else "Sandbox Person",
            }
        }
    return JsonResponse(answer)
