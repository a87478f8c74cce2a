"""The sandbox as an OpenID provider: the claims its ID tokens and userinfo answer carry.

The provider is django-oauth-toolkit with OIDC on (settings.OAUTH2_PROVIDER); its end user is
the hub user signed in to the same site, so "Verify with Sandbox ID" works with `make run`.
"""

from django.conf import settings
from oauth2_provider.oauth2_validators import OAuth2Validator

DISCOVERY_PATH = "/sandbox/oidc/.well-known/openid-configuration"


def sandbox_oidc_is_enabled() -> bool:
    """True when the sandbox is mounted and has a signing key (OIDC_RSA_PRIVATE_KEY)."""
    return bool(settings.SANDBOX_ENABLED and settings.OAUTH2_PROVIDER.get("OIDC_ENABLED"))


def _email(request) -> str | None:
    return request.user.email.lower() or None


def _email_verified(request) -> bool:
    # The hub has no unverified addresses: an address it holds is one it vouches for.
    return bool(request.user.email)


# The scopes of a person signing in; the receiver's `receive` is for client credentials.
OPENID_SCOPES = frozenset({"openid", "email"})


class SandboxOidcValidator(OAuth2Validator):
    """`email` (lower-cased) and `email_verified`, given with the `email` scope
    (`oidc_claim_scope` of the base class). A user without an address gets no `email` claim
    and `email_verified: false`. The OpenID scopes go only to an application a person signs
    in to (authorization code), `receive` only to the others."""

    def validate_scopes(self, client_id, scopes, client, request, *args, **kwargs):
        signs_in = client.authorization_grant_type == client.GRANT_AUTHORIZATION_CODE
        if any((scope in OPENID_SCOPES) != signs_in for scope in scopes):
            return False
        return super().validate_scopes(client_id, scopes, client, request, *args, **kwargs)

    def get_additional_claims(self):
        # Without a request argument the claims are listed in the discovery document.
        return {"email": _email, "email_verified": _email_verified}

    def get_oidc_claims(self, token, token_handler, request):
        claims = super().get_oidc_claims(token, token_handler, request)
        return {name: value for name, value in claims.items() if value is not None}
