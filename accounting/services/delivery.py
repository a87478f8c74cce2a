"""Delivery of a sync record's packets (DESIGN.md, "Accounting": delivery claims, idempotency
keys, rate limits, time slices), always outside any transaction.

- A packet is claimed before it is sent, together with its key (`ExportedKey`), by committed
  conditional updates (`claimed_until`): two deliveries (a Sync and a Resend, two Resends,
  two clusters) never send the same packet, nor two packets of one key at once, nor a body
  a Resend has changed since, nor a packet a later record has replaced. A claim outlives the
  longest send; one left by a killed delivery expires and the packet is sent again with the
  same idempotency keys.
- The integration's adapter turns the packet into calls against what the system holds for
  its key: created the first time, updated in place after, deleted when its key is empty.
  What the system answered is kept on the key after every call, so a packet interrupted
  half-way never creates an object twice.
- Calls keep to the system's per-minute limit through `DeliveryPace`, a row shared by every
  delivery of the integration; a 429 (or QuickBooks' throttling fault) leaves the packet
  Pending and pauses the integration until Retry-After (60 s without one). A wait longer
  than the slice has left ends the slice and schedules its continuation at that time.
- A call starts only with its whole timeout left in the slice (the slice's first call
  always starts, so that every slice makes progress). The record's heartbeat is written at
  most once a second while sending.
"""

import time
from dataclasses import asdict
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from integration_hub.outbound import OutboundClient, OutboundError
from integration_hub.services.jobs import task_enqueue
from integration_hub.system_settings import setting_get

from ..adapters import Adapter, Answer, Call, adapter_for, body_bytes, call_idempotency_key
from ..metrics import packets_count
from ..models import AccountingIntegration, DeliveryPace, ExportedKey, Packet, SyncRecord

DELIVER_TASK = "accounting.tasks.sync_record_deliver"
# A delivery slice ends well inside django-q2's 240 s timeout and enqueues the rest.
DELIVERY_SLICE_SECONDS = 60
ERROR_CHARS = 1000
HEARTBEAT_SECONDS = 1.0
# A claim lasts the call's timeout and this margin: past it the sender is gone.
CLAIM_MARGIN = timedelta(seconds=30)
# A throttled system that gives no Retry-After is left alone this long (QuickBooks' advice).
DEFAULT_PAUSE = timedelta(seconds=60)
# Packets blocked by another record's delivery of the same keys are tried again this late.
BLOCKED_RETRY_SECONDS = 5.0
PACE_ATTEMPTS = 20
PAUSE_LOOKUP_SECONDS = 1.0


def packet_body(payload: dict) -> bytes:
    """The exact bytes of a payload, canonical JSON (the GENERIC body as sent)."""
    return body_bytes(payload)


def idempotency_key_for(*, accounting_integration_id: int, key: str, payload: dict | None) -> str:
    """The packet's own key: UUID v5 of the accounting integration, the packet key and the
    SHA-256 of its payload; it changes when a Resend builds a different payload. For
    GENERIC it is the Idempotency-Key sent; the real systems' calls carry keys of their
    exact bodies (which hold the ids of the objects they update)."""
    if payload is None:
        return ""
    return call_idempotency_key(
        accounting_integration_id=accounting_integration_id, key=key, data=body_bytes(payload)
    )


def _unclaimed(now: datetime) -> Q:
    return Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)


def _claim_length(timeout: float) -> timedelta:
    # One call may take a token fetch, the request, and after a 401 both again.
    return timedelta(seconds=4 * timeout) + CLAIM_MARGIN


def _packet_claim(
    packet: Packet, *, accounting_integration: AccountingIntegration, adapter: Adapter, timeout
) -> datetime | None:
    """Claim a Pending packet nobody holds, as it was read, with its key: committed at once,
    so that every other delivery sees it. The claim's end time is its token. None when
    another delivery has the packet or its key, when the system's concurrency is used up,
    when a Resend changed its body, or when a later record replaced it (then it is Failed)."""
    now = timezone.now()
    until = now + _claim_length(timeout)
    keys = ExportedKey.objects.filter(accounting_integration=accounting_integration)
    with transaction.atomic():
        if adapter.concurrency is not None:
            in_flight = keys.filter(claimed_until__gte=now).count()
            if in_flight >= adapter.concurrency:
                return None
        key_claimed = (
            keys.filter(key=packet.key, latest_packet_id=packet.pk)
            .filter(_unclaimed(now))
            .update(claimed_until=until)
        )
        packet_claimed = key_claimed and (
            Packet.objects.filter(
                pk=packet.pk, state=Packet.State.PENDING, idempotency_key=packet.idempotency_key
            )
            .filter(_unclaimed(now))
            .update(claimed_until=until)
        )
        if not packet_claimed:
            transaction.set_rollback(True)
    if packet_claimed:
        return until
    if not keys.filter(key=packet.key, latest_packet_id=packet.pk).exists():
        # A later record carries this key's current totals: this one is never sent.
        replaced = (
            Packet.objects.filter(pk=packet.pk, state=Packet.State.PENDING)
            .filter(_unclaimed(now))
            .update(
                state=Packet.State.FAILED,
                error="Replaced by a later sync record's packet of this key.",
                updated_at=now,
            )
        )
        packets_count(state=Packet.State.FAILED, count=replaced)
    return None


def _claim_extend(packet: Packet, claim: datetime, *, seconds: float, timeout) -> datetime | None:
    """The claim made long enough for a wait of `seconds` and the call after it."""
    until = timezone.now() + timedelta(seconds=seconds) + _claim_length(timeout)
    with transaction.atomic():
        extended = Packet.objects.filter(pk=packet.pk, claimed_until=claim).update(
            claimed_until=until
        ) and ExportedKey.objects.filter(latest_packet_id=packet.pk, claimed_until=claim).update(
            claimed_until=until
        )
        if not extended:
            transaction.set_rollback(True)
    return until if extended else None


def _pace_wait(accounting_integration_id: int, adapter: Adapter) -> tuple[float, bool]:
    """(seconds to wait before the next call, whether a slot was reserved for it). Paused:
    the pause left, nothing reserved (ask again after it). Otherwise a slot of the
    system's per-minute limit is reserved and the wait is until it starts."""
    now = timezone.now()
    pace, _ = DeliveryPace.objects.get_or_create(
        accounting_integration_id=accounting_integration_id, defaults={"next_slot_at": now}
    )
    for _ in range(PACE_ATTEMPTS):
        if pace.paused_until is not None and pace.paused_until > now:
            return (pace.paused_until - now).total_seconds(), False
        if adapter.per_minute is None:
            return 0.0, True
        # Calls kept a little over 60 s / limit apart: never more than the limit in any minute.
        interval = timedelta(seconds=61 / adapter.per_minute)
        start = max(pace.next_slot_at, now)
        reserved = DeliveryPace.objects.filter(
            pk=accounting_integration_id, next_slot_at=pace.next_slot_at
        ).update(next_slot_at=start + interval)
        if reserved:
            return (start - now).total_seconds(), True
        pace.refresh_from_db()
        now = timezone.now()
    return 61 / adapter.per_minute, False


def _pause(accounting_integration_id: int, seconds: float | None) -> datetime:
    until = timezone.now() + (timedelta(seconds=seconds) if seconds else DEFAULT_PAUSE)
    DeliveryPace.objects.filter(pk=accounting_integration_id).filter(
        Q(paused_until__isnull=True) | Q(paused_until__lt=until)
    ).update(paused_until=until)
    return until


class _Book:
    """What the accounting system holds for one packet key, as the key remembers it
    (`ExportedKey`), while its packet is sent: the objects, the revision of their
    idempotency keys, and the creates sent but not answered yet."""

    def __init__(self, current: "_Slice", packet: Packet):
        self.current = current
        self.packet = packet
        self.tenant_id = current.accounting_integration.tenant_id
        self.exported = ExportedKey.objects.filter(
            accounting_integration=current.accounting_integration, key=packet.key
        )
        self.objects: dict = {}
        self.pending: list[dict] = []
        self.revision = 0

    @classmethod
    def read(cls, current: "_Slice", packet: Packet) -> "_Book":
        book = cls(current, packet)
        if current.adapter.keeps_objects:
            held, tenant_id, book.revision, pending = book.exported.values_list(
                "held", "tenant_id", "revision", "pending"
            ).get()
            # Objects of another company (connected before) are not this company's.
            if tenant_id == book.tenant_id:
                book.objects, book.pending = dict(held), list(pending)
        return book

    def plan(self) -> list[Call]:
        calls = self._plan()
        if _empties_then_creates(calls, self.objects):
            # Booked again after every object it held is deleted (Sage, one call per
            # payment): the creates take the next revision, saved before any call, so that
            # a retry after a lost answer repeats them with the same keys.
            self.revision += 1
            calls = self._plan()
        return calls

    def _plan(self) -> list[Call]:
        current = self.current
        return current.adapter.calls(
            accounting_integration_id=current.accounting_integration.pk,
            key=self.packet.key,
            payload=self.packet.payload,
            objects=self.objects,
            tenant_id=self.tenant_id,
            revision=self.revision,
        )

    def repeats(self) -> list[Call]:
        """The creates whose answer was lost, exactly as they were sent."""
        amount_fields = self.current.adapter.amount_fields
        return [
            Call(**{**sent, "parts": tuple(sent["parts"])}, amount_fields=amount_fields)
            for sent in self.pending
        ]

    def creates(self, call: Call) -> bool:
        """Whether the call creates an object: a create, or (Xero) an update of the key's
        objects that carries a new payment without an id."""
        if not self.current.adapter.keeps_objects or call.action == "delete":
            return False
        return call.action == "create" or not set(call.parts) <= set(self.objects)

    def pending_add(self, call: Call, claim: datetime) -> None:
        sent = asdict(call)
        del sent["amount_fields"]
        self.pending.append(sent)
        self.save(claim)

    def pending_remove(self, call: Call) -> None:
        self.pending = [
            sent for sent in self.pending if sent["idempotency_key"] != call.idempotency_key
        ]

    def apply(self, answered: dict) -> None:
        deleted = False
        for part, held in answered.items():
            if held is None:
                deleted = self.objects.pop(part, None) is not None or deleted
            else:
                self.objects[part] = held
        if deleted:
            # A part booked again later, alone or beside others still held, creates under
            # new idempotency keys (the same body's would get the deleted object back).
            self.revision += 1

    def forget(self, parts: tuple[str, ...]) -> None:
        """Gone from the system (deleted there by hand): booked afresh, under new keys."""
        for part in parts:
            self.objects.pop(part, None)
        self.revision += 1

    def save(self, claim: datetime) -> None:
        self.exported.filter(claimed_until=claim).update(
            held=self.objects,
            pending=self.pending,
            tenant_id=self.tenant_id,
            revision=self.revision,
            updated_at=timezone.now(),
        )

    def release(self, claim: datetime, **fields) -> None:
        """End the claims and leave the packet Pending, to be sent again."""
        now = timezone.now()
        with transaction.atomic():
            Packet.objects.filter(pk=self.packet.pk, claimed_until=claim).update(
                claimed_until=None, updated_at=now, **fields
            )
            self.exported.filter(claimed_until=claim).update(claimed_until=None)


class _Slice:
    """One slice of a record's delivery: sends until nothing is left, the slice's time is
    up, or the system asks it to wait past the slice's end (then `resume_at`)."""

    def __init__(self, record: SyncRecord, slice_seconds: float):
        self.record = record
        self.accounting_integration = record.accounting_integration
        self.adapter = adapter_for(self.accounting_integration.integration_type)
        integration = self.accounting_integration.integration
        if self.adapter.needs_grant:
            self.client = OutboundClient.for_integration(
                integration, grant=self.accounting_integration.grant
            )
        else:
            self.client = OutboundClient.for_integration(integration)
        self.timeout = float(setting_get("OutboundTimeoutSeconds"))
        self.deadline = time.monotonic() + slice_seconds
        self.calls = 0
        self.resume_at: datetime | None = None
        # Without a per-minute limit, only a pause can hold a call back: looked up at most
        # once a second (and at once after a 429).
        self.pause_seen_at: float | None = None

    def has_time_for(self, wait: float) -> bool:
        """A call may start after waiting `wait` seconds: the wait and the call's whole
        timeout fit in the slice (the slice's first call, with no wait, always starts)."""
        if wait <= 0 and not self.calls:
            return True
        return time.monotonic() + wait + self.timeout <= self.deadline

    def wait_turn(self, packet: Packet, claim: datetime) -> datetime | None:
        """Wait for the system's limits to allow the next call; the claim, long enough for
        the wait and that call (a packet may make several calls). None: the wait does not
        fit in the slice (resume_at says when), or the claim was lost."""
        while True:
            if self.adapter.per_minute is None:
                if (
                    self.pause_seen_at is not None
                    and time.monotonic() - self.pause_seen_at < PAUSE_LOOKUP_SECONDS
                ):
                    return self._claim_fresh(packet, claim)
                self.pause_seen_at = time.monotonic()
            wait, reserved = _pace_wait(self.accounting_integration.pk, self.adapter)
            if wait <= 0:
                return self._claim_fresh(packet, claim)
            self.pause_seen_at = None
            if not self.has_time_for(wait):
                self.resume_at = timezone.now() + timedelta(seconds=wait)
                return None
            claim = self._claim_fresh(packet, claim, wait=wait)
            if claim is None:
                return None
            time.sleep(wait)
            if reserved:
                return claim

    def _claim_fresh(self, packet: Packet, claim: datetime, wait: float = 0.0):
        """The claim, extended when what is left of it would not outlast the wait and one
        more call (4 timeouts) by half the margin; None when another delivery has it."""
        needed = timedelta(seconds=wait + 4 * self.timeout) + CLAIM_MARGIN / 2
        if claim - timezone.now() >= needed:
            return claim
        return _claim_extend(packet, claim, seconds=wait, timeout=self.timeout)

    def send(self, packet: Packet, claim: datetime) -> bool:
        """Send one claimed packet; its state says how it went, and the claims end. False
        when the system asked to wait (the packet stays Pending).

        What the system answers is kept on the key after every call. A create is written
        down on the key before it is sent and crossed out once answered: one whose answer
        was lost (a timeout, a killed worker) is repeated as it was, with its idempotency
        key, before anything else is planned for the key, so that the system answers with
        the object it created then instead of a second one being created with a newer body.
        An object found gone (deleted there by hand) or stale (edited there by hand) makes
        the packet's calls be planned again, once: gone, it is booked afresh under new
        idempotency keys; stale, its current version is read first."""
        self.resume_at = None
        book = _Book.read(self, packet)
        fields = {"state": Packet.State.SENT, "response_code": None, "error": ""}
        external_ids: list[str] = []
        notes: list[str] = []
        queue = book.repeats()
        is_planned = not queue
        if is_planned:
            queue = book.plan()
            if not queue:
                notes.append("No orders are under this key and nothing is booked for it.")
        replanned = False
        while queue:
            call = queue.pop(0)
            turn = self.wait_turn(packet, claim)
            if turn is None:
                book.release(claim)
                return False
            claim = turn
            is_repeat = not is_planned
            creates = is_repeat or book.creates(call)
            if creates and not is_repeat:
                book.pending_add(call, claim)
            answer = self._call(call)
            self.calls += 1
            fields["response_code"] = answer.status
            if answer.throttled:
                self.pause_seen_at = None
                self.resume_at = _pause(self.accounting_integration.pk, answer.retry_after)
                book.release(claim, response_code=answer.status)
                return False
            # A 5xx (a gateway's timeout, a server fault) is no answer: it may have been made.
            is_answered = answer.status is not None and answer.status < 500
            if creates and is_answered:
                book.pending_remove(call)  # answered: it was created, or never will be
            if is_repeat and not answer.ok and is_answered:
                answer = Answer(ok=True)  # refused again: it never was created
            if (answer.gone or answer.stale) and not replanned:
                replanned = True
                if answer.stale:
                    answer = self._version_read(book.objects, call.parts, book.tenant_id)
                if answer.gone:
                    book.forget(call.parts)
                elif not answer.ok:
                    fields.update(state=Packet.State.FAILED, error=answer.error[:ERROR_CHARS])
                    break
                else:
                    book.objects.update(answer.objects)
                book.save(claim)
                queue = book.plan()
                continue
            if not answer.ok:
                fields.update(state=Packet.State.FAILED, error=answer.error[:ERROR_CHARS])
                book.save(claim)
                break
            if answer.objects:
                book.apply(answer.objects)
            if answer.objects or creates:
                book.save(claim)
            if not is_repeat:
                external_ids += answer.external_ids
            if answer.note:
                notes.append(answer.note)
            if not queue and not is_planned:
                is_planned = True
                queue = book.plan()
        if fields["state"] == Packet.State.SENT and notes:
            fields["error"] = " ".join(notes)[:ERROR_CHARS]
        now = timezone.now()
        with transaction.atomic():
            ended = Packet.objects.filter(pk=packet.pk, claimed_until=claim).update(
                attempts=F("attempts") + 1,
                sent_at=now,
                updated_at=now,
                claimed_until=None,
                external_id=",".join(external_ids)[:1000],
                **fields,
            )
            book.exported.filter(claimed_until=claim).update(claimed_until=None)
        packets_count(state=fields["state"], count=ended)
        return True

    def _version_read(self, objects: dict, parts: tuple[str, ...], tenant_id: str) -> Answer:
        """The current version of the held object of `parts` (one part: QuickBooks)."""
        (part,) = parts
        call = self.adapter.version_call(tenant_id=tenant_id, held=objects[part])
        if call is None:
            return Answer(ok=False, error="The held object is outdated and cannot be read.")
        self.calls += 1
        return self._call(call)

    def _call(self, call: Call) -> Answer:
        headers = dict(call.headers)
        data = call.data()
        if data is not None:
            headers["Content-Type"] = "application/json"
        try:
            response = self.client.request(
                call.method,
                call.path,
                data=data,
                headers=headers,
                params=call.params or None,
                timeout=self.timeout,
            )
        except OutboundError as exc:
            return Answer(ok=False, error=f"{exc.kind}: {exc}")
        try:
            return self.adapter.read(call, response)
        finally:
            response.close()


def _empties_then_creates(calls: list[Call], objects: dict) -> bool:
    """Whether these calls delete every object held for the key before they create one."""
    held = set(objects)
    emptied = False
    for call in calls:
        if call.action == "delete":
            held -= set(call.parts)
            emptied = emptied or not held
        elif call.action == "create" and emptied:
            return True
        else:
            held |= set(call.parts)
    return False


def _deliverable(record: SyncRecord) -> list[Packet]:
    now = timezone.now()
    return list(
        record.packets.filter(state=Packet.State.PENDING)
        .filter(_unclaimed(now))
        .only("id", "sync_record_id", "key", "payload", "idempotency_key")
        .order_by("id")[:100]
    )


def sync_record_deliver(
    *, sync_record_id: int, slice_seconds: float = DELIVERY_SLICE_SECONDS
) -> SyncRecord:
    """Send the record's Pending packets that no other delivery holds. When the next call
    could not finish inside the slice, or the system asks to wait longer than the slice has
    left, enqueue the rest (at that time). A running record becomes Success once none is
    left pending."""
    record = SyncRecord.objects.select_related(
        "accounting_integration__integration", "accounting_integration__grant"
    ).get(pk=sync_record_id)
    accounting_integration = record.accounting_integration
    if adapter_for(accounting_integration.integration_type).needs_grant and (
        accounting_integration.grant is None
    ):
        # Disconnected since the packets were built: nothing can reach the company.
        _pending_fail(
            record,
            f"{accounting_integration.get_integration_type_display()} is not connected: "
            f"its Owner presses Connect on /accounting/{accounting_integration.pk}/, then "
            "resends.",
        )
        return _record_finish(record)
    current = _Slice(record, slice_seconds)
    beat = time.monotonic()
    blocked = False
    while pending := _deliverable(record):
        sent_any = False
        for packet in pending:
            if not current.has_time_for(0):
                task_enqueue(DELIVER_TASK, record.pk, task_name=f"Deliver sync record {record.pk}")
                return record
            claim = _packet_claim(
                packet,
                accounting_integration=current.accounting_integration,
                adapter=current.adapter,
                timeout=current.timeout,
            )
            if claim is None:
                continue
            if not current.send(packet, claim) and current.resume_at is not None:
                wait = (current.resume_at - timezone.now()).total_seconds()
                if not current.has_time_for(wait):
                    task_enqueue(
                        DELIVER_TASK,
                        record.pk,
                        task_name=f"Deliver sync record {record.pk}",
                        delay_seconds=max(wait, 0.0),
                    )
                    # Waiting on the system is not a lost run: the watchdog counts from when
                    # the continuation starts.
                    SyncRecord.objects.filter(pk=record.pk).update(updated_at=current.resume_at)
                    return record
            sent_any = True
            if record.status == SyncRecord.Status.IN_PROGRESS and (
                time.monotonic() - beat >= HEARTBEAT_SECONDS
            ):
                _heartbeat(record)
                beat = time.monotonic()
        if not sent_any:
            # Every packet left is held: by another delivery of this record (which finishes
            # it), or its key by another record's delivery (then look again shortly).
            blocked = (
                record.packets.filter(state=Packet.State.PENDING)
                .filter(_unclaimed(timezone.now()))
                .exists()
            )
            break
    if blocked:
        task_enqueue(
            DELIVER_TASK,
            record.pk,
            task_name=f"Deliver sync record {record.pk}",
            delay_seconds=BLOCKED_RETRY_SECONDS,
        )
        return record
    return _record_finish(record)


def _pending_fail(record: SyncRecord, error: str) -> None:
    now = timezone.now()
    failed = (
        record.packets.filter(state=Packet.State.PENDING)
        .filter(_unclaimed(now))
        .update(state=Packet.State.FAILED, error=error, updated_at=now)
    )
    packets_count(state=Packet.State.FAILED, count=failed)


def _record_finish(record: SyncRecord) -> SyncRecord:
    """A running record becomes Success once no packet is left Pending (reference 004:
    processed, whatever the sends answered)."""
    if record.packets.filter(state=Packet.State.PENDING).exists():
        return record
    now = timezone.now()
    SyncRecord.objects.filter(pk=record.pk, status=SyncRecord.Status.IN_PROGRESS).update(
        status=SyncRecord.Status.SUCCESS, finished_at=now, updated_at=now
    )
    record.refresh_from_db()
    return record


def _heartbeat(record: SyncRecord) -> None:
    SyncRecord.objects.filter(pk=record.pk).update(updated_at=timezone.now())
