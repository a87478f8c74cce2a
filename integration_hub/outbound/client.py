"""The one outbound HTTP client every pipeline uses (DESIGN.md, "Outbound HTTP").

    client = OutboundClient.for_integration(integration)
    response = ensure_success(client.post("", json={"messages": [...]}))
    # With a user's OAuth grant (authorization code flow): that grant's access token.
    client = OutboundClient.for_integration(integration, grant=accounting_integration.grant)

Every call: the network policy on the URL (and, in the transport, on every address its host
resolves to), a timeout (OutboundTimeoutSeconds by default), no redirects followed, TLS 1.2+,
pooled keep-alive connections. Failures are typed (outbound.errors). On a 401 an OAuth2
token is fetched again once and the call retried once.
"""

import re
import time
from datetime import UTC
from email.utils import parsedate_to_datetime

import requests
from django.utils import timezone

from integration_hub.models import DEFAULT_CREDENTIAL_MAP
from integration_hub.system_settings import setting_get

from .auth import OutboundAuth, outbound_auth
from .errors import OutboundError, OutboundHTTPError, OutboundPolicyError
from .grants import OAuthGrantAuth
from .metrics import NO_INTEGRATION, outbound_request_count
from .policy import check_url, url_origin
from .redaction import outbound_call_log, url_for_log
from .transport import thread_session, transport_error

BODY_EXCERPT_CHARS = 500
_ABSOLUTE_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


class OutboundClient:
    """Calls one partner: a base URL and how to authenticate there.

    Cheap to create; connections are pooled per thread, not per client. The access token
    is remembered by the client (and by every process through the database).
    """

    def __init__(
        self,
        *,
        base_url: str = "",
        auth: OutboundAuth | None = None,
        integration_label: str = NO_INTEGRATION,
    ):
        self.base_url = base_url
        self.auth = auth or OutboundAuth()
        # The `integration` label of this client's requests in /metrics.
        self.integration_label = integration_label

    @classmethod
    def for_integration(cls, integration, *, grant=None) -> "OutboundClient":
        """The client for an integration; with `grant` (an OAuthGrant of that integration),
        its calls carry that grant's access token instead of the app's credential."""
        if grant is not None:
            if grant.integration_id != integration.pk:
                raise ValueError(
                    f"OAuth grant {grant.pk} belongs to another integration than {integration}."
                )
            return cls(
                base_url=integration.base_url,
                auth=OAuthGrantAuth(grant=grant),
                integration_label=integration.name,
            )
        return cls.for_credentials(
            auth_type=integration.auth_type,
            token_url=integration.token_url,
            map_name=integration.credential_map or DEFAULT_CREDENTIAL_MAP,
            key_name=integration.credential_key,
            base_url=integration.base_url,
            integration_label=integration.name,
        )

    @classmethod
    def for_credentials(
        cls,
        *,
        auth_type: str,
        token_url: str = "",
        map_name: str = DEFAULT_CREDENTIAL_MAP,
        key_name: str = "",
        base_url: str = "",
        integration_label: str = NO_INTEGRATION,
    ) -> "OutboundClient":
        """For callers configured by settings rather than an Integration (Data Sync, which
        names itself in `integration_label`)."""
        auth = outbound_auth(
            auth_type=auth_type,
            token_url=token_url,
            map_name=map_name or DEFAULT_CREDENTIAL_MAP,
            key_name=key_name,
            origin=url_origin(base_url),
        )
        return cls(base_url=base_url, auth=auth, integration_label=integration_label)

    def __repr__(self) -> str:
        return f"<OutboundClient base_url={url_for_log(self.base_url)} auth={self.auth!r}>"

    def url_for(self, path: str = "") -> str:
        """An absolute URL as it is; a relative path appended to base_url ("" is base_url)."""
        if _ABSOLUTE_URL.match(path):
            return path
        if not self.base_url:
            raise ValueError("A relative path needs a client with a base_url.")
        if not path:
            return self.base_url
        return f"{self.base_url.rstrip('/')}/{path.lstrip('/')}"

    def request(
        self,
        method: str,
        path: str = "",
        *,
        json=None,
        data=None,
        headers: dict[str, str] | None = None,
        params=None,
        timeout: float | tuple[float, float] | None = None,
        stream: bool = False,
    ) -> requests.Response:
        """Send one request and return the response, whatever its status.

        `data` must be bytes, str or a dict (not a stream): after a 401 the same body is
        sent again. Raises OutboundPolicyError, OutboundTimeout, OutboundConnectionRefused,
        OutboundTokenError; use `ensure_success` to raise OutboundHTTPError on a non-2xx.
        """
        method = method.upper()
        url = self.url_for(path)
        check_url(url)
        if self.auth.sends_credentials and url_origin(url) != self.auth.origin:
            raise OutboundPolicyError(
                f"{url_for_log(url)} is not at the origin this client's credentials are for; "
                "they are only ever sent there."
            )
        if timeout is None:
            timeout = setting_get("OutboundTimeoutSeconds")
        send = {
            "json": json,
            "data": data,
            "headers": headers,
            "params": params,
            "timeout": timeout,
            "stream": stream,
        }
        response = self._send(method, url, **send)
        if response.status_code == 401 and self.auth.token_discard():
            # Once: the token may have been revoked or rotated before its expiry.
            response.close()
            response = self._send(method, url, **send)
        return response

    def _send(self, method: str, url: str, *, headers, timeout, **kwargs) -> requests.Response:
        started = time.perf_counter()
        try:
            all_headers = dict(headers or {})
            all_headers.update(self.auth.headers(timeout=timeout))
            response = thread_session().request(
                method, url, headers=all_headers, timeout=timeout, allow_redirects=False, **kwargs
            )
        except OutboundError as exc:
            self._count(started, None)
            outbound_call_log(method=method, url=url, started=started, error=exc.kind)
            raise
        except requests.RequestException as exc:
            self._count(started, None)
            error = transport_error(exc, method=method, url=url, timeout=timeout)
            outbound_call_log(method=method, url=url, started=started, error=error.kind)
            # Not chained: requests' messages hold the full URL, query string included.
            raise error from None
        status = response.status_code
        self._count(started, status)
        outbound_call_log(method=method, url=url, started=started, status=status)
        return response

    def _count(self, started: float, status: int | None) -> None:
        outbound_request_count(
            integration=self.integration_label,
            status=status,
            seconds=time.perf_counter() - started,
        )

    def get(self, path: str = "", **kwargs) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str = "", **kwargs) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def put(self, path: str = "", **kwargs) -> requests.Response:
        return self.request("PUT", path, **kwargs)

    def patch(self, path: str = "", **kwargs) -> requests.Response:
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str = "", **kwargs) -> requests.Response:
        return self.request("DELETE", path, **kwargs)


def retry_after_seconds(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP-date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(int(value))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - timezone.now()).total_seconds())


def _body_excerpt(response: requests.Response) -> str:
    try:
        chunk = next(response.iter_content(chunk_size=BODY_EXCERPT_CHARS * 4), b"")
    except (requests.RequestException, RuntimeError):
        return ""
    if isinstance(chunk, bytes):
        try:
            chunk = chunk.decode(response.encoding or "utf-8", errors="replace")
        except LookupError:
            chunk = chunk.decode("utf-8", errors="replace")
    text = " ".join(chunk.split())
    if len(text) > BODY_EXCERPT_CHARS:
        text = text[: BODY_EXCERPT_CHARS - 1] + "…"
    return text


def ensure_success(response: requests.Response) -> requests.Response:
    """The response on a 2xx; otherwise OutboundHTTPError (a 3xx too: redirects are not
    followed) with the status, up to 500 characters of the body and Retry-After."""
    status = response.status_code
    if 200 <= status < 300:
        return response
    excerpt = _body_excerpt(response)
    retry_after = retry_after_seconds(response.headers.get("Retry-After"))
    response.close()
    raise OutboundHTTPError(status, excerpt, retry_after)
