"""The Sync of an accounting integration (reference 004): request, run, deliver, resend,
and the watchdog for runs that died.

A run claims its Queued record and fixes its window (DESIGN.md: windowStart is the last
successful record's windowEnd, windowEnd the time the run started). Processing comes
first: every key the window touches (the keys its orders are under now, and the keys the
accounting system holds them under) is recomputed from all orders now under it, mapped and
checked by the integration's adapter. Any problem fails the record before anything is sent,
naming every one, and the window stays. Otherwise the packets become their keys' current
truth (`ledger_commit`) and are delivered outside any transaction; the record is Success
whatever the sends answered (reference 004, "Sync Progress"). A run that raises or dies
never marks it Success, so the window does not move and the next run covers the same
orders.
"""

import logging
import time
from collections.abc import Sequence
from datetime import timedelta
from itertools import islice

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from integration_hub.services.audit import audit_record
from integration_hub.services.jobs import task_enqueue

from ..adapters import adapter_for
from ..models import AccountingIntegration, ExportedKey, Packet, PacketOrder, SyncRecord
from ..packets import MapTable
from ..selectors import active_record_of, key_packets, window_keys, window_start_for
from .delivery import DELIVER_TASK, idempotency_key_for, sync_record_deliver
from .integrations import accounting_integration_problems

logger = logging.getLogger("accounting")

RUN_TASK = "accounting.tasks.sync_record_run"
# Packets are written in batches; the record's updated_at is touched as a heartbeat.
PACKET_BATCH = 500
PACKET_ORDER_BATCH = 2000
# Past django-q2's retry (300 s) with no heartbeat, the worker running it is gone.
STUCK_AFTER = timedelta(minutes=10)
# A queued record whose task never started (no cluster, lost task).
QUEUED_STUCK_AFTER = timedelta(hours=1)
ERROR_CHARS = 1000
# A processing failure names every problem, up to this many, in at most this many characters.
PROBLEMS_SHOWN = 50
PROCESSING_ERROR_CHARS = 5000
# Before reading the window, wait (at most this long) for the write transactions that began
# before windowEnd to end: on PostgreSQL an order saved before windowEnd may commit after it.
WRITERS_WAIT_SECONDS = 60.0
# Transactions begun this soon after windowEnd count too: the order's updated_at is the
# application server's clock, the transaction's start the database's.
CLOCK_MARGIN = timedelta(seconds=5)


class SyncConflict(Exception):
    """A record of this integration is already queued or running (409)."""

    def __init__(self, record: SyncRecord | None):
        self.record = record
        super().__init__("A Sync of this integration is already queued or running.")


@transaction.atomic
def sync_request(*, accounting_integration: AccountingIntegration, acting_user) -> SyncRecord:
    """Queue a Sync: 400 (ValidationError) when the integration cannot run, SyncConflict
    when one is queued or running; the database's partial unique index decides races."""
    problems = accounting_integration_problems(accounting_integration)
    if problems:
        raise ValidationError(problems)
    is_user = acting_user is not None and getattr(acting_user, "is_authenticated", False)
    try:
        with transaction.atomic():
            record = SyncRecord.objects.create(
                accounting_integration=accounting_integration,
                status=SyncRecord.Status.QUEUED,
                requested_at=timezone.now(),
                requested_by=acting_user if is_user else None,
            )
    except IntegrityError:
        raise SyncConflict(active_record_of(accounting_integration)) from None
    audit_record(
        actor=acting_user,
        action="accounting.sync_requested",
        target=str(accounting_integration),
        details={"syncRecordId": record.pk},
    )
    task_enqueue(RUN_TASK, record.pk, task_name=f"Sync record {record.pk}")
    return record


def _claim(sync_record_id: int) -> SyncRecord | None:
    """Queued → InProgress with its window fixed; None if it is not queued (any more)."""
    with transaction.atomic():
        record = (
            SyncRecord.objects.select_for_update()
            .select_related("accounting_integration")
            .filter(pk=sync_record_id, status=SyncRecord.Status.QUEUED)
            .first()
        )
        if record is None:
            return None
        now = timezone.now()
        record.status = SyncRecord.Status.IN_PROGRESS
        record.started_at = now
        record.window_end = now
        record.window_start = window_start_for(record.accounting_integration)
        record.save(
            update_fields=["status", "started_at", "window_end", "window_start", "updated_at"]
        )
    return record


class WindowNotSettled(Exception):
    """Write transactions begun before windowEnd were still open after WRITERS_WAIT_SECONDS."""


def _window_settle(window_end, *, wait_seconds: float = WRITERS_WAIT_SECONDS) -> None:
    """Wait until no transaction that began before windowEnd (+ CLOCK_MARGIN) is open, so
    that every order with updated_at <= windowEnd is committed and visible before the window
    is read; else the next window, starting at this windowEnd, would never see it. SQLite
    runs one writer at a time, and this run's claim committed after it: nothing to wait for."""
    if connection.vendor != "postgresql":
        return
    deadline = time.monotonic() + wait_seconds
    while True:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*), min(xact_start) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                " AND backend_type = 'client backend' AND state <> 'idle'"
                " AND xact_start < %s",
                [window_end + CLOCK_MARGIN],
            )
            open_count, oldest = cursor.fetchone()
        if not open_count:
            return
        if time.monotonic() > deadline:
            raise WindowNotSettled(
                f"{open_count} database transaction(s) open since {oldest.isoformat()} may "
                f"still write orders of this window; waited {wait_seconds:.0f} s."
            )
        time.sleep(0.1)


def _heartbeat(record: SyncRecord, **fields) -> None:
    SyncRecord.objects.filter(pk=record.pk).update(updated_at=timezone.now(), **fields)


class ProcessingFailed(Exception):
    """A packet of the window could not be built: unmapped values, broken rules."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__(problems_text(problems))


def problems_text(problems: list[str]) -> str:
    """The record's error: every distinct problem (cut after PROBLEMS_SHOWN), then what to
    do (DESIGN.md: "error naming every unmapped value and broken rule")."""
    shown = problems[:PROBLEMS_SHOWN]
    text = "Processing failed, nothing was sent: " + "; ".join(shown)
    if len(problems) > len(shown):
        text += f"; and {len(problems) - len(shown)} more"
    return (text + ". Fix the maps (or the orders); the next Sync covers the same orders.")[
        :PROCESSING_ERROR_CHARS
    ]


def _packets_write(batch: list[tuple[Packet, Sequence[int]]]) -> None:
    Packet.objects.bulk_create([packet for packet, _order_ids in batch])
    # A summarised packet may carry a hundred thousand orders: their rows are made and
    # written a slice at a time, so that memory stays flat in the number of orders.
    links = (
        PacketOrder(packet_id=packet.pk, order_id=order_id)
        for packet, order_ids in batch
        for order_id in order_ids
    )
    while chunk := list(islice(links, PACKET_ORDER_BATCH)):
        PacketOrder.objects.bulk_create(chunk)


def _packets_build(record: SyncRecord) -> int:
    """Write the record's packets: every key the window touches, recomputed with the totals
    of all orders now under it, mapped and checked by the integration's adapter (DESIGN.md,
    "Accounting": processing, then sending). Returns the number of orders in the window;
    raises ProcessingFailed naming every problem, with nothing written."""
    accounting_integration = record.accounting_integration
    adapter = adapter_for(accounting_integration.integration_type)
    maps = MapTable(accounting_integration.maps.values_list("kind", "source", "target"))
    keys, order_count = window_keys(
        accounting_integration=accounting_integration,
        window_start=record.window_start,
        window_end=record.window_end,
        beat=lambda: _heartbeat(record),
    )
    _heartbeat(record)
    problems: dict[str, None] = {}
    batch: list[tuple[Packet, Sequence[int]]] = []
    for key, content, order_ids in key_packets(
        accounting_integration=accounting_integration, keys=keys
    ):
        payload, packet_problems = adapter.build(key, content, maps)
        problems.update(dict.fromkeys(packet_problems))
        packet = Packet(
            sync_record=record,
            key=key,
            content=content,
            payload=payload,
            state=Packet.State.PENDING,
            idempotency_key=idempotency_key_for(
                accounting_integration_id=accounting_integration.pk, key=key, payload=payload
            ),
        )
        batch.append((packet, order_ids))
        if len(batch) >= PACKET_BATCH:
            _packets_write(batch)
            batch = []
            _heartbeat(record)
    _packets_write(batch)
    if problems:
        raise ProcessingFailed(list(problems))
    with transaction.atomic():
        # Only while the record still runs: a run the watchdog failed may be outlived by a
        # newer Sync whose fresher packets it must never replace. This heartbeat holds the
        # record's row (the watchdog waits) until the ledger is committed. Nothing may fail
        # after this commit: the run's error paths delete its packets, now keys' truth.
        running = SyncRecord.objects.filter(pk=record.pk, status=SyncRecord.Status.IN_PROGRESS)
        if not running.update(updated_at=timezone.now(), order_count=order_count):
            raise RunLost(f"Sync record {record.pk} is no longer running.")
        ledger_commit(sync_record=record)
    return order_count


class RunLost(Exception):
    """The record stopped running (the watchdog failed it) while this run transformed."""


@transaction.atomic
def ledger_commit(*, sync_record: SyncRecord) -> None:
    """The record's packets become the current truth of their keys: the ones a delivery
    may send. An older packet of the same key not sent yet is never sent (it would book
    stale totals): Failed, replaced, unless a delivery is sending it right now (that send
    ends before the new packet's starts: the key is claimed)."""
    accounting_integration = sync_record.accounting_integration
    now = timezone.now()
    replaced = (
        f"Replaced by sync record {sync_record.pk}, whose packet carries this key's current totals."
    )
    packets = sync_record.packets.order_by("id").values_list("id", "key")
    last_id = 0
    while chunk := list(packets.filter(id__gt=last_id)[:PACKET_BATCH]):
        last_id = chunk[-1][0]
        latest = {key: packet_id for packet_id, key in chunk}
        held = {
            exported.key: exported
            for exported in ExportedKey.objects.select_for_update().filter(
                accounting_integration=accounting_integration, key__in=latest
            )
        }
        Packet.objects.filter(
            pk__in=[e.latest_packet_id for e in held.values() if e.latest_packet_id],
            state__in=[Packet.State.PENDING, Packet.State.FAILED],
        ).filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)).update(
            state=Packet.State.FAILED, error=replaced, updated_at=now
        )
        for exported in held.values():
            exported.latest_packet_id = latest[exported.key]
            exported.recompute = False
            exported.summarized = accounting_integration.summarize_data
            exported.updated_at = now
        ExportedKey.objects.bulk_update(
            held.values(), ["latest_packet", "recompute", "summarized", "updated_at"]
        )
        ExportedKey.objects.bulk_create(
            ExportedKey(
                accounting_integration=accounting_integration,
                key=key,
                latest_packet_id=packet_id,
                summarized=accounting_integration.summarize_data,
            )
            for key, packet_id in latest.items()
            if key not in held
        )


def sync_record_fail(*, sync_record_id: int, reason: str, limit: int = ERROR_CHARS) -> bool:
    """Mark a queued or running record Failed (its window never counts); False if it had
    finished already."""
    return bool(
        SyncRecord.objects.filter(pk=sync_record_id, status__in=SyncRecord.ACTIVE).update(
            status=SyncRecord.Status.FAILED,
            failure_reason=reason[:limit],
            finished_at=timezone.now(),
            updated_at=timezone.now(),
        )
    )


def sync_record_run(*, sync_record_id: int) -> SyncRecord | None:
    """The job: claim, transform and map, then deliver (in slices)."""
    record = _claim(sync_record_id)
    if record is None:
        return SyncRecord.objects.filter(pk=sync_record_id).first()
    try:
        _window_settle(record.window_end)
    except WindowNotSettled as exc:
        sync_record_fail(sync_record_id=record.pk, reason=f"Orders still being written: {exc}")
        return SyncRecord.objects.get(pk=record.pk)
    try:
        # Packets are committed batch by batch (no long transaction holding SQLite's write
        # lock, heartbeats seen by the watchdog); a failure removes the ones written.
        _packets_build(record)
    except RunLost:
        # Failed already (the window stays); its packets were never anyone's truth.
        logger.warning("Accounting sync record %s was failed while it transformed", record.pk)
        record.packets.all().delete()
        return SyncRecord.objects.get(pk=record.pk)
    except ProcessingFailed as exc:
        record.packets.all().delete()
        sync_record_fail(sync_record_id=record.pk, reason=str(exc), limit=PROCESSING_ERROR_CHARS)
        return SyncRecord.objects.get(pk=record.pk)
    except Exception as exc:
        logger.exception("Accounting sync record %s failed while transforming", record.pk)
        record.packets.all().delete()
        sync_record_fail(
            sync_record_id=record.pk, reason=f"Transforming the orders failed: {exc!r}"
        )
        return SyncRecord.objects.get(pk=record.pk)
    return sync_record_deliver(sync_record_id=record.pk)


@transaction.atomic
def packets_resend(*, sync_record: SyncRecord, acting_user) -> int:
    """Build the record's Failed packets again with the maps as they are now and queue them
    for delivery, with the Pending ones no delivery holds (a killed delivery's, whose claim
    expired); returns how many were queued. Only a packet that still carries its key's
    current totals is sent again (a later record's packet replaced the others); one that
    still has a value without a map, or breaks a rule, stays Failed with the new reason."""
    if sync_record.status != SyncRecord.Status.SUCCESS:
        raise ValidationError(
            {
                "status": [
                    f"Sync record {sync_record.pk} is {sync_record.status}: only a record that "
                    "finished with Success has packets to resend."
                ]
            }
        )
    accounting_integration = sync_record.accounting_integration
    problems = accounting_integration_problems(accounting_integration)
    if problems:
        # Disabled, disconnected, without credentials: nothing could be sent.
        raise ValidationError(problems)
    adapter = adapter_for(accounting_integration.integration_type)
    maps = MapTable(accounting_integration.maps.values_list("kind", "source", "target"))
    is_latest = Exists(ExportedKey.objects.filter(latest_packet_id=OuterRef("pk")))
    failed = list(
        sync_record.packets.select_for_update().filter(is_latest, state=Packet.State.FAILED)
    )
    queued = 0
    for packet in failed:
        payload, problems = adapter.build(packet.key, packet.content, maps)
        if problems:
            packet.error = ("; ".join(problems) + ".")[:ERROR_CHARS]
            continue
        packet.payload = payload
        # A body changed by the maps is a new request to the system: a new key.
        packet.idempotency_key = idempotency_key_for(
            accounting_integration_id=accounting_integration.pk,
            key=packet.key,
            payload=payload,
        )
        packet.state = Packet.State.PENDING
        packet.error = ""
        packet.response_code = None
        queued += 1
    Packet.objects.bulk_update(
        failed, ["payload", "idempotency_key", "state", "error", "response_code"]
    )
    now = timezone.now()
    queued += (
        sync_record.packets.filter(is_latest, state=Packet.State.PENDING)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .exclude(pk__in=[packet.pk for packet in failed])
        .count()
    )
    audit_record(
        actor=acting_user,
        action="accounting.packets_resent",
        target=str(sync_record),
        details={"syncRecordId": sync_record.pk, "packets": queued},
    )
    if queued:
        task_enqueue(
            DELIVER_TASK, sync_record.pk, task_name=f"Deliver sync record {sync_record.pk}"
        )
    return queued


def sync_records_watchdog() -> list[int]:
    """Mark Failed the records whose run died: in progress with no heartbeat for
    STUCK_AFTER, or queued and never started for QUEUED_STUCK_AFTER. Returns their ids."""
    now = timezone.now()
    stuck = SyncRecord.objects.filter(
        Q(status=SyncRecord.Status.IN_PROGRESS, updated_at__lt=now - STUCK_AFTER)
        | Q(status=SyncRecord.Status.QUEUED, requested_at__lt=now - QUEUED_STUCK_AFTER)
    ).values_list("pk", "status")
    failed = []
    for pk, status in stuck:
        if status == SyncRecord.Status.IN_PROGRESS:
            minutes = int(STUCK_AFTER.total_seconds() // 60)
            reason = (
                f"No progress for {minutes} minutes: the run was lost (worker killed or "
                "timed out). The window did not move; the next Sync covers the same orders."
            )
        else:
            hours = int(QUEUED_STUCK_AFTER.total_seconds() // 3600)
            reason = f"Queued for {hours} hour(s) and never started: is a cluster running?"
        if sync_record_fail(sync_record_id=pk, reason=reason):
            logger.warning("Accounting sync record %s marked Failed: %s", pk, reason)
            failed.append(pk)
    return failed


def scheduled_sync(*, accounting_integration_id: int) -> SyncRecord | None:
    """The daily schedule's Sync: skipped (logged) when it cannot run or one is running."""
    accounting_integration = (
        AccountingIntegration.objects.select_related("integration")
        .filter(pk=accounting_integration_id)
        .first()
    )
    if accounting_integration is None:
        return None
    try:
        return sync_request(accounting_integration=accounting_integration, acting_user=None)
    except (ValidationError, SyncConflict) as exc:
        logger.info("Scheduled accounting sync of %s skipped: %s", accounting_integration, exc)
        return None
