"""django-q2 entry points of Data Sync: each calls the job service and, when a slice ended
with work left, queues its continuation (DESIGN.md: long jobs work in slices). Above
DataSyncConcurrency 1, a run that finds more lanes with work than it delivers at once queues
one more run, so that the schedule keeps every lane with work covered by the workers of
every cluster."""

import logging

from integration_hub.services.jobs import task_enqueue
from integration_hub.system_settings import setting_get

from .models import SyncRun
from .services.run import RunConflict, datasync_run

logger = logging.getLogger("datasync")


def _run_and_continue(*, trigger: str, honour_backoff: bool) -> str:
    def more_lanes() -> None:
        # More lanes have work than this run delivers at once (DataSyncConcurrency above 1):
        # one more run, for whichever worker of any cluster is free; it asks again if needed.
        task_enqueue(
            "datasync.tasks.datasync_run_continue",
            honour_backoff,
            task_name="Data Sync (more lanes)",
        )

    try:
        run = datasync_run(trigger=trigger, honour_backoff=honour_backoff, more_lanes=more_lanes)
    except RunConflict:
        logger.info("Data Sync: another run is active; this one is skipped.")
        return "skipped: another run is active"
    if run.status == SyncRun.Status.SUCCEEDED and run.has_more:
        task_enqueue(
            "datasync.tasks.datasync_run_continue",
            honour_backoff,
            task_name="Data Sync (continued)",
        )
    return f"run {run.pk}: {run.status}"


def datasync_scheduled_run() -> str:
    """The schedule (every DataSyncIntervalMinutes): honours backoff and Retry-After."""
    if not setting_get("DataSyncEnabled"):
        return "skipped: DataSyncEnabled is false"
    return _run_and_continue(trigger=SyncRun.Trigger.SCHEDULE, honour_backoff=True)


def datasync_run_now() -> str:
    """ "Run now" from the admin: an explicit run tries every record at once."""
    return _run_and_continue(trigger=SyncRun.Trigger.RUN_NOW, honour_backoff=False)


def datasync_run_continue(honour_backoff: bool) -> str:
    return _run_and_continue(trigger=SyncRun.Trigger.CONTINUATION, honour_backoff=honour_backoff)
