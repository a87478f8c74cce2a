"""The Data Sync job (reference 003, "Data Sync Job"; DESIGN.md, "Data Sync").

1. the progress queue first; 2. pending to progress in batches of DataSyncBatchSize, each
batch one transaction that also deletes it from pending; 3. POSTs in capture order (progress
id order), one message per request or up to DataSyncMessagesPerRequest.

No HTTP call is made inside a database transaction: records are read, the POST is sent, and
what it delivered is deleted afterwards, in groups at most FLUSH_SECONDS apart: before each
POST, what was delivered is deleted first when that POST, judged by the recent ones, could
end past FLUSH_SECONDS after the oldest delivery not yet deleted. A record's
id is its message's uniqueId, so a crash between the 2xx and that delete repeats the message
with the same uniqueId. A failure stops the run, keeps the record and its customer's later
records queued in order, counts an attempt and sets a backoff. A long drain stops after
`slice_seconds` (well inside django-q2's timeout) with `has_more` set, and its caller queues
the continuation.
"""

import logging
import time
import uuid
from datetime import timedelta

from django.utils import timezone

from integration_hub.outbound import OutboundClient
from integration_hub.system_settings import setting_get

from ..models import SyncRun
from ..payloads import body_from_messages, message_text
from .delivery import (
    DeliveryFailed,
    backoff_seconds,
    delivery_client,
    delivery_post,
    webhook_id_for,
)
from .lease import LeaseLost, lease_acquire, lease_heartbeat, lease_release
from .queues import (
    QueuedRecord,
    pending_batch_move,
    progress_dead_letter,
    progress_delete,
    progress_failure_count,
    progress_records_after,
)

logger = logging.getLogger("datasync")

SLICE_SECONDS = 120.0  # django-q2 kills a task after 240 s
HEARTBEAT_SECONDS = 5.0
FLUSH_SECONDS = 0.1  # delivered records leave the queue at most this long after their 2xx
READ_CHUNK = 1000
ERROR_CHARS = 1000


class RunConflict(Exception):
    """Another Data Sync run is active."""


class _SliceEnded(Exception):
    pass


class _Drain:
    def __init__(
        self,
        run: SyncRun,
        *,
        holder: str,
        ttl: timedelta,
        honour_backoff: bool,
        slice_seconds: float,
    ):
        self.run = run
        self.holder = holder
        self.ttl = ttl
        self.honour_backoff = honour_backoff
        self.deadline = time.monotonic() + slice_seconds
        self.next_heartbeat = time.monotonic() + HEARTBEAT_SECONDS
        self.per_request = int(setting_get("DataSyncMessagesPerRequest"))
        self.batch_size = int(setting_get("DataSyncBatchSize"))
        self.max_attempts = int(setting_get("DataSyncMaxAttempts"))
        self.cursor = 0  # the last progress id looked at
        self.handled: set[int] = set()  # progress ids this run has sent, deferred or skipped
        self.dead_customers: set[tuple[int, str]] = set()
        self.waiting_customers: set[tuple[int, str]] = set()
        self.delivered: list[int] = []
        self.delivered_since = 0.0
        # How long the next POST may take: the slowest recent one, fading slowly.
        self.expected_post_seconds = 0.0
        self.client: OutboundClient | None = None
        self.now = timezone.now()

    # -- the three steps ------------------------------------------------------------------
    def drain(self) -> None:
        self.client = delivery_client()
        self.send_progress()  # reference 003: the progress queue is processed first
        while self.move_batch():
            self.send_progress()

    def move_batch(self) -> int:
        """Up to DataSyncBatchSize pending records to progress, in one transaction."""
        self.tick()
        moved, lowest = pending_batch_move(batch_size=self.batch_size)
        self.run.moved += moved
        if lowest is not None and lowest <= self.cursor:
            # A capture number taken before others but committed after them: read on from it,
            # so that it goes before its customer's later records (those already handled in
            # this run are skipped).
            self.cursor = lowest - 1
        return moved

    def send_progress(self) -> None:
        while True:
            records = progress_records_after(self.cursor, limit=READ_CHUNK)
            if not records:
                break
            self.now = timezone.now()
            batch: list[QueuedRecord] = []
            newly_dead: list[int] = []
            for record in records:
                self.cursor = record.id
                if record.id in self.handled:
                    continue
                self.handled.add(record.id)
                customer = record.customer
                if record.is_dead_letter:
                    if customer:
                        self.dead_customers.add(customer)
                    continue
                if customer in self.dead_customers:
                    newly_dead.append(record.id)  # keeps the customer's order behind its dead
                    continue
                if customer is not None and customer in self.waiting_customers:
                    continue
                if (
                    self.honour_backoff
                    and record.next_attempt_at is not None
                    and record.next_attempt_at > self.now
                ):
                    if customer:
                        self.waiting_customers.add(customer)
                    continue
                batch.append(record)
                if len(batch) >= self.per_request:
                    self.post(batch)
                    batch = []
            if newly_dead:
                progress_dead_letter(newly_dead)
                self.run.dead_lettered += len(newly_dead)
            if batch:
                self.post(batch)

    # -- one POST ---------------------------------------------------------------------------
    def post(self, batch: list[QueuedRecord]) -> None:
        self.tick()
        if (
            self.delivered
            and time.monotonic() - self.delivered_since + self.expected_post_seconds
            >= FLUSH_SECONDS
        ):
            self.flush()  # else the delivered ones could wait on this POST past FLUSH_SECONDS
        ids = [r.id for r in batch]
        body = body_from_messages(
            [
                message_text(
                    record_id=r.id,
                    object_name=r.object_name,
                    action=r.action,
                    unique_id=r.unique_id,
                    json_text=r.json_text,
                )
                for r in batch
            ]
        )
        started = time.monotonic()
        try:
            delivery_post(self.client, body=body, webhook_id=webhook_id_for(ids))
        except DeliveryFailed as failure:
            if not failure.is_attempt:
                raise  # the configuration is wrong, not the records: no attempt is counted
            self.fail(batch, failure)
        took = time.monotonic() - started
        self.expected_post_seconds = max(took, self.expected_post_seconds * 0.9)
        self.delivered += ids
        self.run.sent += len(ids)
        if not self.delivered_since:
            self.delivered_since = time.monotonic()
        if time.monotonic() - self.delivered_since >= FLUSH_SECONDS:
            self.flush()

    def flush(self) -> None:
        if self.delivered:
            progress_delete(self.delivered)
            self.delivered = []
        self.delivered_since = 0.0

    def fail(self, batch: list[QueuedRecord], failure: DeliveryFailed) -> None:
        """Count the attempt (dead-lettering at DataSyncMaxAttempts) and end the run."""
        self.flush()
        text = str(failure)[:ERROR_CHARS]
        attempts = max(r.attempts for r in batch) + 1
        delay = backoff_seconds(attempts, failure.retry_after)
        self.run.dead_lettered += progress_failure_count(
            records=batch,
            error=text,
            next_attempt_at=timezone.now() + timedelta(seconds=delay),
            max_attempts=self.max_attempts,
        )
        self.run.failed += len(batch)
        raise DeliveryFailed(text, failure.status_code, failure.excerpt) from failure

    def tick(self) -> None:
        """Heartbeat the lease now and then; end the slice when its time is up."""
        now = time.monotonic()
        if now >= self.next_heartbeat:
            self.flush()
            lease_heartbeat(holder=self.holder, ttl=self.ttl)
            self.next_heartbeat = now + HEARTBEAT_SECONDS
        if now >= self.deadline:
            raise _SliceEnded


def _lease_ttl() -> timedelta:
    # Longer than the slowest single call, so a live run always renews it in time.
    return timedelta(seconds=max(60, 2 * int(setting_get("OutboundTimeoutSeconds")) + 30))


def datasync_run(
    *,
    trigger: str,
    honour_backoff: bool,
    slice_seconds: float = SLICE_SECONDS,
) -> SyncRun:
    """Run the job once (one slice). Raises RunConflict when another run is active."""
    holder = uuid.uuid4().hex
    ttl = _lease_ttl()
    if not lease_acquire(holder=holder, ttl=ttl):
        raise RunConflict("Another Data Sync run is active.")
    try:
        started = timezone.now()
        run = SyncRun.objects.create(trigger=trigger, started_at=started)
        lease_heartbeat(holder=holder, ttl=ttl, run_id=run.pk)
        # We hold the lease, so any other RUNNING run was killed before it could finish.
        SyncRun.objects.filter(status=SyncRun.Status.RUNNING).exclude(pk=run.pk).update(
            status=SyncRun.Status.FAILED,
            finished_at=started,
            last_error="Abandoned: the run stopped without finishing (its lease expired).",
        )
        drain = _Drain(
            run, holder=holder, ttl=ttl, honour_backoff=honour_backoff, slice_seconds=slice_seconds
        )
        run.status = SyncRun.Status.SUCCEEDED
        try:
            drain.drain()
        except _SliceEnded:
            run.has_more = True
        except DeliveryFailed as exc:
            run.status = SyncRun.Status.FAILED
            run.last_error = str(exc)
            run.last_status_code = exc.status_code
            run.last_response_excerpt = exc.excerpt
        except LeaseLost as exc:
            run.status = SyncRun.Status.FAILED
            run.last_error = str(exc)
        except Exception as exc:
            run.status = SyncRun.Status.FAILED
            run.last_error = f"Unexpected error: {type(exc).__name__}: {exc}"[:ERROR_CHARS]
            raise
        finally:
            drain.flush()
            run.finished_at = timezone.now()
            run.save()
            logger.info(
                "Data Sync run %s %s: moved %s, sent %s, failed %s%s",
                run.pk,
                run.status,
                run.moved,
                run.sent,
                run.failed,
                f" ({run.last_error})" if run.last_error else "",
            )
    finally:
        lease_release(holder=holder)
    return run
