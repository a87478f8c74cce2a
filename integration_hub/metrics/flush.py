"""Writing what a process counted to the database, where `/metrics` reads the totals of every
process on every machine (DESIGN.md, "Operations").

A flush adds each delta to its series' row in one statement (INSERT ... ON CONFLICT DO UPDATE
SET value = value + excluded.value, on PostgreSQL and SQLite alike): totals never go down, a
process that ends loses nothing it flushed, and no two processes need to agree on anything.
A flush that fails (the database is down, locked too long) gives its deltas back for the
next one.

When: every METRICS_FLUSH_SECONDS (10 s) from a daemon thread started at a process's first
increment, with its own database connection (so never inside a caller's transaction), and at
exit; and in django-q2 workers after each task, since a worker that is recycled or stopped
exits without running `atexit` (multiprocessing ends it with os._exit). A flush on the
caller's own connection is skipped while that connection is inside a transaction: it is left
to the thread, and never rolled back with (or holding up) the caller's work.
"""

import atexit
import logging
import os
import threading
import time

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils import timezone

from . import instruments
from .instruments import Counter, Histogram, labels_text

logger = logging.getLogger("integration_hub.metrics")

ROWS_PER_STATEMENT = 200
WARN_EVERY_SECONDS = 60.0


def _rows(deltas: dict) -> list[tuple[str, str, float]]:
    """(sample name, labels, amount to add) for each series that changed, in the order of
    their key: every process locks the rows it adds to in that same order, so two flushes
    at once wait for each other instead of deadlocking (PostgreSQL)."""
    rows = []
    for (metric, values), delta in deltas.items():
        labels = dict(zip(metric.labelnames, values, strict=True))
        if isinstance(metric, Counter):
            rows.append((metric.name, labels_text(labels), delta))
        elif isinstance(metric, Histogram):
            *buckets, total = delta
            for bound, count in zip(metric.upper_bounds, buckets, strict=True):
                if count:
                    le = {**labels, "le": _bound_text(bound)}
                    rows.append((f"{metric.name}_bucket", labels_text(le), count))
            rows.append((f"{metric.name}_sum", labels_text(labels), total))
    return sorted(rows)


def _bound_text(bound: float) -> str:
    from prometheus_client.utils import floatToGoString

    return floatToGoString(bound)


def _upsert(connection, rows: list[tuple[str, str, float]]) -> None:
    from integration_hub.models import MetricTotal

    quote = connection.ops.quote_name
    table = quote(MetricTotal._meta.db_table)
    name, labels, value, created, updated = (
        quote(MetricTotal._meta.get_field(field).column)
        for field in ("name", "labels", "value", "created_at", "updated_at")
    )
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        for start in range(0, len(rows), ROWS_PER_STATEMENT):
            chunk = rows[start : start + ROWS_PER_STATEMENT]
            values = ", ".join(["(%s, %s, %s, %s, %s)"] * len(chunk))
            params = [part for row in chunk for part in (*row, now, now)]
            cursor.execute(
                f"INSERT INTO {table} ({name}, {labels}, {value}, {created}, {updated}) "  # noqa: S608 (quoted names, values as parameters)
                f"VALUES {values} ON CONFLICT ({name}, {labels}) DO UPDATE SET "
                f"{value} = {table}.{value} + excluded.{value}, {updated} = excluded.{updated}",
                params,
            )


class _Warnings:
    """At most one warning a minute while flushes keep failing."""

    last = 0.0


def metrics_flush(*, using: str = DEFAULT_DB_ALIAS) -> bool:
    """Add what this process counted since its last flush to the totals in the database, on
    this thread's connection, in a transaction of its own. True when nothing is left to
    write; False when the connection is inside a transaction (nothing is taken) or the
    write failed (the deltas are kept for the next flush)."""
    connection = connections[using]
    if connection.in_atomic_block:
        return False
    deltas = instruments.store.take()
    if not deltas:
        return True
    try:
        if not connection.get_autocommit():
            raise RuntimeError("the connection is in a transaction of its own")
        rows = _rows(deltas)
        with transaction.atomic(using=using):
            _upsert(connection, rows)
    except Exception as exc:
        instruments.store.give_back(deltas)
        now = time.monotonic()
        if now - _Warnings.last >= WARN_EVERY_SECONDS:
            _Warnings.last = now
            logger.warning("Metrics not written (%s): kept for the next flush.", exc)
        return False
    return True


def flush_seconds() -> float | None:
    """How often the background thread flushes; None: no thread and no flush at exit (the
    test settings: a thread would write beside each test's transaction)."""
    return getattr(settings, "METRICS_FLUSH_SECONDS", 10.0)


class _Flusher:
    """The background flush of this process (one per process; a forked child starts its
    own at its first increment)."""

    lock = threading.Lock()
    thread: threading.Thread | None = None
    stop = threading.Event()
    exit_hook_registered = False


def _flush_in_thread(interval: float, stop: threading.Event) -> None:
    while not stop.wait(interval):
        try:
            metrics_flush()
            # Not kept open between flushes: one less connection per process on the server.
            connections.close_all()
        except Exception:  # the thread lives on: the next flush tries again
            logger.exception("Metrics flush thread")


def _flush_at_exit() -> None:
    # Looked at again at exit: a test that ran the thread has put its settings back.
    if instruments.store.deltas and flush_seconds() is not None:
        metrics_flush()


def flusher_ensure() -> None:
    """Start this process's background flush (called at its first increment)."""
    interval = flush_seconds()
    if interval is None:
        return
    with _Flusher.lock:
        if _Flusher.thread is not None and _Flusher.thread.is_alive():
            return
        _Flusher.stop = threading.Event()
        _Flusher.thread = threading.Thread(
            target=_flush_in_thread,
            args=(interval, _Flusher.stop),
            name="metrics-flush",
            daemon=True,
        )
        _Flusher.thread.start()
        if not _Flusher.exit_hook_registered:
            _Flusher.exit_hook_registered = True
            atexit.register(_flush_at_exit)


def flusher_stop() -> None:
    """Stop the background flush (tests that started one)."""
    with _Flusher.lock:
        thread, _Flusher.thread = _Flusher.thread, None
        _Flusher.stop.set()
    if thread is not None:
        thread.join()


def metrics_flush_after_task(**kwargs) -> None:
    """django-q2's post_execute: a worker's counts are written before it takes its next
    task, or is recycled."""
    if instruments.store.deltas:
        metrics_flush()


def _after_fork_in_child() -> None:
    # The parent's thread does not exist in the child; the child starts its own.
    _Flusher.lock = threading.Lock()
    _Flusher.thread = None


os.register_at_fork(after_in_child=_after_fork_in_child)
instruments.store.on_first_change = flusher_ensure
