"""django-q2 entry points of inbound sync: each takes ids and calls one service."""

from .services import triggers
from .services.notifications import notifications_deliver
from .services.sync_jobs import sync_watchdog_run
from .services.sync_run import sync_job_run


def sync_job_run_task(job_id: int, slice_number: int = 0) -> str | None:
    job = sync_job_run(job_id=job_id, slice_number=slice_number)
    return job.status if job else None


def sync_watchdog_task() -> int:
    return len(sync_watchdog_run())


def invoice_sync_hourly_task() -> int:
    return len(triggers.invoice_sync_hourly())


def account_sync_nightly_task() -> int:
    return len(triggers.account_sync_nightly())


def auto_sync_daily_task() -> int:
    return len(triggers.auto_sync_daily())


def notifications_deliver_task(connection_id: int | None = None) -> int:
    return notifications_deliver(connection_id=connection_id)
