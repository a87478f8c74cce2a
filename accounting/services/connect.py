"""Connect and Disconnect an accounting system (DESIGN.md, "Accounting": connecting an
accounting system): the OAuth 2.0 authorization code flow with PKCE, the tenant (the
company whose books receive the sales), and the grant the accounting integration owns.

The caller (the web pages) keeps `state` and `code_verifier` between start and finish,
bound to the user's session and the accounting integration, and uses them once.
"""

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from integration_hub.models import Integration, OAuthGrant
from integration_hub.outbound import OutboundClient, OutboundError, ensure_success
from integration_hub.services.audit import audit_record
from integration_hub.services.oauth_grants import (
    AuthorizationStart,
    oauth_authorization_start,
    oauth_code_exchange,
    oauth_grant_revoke,
)

from ..connect import connect_settings, is_connectable
from ..models import AccountingIntegration

logger = logging.getLogger("accounting.connect")

Type = AccountingIntegration.IntegrationType
# A grant obtained for an Owner who has not picked a tenant yet is kept this long.
PENDING_GRANT_LIFETIME = timedelta(hours=1)
TENANT_ID_MAX_LENGTH = AccountingIntegration._meta.get_field("tenant_id").max_length
TENANT_NAME_MAX_LENGTH = AccountingIntegration._meta.get_field("tenant_name").max_length


class ConnectRefused(Exception):
    """Connecting did not complete; the message says why, for the Owner. Nothing is stored."""


@dataclass(frozen=True)
class Tenant:
    """A company in the accounting system the grant reaches."""

    id: str
    name: str = ""


@dataclass(frozen=True)
class ConnectOutcome:
    """A finished callback: connected to `tenants[0]`, or (several tenants) a grant waiting
    for the Owner to pick one of them."""

    grant: OAuthGrant
    tenants: list[Tenant]
    is_connected: bool


def connect_problems(accounting_integration: AccountingIntegration) -> list[str]:
    """Why Connect cannot start ([] when it can)."""
    name = accounting_integration.get_integration_type_display()
    if not is_connectable(accounting_integration):
        return [f"{name} integrations are not connected with OAuth; nothing to connect."]
    integration = accounting_integration.integration
    if integration.auth_type != Integration.AuthType.OAUTH2_AUTHORIZATION_CODE:
        return [
            f"Integration {integration} is not set up for connecting (authType "
            f"{integration.auth_type}): System Admin sets it to OAUTH2_AUTHORIZATION_CODE "
            "with the app's client id and secret."
        ]
    if not integration.enabled:
        return [f"Integration {integration} is disabled."]
    return []


def connect_start(
    *, accounting_integration: AccountingIntegration, redirect_uri: str
) -> AuthorizationStart:
    """Where to send the Owner (the system's consent page), with what to keep until the
    callback. ValidationError when the integration cannot be connected."""
    problems = connect_problems(accounting_integration)
    if problems:
        raise ValidationError({"integration": problems})
    pending_grants_purge()
    settings = connect_settings(accounting_integration)
    try:
        return oauth_authorization_start(
            integration=accounting_integration.integration,
            authorize_url=settings.authorize_url,
            redirect_uri=redirect_uri,
            scope=settings.scope,
        )
    except OutboundError as exc:
        raise ValidationError({"integration": [str(exc)]}) from None


def connect_finish(
    *,
    accounting_integration: AccountingIntegration,
    code: str,
    code_verifier: str,
    redirect_uri: str,
    realm_id: str = "",
    acting_user=None,
) -> ConnectOutcome:
    """Exchange the code (with its verifier), find the tenant and connect to it; with several
    tenants, a grant waiting for `connect_tenant_pick`. ConnectRefused (nothing stored) when
    the system names no tenant or a call fails. Runs outside any transaction."""
    name = accounting_integration.get_integration_type_display()
    is_quickbooks = accounting_integration.integration_type == Type.QUICKBOOKS_ONLINE
    realm_id = (realm_id or "").strip()
    if is_quickbooks and not realm_id:
        raise ConnectRefused(
            f"{name} did not say which company was connected (no realmId): nothing was "
            "stored. Press Connect again."
        )
    if len(realm_id) > TENANT_ID_MAX_LENGTH:
        raise ConnectRefused(f"{name} named a company id that is too long: nothing was stored.")
    settings = connect_settings(accounting_integration)
    try:
        grant = oauth_code_exchange(
            integration=accounting_integration.integration,
            token_url=settings.token_url,
            client_auth=settings.client_auth,
            code=code,
            redirect_uri=redirect_uri,
            code_verifier=code_verifier,
        )
    except OutboundError as exc:
        raise ConnectRefused(f"{name} did not give access: {exc} Nothing was stored.") from None
    try:
        tenants = (
            [Tenant(realm_id)] if is_quickbooks else _tenants_of(accounting_integration, grant)
        )
    except (OutboundError, ConnectRefused) as exc:
        OAuthGrant.objects.filter(pk=grant.pk).delete()
        raise ConnectRefused(
            f"Could not read which companies {name} gave access to: {exc} Nothing was stored."
        ) from None
    if not tenants:
        OAuthGrant.objects.filter(pk=grant.pk).delete()
        raise ConnectRefused(
            f"{name} gave access to no company (organisation or business): nothing was "
            "stored. Connect again and choose one on its consent page."
        )
    if len(tenants) > 1:
        return ConnectOutcome(grant=grant, tenants=tenants, is_connected=False)
    accounting_integration_connect(
        accounting_integration=accounting_integration,
        grant=grant,
        tenant=tenants[0],
        acting_user=acting_user,
    )
    return ConnectOutcome(grant=grant, tenants=tenants, is_connected=True)


def _tenants_of(accounting_integration: AccountingIntegration, grant: OAuthGrant) -> list[Tenant]:
    """Xero: GET {baseUrl}/connections; Sage: GET {baseUrl}/v3.1/businesses (bare or under
    `$items`), with the new grant's access token."""
    client = OutboundClient.for_integration(accounting_integration.integration, grant=grant)
    if accounting_integration.integration_type == Type.XERO:
        rows = _json_rows(_json_body(ensure_success(client.get("connections"))))
        return _tenants(
            row
            for row in rows
            # Every organisation the user ever authorised; a practice is not a ledger.
            if row.get("tenantType") in (None, "ORGANISATION")
        )
    body = _json_body(ensure_success(client.get("v3.1/businesses")))
    if isinstance(body, dict):
        body = body.get("$items")
    return _tenants(_json_rows(body), id_key="id", name_keys=("name", "displayed_as"))


def _json_body(response):
    try:
        return response.json()
    except ValueError:
        raise ConnectRefused("the answer was not JSON.") from None


def _json_rows(body) -> list[dict]:
    if not isinstance(body, list):
        raise ConnectRefused("the answer was not a list.")
    return [row for row in body if isinstance(row, dict)]


def _tenants(rows, *, id_key: str = "tenantId", name_keys=("tenantName",)) -> list[Tenant]:
    tenants: dict[str, Tenant] = {}
    for row in rows:
        tenant_id = row.get(id_key)
        if not isinstance(tenant_id, str | int) or isinstance(tenant_id, bool):
            continue
        tenant_id = str(tenant_id).strip()
        if not tenant_id or len(tenant_id) > TENANT_ID_MAX_LENGTH:
            continue
        name = next((row[key] for key in name_keys if isinstance(row.get(key), str)), "")
        tenants.setdefault(tenant_id, Tenant(tenant_id, name.strip()[:TENANT_NAME_MAX_LENGTH]))
    return list(tenants.values())


def connect_tenant_pick(
    *,
    accounting_integration: AccountingIntegration,
    grant_id: int,
    tenants: list[Tenant],
    tenant_id: str,
    acting_user=None,
) -> AccountingIntegration:
    """Connect to the tenant the Owner picked among those the callback found."""
    tenant = next((t for t in tenants if t.id == tenant_id), None)
    if tenant is None:
        raise ConnectRefused("Pick one of the companies listed.")
    grant = OAuthGrant.objects.filter(
        pk=grant_id,
        integration=accounting_integration.integration_id,
        accounting_integration__isnull=True,
    ).first()
    if grant is None:
        raise ConnectRefused("This connection has expired: press Connect again.")
    return accounting_integration_connect(
        accounting_integration=accounting_integration,
        grant=grant,
        tenant=tenant,
        acting_user=acting_user,
    )


@transaction.atomic
def accounting_integration_connect(
    *,
    accounting_integration: AccountingIntegration,
    grant: OAuthGrant,
    tenant: Tenant,
    acting_user=None,
) -> AccountingIntegration:
    """Own `grant` and send the sales to `tenant` from now on. Connect always replaces the
    tenant and the grant; the grant replaced is forgotten (not revoked: the system may tie
    the new grant's access to the same authorisation)."""
    locked = AccountingIntegration.objects.select_for_update().get(pk=accounting_integration.pk)
    replaced = locked.grant_id
    locked.grant = grant
    locked.tenant_id = tenant.id
    locked.tenant_name = tenant.name
    locked.save(update_fields=["grant", "tenant_id", "tenant_name", "updated_at"])
    if replaced is not None and replaced != grant.pk:
        OAuthGrant.objects.filter(pk=replaced).delete()
    audit_record(
        actor=acting_user,
        action="accounting_integration.connected",
        target=str(locked),
        details={"id": locked.pk, "tenantId": tenant.id, "replaced": replaced is not None},
    )
    accounting_integration.grant = grant
    accounting_integration.tenant_id = tenant.id
    accounting_integration.tenant_name = tenant.name
    return accounting_integration


def accounting_integration_disconnect(
    *, accounting_integration: AccountingIntegration, acting_user=None
) -> bool:
    """Revoke the grant at the system's revokeUrl (when it has one; a failure is logged) and
    forget it and the tenant. False when there was nothing to disconnect. The revocation
    runs outside any transaction."""
    grant = OAuthGrant.objects.filter(accounting_integration=accounting_integration).first()
    if grant is None:
        return False
    settings = connect_settings(accounting_integration)
    revoked = oauth_grant_revoke(
        grant=grant, revoke_url=settings.revoke_url, body_as_json=settings.revoke_as_json
    )
    with transaction.atomic():
        locked = AccountingIntegration.objects.select_for_update().get(pk=accounting_integration.pk)
        if locked.grant_id is None:  # not connected again meanwhile
            locked.tenant_id = locked.tenant_name = ""
            locked.save(update_fields=["tenant_id", "tenant_name", "updated_at"])
        audit_record(
            actor=acting_user,
            action="accounting_integration.disconnected",
            target=str(locked),
            details={"id": locked.pk, "revoked": revoked},
        )
    accounting_integration.refresh_from_db()
    return True


def pending_grants_purge() -> int:
    """Forget the grants of Owners who never picked a tenant."""
    deleted, _ = OAuthGrant.objects.filter(
        accounting_integration__isnull=True,
        created_at__lt=timezone.now() - PENDING_GRANT_LIFETIME,
    ).delete()
    return deleted
