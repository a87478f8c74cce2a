"""Change capture (reference 003, "Pending Queues"): receivers of the core's domain signals
that write to the pending queues in the transaction of the change itself, so a rolled-back
change leaves nothing queued. Nothing is captured while DataSyncEnabled is false (a cached
setting: no query per save); the purge of a deleted or merged-away customer's records runs
whatever the setting, so a deleted customer's data is never sent later.

On PostgreSQL a customer's UPDATE (updated, note added, segment joined or left) is captured
by a trigger on the customer table instead (migration 0005): inside the UPDATE statement,
with no statement of its own. The trigger writes what _customer_capture would, and reads
DataSyncEnabled from its row in the same statement."""

import functools
import time

from django.db import DEFAULT_DB_ALIAS, connection, connections

from integration_hub.models import Customer, Order
from integration_hub.system_settings import setting_get

from ..models import (
    Action,
    CustomerPendingRecord,
    ObjectName,
    ProgressRecord,
    QueueRecord,
    TransactionPendingRecord,
)
from ..payloads import customer_json, customer_notes_segments, transaction_json
from .queues import lane_for, pending_record_insert


def is_capturing() -> bool:
    return bool(setting_get("DataSyncEnabled"))


def customer_records_purge(*, subscriber_id: int, customer_key: str) -> int:
    """Reference 003: deleting a customer first deletes all its records in the pending and
    progress queues (customer and transaction records alike, dead letters included). Runs
    whether or not Data Sync is enabled: records queued while it was enabled would otherwise
    be sent by a later run (an explicit run ignores DataSyncEnabled) or after re-enabling."""
    removed = 0
    for model in (CustomerPendingRecord, TransactionPendingRecord, ProgressRecord):
        removed += model.objects.filter(
            subscriber_id=subscriber_id, customer_key=customer_key
        ).delete()[0]
    return removed


def _customer_from_row(conn, row) -> Customer:
    """The Customer of a row whose first columns are its concrete fields, converted as the
    ORM would convert them (SQLite: dates, datetimes, booleans)."""
    fields = Customer._meta.concrete_fields
    values = list(row[: len(fields)])
    for index, field in enumerate(fields):
        column = field.get_col(Customer._meta.db_table)
        for convert in conn.ops.get_db_converters(column) + column.get_db_converters(conn):
            values[index] = convert(values[index], column, conn)
    return Customer.from_db(conn.alias, [field.attname for field in fields], values)


@functools.cache
def _customer_lock_sql(vendor: str) -> str:
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in Customer._meta.concrete_fields)
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    # Only quoted table and column names from the models are interpolated.
    return (
        f"SELECT {columns} FROM {quote(Customer._meta.db_table)}"  # noqa: S608
        f" WHERE {quote('id')} = %s{lock}"
    )


def _customer_lock(pk: int) -> Customer | None:
    """Lock the customer's row for the rest of the capturing transaction (PostgreSQL; SQLite
    serialises writers) and read it as committed: a concurrent change of this customer
    commits before this returns, so its capture number is lower and this JSON includes it.
    Plain SQL, as this runs inside every captured save."""
    conn = connections[DEFAULT_DB_ALIAS]
    with conn.cursor() as cursor:
        cursor.execute(_customer_lock_sql(conn.vendor), [pk])
        row = cursor.fetchone()
    return None if row is None else _customer_from_row(conn, row)


CustomerRead = tuple[Customer, tuple[list[str], list[str]]]  # the customer, (notes, segments)


def _customer_lock_read(customer: Customer) -> CustomerRead:
    """_customer_lock, then the customer's notes and segments, read after the lock so that
    they include every change committed before it (the customer as given when its row is
    gone)."""
    customer = _customer_lock(customer.pk) or customer
    return customer, customer_notes_segments(customer)


def _record_insert(model: type[QueueRecord], **values) -> None:
    """Queue a record with the next capture number, in its customer's lane; the caller holds
    the customer's lock."""
    lane = lane_for(
        subscriber_id=values["subscriber_id"],
        customer_key=values["customer_key"],
        unique_id=values["unique_id"],
    )
    pending_record_insert(model, lane=lane, **values)


def _customer_capture(
    customer: Customer, action: str, *, is_new: bool = False, read: CustomerRead | None = None
) -> None:
    """`read`: the customer and its lists as the caller read them under the lock."""
    values = {
        "object_name": ObjectName.CUSTOMER,
        "unique_id": customer.customer_id,
        "action": action,
        "subscriber_id": customer.subscriber_id,
        "customer_key": customer.customer_id,
    }
    if is_new:
        # A new customer's row is this transaction's own insert: no one else can change it.
        read = customer, ([], [])
    locked, lists = read or _customer_lock_read(customer)
    _record_insert(
        CustomerPendingRecord, **values, json_object=customer_json(locked, notes_segments=lists)
    )


def _customer_delete_capture(
    *, subscriber_id: int, customer_id: str, pk: int | None = None
) -> None:
    """Purge the customer's queued records, then (only while capturing) queue its DELETE.
    `pk`: the row to lock first (a merge has locked its customers already)."""
    if pk is not None:
        _customer_lock(pk)
    customer_records_purge(subscriber_id=subscriber_id, customer_key=customer_id)
    if not is_capturing():
        return
    _record_insert(
        CustomerPendingRecord,
        object_name=ObjectName.CUSTOMER,
        unique_id=customer_id,
        action=Action.DELETE,
        json_object=None,
        subscriber_id=subscriber_id,
        customer_key=customer_id,
    )


def on_customer_created(sender, *, customer, **kwargs) -> None:
    if is_capturing():
        _customer_capture(customer, Action.CREATE, is_new=True)


UPDATE_TRIGGER = "datasync_customer_updated"  # migration 0005
TRIGGER_CHECK_SECONDS = 60.0
_update_trigger = {"checked_at": float("-inf"), "on": False}


def _update_trigger_on() -> bool:
    """Whether the customer table's capture trigger is installed and fires (PostgreSQL),
    looked up at most once a minute per process. A process started before `migrate`
    installed it, or running after it was unapplied, captures from Python instead, so no
    change goes uncaptured."""
    now = time.monotonic()
    if now - _update_trigger["checked_at"] >= TRIGGER_CHECK_SECONDS:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT 1 FROM pg_trigger WHERE tgname = %s AND tgrelid = %s::regclass"
                " AND tgenabled IN ('O', 'A')",
                [UPDATE_TRIGGER, Customer._meta.db_table],
            )
            _update_trigger.update(checked_at=now, on=cursor.fetchone() is not None)
    return _update_trigger["on"]


def on_customer_changed(sender, *, customer, **kwargs) -> None:
    """Updated, note added, segment joined or left: an UPDATE with the customer JSON. Each of
    these changes UPDATEs the customer's row; on PostgreSQL the trigger on that row has
    queued the record inside the UPDATE statement already."""
    if not is_capturing():
        return
    if connection.vendor == "postgresql" and _update_trigger_on():
        return
    _customer_capture(customer, Action.UPDATE)


def on_customer_deleted(sender, *, subscriber_id, customer_id, pk=None, **kwargs) -> None:
    _customer_delete_capture(subscriber_id=subscriber_id, customer_id=customer_id, pk=pk)


def on_customers_merged(sender, *, merged, customer, **kwargs) -> None:
    """Reference 003 mergeCustomers: DELETE for each merged id, CREATE for the new one. The
    merged-away customers' records are purged even while Data Sync is disabled."""
    for _pk, customer_id in merged:
        _customer_delete_capture(subscriber_id=customer.subscriber_id, customer_id=customer_id)
    if is_capturing():
        _customer_capture(customer, Action.CREATE)


def on_order_posted(sender, *, order: Order, **kwargs) -> None:
    """The transaction CREATE, then the UPDATE of its customer (reference 003, postTransaction
    appears in both tables)."""
    if not is_capturing():
        return
    # The customer's row is locked before either number is taken: a change of the customer
    # still open in another transaction commits first, is numbered first and is sent first,
    # and the UPDATE below reads the customer as it then is.
    read = _customer_lock_read(order.customer) if order.customer_id else None
    customer = read[0] if read else None
    _record_insert(
        TransactionPendingRecord,
        object_name=ObjectName.TRANSACTION,
        unique_id=order.retail_transaction_id,
        action=Action.CREATE,
        json_object=transaction_json(order),
        subscriber_id=order.subscriber_id,
        customer_key=customer.customer_id if customer else "",
    )
    if customer is not None:
        _customer_capture(customer, Action.UPDATE, read=read)
