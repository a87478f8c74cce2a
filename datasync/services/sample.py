"""Send Sample Message (reference 003; DESIGN.md, "Data Sync"): the documented sample body
POSTed with the saved credentials, and what came back shown to the user."""

from dataclasses import dataclass

from integration_hub.outbound import OutboundError
from integration_hub.outbound.client import BODY_EXCERPT_CHARS
from integration_hub.services.audit import audit_record

from ..payloads import SAMPLE_BODY, body_encode
from .delivery import DeliveryFailed, delivery_client, delivery_headers

SAMPLE_RESPONSE_CHARS = 2000


@dataclass(frozen=True)
class SampleResult:
    status_code: int | None  # None: no response (timeout, refused, no token, not configured)
    body: str
    error: str = ""

    @property
    def is_success(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def sample_message_send(*, acting_user=None) -> SampleResult:
    """POST reference 003's sample body with the saved credentials; returns what came back
    (any status: the user is shown it, so a non-2xx is not an error here)."""
    body = body_encode(SAMPLE_BODY["messages"])
    try:
        client = delivery_client()
        response = client.post("", data=body, headers=delivery_headers(webhook_id="0", body=body))
        text = response.text[:SAMPLE_RESPONSE_CHARS]
        result = SampleResult(status_code=response.status_code, body=text)
    except DeliveryFailed as exc:
        result = SampleResult(status_code=None, body="", error=str(exc))
    except OutboundError as exc:
        result = SampleResult(status_code=None, body="", error=str(exc)[:BODY_EXCERPT_CHARS])
    audit_record(
        actor=acting_user,
        action="datasync.sample_sent",
        target="Data Sync",
        details={"statusCode": result.status_code, "error": result.error},
    )
    return result
