"""What starts syncs besides the /v2.1/ API (references 000 and 002, DESIGN.md):

- signing in to the web UI: an account sync of each of the user's connections (the initial
  sync when it never succeeded);
- Sync Account, called by the organisation (its integration's service user) or by System
  Admin / System Config: an account sync and then an invoice sync of every connection
  holding that customerId;
- nightly: an account sync of every connection holding a customerId (what Sync Account for
  each customerId would do);
- daily: a full sync of the connections with autoSync (reference 002);
- hourly, inside InvoiceSyncHours (local time): an invoice sync of every connection with an
  account its user owns.

Every trigger goes through sync_request, so a connection never has two syncs queued or
running: a trigger that finds one queued widens it, one that finds it running leaves it.
"""

import logging

from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from integration_hub.services.errors import IntegrationDisabled
from integration_hub.system_settings import setting_get

from ..models import Account, Connection, SyncJob
from ..selectors import user_may_sync_every_connection
from .sync_jobs import sync_request

logger = logging.getLogger("syncing")


def _connections() -> QuerySet[Connection]:
    """Scheduled and organisation-wide triggers skip disabled integrations (never called)."""
    return (
        Connection.objects.filter(integration__enabled=True)
        .select_related("integration")
        .order_by("id")
    )


def _holding(connections=None, **account_filters) -> QuerySet[Connection]:
    accounts = Account.objects.filter(connection=OuterRef("pk"), is_present=True)
    connections = _connections() if connections is None else connections
    return connections.filter(Exists(accounts.filter(**account_filters)))


def _request_each(connections, kind: str, acting_user=None) -> list[Connection]:
    requested = []
    for connection in connections:
        sync_request(connection=connection, kind=kind, acting_user=acting_user)
        requested.append(connection)
    return requested


def _request_enabled(connections, kind: str, acting_user) -> list[Connection]:
    """A manual trigger over several connections: those on an enabled integration are
    queued, the others skipped (never called); IntegrationDisabled naming the integrations
    when there were connections and every one is disabled."""
    connections = list(connections)
    enabled = [c for c in connections if c.integration.enabled]
    if connections and not enabled:
        raise IntegrationDisabled(*sorted({c.integration.name for c in connections}))
    return _request_each(enabled, kind, acting_user)


def sync_now_each(*, connections, acting_user) -> list[Connection]:
    """Sync now of several connections (all of a user's, from the API or the dashboard): a
    full sync of each whose integration is enabled."""
    return _request_enabled(connections, SyncJob.Kind.ALL, acting_user)


def sync_on_sign_in(*, user) -> list[Connection]:
    """Reference 000: account data is fetched during login. A connection whose sync never
    succeeded gets its initial sync instead."""
    connections = (
        _connections()
        .filter(user=user)
        .annotate(
            has_succeeded=Exists(
                SyncJob.objects.filter(connection=OuterRef("pk"), status=SyncJob.Status.SUCCESS)
            )
        )
    )
    requested = []
    for connection in connections:
        kind = SyncJob.Kind.ACCOUNT if connection.has_succeeded else SyncJob.Kind.INITIAL
        sync_request(connection=connection, kind=kind, acting_user=user)
        requested.append(connection)
    return requested


def sync_account_request(*, customer_id: str, acting_user) -> list[Connection]:
    """Sync Account (reference 000): an account sync, then an invoice sync, of every
    connection holding an account with this customerId whose integration is enabled
    (IntegrationDisabled when each holding one is disabled). System Admin / System Config reach
    every integration; an integration's service user reaches that integration's
    connections; anyone else is refused."""
    everywhere = Connection.objects.select_related("integration").order_by("id")
    connections = _holding(everywhere, customer_id=customer_id)
    if not user_may_sync_every_connection(acting_user):
        integration_ids = list(acting_user.service_integrations.values_list("pk", flat=True))
        if not integration_ids:
            raise PermissionDenied(
                "Only an integration's service user, System Admin or System Config may call "
                "Sync Account."
            )
        connections = connections.filter(integration_id__in=integration_ids)
    return _request_enabled(connections, SyncJob.Kind.ACCOUNT_INVOICES, acting_user)


def account_sync_nightly() -> list[Connection]:
    return _request_each(_holding(customer_id__gt=""), SyncJob.Kind.ACCOUNT)


def auto_sync_daily() -> list[Connection]:
    return _request_each(_connections().filter(auto_sync=True), SyncJob.Kind.ALL)


def invoice_sync_hours_contain(hour: int) -> bool:
    start, end = (int(part) for part in setting_get("InvoiceSyncHours").split("-"))
    return start <= hour < end


def invoice_sync_hourly(*, now=None) -> list[Connection]:
    """Runs every hour; does something only inside InvoiceSyncHours (local time)."""
    hour = timezone.localtime(now or timezone.now()).hour
    if not invoice_sync_hours_contain(hour):
        logger.info("invoice sync: %02d:00 is outside InvoiceSyncHours", hour)
        return []
    return _request_each(_holding(role=Account.Role.OWNER), SyncJob.Kind.INVOICES)
