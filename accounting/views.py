"""The accounting pages of the web UI: the dashboard panel's Sync button, and an integration's
page (Sync now, its live status, the history with per-packet states and errors, resend of
failed packets).
Owners of the integration's subscriber only, as the API (reference 004)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from integration_hub.views import safe_next, wants_json

from .adapters import adapter_for
from .models import AccountingIntegration, SyncRecord
from .selectors import (
    accounting_integration_owned,
    records_with_packets,
    sync_history,
    sync_record_of,
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
            "system_label": adapter_for(accounting_integration.integration_type).label,
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
