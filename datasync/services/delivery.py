"""The Send Sample Message feature and the replay of dead letters."""

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q

from integration_hub.outbound import OutboundError
from integration_hub.outbound.client import BODY_EXCERPT_CHARS
from integration_hub.services.audit import audit_record

from ..models import ProgressRecord
from ..payloads import SAMPLE_BODY, body_encode
from .run import _DeliveryFailed, delivery_client, delivery_headers

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
    """POST reference 003's sample body with the saved credentials; returns what came back."""
    body = body_encode(SAMPLE_BODY["messages"])
    try:
        client = delivery_client()
        response = client.post("", data=body, headers=delivery_headers(webhook_id="0", body=body))
        text = response.text[:SAMPLE_RESPONSE_CHARS]
        result = SampleResult(status_code=response.status_code, body=text)
    except _DeliveryFailed as exc:
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


@transaction.atomic
def dead_letters_replay(*, record_ids: list[int], acting_user=None) -> int:
    """Put the dead-lettered records of the customers of `record_ids` back in the queue,
    together and in their order (their ids, hence uniqueIds and order, are unchanged).
    Returns how many records were re-queued."""
    chosen = ProgressRecord.objects.filter(id__in=record_ids, is_dead_letter=True)
    condition = Q(pk__in=[])
    for subscriber_id, customer_key, pk in chosen.values_list(
        "subscriber_id", "customer_key", "id"
    ):
        if customer_key:
            condition |= Q(subscriber_id=subscriber_id, customer_key=customer_key)
        else:
            condition |= Q(pk=pk)
    replayed = ProgressRecord.objects.filter(condition, is_dead_letter=True).update(
        is_dead_letter=False, attempts=0, next_attempt_at=None
    )
    audit_record(
        actor=acting_user,
        action="datasync.dead_letters_replayed",
        target="Data Sync",
        details={"records": replayed},
    )
    return replayed
