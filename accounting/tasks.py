"""django-q2 entry points of the accounting export: each takes ids and calls one service."""

from .services import delivery, sync


def sync_record_run(sync_record_id: int) -> None:
    sync.sync_record_run(sync_record_id=sync_record_id)


def sync_record_deliver(sync_record_id: int) -> None:
    delivery.sync_record_deliver(sync_record_id=sync_record_id)


def scheduled_sync(accounting_integration_id: int) -> None:
    sync.scheduled_sync(accounting_integration_id=accounting_integration_id)


def sync_records_watchdog() -> None:
    sync.sync_records_watchdog()
