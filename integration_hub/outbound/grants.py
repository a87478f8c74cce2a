"""The grants users give through the OAuth 2.0 authorization code flow (DESIGN.md,
"Accounting": connecting an accounting system): the code exchange with its PKCE verifier,
and the auth of calls made with a grant (OAuthGrantAuth), whose access token is cached in the
grant's row and refreshed under a lease with compare and swap of the rotated refresh token.

Every token call goes through the outbound transport and network policy (auth.token_session)
and runs outside any transaction; no token appears in a repr, an error or a log line.
"""

import logging
import os
import time
from datetime import datetime, timedelta

import requests
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from oauthlib.oauth2 import OAuth2Error, WebApplicationClient
from requests.auth import HTTPBasicAuth

from integration_hub.crypto import SecretUnreadable
from integration_hub.models import Credential, OAuthGrant

from .auth import (
    DEFAULT_TOKEN_LIFETIME,
    TOKEN_EXPIRY_MARGIN,
    OutboundAuth,
    credential_load,
    token_session,
)
from .errors import OutboundError, OutboundTokenError
from .policy import check_url
from .redaction import url_for_log
from .transport import transport_error

logger = logging.getLogger("integration_hub.outbound")


def _client_authentication(credential: Credential, client_auth: str) -> dict:
    """How the app authenticates at a token endpoint (RFC 6749 2.3.1): HTTP Basic, or its
    id and secret in the form body. Keyword arguments for requests-oauthlib."""
    if not (credential.client_id and credential.has_client_secret):
        raise OutboundTokenError(
            f"The credential {credential.map_name}/{credential.key_name} holds no client ID "
            "and secret."
        )
    if client_auth == OAuthGrant.ClientAuth.BODY:
        return {"client_id": credential.client_id, "client_secret": credential.client_secret}
    return {"auth": HTTPBasicAuth(credential.client_id, credential.client_secret)}


def _token_call(token_url: str, call, *, timeout) -> dict:
    """Run one token endpoint call of requests-oauthlib under the outbound rules, its
    failures typed and never carrying a secret."""
    check_url(token_url)
    if token_url.lower().startswith("http://"):
        # check_url has already applied OUTBOUND_REQUIRE_HTTPS (see _fetch_and_store).
        os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"
    try:
        token = call()
    except OutboundError:
        raise
    except requests.RequestException as exc:
        raise transport_error(exc, method="POST", url=token_url, timeout=timeout) from None
    except (OAuth2Error, Warning, ValueError) as exc:
        # Not chained: oauthlib's errors can carry the request body.
        code = getattr(exc, "error", "") or type(exc).__name__
        raise OutboundTokenError(
            f"The token endpoint {url_for_log(token_url)} answered without a usable token ({code})."
        ) from None
    access_token = token.get("access_token")
    if not isinstance(access_token, str) or not access_token:
        raise OutboundTokenError(
            f"The token endpoint {url_for_log(token_url)} answered without a token."
        )
    return token


def authorization_code_exchange(
    *,
    token_url: str,
    credential: Credential,
    client_auth: str,
    code: str,
    redirect_uri: str,
    code_verifier: str,
    timeout,
) -> dict:
    """POST the authorization code with its PKCE verifier to the token endpoint (RFC 6749
    4.1.3, RFC 7636 4.5); the token response as a dict."""
    client_authentication = _client_authentication(credential, client_auth)
    secret = credential.client_secret
    session = token_session(
        client_id=credential.client_id,
        secrets=(secret, code),
        client=WebApplicationClient(client_id=credential.client_id),
    )
    session.redirect_uri = redirect_uri
    if "auth" in client_authentication:
        extra = {"auth": client_authentication["auth"], "include_client_id": False}
    else:
        extra = {"include_client_id": True, "client_secret": secret}
    return _token_call(
        token_url,
        lambda: session.fetch_token(
            token_url, code=code, code_verifier=code_verifier, timeout=timeout, **extra
        ),
        timeout=timeout,
    )


def token_expiry(token: dict, started: datetime) -> datetime:
    """When an access token of a token response stops being valid."""
    try:
        lifetime = timedelta(seconds=float(token["expires_in"]))
    except (KeyError, TypeError, ValueError):
        lifetime = DEFAULT_TOKEN_LIFETIME
    return started + lifetime


# A refresh holds its grant this long: a worker that dies holding it delays the others by
# at most this. Longer than a token call's timeout is not needed: the holder that outlives
# its lease still stores only by compare and swap.
GRANT_REFRESH_LEASE = timedelta(seconds=30)
# How often a worker that found the grant being refreshed looks for the new tokens.
GRANT_LEASE_POLL_SECONDS = 0.1


class OAuthGrantAuth(OutboundAuth):
    """The access token of one OAuthGrant (authorization code flow), cached in its row for
    every worker and never per app credential: the app's client id and secret are shared
    by every grant, a token is not.

    A token is refreshed TOKEN_EXPIRY_MARGIN before it expires and after a 401. Refresh
    tokens rotate, so a refresh takes a short lease on the grant row (a conditional update
    with an expiry), calls the token endpoint outside any transaction, and stores the new
    tokens only if the refresh token it used is still the stored one (compare and swap).
    A worker that finds the lease taken waits for the holder's tokens.
    """

    sends_credentials = True

    def __init__(self, *, grant: OAuthGrant):
        self.grant_id = grant.pk
        # The API the grant's tokens are for: they are only ever sent there.
        self.origin = grant.origin
        self._access_token: str | None = None
        self._expires_at: datetime | None = None
        # The token a 401 answered: never used again, even while another worker still
        # stores it.
        self._discarded: str | None = None

    def __repr__(self) -> str:
        return f"<OAuthGrantAuth grant={self.grant_id}>"

    def headers(self, *, timeout) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token(timeout=timeout)}"}

    def _is_usable(self, access_token: str | None, expires_at: datetime | None) -> bool:
        return bool(
            access_token
            and access_token != self._discarded
            and expires_at is not None
            and timezone.now() < expires_at - TOKEN_EXPIRY_MARGIN
        )

    def _grant_load(self) -> OAuthGrant:
        try:
            grant = (
                OAuthGrant.objects.select_related("integration").filter(pk=self.grant_id).first()
            )
        except SecretUnreadable:
            raise OutboundTokenError(
                f"The OAuth grant {self.grant_id} cannot be decrypted with "
                "FIELD_ENCRYPTION_KEYS; connect again."
            ) from None
        if grant is None:
            raise OutboundTokenError(
                f"The OAuth grant {self.grant_id} is gone (disconnected); connect again."
            )
        return grant

    def _remember(self, access_token: str, expires_at: datetime) -> str:
        self._access_token, self._expires_at = access_token, expires_at
        return access_token

    def access_token(self, *, timeout) -> str:
        if self._is_usable(self._access_token, self._expires_at):
            return self._access_token
        waited_until = time.monotonic() + GRANT_REFRESH_LEASE.total_seconds()
        retried = False
        while True:
            grant = self._grant_load()
            if self._is_usable(grant.access_token, grant.access_token_expires_at):
                return self._remember(grant.access_token, grant.access_token_expires_at)
            lease = self._lease_take()
            if lease is None:
                if time.monotonic() > waited_until:
                    raise OutboundTokenError(
                        f"The OAuth grant {self.grant_id} is being refreshed by another "
                        "worker that has not finished; try again."
                    )
                time.sleep(GRANT_LEASE_POLL_SECONDS)
                continue
            try:
                return self._refresh(lease, timeout=timeout)
            except OutboundTokenError:
                # Another worker may have rotated the refresh token past our lease (the
                # old one is then refused): once, with what is stored now.
                if retried or self._grant_load().refresh_token == grant.refresh_token:
                    raise
                retried = True
            finally:
                OAuthGrant.objects.filter(pk=self.grant_id, refreshing_until=lease).update(
                    refreshing_until=None
                )

    def _lease_take(self) -> datetime | None:
        now = timezone.now()
        until = now + GRANT_REFRESH_LEASE
        taken = (
            OAuthGrant.objects.filter(pk=self.grant_id)
            .filter(Q(refreshing_until__isnull=True) | Q(refreshing_until__lte=now))
            .update(refreshing_until=until)
        )
        return until if taken else None

    def _refresh(self, lease: datetime, *, timeout) -> str:
        # Read again under the lease: the previous holder may have stored new tokens.
        grant = self._grant_load()
        if self._is_usable(grant.access_token, grant.access_token_expires_at):
            return self._remember(grant.access_token, grant.access_token_expires_at)
        used = grant.refresh_token
        if not used:
            raise OutboundTokenError(
                f"The OAuth grant {self.grant_id} holds no refresh token; connect again."
            )
        integration = grant.integration
        credential = credential_load(integration.credential_map, integration.credential_key)
        client_authentication = _client_authentication(credential, grant.client_auth)
        session = token_session(
            client_id=credential.client_id, secrets=(credential.client_secret, used)
        )
        started = timezone.now()
        token = _token_call(
            grant.token_url,
            lambda: session.refresh_token(
                grant.token_url, refresh_token=used, timeout=timeout, **client_authentication
            ),
            timeout=timeout,
        )
        access_token = token["access_token"]
        expires_at = token_expiry(token, started)
        rotated = token.get("refresh_token")
        stored = self._tokens_store(
            used=used,
            refresh_token=rotated if isinstance(rotated, str) and rotated else used,
            access_token=access_token,
            expires_at=expires_at,
        )
        logger.info(
            "Refreshed the tokens of OAuth grant %s at %s%s",
            self.grant_id,
            url_for_log(grant.token_url),
            "" if stored else " (a newer refresh token was stored meanwhile: kept that one)",
        )
        return self._remember(access_token, expires_at)

    def _tokens_store(
        self, *, used: str, refresh_token: str, access_token: str, expires_at: datetime
    ) -> bool:
        """Compare and swap: store the new tokens only if `used` is still the stored refresh
        token (the values are encrypted, so they are compared here, under a row lock)."""
        with transaction.atomic():
            grant = OAuthGrant.objects.select_for_update().filter(pk=self.grant_id).first()
            if grant is None or grant.refresh_token != used:
                return False
            grant.refresh_token = refresh_token
            grant.access_token = access_token
            grant.access_token_expires_at = expires_at
            grant.refreshing_until = None
            grant.save(
                update_fields=[
                    "refresh_token",
                    "access_token",
                    "access_token_expires_at",
                    "refreshing_until",
                    "updated_at",
                ]
            )
        return True

    def token_discard(self) -> bool:
        discarded = self._access_token
        self._access_token = self._expires_at = None
        if discarded is None:
            return True
        self._discarded = discarded
        # For every worker too, if it is still the stored one (another may have stored a
        # newer one meanwhile).
        with transaction.atomic():
            grant = OAuthGrant.objects.select_for_update().filter(pk=self.grant_id).first()
            if grant is not None and grant.access_token == discarded:
                grant.access_token_expires_at = None
                grant.save(update_fields=["access_token_expires_at", "updated_at"])
        return True
