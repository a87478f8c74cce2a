"""Migration 0002: today's queued records get capture numbers in their old order, records in
the progress queue keep their uniqueId, and no new number repeats one already given. Run for
real, backwards then forwards, on SQLite or PostgreSQL."""

import importlib

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from datasync.models import CustomerPendingRecord, ProgressRecord, TransactionPendingRecord
from datasync.services.queues import capture_number_next, lane_for

pytestmark = pytest.mark.django_db(transaction=True)

CLOCK = 1_764_000_000_000_000  # the old clock-based capture_order: microseconds


def _migrate(targets) -> None:
    MigrationExecutor(connection).migrate(targets)


def _record(model, unique_id, capture_order, **more):
    """A record written as the tables were at 0001 (through that state's models)."""
    old = (
        MigrationExecutor(connection)
        .loader.project_state([("datasync", "0001_initial")])
        .apps.get_model("datasync", model.__name__)
    )
    return old.objects.create(
        object_name="Transaction" if model is TransactionPendingRecord else "Customer",
        unique_id=unique_id,
        action="CREATE",
        json_object={"id": unique_id},
        capture_order=capture_order,
        subscriber_id=1,
        customer_key=more.pop("customer_key", unique_id),
        **more,
    )


def test_queued_records_are_numbered_in_their_old_order_after_every_id_given():
    _migrate([("datasync", "0001_initial")])
    in_flight = _record(ProgressRecord, "P1", CLOCK - 500)
    delivered = _record(ProgressRecord, "P2", CLOCK - 400)
    last_given = delivered.id
    delivered.delete()  # its uniqueId was sent: no later record may reuse it
    _record(CustomerPendingRecord, "C-late", CLOCK + 300)
    _record(TransactionPendingRecord, "T1", CLOCK + 100, customer_key="C1")
    _record(CustomerPendingRecord, "C1", CLOCK + 200)

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    in_flight = ProgressRecord.objects.get(pk=in_flight.pk)
    assert in_flight.capture_order == in_flight.id  # its uniqueId stays what was sent
    numbered = sorted(
        [
            *CustomerPendingRecord.objects.values_list("capture_order", "unique_id"),
            *TransactionPendingRecord.objects.values_list("capture_order", "unique_id"),
        ]
    )
    first = last_given + 1
    assert numbered == [(first, "T1"), (first + 1, "C1"), (first + 2, "C-late")]
    assert capture_number_next() == first + 3


def test_the_lanes_migration_puts_records_in_the_lanes_capture_gives_them():
    """Migration 0003 keeps its own copy of the lane function (migrations must not import
    code that may change); it must agree with capture's, or a customer's old and new records
    would sit in different lanes."""
    lanes_migration = importlib.import_module("datasync.migrations.0003_lanes")
    for subscriber_id, customer_key, unique_id in [
        (1, "C1", "C1"),
        (1, "C1", "T9"),
        (2, "C1", "C1"),
        (1, "", "T1"),
        (7, "", "T-42"),
        *((3, f"K{n}", "x") for n in range(200)),
    ]:
        assert lanes_migration.lane_of(subscriber_id, customer_key, unique_id) == lane_for(
            subscriber_id=subscriber_id, customer_key=customer_key, unique_id=unique_id
        )
