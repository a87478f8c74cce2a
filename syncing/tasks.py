"""django-q2 entry points of inbound sync: each takes ids and calls one service."""

from .services.sync import sync_job_run, sync_watchdog_run


def sync_job_run_task(job_id: int, slice_number: int = 0) -> str | None:
    job = sync_job_run(job_id=job_id, slice_number=slice_number)
    return job.status if job else None


def sync_watchdog_task() -> int:
    return len(sync_watchdog_run())
