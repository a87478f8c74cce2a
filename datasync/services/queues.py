"""The queue tables' SQL (reference 003, "Pending Queues", "Progress Queue"): a captured
record's insert, the move from pending to progress, the reads and writes of the drain.

`QUEUE_COLUMNS` is the one list of what a record carries from capture to delivery: capture
writes those columns and the move copies them, so a column added to the queues travels
with its record by adding it here. Statements that run per record or per batch are written
as plain SQL (only quoted table and column names from the models are interpolated), without
the ORM's per-call query building.
"""

import functools
from dataclasses import dataclass, fields
from datetime import datetime

from django.db import DEFAULT_DB_ALIAS, connection, connections, models, transaction
from django.db.models import F, TextField
from django.db.models.functions import Cast
from django.utils import timezone

from ..models import (
    CaptureCounter,
    CustomerPendingRecord,
    ProgressRecord,
    QueueRecord,
    TransactionPendingRecord,
)

QUEUE_COLUMNS = (
    "object_name",
    "unique_id",
    "action",
    "json_object",
    "capture_order",
    "subscriber_id",
    "customer_key",
)
_CAPTURED_COLUMNS = set(QUEUE_COLUMNS) - {"capture_order"}  # given by capture, not numbered
PENDING_MODELS = (CustomerPendingRecord, TransactionPendingRecord)
DELETE_CHUNK = 10_000  # ids per DELETE, under SQLite's limit on parameters
CAPTURE_SEQUENCE = "datasync_capture_seq"  # PostgreSQL; created by migration 0002


# -- capture ---------------------------------------------------------------------------------


def capture_number_next() -> int:
    """The next capture number, from the database (never a process clock), shared by both
    pending queues. PostgreSQL: a sequence. SQLite: the one CaptureCounter row, incremented
    in the capturing transaction (SQLite already serialises writers)."""
    conn = connections[DEFAULT_DB_ALIAS]
    with conn.cursor() as cursor:
        if conn.vendor == "postgresql":
            cursor.execute(f"SELECT nextval('{CAPTURE_SEQUENCE}')")
            return cursor.fetchone()[0]
        table = conn.ops.quote_name(CaptureCounter._meta.db_table)
        cursor.execute(
            f"UPDATE {table} SET value = value + 1 WHERE id = 1 RETURNING value"  # noqa: S608
        )
        row = cursor.fetchone()
    if row is not None:
        return row[0]
    # The row is missing only after a flush of the tables: continue above every number given.
    start = max(
        ProgressRecord.objects.aggregate(n=models.Max("id"))["n"] or 0,
        *(
            model.objects.aggregate(n=models.Max("capture_order"))["n"] or 0
            for model in PENDING_MODELS
        ),
    )
    CaptureCounter.objects.create(id=1, value=start + 1)
    return start + 1


@functools.cache
def pending_insert_sql(
    model: type[QueueRecord], vendor: str, *, json_object: str = "%s", source: str = ""
) -> str:
    """INSERT INTO the pending queue of `model` ... SELECT a value for each of QUEUE_COLUMNS,
    RETURNING its capture number; the parameters are pending_insert_params(). PostgreSQL
    takes the capture number in the statement itself (no statement of its own per captured
    save). `json_object`: the SQL of the JSON object, with one parameter (the JSON from
    Python); `source`: what follows the values (a FROM clause)."""
    quote = connection.ops.quote_name
    names = ("created_at", "updated_at", *QUEUE_COLUMNS)
    number = f"nextval('{CAPTURE_SEQUENCE}')" if vendor == "postgresql" else "%s"
    marks = {"capture_order": number, "json_object": json_object}
    values = ", ".join(marks.get(name, "%s") for name in names)
    columns = ", ".join(quote(name) for name in names)
    table = quote(model._meta.db_table)
    # Only quoted table and column names from the models (and the caller's SQL) go in.
    return (
        f"INSERT INTO {table} ({columns}) SELECT {values}{source}"
        f" RETURNING {quote('capture_order')}"
    )


def pending_insert_params(model: type[QueueRecord], values: dict) -> list:
    """The parameters of pending_insert_sql() for `values`: one for each of QUEUE_COLUMNS but
    capture_order, which PostgreSQL takes in the INSERT and other databases take here from
    capture_number_next(). As Model.objects.create() would write them."""
    if values.keys() != _CAPTURED_COLUMNS:
        raise TypeError(f"A queued record takes exactly {', '.join(sorted(_CAPTURED_COLUMNS))}.")
    conn = connections[DEFAULT_DB_ALIAS]
    now = conn.ops.adapt_datetimefield_value(timezone.now())
    values = {
        **values,
        "json_object": model._meta.get_field("json_object").get_db_prep_save(
            values["json_object"], conn
        ),
    }
    if conn.vendor != "postgresql":
        values["capture_order"] = capture_number_next()
    return [now, now, *(values[name] for name in QUEUE_COLUMNS if name in values)]


def pending_record_insert(model: type[QueueRecord], **values) -> int:
    """One pending record with a value for each of QUEUE_COLUMNS but capture_order, numbered
    with the next capture number, which it returns. This runs inside every captured save:
    the caller holds the customer's lock."""
    conn = connections[DEFAULT_DB_ALIAS]
    with conn.cursor() as cursor:
        cursor.execute(pending_insert_sql(model, conn.vendor), pending_insert_params(model, values))
        return cursor.fetchone()[0]


# -- pending to progress ---------------------------------------------------------------------


def pending_batch_move(*, batch_size: int) -> tuple[int, int | None]:
    """Move up to `batch_size` of the earliest pending records to progress, in one
    transaction that deletes them from pending: the claim reads ids only (with
    FOR UPDATE SKIP LOCKED on PostgreSQL), then one INSERT ... SELECT copies the rows with
    their capture numbers as progress ids (hence uniqueIds) and one DELETE per queue
    removes them. Returns how many moved and the lowest capture number among them (None
    when none moved): on PostgreSQL a number taken early may commit, and move, after higher
    ones."""
    with transaction.atomic():
        picked = []
        for flag, model in enumerate(PENDING_MODELS):
            queryset = model.objects.order_by("capture_order", "id")
            if connection.vendor == "postgresql":
                queryset = queryset.select_for_update(skip_locked=True)
            picked += [
                (capture_order, flag, pk)
                for capture_order, pk in queryset.values_list("capture_order", "id")[:batch_size]
            ]
        picked.sort()
        picked = picked[:batch_size]
        if not picked:
            return 0, None
        ids = [[pk for _, flag, pk in picked if flag == wanted] for wanted in (0, 1)]
        _progress_insert(ids)
        for model, model_ids in zip(PENDING_MODELS, ids, strict=True):
            _ids_delete(model, model_ids)
    return len(picked), picked[0][0]


def _progress_insert(ids: list[list[int]]) -> None:
    """INSERT INTO progress ... SELECT the pending rows `ids` (customer ids, transaction ids),
    each progress id being the record's capture number (its uniqueId)."""
    quote = connection.ops.quote_name
    copied = ", ".join(quote(column) for column in QUEUE_COLUMNS)
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
            "id",
            "created_at",
            "updated_at",
            *QUEUE_COLUMNS,
            "attempts",
            "is_dead_letter",
            "last_error",
        )
    )
    sql = (
        f"INSERT INTO {quote(ProgressRecord._meta.db_table)} ({columns})"  # noqa: S608
        f" SELECT {quote('capture_order')}, %s, %s, {copied}, %s, %s, %s"
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


# -- the progress queue ----------------------------------------------------------------------


@dataclass(frozen=True)
class QueuedRecord:
    """A progress record as the drain reads it (its fields are the columns read)."""

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


_READ_FIELDS = tuple(field.name for field in fields(QueuedRecord))


def progress_records_after(record_id: int, *, limit: int) -> list[QueuedRecord]:
    """The next `limit` progress records after `record_id`, in id (delivery) order."""
    rows = (
        ProgressRecord.objects.filter(id__gt=record_id)
        .annotate(json_text=Cast("json_object", TextField()))
        .order_by("id")
        .values_list(*_READ_FIELDS)[:limit]
    )
    return [QueuedRecord(*row) for row in rows]


def progress_delete(ids: list[int]) -> None:
    """The delivered records leave the queue."""
    _ids_delete(ProgressRecord, ids)


def progress_dead_letter(ids: list[int]) -> int:
    return ProgressRecord.objects.filter(id__in=ids).update(is_dead_letter=True)


@transaction.atomic
def progress_failure_count(
    *,
    records: list[QueuedRecord],
    error: str,
    next_attempt_at: datetime,
    max_attempts: int,
) -> int:
    """Count an attempt on each of `records`; dead-letter those at `max_attempts`, each with
    every later record of its customer (so that their order is kept). Returns how many were
    dead-lettered."""
    ProgressRecord.objects.filter(id__in=[r.id for r in records]).update(
        attempts=F("attempts") + 1, next_attempt_at=next_attempt_at, last_error=error
    )
    dead_lettered = 0
    for record in records:
        if record.attempts + 1 < max_attempts:
            continue
        later = ProgressRecord.objects.filter(id__gte=record.id, is_dead_letter=False)
        later = (
            later.filter(subscriber_id=record.subscriber_id, customer_key=record.customer_key)
            if record.customer
            else later.filter(id=record.id)
        )
        dead_lettered += later.update(is_dead_letter=True)
    return dead_lettered
