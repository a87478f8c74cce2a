import json

from .models import ReceivedRequest, SandboxReceiver

# A page of 100 deliveries stays readable (and small) even when bodies are large.
BODY_SHOWN_CHARS = 20_000


def body_pretty(body: str) -> str:
    """JSON indented for reading; anything else as it came."""
    try:
        return json.dumps(json.loads(body), indent=2, ensure_ascii=False)
    except ValueError:
        return body


def received_requests_recent(*, slug: str, limit: int = 100) -> list[ReceivedRequest]:
    """The most recent deliveries to receiver `slug`, newest first, each with
    `body_shown` (pretty, cut at BODY_SHOWN_CHARS) and `is_body_cut`."""
    rows = list(ReceivedRequest.objects.filter(receiver__slug=slug).order_by("-id")[:limit])
    for row in rows:
        pretty = body_pretty(row.body)
        row.body_shown = pretty[:BODY_SHOWN_CHARS]
        row.is_body_cut = row.body_truncated or len(pretty) > BODY_SHOWN_CHARS
    return rows


def sandbox_receiver_find(*, slug: str) -> SandboxReceiver | None:
    return SandboxReceiver.objects.filter(slug=slug).first()
