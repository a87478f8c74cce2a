"""What of an outbound call may be written to a log line or an error message.

A URL is shown as scheme://host[:port]/path: never its query string (partners put keys
there), its fragment, or user:password@. Libraries that log more than that at DEBUG are
filtered here, so that turning on DEBUG never puts a secret into a log.
"""

import logging
from urllib.parse import urlsplit


def url_for_log(url: str) -> str:
    """scheme://host[:port]/path of `url`, without query, fragment or credentials."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return "<invalid URL>"
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{port}" if port else host
    return f"{parts.scheme}://{netloc}{parts.path}" if parts.scheme else parts.path


def _without_query(value: object) -> object:
    if isinstance(value, str) and "?" in value:
        return value.split("?", 1)[0] + "?<redacted>"
    return value


class QueryStringFilter(logging.Filter):
    """Drop query strings from the arguments of urllib3's request log lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_without_query(arg) for arg in record.args)
        return True


class DebugRecordFilter(logging.Filter):
    """Drop DEBUG records: requests-oauthlib logs request headers (HTTP Basic client
    credentials), request bodies and the tokens it obtained at DEBUG."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno > logging.DEBUG


def _install_filter(logger_name: str, filter_class: type[logging.Filter]) -> None:
    logger = logging.getLogger(logger_name)
    if not any(isinstance(existing, filter_class) for existing in logger.filters):
        logger.addFilter(filter_class())


def library_log_filters_install() -> None:
    """Idempotent; called when the outbound package is imported."""
    _install_filter("urllib3.connectionpool", QueryStringFilter)
    _install_filter("requests_oauthlib.oauth2_session", DebugRecordFilter)
