"""How each accounting system is connected (DESIGN.md, "Accounting": connecting an accounting
system; shared/reference/accounting-systems.md): its OAuth 2.0 endpoints, scope and client
authentication, used where the ACCOUNTING integration leaves its own field blank."""

from dataclasses import dataclass

from integration_hub.models import OAuthGrant

from .models import AccountingIntegration

Type = AccountingIntegration.IntegrationType
ClientAuth = OAuthGrant.ClientAuth

# The page an Owner connects from and the callback every system redirects to (registered
# with each system's app as `{site}/accounting/oauth/callback`).
CALLBACK_PATH = "/accounting/oauth/callback"


@dataclass(frozen=True)
class ConnectSettings:
    authorize_url: str
    token_url: str
    revoke_url: str
    scope: str
    client_auth: str
    # Intuit's revocation endpoint takes {"token": ...} as JSON, the others a form (RFC 7009).
    revoke_as_json: bool = False


# Endpoints, not secrets (S106 reads "token_url" as a password).
DEFAULTS: dict[str, ConnectSettings] = {
    Type.QUICKBOOKS_ONLINE: ConnectSettings(
        authorize_url="https://appcenter.intuit.com/connect/oauth2",
        token_url="https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer",  # noqa: S106
        revoke_url="https://developer.api.intuit.com/v2/oauth2/tokens/revoke",
        scope="com.intuit.quickbooks.accounting",
        client_auth=ClientAuth.BASIC,
        revoke_as_json=True,
    ),
    Type.XERO: ConnectSettings(
        authorize_url="https://login.xero.com/identity/connect/authorize",
        token_url="https://identity.xero.com/connect/token",  # noqa: S106
        revoke_url="https://identity.xero.com/connect/revocation",
        scope="offline_access accounting.banktransactions accounting.settings.read",
        client_auth=ClientAuth.BASIC,
    ),
    Type.SAGE: ConnectSettings(
        authorize_url="https://www.sageone.com/oauth2/auth/central?filter=apiv3.1",
        token_url="https://oauth.accounting.sage.com/token",  # noqa: S106
        revoke_url="https://oauth.accounting.sage.com/revoke",
        scope="full_access",
        # Sage takes the client id and secret in the form body, not as HTTP Basic.
        client_auth=ClientAuth.BODY,
    ),
}
# The types whose books are reached through an Owner's grant: they sync only once connected.
CONNECTED_TYPES = frozenset(DEFAULTS)


def connect_settings(accounting_integration: AccountingIntegration) -> ConnectSettings:
    """The type's defaults, each overridden by the ACCOUNTING integration's field when set
    (the sandbox, a regional endpoint)."""
    default = DEFAULTS[accounting_integration.integration_type]
    integration = accounting_integration.integration
    return ConnectSettings(
        authorize_url=integration.authorize_url or default.authorize_url,
        token_url=integration.token_url or default.token_url,
        revoke_url=integration.revoke_url or default.revoke_url,
        scope=integration.scope or default.scope,
        client_auth=default.client_auth,
        revoke_as_json=default.revoke_as_json,
    )


def is_connectable(accounting_integration: AccountingIntegration) -> bool:
    return accounting_integration.integration_type in CONNECTED_TYPES
