"""The connection layer under the outbound client: policy at connect time, TLS, pooling.

- Every host name is resolved here, every address it resolves to is checked with
  `policy.check_address`, and the socket is connected to one of those checked addresses, so
  there is no window between the check and the connect for DNS rebinding. The URL's host
  name stays the TLS server name (SNI, certificate check) and the Host header.
- TLS 1.2 or newer, certificates verified.
- One `requests.Session` per thread (and per process, since django-q2 forks its workers),
  so connections are kept alive and reused across calls. No proxy or netrc from the
  environment (`trust_env = False`) and no cookies carried between calls.
"""

import http.cookiejar
import os
import socket
import ssl
import sys
import threading

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import (
    ConnectTimeoutError,
    NameResolutionError,
    NewConnectionError,
    ReadTimeoutError,
)
from urllib3.util import connection
from urllib3.util.ssl_ import create_urllib3_context

from .errors import OutboundConnectionRefused, OutboundError, OutboundTimeout
from .policy import check_address
from .redaction import url_for_log

USER_AGENT = "IntegrationHub/1.0"


def resolve_checked_addresses(host: str, port: int) -> list[str]:
    """Every address `host` resolves to, each one checked by the network policy.

    Raises OutboundPolicyError if any address is refused (a name with one public and one
    private address is refused as a whole), socket.gaierror if the name does not resolve.
    """
    infos = socket.getaddrinfo(
        host.strip("[]"), port, connection.allowed_gai_family(), socket.SOCK_STREAM
    )
    addresses = list(dict.fromkeys(sockaddr[0] for *_, sockaddr in infos))
    for address in addresses:
        check_address(host, address)
    return addresses


class _PolicyConnectionMixin:
    """Replaces urllib3's `_new_conn`: resolve once, check, connect to a checked address."""

    def _new_conn(self) -> socket.socket:
        try:
            addresses = resolve_checked_addresses(self._dns_host, self.port)
        except socket.gaierror as exc:
            raise NameResolutionError(self.host, self, exc) from exc
        last_error: OSError | None = None
        for address in addresses:
            try:
                sock = connection.create_connection(
                    (address, self.port),
                    self.timeout,
                    source_address=self.source_address,
                    socket_options=self.socket_options,
                )
            except OSError as exc:
                last_error = exc
                continue
            sys.audit("http.client.connect", self, self.host, self.port)
            return sock
        if isinstance(last_error, TimeoutError):
            raise ConnectTimeoutError(
                self, f"Connection to {self.host} timed out. (connect timeout={self.timeout})"
            ) from last_error
        raise NewConnectionError(
            self, f"Failed to establish a new connection: {last_error}"
        ) from last_error


class PolicyHTTPConnection(_PolicyConnectionMixin, HTTPConnection):
    pass


class PolicyHTTPSConnection(_PolicyConnectionMixin, HTTPSConnection):
    pass


class PolicyHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = PolicyHTTPConnection


class PolicyHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = PolicyHTTPSConnection


def tls_context() -> ssl.SSLContext:
    """TLS 1.2 or newer, certificate and host name verified."""
    context = create_urllib3_context(cert_reqs=ssl.CERT_REQUIRED)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


class PolicyAdapter(HTTPAdapter):
    """requests adapter whose pools connect only to addresses the policy allows, over TLS
    1.2+. No retries: the pipelines own their retry policy."""

    def __init__(self, **kwargs):
        self.ssl_context = tls_context()
        super().__init__(max_retries=0, **kwargs)

    def init_poolmanager(self, connections, maxsize, block=False, **pool_kwargs):
        pool_kwargs["ssl_context"] = self.ssl_context
        super().init_poolmanager(connections, maxsize, block=block, **pool_kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": PolicyHTTPConnectionPool,
            "https": PolicyHTTPSConnectionPool,
        }

    def proxy_manager_for(self, proxy, **proxy_kwargs):
        # A proxy would connect to the partner on our behalf, past the address checks.
        raise OutboundError("Outbound calls do not go through proxies.")


class _NoCookies(http.cookiejar.CookiePolicy):
    """The session is shared by every integration on the thread: keep no cookies."""

    netscape = True
    rfc2965 = hide_cookie2 = False

    def set_ok(self, cookie, request):
        return False

    def return_ok(self, cookie, request):
        return False

    def domain_return_ok(self, domain, request):
        return False

    def path_return_ok(self, path, request):
        return False


def session_configure(session: requests.Session, adapter: PolicyAdapter) -> requests.Session:
    """Make `session` one that obeys the outbound rules (also used for the token session)."""
    session.trust_env = False
    session.cookies.set_policy(_NoCookies())
    session.headers["User-Agent"] = USER_AGENT
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


_thread = threading.local()


def thread_session() -> requests.Session:
    """This thread's pooled session (a new one after a fork: sockets are not shared)."""
    session = getattr(_thread, "session", None)
    if session is None or _thread.pid != os.getpid():
        session = session_configure(requests.Session(), PolicyAdapter())
        _thread.session = session
        _thread.pid = os.getpid()
    return session


def thread_adapter() -> PolicyAdapter:
    return thread_session().get_adapter("https://")


def _root_cause(exc: BaseException) -> BaseException:
    seen: set[int] = set()
    while id(exc) not in seen:
        seen.add(id(exc))
        reason = getattr(exc, "reason", None)
        if isinstance(reason, BaseException):
            exc = reason
            continue
        if exc.args and isinstance(exc.args[0], BaseException):
            exc = exc.args[0]
            continue
        if exc.__cause__ is not None:
            exc = exc.__cause__
            continue
        break
    return exc


def _failure_reason(exc: BaseException) -> str:
    """A short reason without URLs (which could hold a query string)."""
    root = _root_cause(exc)
    if isinstance(root, ssl.SSLError):
        return f"TLS failed ({root.reason or type(root).__name__})"
    if isinstance(root, socket.gaierror):
        return "the host name did not resolve"
    if isinstance(root, OSError) and root.strerror:
        return root.strerror
    return type(root).__name__


def transport_error(
    exc: requests.RequestException, *, method: str, url: str, timeout
) -> OutboundError:
    """The typed error for a requests failure; its message never holds a query string."""
    target = f"{method} {url_for_log(url)}"
    root = _root_cause(exc)
    # urllib3's NewConnectionError is a TimeoutError subclass, but it means "refused".
    timed_out = isinstance(root, ReadTimeoutError | TimeoutError) and not isinstance(
        root, NewConnectionError
    )
    if isinstance(exc, requests.Timeout) or timed_out:
        return OutboundTimeout(f"{target} did not answer within {timeout} s.")
    if isinstance(exc, requests.ConnectionError | requests.exceptions.ChunkedEncodingError):
        return OutboundConnectionRefused(f"{target} failed: {_failure_reason(exc)}.")
    return OutboundError(f"{target} failed: {type(exc).__name__}.")
