"""The queue tables' SQL (reference 003, "Pending Queues", "Progress Queue"): a captured
record's insert, the move from pending to progress, the reads and writes of the drain.

`QUEUE_COLUMNS` is the one list of what a record carries from capture to delivery: capture
writes those columns and the move copies them, so a column added to the queues travels
with its record by adding it here. Statements that run per record or per batch are written
as plain SQL (only quoted table and column names from the models are interpolated), without
the ORM's per-call query building.
"""

import functools
import zlib
from dataclasses import dataclass, fields
from datetime import UTC, datetime

from django.db import DEFAULT_DB_ALIAS, connection, connections, models, transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone
from django.utils.dateparse import parse_datetime

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
    "lane",
)
_CAPTURED_COLUMNS = set(QUEUE_COLUMNS) - {"capture_order"}  # given by capture, not numbered
PENDING_MODELS = (CustomerPendingRecord, TransactionPendingRecord)
DELETE_CHUNK = 10_000  # ids per DELETE, under SQLite's limit on parameters
CAPTURE_SEQUENCE = "datasync_capture_seq"  # PostgreSQL; created by migration 0002
LANES = 64
MOVE_LOCK = 0x44617461_53796E63  # "DataSync": the advisory lock one move holds at a time


def lane_for(*, subscriber_id: int, customer_key: str, unique_id: str) -> int:
    """The record's lane (0..63): from its customer, so that a customer's records share one;
    a transaction without a customer by its own id. Stable across processes (crc32, not
    Python's salted hash)."""
    key = f"{subscriber_id}/{customer_key}" if customer_key else f"{subscriber_id}//{unique_id}"
    return zlib.crc32(key.encode()) % LANES


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
def _pending_insert_sql(model: type[QueueRecord], vendor: str) -> str:
    """INSERT INTO the pending queue of `model` a value for each of QUEUE_COLUMNS, RETURNING
    its capture number. PostgreSQL takes the number in the statement itself (no statement of
    its own per captured save); elsewhere it is a parameter."""
    quote = connection.ops.quote_name
    names = ("created_at", "updated_at", *QUEUE_COLUMNS)
    number = f"nextval('{CAPTURE_SEQUENCE}')" if vendor == "postgresql" else "%s"
    values = ", ".join(number if name == "capture_order" else "%s" for name in names)
    columns = ", ".join(quote(name) for name in names)
    table = quote(model._meta.db_table)
    # Only quoted table and column names from the models go in.
    return (
        f"INSERT INTO {table} ({columns}) VALUES ({values})"  # noqa: S608
        f" RETURNING {quote('capture_order')}"
    )


def pending_record_insert(model: type[QueueRecord], **values) -> int:
    """One pending record with a value for each of QUEUE_COLUMNS but capture_order, numbered
    with the next capture number, which it returns; written as Model.objects.create() would.
    This runs inside every captured save: the caller holds the customer's lock."""
    if values.keys() != _CAPTURED_COLUMNS:
        raise TypeError(f"A queued record takes exactly {', '.join(sorted(_CAPTURED_COLUMNS))}.")
    conn = connections[DEFAULT_DB_ALIAS]
    now = conn.ops.adapt_datetimefield_value(timezone.now())
    values["json_object"] = model._meta.get_field("json_object").get_db_prep_save(
        values["json_object"], conn
    )
    if conn.vendor != "postgresql":
        values["capture_order"] = capture_number_next()
    params = [now, now, *(values[name] for name in QUEUE_COLUMNS if name in values)]
    with conn.cursor() as cursor:
        cursor.execute(_pending_insert_sql(model, conn.vendor), params)
        return cursor.fetchone()[0]


# -- pending to progress ---------------------------------------------------------------------


def pending_batch_move(*, batch_size: int) -> tuple[int, int | None]:
    """Move up to `batch_size` of the earliest pending records to progress, in one
    transaction that deletes them from pending: the claim reads the earliest ids of both
    queues in one statement (one snapshot: two reads could see a customer's later record in
    one queue without its earlier one, committed in between, in the other), locks them on
    PostgreSQL (waiting out a purge deleting them), then one INSERT ... SELECT copies the
    rows with their capture numbers as progress ids (hence uniqueIds) and one DELETE per
    queue removes them. Returns how many moved and the lowest capture number among them
    (None when none moved): on PostgreSQL a number taken early may commit, and move, after
    higher ones.

    Moves are one at a time (an advisory lock on PostgreSQL; SQLite serialises writers): two
    moves side by side could each take some of one customer's records and commit in the
    wrong order, and a customer's records must reach the progress queue in capture order."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [MOVE_LOCK])
        picked = _pending_earliest(batch_size)
        if connection.vendor == "postgresql" and picked:
            picked = _pending_lock(picked)
        if not picked:
            return 0, None
        ids = [[pk for _, flag, pk in picked if flag == wanted] for wanted in (0, 1)]
        _progress_insert(ids)
        for model, model_ids in zip(PENDING_MODELS, ids, strict=True):
            _ids_delete(model, model_ids)
    return len(picked), picked[0][0]


def _pending_earliest(limit: int) -> list[tuple[int, int, int]]:
    """(capture number, queue, id) of the `limit` earliest pending records of both queues,
    in one statement."""
    quote = connection.ops.quote_name
    selects = [
        f"SELECT {quote('capture_order')} AS n, {flag} AS queue, {quote('id')} AS pk"  # noqa: S608
        f" FROM {quote(model._meta.db_table)}"
        for flag, model in enumerate(PENDING_MODELS)
    ]
    sql = f"SELECT n, queue, pk FROM ({' UNION ALL '.join(selects)}) pending"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(f"{sql} ORDER BY n, queue, pk LIMIT %s", [limit])
        return [tuple(row) for row in cursor.fetchall()]


def _pending_lock(picked: list[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
    """Lock the picked rows (PostgreSQL); those a purge deleted meanwhile drop out."""
    kept = set()
    for flag, model in enumerate(PENDING_MODELS):
        ids = [pk for _, queue, pk in picked if queue == flag]
        if ids:
            locked = (
                model.objects.filter(id__in=ids).select_for_update().values_list("id", flat=True)
            )
            kept |= {(flag, pk) for pk in locked}
    return [row for row in picked if (row[1], row[2]) in kept]


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
    lane: int
    attempts: int
    next_attempt_at: datetime | None
    is_dead_letter: bool

    @property
    def customer(self) -> tuple[int, str] | None:
        return (self.subscriber_id, self.customer_key) if self.customer_key else None


_READ_FIELDS = tuple(field.name for field in fields(QueuedRecord))


@functools.cache
def _progress_read_sql(vendor: str, *, by_lane: bool) -> str:
    quote = connection.ops.quote_name
    text = "::text" if vendor == "postgresql" else ""  # jsonb as its text; SQLite stores text
    columns = ", ".join(
        f"{quote('json_object')}{text}" if name == "json_text" else quote(name)
        for name in _READ_FIELDS
    )
    where = f"{quote('id')} > %s"
    if by_lane:
        where += f" AND {quote('lane')} = %s AND {quote('is_dead_letter')} = %s"
    # Only quoted table and column names from the models are interpolated.
    return (
        f"SELECT {columns} FROM {quote(ProgressRecord._meta.db_table)}"  # noqa: S608
        f" WHERE {where} ORDER BY {quote('id')} LIMIT %s"
    )


def progress_records_after(
    record_id: int, *, limit: int, lane: int | None = None
) -> list[QueuedRecord]:
    """The next `limit` progress records after `record_id`, in id (delivery) order: of the
    whole queue, or of one lane (its dead letters left out: the lane index skips them).
    Plain SQL: this reads every record the drain sends, and the ORM's per-row conversions
    cost more than the rest of the read."""
    conn = connections[DEFAULT_DB_ALIAS]
    params = [record_id, *((lane, False) if lane is not None else ()), limit]
    with conn.cursor() as cursor:
        cursor.execute(_progress_read_sql(conn.vendor, by_lane=lane is not None), params)
        rows = cursor.fetchall()
    attempt_at = _READ_FIELDS.index("next_attempt_at")
    dead = _READ_FIELDS.index("is_dead_letter")
    records = []
    for row in rows:
        row = list(row)
        when = row[attempt_at]
        if isinstance(when, str):
            when = parse_datetime(when)
        if when is not None and when.tzinfo is None:  # SQLite keeps UTC without a zone
            when = when.replace(tzinfo=UTC)
        row[attempt_at] = when
        row[dead] = bool(row[dead])
        records.append(QueuedRecord(*row))
    return records


@dataclass(frozen=True)
class LaneWork:
    """A lane's deliverable records (dead letters left out), as one read saw them."""

    lane: int
    count: int
    first_id: int
    last_id: int


def lanes_with_work() -> list[LaneWork]:
    """Every lane holding deliverable records, the one with the oldest record first."""
    rows = (
        ProgressRecord.objects.filter(is_dead_letter=False)
        .order_by()
        .values("lane")
        .annotate(count=models.Count("id"), first=models.Min("id"), last=models.Max("id"))
        .values_list("lane", "count", "first", "last")
    )
    return sorted((LaneWork(*row) for row in rows), key=lambda work: work.first_id)


def lane_work(lane: int) -> tuple[int, int]:
    """(count, last id) of one lane's deliverable records."""
    found = ProgressRecord.objects.filter(lane=lane, is_dead_letter=False).aggregate(
        count=models.Count("id"), last=models.Max("id")
    )
    return found["count"], found["last"] or 0


def lane_dead_customers(lane: int) -> set[tuple[int, str]]:
    """The customers with dead letters in a lane: their later records must wait behind them
    (a lane's reads leave dead letters out)."""
    return set(
        ProgressRecord.objects.filter(lane=lane, is_dead_letter=True)
        .exclude(customer_key="")
        .order_by()
        .values_list("subscriber_id", "customer_key")
        .distinct()
    )


def pending_exists() -> bool:
    return any(model.objects.exists() for model in PENDING_MODELS)


def progress_delete(ids: list[int]) -> None:
    """The delivered records leave the queue."""
    _ids_delete(ProgressRecord, ids)


def progress_dead_letter(ids: list[int]) -> int:
    """Dead-letter `ids`, each only while an earlier record of its customer still is one
    (a replay may have put them back in the queue since the run looked)."""
    behind_a_dead_letter = ProgressRecord.objects.filter(
        subscriber_id=OuterRef("subscriber_id"),
        customer_key=OuterRef("customer_key"),
        id__lt=OuterRef("id"),
        is_dead_letter=True,
    )
    return (
        ProgressRecord.objects.filter(id__in=ids)
        .filter(Exists(behind_a_dead_letter))
        .update(is_dead_letter=True)
    )


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
