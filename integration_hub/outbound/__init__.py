"""Outbound HTTP: the one client every pipeline uses, its network policy and typed errors."""

from .client import OutboundClient, ensure_success, retry_after_seconds
from .errors import (
    OutboundConnectionRefused,
    OutboundError,
    OutboundHTTPError,
    OutboundPolicyError,
    OutboundTimeout,
    OutboundTokenError,
)
from .policy import check_address, check_url
from .redaction import library_log_filters_install

library_log_filters_install()

__all__ = [
    "OutboundClient",
    "OutboundConnectionRefused",
    "OutboundError",
    "OutboundHTTPError",
    "OutboundPolicyError",
    "OutboundTimeout",
    "OutboundTokenError",
    "check_address",
    "check_url",
    "ensure_success",
    "retry_after_seconds",
]
