"""The accounting panel of the dashboard: each integration of the Owner's subscribers, its
last SyncRecord, and a Sync button."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from integration_hub import roles
from integration_hub.selectors import subscribers_owned_by

from .models import AccountingIntegration
from .selectors import accounting_integrations_of
from .services.sync import SyncConflict, sync_request


def accounting_panel_context(request: HttpRequest) -> dict:
    return {"integrations": accounting_integrations_of(subscribers_owned_by(request.user))}


@login_required
@require_POST
def panel_sync(request: HttpRequest, accounting_integration_id: int):
    # As the API: an Owner (the role) of the integration's subscriber, or a superuser.
    if not roles.user_has_role(request.user, roles.OWNER):
        raise PermissionDenied("Only Owners may start a Sync.")
    accounting_integration = get_object_or_404(
        AccountingIntegration.objects.select_related("integration"),
        pk=accounting_integration_id,
        subscriber__in=subscribers_owned_by(request.user),
    )
    try:
        record = sync_request(
            accounting_integration=accounting_integration, acting_user=request.user
        )
    except SyncConflict as conflict:
        messages.warning(request, f"{conflict} (record {getattr(conflict.record, 'pk', '?')})")
    except ValidationError as exc:
        messages.error(request, "Sync refused: " + " ".join(exc.messages))
    else:
        messages.success(request, f"Sync queued (record {record.pk}).")
    return redirect("dashboard")
