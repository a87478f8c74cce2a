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

import hashlib
import logging
import random
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import connection, transaction
from django.db.models import F, TextField
from django.db.models.functions import Cast
from django.utils import timezone
from standardwebhooks import Webhook

from integration_hub.outbound import (
    OutboundClient,
    OutboundConnectionRefused,
    OutboundError,
    OutboundHTTPError,
    OutboundPolicyError,
    OutboundTimeout,
    OutboundTokenError,
    ensure_success,
)
from integration_hub.system_settings import setting_get

from ..models import (
    CustomerPendingRecord,
    ProgressRecord,
    SyncRun,
    TransactionPendingRecord,
)
from ..payloads import body_from_messages, message_text
from .lease import LeaseLost, lease_acquire, lease_heartbeat, lease_release

logger = logging.getLogger("datasync")

SLICE_SECONDS = 120.0  # django-q2 kills a task after 240 s
HEARTBEAT_SECONDS = 5.0
FLUSH_SECONDS = 0.1  # delivered records leave the queue at most this long after their 2xx
READ_CHUNK = 1000
DELETE_CHUNK = 10_000  # ids per DELETE, under SQLite's limit on parameters
BACKOFF_BASE_SECONDS = 30.0
BACKOFF_MAX_SECONDS = 3600.0
ERROR_CHARS = 1000

RECORD_FIELDS = (
    "id",
    "object_name",
    "unique_id",
    "action",
    "json_text",
    "subscriber_id",
    "customer_key",
    "attempts",
    "next_attempt_at",
    "is_dead_letter",
)


PENDING_MODELS = (CustomerPendingRecord, TransactionPendingRecord)
_COPIED_COLUMNS = (
    "object_name",
    "unique_id",
    "action",
    "json_object",
    "capture_order",
    "subscriber_id",
    "customer_key",
)


def _progress_insert(ids: list[list[int]]) -> None:
    """INSERT INTO progress ... SELECT the pending rows `ids` (customer ids, transaction ids)
    ordered by capture order, so that the new progress ids follow it."""
    quote = connection.ops.quote_name
    copied = ", ".join(quote(column) for column in _COPIED_COLUMNS)
    selects, params = [], []
    for flag, (model, model_ids) in enumerate(zip(PENDING_MODELS, ids, strict=True)):
        if not model_ids:
            continue
        marks = ", ".join(["%s"] * len(model_ids))
        selects.append(
            f"SELECT {copied}, {flag} AS queue, {quote('id')} AS pending_id"  # noqa: S608
            f" FROM {quote(model._meta.db_table)} WHERE {quote('id')} IN ({marks})"
        )
        params += model_ids
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    columns = ", ".join(
        quote(column)
        for column in (
            "created_at",
            "updated_at",
            *_COPIED_COLUMNS,
            "attempts",
            "is_dead_letter",
            "last_error",
        )
    )
    # Only quoted table and column names from the models are interpolated.
    sql = (
        f"INSERT INTO {quote(ProgressRecord._meta.db_table)} ({columns})"  # noqa: S608
        f" SELECT %s, %s, {copied}, %s, %s, %s"
        f" FROM ({' UNION ALL '.join(selects)}) picked"
        f" ORDER BY {quote('capture_order')}, queue, pending_id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [now, now, 0, False, "", *params])


def _ids_delete(model, ids: list[int]) -> None:
    """DELETE ... WHERE id IN (ids): one statement, without the ORM's per-id lookup work
    (these tables have no relations or delete signals to honour)."""
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    with connection.cursor() as cursor:
        for start in range(0, len(ids), DELETE_CHUNK):
            chunk = ids[start : start + DELETE_CHUNK]
            marks = ", ".join(["%s"] * len(chunk))
            cursor.execute(f"DELETE FROM {table} WHERE {quote('id')} IN ({marks})", chunk)  # noqa: S608


class RunConflict(Exception):
    """Another Data Sync run is active."""


class _DeliveryFailed(Exception):
    def __init__(self, message: str, status_code: int | None = None, excerpt: str = ""):
        super().__init__(message)
        self.status_code = status_code
        self.excerpt = excerpt


class _SliceEnded(Exception):
    pass


@dataclass(frozen=True)
class _Record:
    id: int
    object_name: str
    unique_id: str
    action: str
    json_text: str | None  # the JSON object as stored at capture time
    subscriber_id: int
    customer_key: str
    attempts: int
    next_attempt_at: datetime | None
    is_dead_letter: bool

    @property
    def customer(self) -> tuple[int, str] | None:
        return (self.subscriber_id, self.customer_key) if self.customer_key else None


def backoff_seconds(attempts: int, retry_after: float | None = None) -> float:
    """Exponential backoff with jitter (half fixed, half random); never sooner than the
    receiver's Retry-After."""
    ceiling = min(BACKOFF_MAX_SECONDS, BACKOFF_BASE_SECONDS * 2 ** max(0, attempts - 1))
    delay = ceiling / 2 + random.uniform(0, ceiling / 2)  # noqa: S311 (jitter, not a secret)
    return max(delay, retry_after or 0.0)


def delivery_client() -> OutboundClient:
    """The outbound client for DataSyncApiUrl with a Bearer token from DataSyncTokenUrl."""
    api_url = setting_get("DataSyncApiUrl")
    token_url = setting_get("DataSyncTokenUrl")
    if not api_url:
        raise _DeliveryFailed("DataSyncApiUrl is not set.")
    if not token_url:
        raise _DeliveryFailed("DataSyncTokenUrl is not set.")
    return OutboundClient.for_credentials(
        auth_type="OAUTH2_CLIENT_CREDENTIALS",
        token_url=token_url,
        map_name=setting_get("DataSyncCredentialMapName"),
        key_name=setting_get("DataSyncCredentialKeyName"),
        base_url=api_url,
    )


def webhook_id_for(record_ids: list[int]) -> str:
    """The uniqueId itself for one message; for several, an id of exactly that set."""
    if len(record_ids) == 1:
        return str(record_ids[0])
    digest = hashlib.sha256(",".join(map(str, record_ids)).encode()).hexdigest()
    return f"batch_{digest[:32]}"


def delivery_headers(*, webhook_id: str, body: bytes) -> dict[str, str]:
    headers = {"Content-Type": "application/json", "webhook-id": webhook_id}
    secret = setting_get("DataSyncSigningSecret")
    if secret:
        # Standard Webhooks: sign "{id}.{timestamp}.{body}" with the whsec_ key.
        timestamp = datetime.fromtimestamp(int(time.time()), tz=UTC)
        headers["webhook-timestamp"] = str(int(timestamp.timestamp()))
        headers["webhook-signature"] = Webhook(secret).sign(webhook_id, timestamp, body.decode())
    return headers


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
        """Move up to DataSyncBatchSize of the earliest pending records to progress, in one
        transaction that deletes them from pending: the claim reads ids only (with
        FOR UPDATE SKIP LOCKED on PostgreSQL), then one INSERT ... SELECT copies the rows in
        capture order (so progress ids, hence uniqueIds, follow it) and one DELETE per queue
        removes them."""
        self.tick()
        with transaction.atomic():
            picked = []
            for flag, model in enumerate(PENDING_MODELS):
                queryset = model.objects.order_by("capture_order", "id")
                if connection.vendor == "postgresql":
                    queryset = queryset.select_for_update(skip_locked=True)
                picked += [
                    (capture_order, flag, pk)
                    for capture_order, pk in queryset.values_list("capture_order", "id")[
                        : self.batch_size
                    ]
                ]
            picked.sort()
            picked = picked[: self.batch_size]
            if not picked:
                return 0
            ids = [[pk for _, flag, pk in picked if flag == wanted] for wanted in (0, 1)]
            _progress_insert(ids)
            for model, model_ids in zip(PENDING_MODELS, ids, strict=True):
                _ids_delete(model, model_ids)
        self.run.moved += len(picked)
        return len(picked)

    def send_progress(self) -> None:
        while True:
            rows = list(
                ProgressRecord.objects.filter(id__gt=self.cursor)
                .annotate(json_text=Cast("json_object", TextField()))
                .order_by("id")
                .values_list(*RECORD_FIELDS)[:READ_CHUNK]
            )
            if not rows:
                break
            self.now = timezone.now()
            batch: list[_Record] = []
            newly_dead: list[int] = []
            for row in rows:
                record = _Record(*row)
                self.cursor = record.id
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
                ProgressRecord.objects.filter(id__in=newly_dead).update(is_dead_letter=True)
                self.run.dead_lettered += len(newly_dead)
            if batch:
                self.post(batch)

    # -- one POST ---------------------------------------------------------------------------
    def post(self, batch: list[_Record]) -> None:
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
        headers = delivery_headers(webhook_id=webhook_id_for(ids), body=body)
        started = time.monotonic()
        try:
            response = ensure_success(self.client.post("", data=body, headers=headers))
            response.content  # noqa: B018 (read it all, so the connection is reused)
            took = time.monotonic() - started
            self.expected_post_seconds = max(took, self.expected_post_seconds * 0.9)
        except OutboundHTTPError as exc:
            self.fail(
                batch,
                exc,
                status_code=exc.status_code,
                excerpt=exc.body_excerpt,
                retry_after=exc.retry_after,
            )
        except (OutboundTimeout, OutboundConnectionRefused) as exc:
            self.fail(batch, exc)
        except (OutboundTokenError, OutboundPolicyError) as exc:
            # The configuration is wrong, not the record: no attempt is counted.
            raise _DeliveryFailed(str(exc)) from None
        except OutboundError as exc:
            self.fail(batch, exc)
        self.delivered += ids
        self.run.sent += len(ids)
        if not self.delivered_since:
            self.delivered_since = time.monotonic()
        if time.monotonic() - self.delivered_since >= FLUSH_SECONDS:
            self.flush()

    def flush(self) -> None:
        if self.delivered:
            _ids_delete(ProgressRecord, self.delivered)
            self.delivered = []
        self.delivered_since = 0.0

    def fail(
        self,
        batch: list[_Record],
        exc: Exception,
        *,
        status_code=None,
        excerpt="",
        retry_after=None,
    ) -> None:
        self.flush()
        text = str(exc)[:ERROR_CHARS]
        now = timezone.now()
        attempts = max(r.attempts for r in batch) + 1
        next_attempt_at = now + timedelta(seconds=backoff_seconds(attempts, retry_after))
        with transaction.atomic():
            ProgressRecord.objects.filter(id__in=[r.id for r in batch]).update(
                attempts=F("attempts") + 1, next_attempt_at=next_attempt_at, last_error=text
            )
            for record in batch:
                if record.attempts + 1 < self.max_attempts:
                    continue
                # Dead-lettered with every later record of its customer, so order is kept.
                later = ProgressRecord.objects.filter(id__gte=record.id, is_dead_letter=False)
                later = (
                    later.filter(
                        subscriber_id=record.subscriber_id, customer_key=record.customer_key
                    )
                    if record.customer
                    else later.filter(id=record.id)
                )
                self.run.dead_lettered += later.update(is_dead_letter=True)
        self.run.failed += len(batch)
        raise _DeliveryFailed(text, status_code, excerpt)

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
        except _DeliveryFailed as exc:
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
