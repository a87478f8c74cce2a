"""What the outbound client counts (declared in integration_hub/declarations.py): every
request it sends, by the integration it is for and the class of its answer, and how long
each took."""

from integration_hub.metrics import Counter, Histogram

# A client made without an integration (a URL from a setting, a notifier webhook).
NO_INTEGRATION = "none"

OUTBOUND_REQUESTS = Counter(
    "hub_outbound_requests_total",
    "Outbound HTTP requests sent, by integration and answer: 2xx, 3xx, 4xx, 5xx, or error "
    "(timeout, refused connection, TLS, refused by the network policy; no answer).",
    ["integration", "status_class"],
)
OUTBOUND_SECONDS = Histogram(
    "hub_outbound_request_seconds",
    "Outbound HTTP request duration, until the answer's headers or the failure.",
    ["integration"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0),
)


def outbound_request_count(*, integration: str, status: int | None, seconds: float) -> None:
    """One request sent: `status` is None when no answer came."""
    status_class = "error" if status is None else f"{status // 100}xx"
    OUTBOUND_REQUESTS.inc(integration=integration, status_class=status_class)
    OUTBOUND_SECONDS.observe(seconds, integration=integration)
