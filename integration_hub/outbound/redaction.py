"""What of an outbound call may be written to a log line or an error message.

A URL is shown as scheme://host[:port]/path: never its query string (partners put keys
there), its fragment, or user:password@. Libraries that log more than that at DEBUG are
filtered here, so that turning on DEBUG never puts a secret into a log.

Every outbound call writes one INFO line (`outbound_call_log`): method, host, path, status
and milliseconds, or the kind of failure; with LOG_FORMAT=json also as the fields `method`,
`host`, `path`, `status`, `ms` and `error`.
"""

import logging
import time
from urllib.parse import urlsplit

from integration_hub.logs import QueryStringFilter

logger = logging.getLogger("integration_hub.outbound")


def _url_parts(url: str) -> tuple[str, str, str] | None:
    """(scheme, host[:port], path) of `url`; None if it cannot be parsed."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return None
    if ":" in host:
        host = f"[{host}]"
    return parts.scheme, (f"{host}:{port}" if port else host), parts.path


def url_for_log(url: str) -> str:
    """scheme://host[:port]/path of `url`, without query, fragment or credentials."""
    parts = _url_parts(url)
    if parts is None:
        return "<invalid URL>"
    scheme, host, path = parts
    return f"{scheme}://{host}{path}" if scheme else path


def outbound_call_log(
    *, method: str, url: str, started: float, status: int | None = None, error: str = ""
) -> None:
    """One INFO line for an outbound call that got `status`, or failed with `error` (an
    OutboundError kind: timeout, refused, policy, token, error). `started`: perf_counter()."""
    if not logger.isEnabledFor(logging.INFO):
        return
    ms = round((time.perf_counter() - started) * 1000, 1)
    _scheme, host, path = _url_parts(url) or ("", "", "")
    fields = {"method": method, "host": host, "path": path or "/", "status": status, "ms": ms}
    if error:
        logger.info(
            "%s %s failed (%s) after %.0f ms",
            method,
            url_for_log(url),
            error,
            ms,
            extra={**fields, "error": error},
        )
    else:
        logger.info("%s %s -> %s in %.0f ms", method, url_for_log(url), status, ms, extra=fields)


class DebugRecordFilter(logging.Filter):
    """Drop DEBUG records: requests-oauthlib logs request headers (HTTP Basic client
    credentials), request bodies and the tokens it obtained at DEBUG."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno > logging.DEBUG


def _install_filter(logger_name: str, filter_class: type[logging.Filter]) -> None:
    library_logger = logging.getLogger(logger_name)
    if not any(isinstance(existing, filter_class) for existing in library_logger.filters):
        library_logger.addFilter(filter_class())


def library_log_filters_install() -> None:
    """Idempotent; called when the outbound package is imported."""
    _install_filter("urllib3.connectionpool", QueryStringFilter)
    _install_filter("requests_oauthlib.oauth2_session", DebugRecordFilter)
