"""The dashboard's parts from the accounting export: the panel (each integration of the
Owner's subscribers with its last SyncRecord and a Sync button) and the run outcomes."""

from integration_hub import roles
from integration_hub.selectors import subscribers_owned_by


def accounting_panel_visible(user) -> bool:
    return roles.user_has_role(user, roles.OWNER)


def accounting_panel_context(request) -> dict:
    from .selectors import accounting_integrations_of
    from .views import history_url

    integrations = accounting_integrations_of(subscribers_owned_by(request.user))
    for integration in integrations:  # what the panel's script follows a sync through
        integration.history_url = history_url(integration)
    return {"integrations": integrations}


def record_outcomes(user, since) -> dict:
    from integration_hub.dashboard import outcome_counts

    from .models import SyncRecord

    records = SyncRecord.objects.filter(
        accounting_integration__subscriber__in=subscribers_owned_by(user), finished_at__gte=since
    )
    return outcome_counts(
        records, succeeded=SyncRecord.Status.SUCCESS, failed=SyncRecord.Status.FAILED
    )
