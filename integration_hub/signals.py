"""Domain signals of the core records (DESIGN.md: "Core services send domain signals ...
inside their database transaction").

They are sent by the services in integration_hub.services.customers / .orders while the
transaction that made the change is still open, so a receiver (Data Sync's capture) writes
in that same transaction: a rollback leaves neither the change nor what was captured.
Receivers must not do I/O; they may defer it with transaction.on_commit.

Every signal is sent with `sender=Customer` or `sender=Order` and these keyword arguments:
"""

from django.dispatch import Signal

customer_created = Signal()  # customer
customer_updated = Signal()  # customer, changed_fields: list[str]
customer_deleted = Signal()  # subscriber_id, customer_id (the business key), pk
customers_merged = Signal()  # merged: list[(pk, customer_id)], customer (the new one)
customer_note_added = Signal()  # customer, note
customer_segment_joined = Signal()  # customer, segment
customer_segment_left = Signal()  # customer, segment
order_posted = Signal()  # order
order_modified = Signal()  # order, changed_fields: list[str]
