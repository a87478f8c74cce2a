"""Change capture (reference 003, "Pending Queues"): receivers of the core's domain signals
that write to the pending queues in the transaction of the change itself, so a rolled-back
change leaves nothing queued. Nothing is captured while DataSyncEnabled is false (a cached
setting: no query per save); the purge of a deleted or merged-away customer's records runs
whatever the setting, so a deleted customer's data is never sent later."""

import threading
import time

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
from ..payloads import customer_json, transaction_json
from .queues import pending_record_insert

_order_lock = threading.Lock()
_last_order = 0


def capture_order_next() -> int:
    """A strictly increasing number in this process, close to the wall clock in microseconds,
    so that records of both pending queues merge in the order they were captured."""
    global _last_order
    with _order_lock:
        _last_order = max(_last_order + 1, time.time_ns() // 1000)
        return _last_order


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


def _record_insert(model: type[QueueRecord], **values) -> None:
    pending_record_insert(model, capture_order=capture_order_next(), **values)


def _customer_capture(customer: Customer, action: str, *, is_new: bool = False) -> None:
    _record_insert(
        CustomerPendingRecord,
        object_name=ObjectName.CUSTOMER,
        unique_id=customer.customer_id,
        action=action,
        json_object=customer_json(customer, is_new=is_new),
        subscriber_id=customer.subscriber_id,
        customer_key=customer.customer_id,
    )


def _customer_delete_capture(*, subscriber_id: int, customer_id: str) -> None:
    """Purge the customer's queued records, then (only while capturing) queue its DELETE."""
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


def on_customer_changed(sender, *, customer, **kwargs) -> None:
    """Updated, note added, segment joined or left: an UPDATE with the customer JSON."""
    if is_capturing():
        _customer_capture(customer, Action.UPDATE)


def on_customer_deleted(sender, *, subscriber_id, customer_id, **kwargs) -> None:
    _customer_delete_capture(subscriber_id=subscriber_id, customer_id=customer_id)


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
    customer = order.customer if order.customer_id else None
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
        # The customer as committed, read under its row lock: a change of the customer still
        # open in another transaction (captured earlier, so sent first) commits before this
        # is read and captured after it, so the receiver never ends with the older state.
        locked = Customer.objects.select_for_update().filter(pk=customer.pk).first()
        _customer_capture(locked or customer, Action.UPDATE)
