"""Delivery of a sync record's packets (DESIGN.md, "Accounting": delivery claims, idempotency
keys, time slices), always outside any transaction.

- A packet is claimed before it is sent by a committed conditional update (`claimed_until`):
  two deliveries of one record (a Sync and a Resend, two Resends, two clusters) never send
  the same packet, nor a body a Resend has changed since. A claim outlives the longest send;
  one left by a killed delivery expires and the packet is sent again, with the same key.
- The body is the packet's payload as canonical JSON, and its idempotency key a UUID (v5) of
  the accounting integration, the packet key and the SHA-256 of that exact body: the same
  body always has the same key, a changed body (a map fixed before Resend) a new one.
- The slice's deadline is checked before every call: after the slice's first call (so that
  every slice makes progress), a call starts only with its whole timeout left, so a slice
  ends by its deadline however slow the receiver (past it only by its first send, when that
  one is slow). The record's heartbeat is written at most once a second while sending.
"""

import hashlib
import json
import time
import uuid
from datetime import datetime, timedelta

from django.db.models import F, Q
from django.utils import timezone

from integration_hub.outbound import (
    OutboundClient,
    OutboundError,
    OutboundHTTPError,
    ensure_success,
)
from integration_hub.services.jobs import task_enqueue
from integration_hub.system_settings import setting_get

from ..models import Packet, SyncRecord

DELIVER_TASK = "accounting.tasks.sync_record_deliver"
# A delivery slice ends well inside django-q2's 240 s timeout and enqueues the rest.
DELIVERY_SLICE_SECONDS = 60
ERROR_CHARS = 1000
HEARTBEAT_SECONDS = 1.0
# A claim lasts the call's timeout and this margin: past it the sender is gone.
CLAIM_MARGIN = timedelta(seconds=30)
_IDEMPOTENCY_NAMESPACE = uuid.UUID("5b0c3f5e-8d4c-4a53-9a52-4a1f0a6f0e04")


def packet_body(payload: dict) -> bytes:
    """The exact bytes sent for a payload: canonical JSON, so that a payload read back from
    the database (PostgreSQL's jsonb reorders keys) is the same body."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()


def idempotency_key_for(*, accounting_integration_id: int, key: str, payload: dict | None) -> str:
    """UUID v5 of the accounting integration, the packet key and the SHA-256 of the body;
    "" for a packet that has no body (a value without a map)."""
    if payload is None:
        return ""
    digest = hashlib.sha256(packet_body(payload)).hexdigest()
    name = f"{accounting_integration_id}|{key}|{digest}"
    return str(uuid.uuid5(_IDEMPOTENCY_NAMESPACE, name))


def _packet_claim(packet: Packet, *, timeout: float) -> datetime | None:
    """Claim a Pending packet nobody holds (or whose holder's claim expired), as it was read:
    committed at once, so that another delivery sees it. Its end time is the claim's token;
    None when another delivery has it, or when a Resend changed its body since it was read.

    One send may take a token fetch, the POST, and after a 401 both again: the claim lasts
    four timeouts and a margin."""
    now = timezone.now()
    until = now + timedelta(seconds=4 * timeout) + CLAIM_MARGIN
    claimed = (
        Packet.objects.filter(
            pk=packet.pk, state=Packet.State.PENDING, idempotency_key=packet.idempotency_key
        )
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .update(claimed_until=until)
    )
    return until if claimed else None


def _packet_send(client: OutboundClient, packet: Packet, *, timeout: float, claim) -> None:
    """POST one claimed packet; its state says how it went, and the claim ends. Written only
    while the claim is still this delivery's: had it expired and another delivery taken the
    packet, that delivery's outcome stands."""
    fields = {"state": Packet.State.SENT, "response_code": None, "error": ""}
    try:
        response = client.post(
            "",
            data=packet_body(packet.payload),
            headers={
                "Content-Type": "application/json",
                "Idempotency-Key": packet.idempotency_key,
            },
            timeout=timeout,
        )
        fields["response_code"] = response.status_code
        ensure_success(response)
        response.close()
    except OutboundHTTPError as exc:
        fields.update(state=Packet.State.FAILED, error=str(exc)[:ERROR_CHARS])
    except OutboundError as exc:
        fields.update(state=Packet.State.FAILED, error=f"{exc.kind}: {exc}"[:ERROR_CHARS])
    now = timezone.now()
    Packet.objects.filter(pk=packet.pk, claimed_until=claim).update(
        attempts=F("attempts") + 1, sent_at=now, updated_at=now, claimed_until=None, **fields
    )


def _deliverable(record: SyncRecord) -> list[Packet]:
    now = timezone.now()
    return list(
        record.packets.filter(state=Packet.State.PENDING)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .only("id", "payload", "idempotency_key")
        .order_by("id")[:100]
    )


def sync_record_deliver(
    *, sync_record_id: int, slice_seconds: float = DELIVERY_SLICE_SECONDS
) -> SyncRecord:
    """Send the record's Pending packets that no other delivery holds. When the next call
    could not finish inside the slice, enqueue the rest. A running record becomes Success
    once none is left pending."""
    record = SyncRecord.objects.select_related("accounting_integration__integration").get(
        pk=sync_record_id
    )
    client = OutboundClient.for_integration(record.accounting_integration.integration)
    timeout = float(setting_get("OutboundTimeoutSeconds"))
    deadline = time.monotonic() + slice_seconds
    beat = time.monotonic()
    calls = 0
    while pending := _deliverable(record):
        for packet in pending:
            if calls and time.monotonic() + timeout > deadline:
                task_enqueue(DELIVER_TASK, record.pk, task_name=f"Deliver sync record {record.pk}")
                return record
            claim = _packet_claim(packet, timeout=timeout)
            if claim is None:
                continue  # another delivery has it
            _packet_send(client, packet, timeout=timeout, claim=claim)
            calls += 1
            if record.status == SyncRecord.Status.IN_PROGRESS and (
                time.monotonic() - beat >= HEARTBEAT_SECONDS
            ):
                _heartbeat(record)
                beat = time.monotonic()
    if record.packets.filter(state=Packet.State.PENDING).exists():
        # What is left is claimed by another delivery, which finishes the record.
        return record
    now = timezone.now()
    SyncRecord.objects.filter(pk=record.pk, status=SyncRecord.Status.IN_PROGRESS).update(
        status=SyncRecord.Status.SUCCESS, finished_at=now, updated_at=now
    )
    record.refresh_from_db()
    return record


def _heartbeat(record: SyncRecord) -> None:
    SyncRecord.objects.filter(pk=record.pk).update(updated_at=timezone.now())
