"""OAuth 2.0 authorization code grants with PKCE (RFC 6749 4.1, RFC 7636): start the flow,
exchange the code for a grant, revoke a grant (RFC 7009). What connects through them (an
accounting integration) keeps the state and verifier between start and exchange, and owns
the grant it got.

requests-oauthlib builds the requests (the outbound client's library already; PKCE since
2.0); every call goes through the core outbound transport and its network policy.
"""

import base64
import logging
import os
import secrets
from dataclasses import dataclass

from django.utils import timezone
from oauthlib.oauth2 import WebApplicationClient

from integration_hub.models import Integration, OAuthGrant
from integration_hub.outbound import OutboundClient, OutboundError, OutboundTokenError, check_url
from integration_hub.outbound.auth import credential_load
from integration_hub.outbound.grants import authorization_code_exchange, token_expiry
from integration_hub.outbound.policy import url_origin
from integration_hub.outbound.redaction import url_for_log
from integration_hub.system_settings import setting_get

logger = logging.getLogger("integration_hub.outbound")

# RFC 7636 4.1: 43 to 128 characters; the longest gives the most entropy.
CODE_VERIFIER_LENGTH = 128


@dataclass(frozen=True)
class AuthorizationStart:
    """Where to send the user, and what the caller keeps until the callback (server side):
    `state` to recognise it, `code_verifier` to exchange its code."""

    url: str
    state: str
    code_verifier: str

    def __repr__(self) -> str:
        return "<AuthorizationStart>"


def oauth_authorization_start(
    *, integration: Integration, authorize_url: str, redirect_uri: str, scope: str
) -> AuthorizationStart:
    """The authorize URL with response_type=code, client_id, redirect_uri, scope, state and an
    S256 code_challenge. The client id is the app's, from the integration's credential
    entry (OutboundTokenError when it holds none)."""
    check_url(authorize_url)
    if authorize_url.lower().startswith("http://"):
        # check_url has applied OUTBOUND_REQUIRE_HTTPS; oauthlib refuses plain http itself.
        os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"
    credential = credential_load(integration.credential_map, integration.credential_key)
    if not credential.client_id:
        raise OutboundTokenError(
            f"The credential {credential.map_name}/{credential.key_name} holds no client ID."
        )
    client = WebApplicationClient(client_id=credential.client_id)
    code_verifier = client.create_code_verifier(CODE_VERIFIER_LENGTH)
    state = secrets.token_urlsafe(32)
    url = client.prepare_request_uri(
        authorize_url,
        redirect_uri=redirect_uri,
        scope=scope or None,
        state=state,
        code_challenge=client.create_code_challenge(code_verifier, "S256"),
        code_challenge_method="S256",
    )
    return AuthorizationStart(url=url, state=state, code_verifier=code_verifier)


def oauth_code_exchange(
    *,
    integration: Integration,
    token_url: str,
    client_auth: str,
    code: str,
    redirect_uri: str,
    code_verifier: str,
) -> OAuthGrant:
    """Exchange an authorization code for tokens (outside any transaction) and store them as
    a new grant of the integration, owned by nobody yet: the caller attaches it, or deletes
    it when it cannot be used. Its access token is for the integration's base URL only.

    `client_auth` is OAuthGrant.ClientAuth: how the app authenticates at `token_url` (and
    later at refreshes and revocation)."""
    credential = credential_load(integration.credential_map, integration.credential_key)
    started = timezone.now()
    token = authorization_code_exchange(
        token_url=token_url,
        credential=credential,
        client_auth=client_auth,
        code=code,
        redirect_uri=redirect_uri,
        code_verifier=code_verifier,
        timeout=setting_get("OutboundTimeoutSeconds"),
    )
    refresh_token = token.get("refresh_token")
    grant = OAuthGrant.objects.create(
        integration=integration,
        token_url=token_url,
        client_auth=client_auth,
        origin=url_origin(integration.base_url),
        refresh_token=refresh_token if isinstance(refresh_token, str) else "",
        access_token=token["access_token"],
        access_token_expires_at=token_expiry(token, started),
    )
    logger.info(
        "Obtained OAuth grant %s for integration %s from %s",
        grant.pk,
        integration.pk,
        url_for_log(token_url),
    )
    return grant


def _basic_authorization(client_id: str, client_secret: str) -> str:
    pair = f"{client_id}:{client_secret}".encode()
    return "Basic " + base64.b64encode(pair).decode("ascii")


def oauth_grant_revoke(
    *, grant: OAuthGrant, revoke_url: str = "", body_as_json: bool = False
) -> bool:
    """Revoke the grant's refresh token at `revoke_url` when there is one (RFC 7009: a form
    POST of `token`, or a JSON one where the system wants it (Intuit); the app authenticates
    as at the token endpoint), then delete the grant. A failed revocation is logged, never
    fatal: the grant is forgotten all the same. True when the system confirmed it."""
    revoked = False
    refresh_token = grant.refresh_token
    if revoke_url and refresh_token:
        try:
            integration = grant.integration
            credential = credential_load(integration.credential_map, integration.credential_key)
            data = {"token": refresh_token, "token_type_hint": "refresh_token"}
            headers = {"Accept": "application/json"}
            if grant.client_auth == OAuthGrant.ClientAuth.BODY:
                data.update(client_id=credential.client_id, client_secret=credential.client_secret)
            else:
                headers["Authorization"] = _basic_authorization(
                    credential.client_id, credential.client_secret
                )
            body = {"json": data} if body_as_json else {"data": data}
            response = OutboundClient().post(revoke_url, headers=headers, **body)
            response.close()
            revoked = 200 <= response.status_code < 300
            if not revoked:
                logger.warning(
                    "Revoking OAuth grant %s at %s answered HTTP %s; forgetting it anyway",
                    grant.pk,
                    url_for_log(revoke_url),
                    response.status_code,
                )
        except OutboundError as exc:
            logger.warning(
                "Could not revoke OAuth grant %s at %s (%s); forgetting it anyway",
                grant.pk,
                url_for_log(revoke_url),
                exc,
            )
    OAuthGrant.objects.filter(pk=grant.pk).delete()
    return revoked
