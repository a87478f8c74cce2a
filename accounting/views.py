"""The accounting pages of the web UI: the dashboard panel's Sync button, and an integration's
page (Sync now, its live status, the history with per-packet states and errors, resend of
failed packets, Connect and Disconnect of QuickBooks, Xero and Sage).
Owners of the integration's subscriber only, as the API (reference 004)."""

import re
from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from integration_hub.flow_states import flow_state_keep, flow_state_take
from integration_hub.views import safe_next, wants_json

from .connect import CALLBACK_PATH, is_connectable
from .models import AccountingIntegration, SyncRecord
from .selectors import (
    accounting_integration_owned,
    records_with_packets,
    sync_history,
    sync_record_of,
)
from .services.connect import (
    ConnectRefused,
    Tenant,
    accounting_integration_disconnect,
    connect_finish,
    connect_start,
    connect_tenant_pick,
)
from .services.sync import SyncConflict, packets_resend, sync_request

RECORDS_PER_PAGE = 20


def history_url(accounting_integration: AccountingIntegration) -> str:
    """Where the pages' script follows the integration's syncs: its History (reference 004)."""
    return (
        f"/Subscriber_{accounting_integration.subscriber_id}/AccountingIntegration/"
        f"Type_{accounting_integration.integration_type}/History"
    )


def _owned_integration(request: HttpRequest, accounting_integration_id) -> AccountingIntegration:
    return accounting_integration_owned(
        user=request.user, accounting_integration_id=int(accounting_integration_id)
    )


@login_required
@require_POST
def panel_sync(request: HttpRequest, accounting_integration_id: int):
    accounting_integration = _owned_integration(request, accounting_integration_id)
    try:
        record = sync_request(
            accounting_integration=accounting_integration, acting_user=request.user
        )
    except SyncConflict as conflict:
        text = f"{conflict} (record {getattr(conflict.record, 'pk', '?')})"
        if wants_json(request):
            return JsonResponse({"detail": text}, status=409)
        messages.warning(request, text)
    except ValidationError as exc:
        text = "Sync refused: " + " ".join(exc.messages)
        if wants_json(request):
            return JsonResponse({"detail": text}, status=400)
        messages.error(request, text)
    else:
        if wants_json(request):
            return JsonResponse({"syncRecordId": record.pk, "status": record.status}, status=202)
        messages.success(request, f"Sync queued (record {record.pk}).")
    return redirect(safe_next(request))


@login_required
def integration_detail(request: HttpRequest, accounting_integration_id: int):
    accounting_integration = _owned_integration(request, accounting_integration_id)
    page = Paginator(
        sync_history(accounting_integration=accounting_integration), RECORDS_PER_PAGE
    ).get_page(request.GET.get("page"))
    records = records_with_packets(list(page.object_list))
    latest = records[0] if records and page.number == 1 else None
    return render(
        request,
        "accounting/integration_detail.html",
        {
            "ai": accounting_integration,
            "page": page,
            "records": records,
            "latest": latest,
            "is_active": bool(latest and latest.status in SyncRecord.ACTIVE),
            "history_url": history_url(accounting_integration),
            "is_connectable": is_connectable(accounting_integration),
        },
    )


@login_required
@require_POST
def record_resend(request: HttpRequest, accounting_integration_id: int, sync_record_id: int):
    accounting_integration = _owned_integration(request, accounting_integration_id)
    record = sync_record_of(
        accounting_integration=accounting_integration, sync_record_id=int(sync_record_id)
    )
    try:
        queued = packets_resend(sync_record=record, acting_user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        still = record.packets.filter(state="Failed").count()
        text = f"{queued} failed packet{'s' if queued != 1 else ''} queued to send again."
        if still:
            text += f" {still} still lack a map: add it in the admin, then resend."
        messages.success(request, text)
    return redirect(reverse("accounting-integration", args=[accounting_integration.pk]))


# Connect (DESIGN.md, "Accounting": connecting an accounting system). The session keeps, per
# `state`, the accounting integration and user it was issued for and the PKCE verifier; a
# state is used once and lives CONNECT_STATE_LIFETIME. A grant waiting for the Owner to pick
# a tenant is kept server side (its id in the session), never in the page.
CONNECT_STATES = "accounting_connect_states"
CONNECT_PENDING = "accounting_connect_pending"
CONNECT_STATE_LIFETIME = timedelta(minutes=15)
_OAUTH_ERROR_CODE = re.compile(r"^[a-z_]{1,64}$")


def _integration_page(accounting_integration: AccountingIntegration):
    return redirect(reverse("accounting-integration", args=[accounting_integration.pk]))


def _connect_refused_page(request: HttpRequest, reason: str):
    return render(request, "accounting/connect_refused.html", {"reason": reason}, status=400)


@login_required
@require_POST
def connect(request: HttpRequest, accounting_integration_id: int):
    accounting_integration = _owned_integration(request, accounting_integration_id)
    redirect_uri = request.build_absolute_uri(CALLBACK_PATH)
    try:
        start = connect_start(
            accounting_integration=accounting_integration, redirect_uri=redirect_uri
        )
    except ValidationError as exc:
        messages.error(request, "Connect refused: " + " ".join(exc.messages))
        return _integration_page(accounting_integration)
    flow_state_keep(
        request,
        key=CONNECT_STATES,
        state=start.state,
        entry={
            "accounting_integration": accounting_integration.pk,
            "code_verifier": start.code_verifier,
            "redirect_uri": redirect_uri,
        },
        lifetime=CONNECT_STATE_LIFETIME,
    )
    return redirect(start.url)


@login_required
def oauth_callback(request: HttpRequest):
    """Where the system sends the Owner back: `state` recognised (and used up) first, then
    the code exchanged and the tenant found."""
    entry = flow_state_take(
        request,
        key=CONNECT_STATES,
        state=request.GET.get("state", ""),
        lifetime=CONNECT_STATE_LIFETIME,
    )
    if entry is None:
        return _connect_refused_page(
            request,
            "This answer from the accounting system does not belong to a Connect you started "
            "here (it was forged, used already, or is too old). Nothing was stored: press "
            "Connect again.",
        )
    accounting_integration = _owned_integration(request, entry["accounting_integration"])
    name = accounting_integration.get_integration_type_display()
    error = request.GET.get("error", "")
    if error:
        code = error if _OAUTH_ERROR_CODE.match(error) else "error"
        why = "access was refused" if code == "access_denied" else "it answered an error"
        messages.error(request, f"{name} is not connected: {why} ({code}). Nothing was stored.")
        return _integration_page(accounting_integration)
    code = request.GET.get("code", "")
    if not code:
        messages.error(request, f"{name} sent no authorization code: nothing was stored.")
        return _integration_page(accounting_integration)
    try:
        outcome = connect_finish(
            accounting_integration=accounting_integration,
            code=code,
            code_verifier=entry["code_verifier"],
            redirect_uri=entry["redirect_uri"],
            realm_id=request.GET.get("realmId", ""),
            acting_user=request.user,
        )
    except ConnectRefused as exc:
        messages.error(request, str(exc))
        return _integration_page(accounting_integration)
    if outcome.is_connected:
        messages.success(request, f"Connected to {name}: {_tenant_label(outcome.tenants[0])}.")
        return _integration_page(accounting_integration)
    pending = request.session.get(CONNECT_PENDING, {})
    pending[str(accounting_integration.pk)] = {
        "grant": outcome.grant.pk,
        "user": request.user.pk,
        "tenants": [[tenant.id, tenant.name] for tenant in outcome.tenants],
    }
    request.session[CONNECT_PENDING] = pending
    return redirect(reverse("accounting-connect-pick", args=[accounting_integration.pk]))


def _tenant_label(tenant: Tenant) -> str:
    return f"{tenant.name} ({tenant.id})" if tenant.name else tenant.id


@login_required
@require_http_methods(["GET", "POST"])
def connect_pick(request: HttpRequest, accounting_integration_id: int):
    """The Owner picks which of several companies the grant reaches receives the sales."""
    accounting_integration = _owned_integration(request, accounting_integration_id)
    pending_all = request.session.get(CONNECT_PENDING, {})
    pending = pending_all.get(str(accounting_integration.pk))
    if pending is None or pending["user"] != request.user.pk:
        return _connect_refused_page(
            request,
            "No Connect of this integration is waiting for a company to be picked. Press "
            "Connect again.",
        )
    tenants = [Tenant(tenant_id, name) for tenant_id, name in pending["tenants"]]
    if request.method == "POST":
        try:
            connect_tenant_pick(
                accounting_integration=accounting_integration,
                grant_id=pending["grant"],
                tenants=tenants,
                tenant_id=request.POST.get("tenant", ""),
                acting_user=request.user,
            )
        except ConnectRefused as exc:
            messages.error(request, str(exc))
        else:
            pending_all.pop(str(accounting_integration.pk))
            request.session[CONNECT_PENDING] = pending_all
            picked = next(t for t in tenants if t.id == accounting_integration.tenant_id)
            messages.success(
                request,
                f"Connected to {accounting_integration.get_integration_type_display()}: "
                f"{_tenant_label(picked)}.",
            )
            return _integration_page(accounting_integration)
    return render(
        request,
        "accounting/connect_pick.html",
        {"ai": accounting_integration, "tenants": tenants},
    )


@login_required
@require_POST
def disconnect(request: HttpRequest, accounting_integration_id: int):
    accounting_integration = _owned_integration(request, accounting_integration_id)
    name = accounting_integration.get_integration_type_display()
    if accounting_integration_disconnect(
        accounting_integration=accounting_integration, acting_user=request.user
    ):
        messages.success(request, f"Disconnected from {name}.")
    else:
        messages.info(request, f"{name} was not connected.")
    return _integration_page(accounting_integration)
