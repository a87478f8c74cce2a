"""Typed outbound failures, so that every pipeline can say what broke.

Messages never carry a secret: no tokens, keys, or Authorization headers.
"""


class OutboundError(Exception):
    """Any failure of an outbound call."""

    kind = "error"


class OutboundPolicyError(OutboundError):
    """The network policy refused the URL or an address it resolves to."""

    kind = "policy"


class OutboundTimeout(OutboundError):
    """The partner did not answer within the timeout."""

    kind = "timeout"


class OutboundConnectionRefused(OutboundError):
    """The connection could not be made (refused, reset, DNS failure, TLS failure)."""

    kind = "refused"


class OutboundTokenError(OutboundError):
    """The token endpoint did not issue a token, or no usable credentials are stored."""

    kind = "token"


class OutboundHTTPError(OutboundError):
    """The partner answered with a status that is not 2xx (a redirect included)."""

    kind = "http"

    def __init__(self, status_code: int, body_excerpt: str = "", retry_after: float | None = None):
        self.status_code = status_code
        self.body_excerpt = body_excerpt
        self.retry_after = retry_after
        message = f"HTTP {status_code}"
        if 300 <= status_code < 400:
            message += " (redirect not followed)"
        if body_excerpt:
            message += f": {body_excerpt}"
        super().__init__(message)
