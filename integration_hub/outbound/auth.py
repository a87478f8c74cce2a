"""How the outbound client authenticates: none, API key, or OAuth2 (DESIGN.md, "Outbound
HTTP"). The grants a user gives (authorization code flow) are in outbound.grants.

OAuth2 access tokens are cached for every worker process in `OAuthToken` (encrypted) and in
memory for the life of the auth object. A token is used until TOKEN_EXPIRY_MARGIN before it
expires, then fetched again. No HTTP call happens inside a database transaction: the token
row is written after the fetch, in its own short transaction.

Secrets are read from the credential store when they are needed and never kept on these
objects, shown in their repr, or put into an error message or log line.

`db_guard` (a context manager, none by default) is held around each of their database
statements and only there, never across an HTTP call: a caller whose threads share one
database connection passes that connection's lock (datasync/services/shared_connection.py).
"""

import contextlib
import logging
import os
import time
from datetime import datetime, timedelta

import requests
from django.db import DatabaseError, IntegrityError
from django.utils import timezone
from oauthlib.oauth2 import BackendApplicationClient, OAuth2Error
from requests.auth import HTTPBasicAuth
from requests_oauthlib import OAuth2Session

from integration_hub.crypto import SecretUnreadable
from integration_hub.models import Credential, OAuthToken
from integration_hub.services.credentials import credential_store_refresh_token

from .errors import OutboundError, OutboundTokenError
from .policy import check_url
from .redaction import outbound_call_log, url_for_log
from .transport import session_configure, thread_adapter, transport_error

logger = logging.getLogger("integration_hub.outbound")

# A token this close to its expiry is not used any more: a call may take a while.
TOKEN_EXPIRY_MARGIN = timedelta(seconds=60)
# For a token endpoint that does not say how long its token lives (no expires_in).
DEFAULT_TOKEN_LIFETIME = timedelta(minutes=5)

_OAUTH_ERROR_CODE_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz_")


class OutboundAuth:
    """No authentication. Subclasses add headers to each request, and only to requests to
    the origin (scheme, host, port) they were made for: a credential or a token is only ever
    sent to where a System Admin pointed it."""

    origin = ""
    sends_credentials = False
    db_guard: contextlib.AbstractContextManager = contextlib.nullcontext()

    def headers(self, *, timeout) -> dict[str, str]:
        return {}

    def token_discard(self) -> bool:
        """Forget the access token after a 401; True when fetching a new one may help."""
        return False

    def __repr__(self) -> str:
        return "<OutboundAuth none>"


def credential_load(map_name: str, key_name: str) -> Credential:
    """The credential store entry, or OutboundTokenError saying why there is none."""
    try:
        credential = Credential.objects.filter(map_name=map_name, key_name=key_name).first()
    except SecretUnreadable:
        raise OutboundTokenError(
            f"The credential {map_name}/{key_name} cannot be decrypted with "
            "FIELD_ENCRYPTION_KEYS; save it again."
        ) from None
    if credential is None:
        raise OutboundTokenError(
            f"No credential {map_name}/{key_name} is stored; save it in the credential store."
        )
    return credential


class ApiKeyAuth(OutboundAuth):
    """Sends the stored API key as the `X-API-Key` header."""

    sends_credentials = True

    def __init__(self, *, map_name: str, key_name: str, origin: str):
        self.map_name = map_name
        self.key_name = key_name
        self.origin = origin
        self._api_key: str | None = None

    def headers(self, *, timeout) -> dict[str, str]:
        if self._api_key is None:
            with self.db_guard:
                credential = credential_load(self.map_name, self.key_name)
            if not credential.has_api_key:
                raise OutboundTokenError(
                    f"The credential {self.map_name}/{self.key_name} holds no API key."
                )
            self._api_key = credential.api_key
        return {"X-API-Key": self._api_key}

    def __repr__(self) -> str:
        return f"<ApiKeyAuth {self.map_name}/{self.key_name}>"


class _TokenSession(OAuth2Session):
    """requests-oauthlib's session, never following a redirect from the token endpoint, and
    logging each call to it as every outbound call is logged."""

    def request(self, method, url, *args, **kwargs):
        kwargs["allow_redirects"] = False
        started = time.perf_counter()
        try:
            response = super().request(method, url, *args, **kwargs)
        except OutboundError as exc:
            outbound_call_log(method=method, url=url, started=started, error=exc.kind)
            raise
        except requests.RequestException as exc:
            error = transport_error(exc, method=method, url=url, timeout=kwargs.get("timeout"))
            outbound_call_log(method=method, url=url, started=started, error=error.kind)
            raise
        outbound_call_log(method=method, url=url, started=started, status=response.status_code)
        return response


def _oauth_error_code(response: requests.Response, secrets: tuple[str, ...]) -> str:
    """The RFC 6749 `error` code of a failed token response (e.g. invalid_client), if any."""
    try:
        code = response.json().get("error", "")
    except (ValueError, AttributeError):
        return ""
    if (
        isinstance(code, str)
        and 0 < len(code) <= 64
        and set(code) <= _OAUTH_ERROR_CODE_CHARS
        and not any(secret and secret in code for secret in secrets)
    ):
        return code
    return ""


def token_session(*, client_id: str | None, secrets: tuple[str, ...], client=None) -> OAuth2Session:
    """A requests-oauthlib session under the outbound rules (policy, TLS, no redirects), whose
    failed token responses raise OutboundTokenError naming at most the RFC 6749 error code
    (never one of `secrets`)."""

    def require_success(response: requests.Response) -> requests.Response:
        if 200 <= response.status_code < 300:
            return response
        code = _oauth_error_code(response, secrets)
        response.close()
        raise OutboundTokenError(
            f"The token endpoint {url_for_log(response.url)} answered HTTP "
            f"{response.status_code}{f' ({code})' if code else ''}."
        )

    session = _TokenSession(client=client or BackendApplicationClient(client_id=client_id))
    session_configure(session, thread_adapter())
    session.register_compliance_hook("access_token_response", require_success)
    session.register_compliance_hook("refresh_token_response", require_success)
    return session


class _OAuth2Auth(OutboundAuth):
    grant_name = ""
    sends_credentials = True

    def __init__(self, *, token_url: str, map_name: str, key_name: str, origin: str):
        self.token_url = token_url
        self.map_name = map_name
        self.key_name = key_name
        # The API the token is fetched for: a cached token is only ever used there.
        self.origin = origin
        self._access_token: str | None = None
        self._expires_at: datetime | None = None
        self._row: tuple[int, datetime] | None = None  # (pk, expires_at) of the cached row

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} {self.map_name}/{self.key_name} "
            f"token_url={url_for_log(self.token_url)}>"
        )

    def headers(self, *, timeout) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token(timeout=timeout)}"}

    def access_token(self, *, timeout) -> str:
        now = timezone.now()
        if self._access_token is not None and now < self._expires_at - TOKEN_EXPIRY_MARGIN:
            return self._access_token
        with self.db_guard:
            credential = credential_load(self.map_name, self.key_name)
            row = self._row_load(credential)
        if row is not None and now < row.expires_at - TOKEN_EXPIRY_MARGIN:
            self._remember(row.access_token, row.expires_at, row)
            return row.access_token
        return self._fetch_and_store(credential, timeout=timeout)

    def token_discard(self) -> bool:
        self._access_token = self._expires_at = None
        if self._row is not None:
            # Only the row this token came from: another worker may have stored a newer one.
            pk, expires_at = self._row
            with self.db_guard:
                OAuthToken.objects.filter(pk=pk, expires_at=expires_at).delete()
            self._row = None
        return True

    def _row_load(self, credential: Credential) -> OAuthToken | None:
        try:
            return OAuthToken.objects.filter(
                credential=credential, token_url=self.token_url, origin=self.origin
            ).first()
        except SecretUnreadable:
            return None  # stored under a key that is gone: fetch a new one

    def _remember(self, access_token: str, expires_at: datetime, row: OAuthToken | None):
        self._access_token = access_token
        self._expires_at = expires_at
        self._row = (row.pk, row.expires_at) if row is not None else None

    def _fetch_and_store(self, credential: Credential, *, timeout) -> str:
        check_url(self.token_url)
        if self.token_url.lower().startswith("http://"):
            # check_url has already applied OUTBOUND_REQUIRE_HTTPS; without this switch
            # oauthlib refuses plain http on its own (the sandbox and tests use it).
            os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"
        started = timezone.now()
        token = self._fetch_token(credential, timeout=timeout)
        access_token = token.get("access_token")
        if not isinstance(access_token, str) or not access_token:
            raise OutboundTokenError(
                f"The token endpoint {url_for_log(self.token_url)} answered without a token."
            )
        try:
            lifetime = timedelta(seconds=float(token["expires_in"]))
        except (KeyError, TypeError, ValueError):
            lifetime = DEFAULT_TOKEN_LIFETIME
        expires_at = started + lifetime
        row = None
        try:
            with self.db_guard:
                row, _ = OAuthToken.objects.update_or_create(
                    credential=credential,
                    token_url=self.token_url,
                    origin=self.origin,
                    defaults={"access_token": access_token, "expires_at": expires_at},
                )
        except (IntegrityError, DatabaseError):
            # The credential was deleted meanwhile: use the token, but cache it nowhere else.
            logger.warning("Could not cache the token of %s/%s", self.map_name, self.key_name)
        self._remember(access_token, expires_at, row)
        logger.info(
            "Fetched an OAuth2 token (%s) for %s/%s from %s",
            self.grant_name,
            self.map_name,
            self.key_name,
            url_for_log(self.token_url),
        )
        return access_token

    def _fetch_token(self, credential: Credential, *, timeout) -> dict:
        try:
            return self._grant(credential, timeout=timeout)
        except OutboundError:
            raise
        except requests.RequestException as exc:
            raise transport_error(exc, method="POST", url=self.token_url, timeout=timeout) from None
        except (OAuth2Error, Warning, ValueError) as exc:
            # Not chained: oauthlib's errors can carry the request body.
            code = getattr(exc, "error", "") or type(exc).__name__
            raise OutboundTokenError(
                f"The token endpoint {url_for_log(self.token_url)} answered without a usable "
                f"token ({code})."
            ) from None

    def _grant(self, credential: Credential, *, timeout) -> dict:
        raise NotImplementedError


class OAuth2ClientCredentialsAuth(_OAuth2Auth):
    """OAuth2 client credentials grant; the client authenticates by HTTP Basic."""

    grant_name = "client credentials"

    def _grant(self, credential: Credential, *, timeout) -> dict:
        if not (credential.client_id and credential.has_client_secret):
            raise OutboundTokenError(
                f"The credential {self.map_name}/{self.key_name} holds no client ID and secret."
            )
        secret = credential.client_secret
        session = token_session(client_id=credential.client_id, secrets=(secret,))
        return session.fetch_token(
            self.token_url,
            auth=HTTPBasicAuth(credential.client_id, secret),
            include_client_id=False,
            timeout=timeout,
        )


class OAuth2RefreshTokenAuth(_OAuth2Auth):
    """OAuth2 refresh token grant, with no user present. A refresh token the endpoint
    rotates is stored back into the credential store."""

    grant_name = "refresh token"

    def _grant(self, credential: Credential, *, timeout) -> dict:
        try:
            return self._refresh(credential, timeout=timeout)
        except OutboundTokenError:
            # Another worker may have rotated the refresh token meanwhile: try its new one.
            with self.db_guard:
                reloaded = credential_load(self.map_name, self.key_name)
            if not reloaded.has_refresh_token or (
                reloaded.refresh_token == credential.refresh_token
            ):
                raise
            return self._refresh(reloaded, timeout=timeout)

    def _refresh(self, credential: Credential, *, timeout) -> dict:
        if not credential.has_refresh_token:
            raise OutboundTokenError(
                f"The credential {self.map_name}/{self.key_name} holds no refresh token."
            )
        refresh_token = credential.refresh_token
        extra = {}
        auth = None
        if credential.has_client_secret:
            auth = HTTPBasicAuth(credential.client_id, credential.client_secret)
        elif credential.client_id:
            extra["client_id"] = credential.client_id  # a public client names itself
        session = token_session(
            client_id=credential.client_id or None,
            secrets=(credential.client_secret, refresh_token),
        )
        token = session.refresh_token(
            self.token_url, refresh_token=refresh_token, auth=auth, timeout=timeout, **extra
        )
        rotated = token.get("refresh_token")
        if isinstance(rotated, str) and rotated and rotated != refresh_token:
            with self.db_guard:
                credential_store_refresh_token(credential=credential, refresh_token=rotated)
        return token


def outbound_auth(
    *, auth_type: str, token_url: str, map_name: str, key_name: str, origin: str
) -> OutboundAuth:
    """The auth object for an Integration.AuthType value, for calls to `origin` only."""
    if auth_type in ("", None, "NONE"):
        return OutboundAuth()
    if not key_name:
        raise OutboundTokenError(f"Authentication {auth_type} needs a credential key name.")
    if not origin:
        raise OutboundTokenError(f"Authentication {auth_type} needs the base URL it is for.")
    if auth_type == "API_KEY":
        return ApiKeyAuth(map_name=map_name, key_name=key_name, origin=origin)
    if auth_type == "OAUTH2_AUTHORIZATION_CODE":
        raise OutboundTokenError(
            "Authentication OAUTH2_AUTHORIZATION_CODE calls with a user's grant: connect first."
        )
    if auth_type in ("OAUTH2_CLIENT_CREDENTIALS", "OAUTH2_REFRESH_TOKEN"):
        if not token_url:
            raise OutboundTokenError(f"Authentication {auth_type} needs a token URL.")
        auth_class = (
            OAuth2ClientCredentialsAuth
            if auth_type == "OAUTH2_CLIENT_CREDENTIALS"
            else OAuth2RefreshTokenAuth
        )
        return auth_class(token_url=token_url, map_name=map_name, key_name=key_name, origin=origin)
    raise ValueError(f"Unknown authentication type {auth_type!r}.")
