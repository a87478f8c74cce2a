"""A sync job's life cycle: requested (or merged into the one queued or running), claimed by
a worker, continued slice by slice, finished with SYNC_ALL_SUCCESS / SYNC_ALL_ERROR and its
follow-up queued, or failed by the watchdog when stuck. The steps themselves are in
sync_steps.py, and the slice that runs them in sync_run.py.

One sync per connection is queued or running at a time: the database's partial unique
constraint decides races, and every write of a running job first locks it (job_lock), so a
job the watchdog failed meanwhile writes nothing more.
"""

import logging
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from integration_hub.services.errors import integration_enabled_guard
from integration_hub.services.jobs import task_enqueue

from ..metrics import sync_job_count
from ..models import Account, Connection, SyncJob
from ..selectors import account_resource, connection_resource
from .events import event_record

logger = logging.getLogger("syncing")

# The steps of each kind, numbered as in reference 000 (sync_steps.py).
STEPS_BY_KIND = {
    SyncJob.Kind.INITIAL: (1, 2, 3, 4, 5),
    SyncJob.Kind.ALL: (1, 2, 3, 4, 5),
    SyncJob.Kind.ACCOUNT: (1, 2, 3),
    SyncJob.Kind.ACCOUNT_INVOICES: (1, 2, 3, 5),
    SyncJob.Kind.INVOICES: (5,),
    SyncJob.Kind.LIST_ACCOUNTS: (1,),
}
# The kind a queued sync becomes when a request wants more steps of it (LIST_ACCOUNTS, which
# chains into ALL by itself, is left as it is).
_KIND_FOR_STEPS = {
    (1, 2, 3, 4, 5): SyncJob.Kind.ALL,
    (1, 2, 3, 5): SyncJob.Kind.ACCOUNT_INVOICES,
}
# What a running sync's follow-up can be, smallest first.
_FOLLOW_UP_KINDS = (
    SyncJob.Kind.INVOICES,
    SyncJob.Kind.ACCOUNT,
    SyncJob.Kind.ACCOUNT_INVOICES,
    SyncJob.Kind.ALL,
)
# A running sync whose heartbeat is older than this is failed by the watchdog; a queued one
# that no worker picked up for QUEUED_STUCK_AFTER too.
RUNNING_STUCK_AFTER = timedelta(minutes=10)
QUEUED_STUCK_AFTER = timedelta(minutes=30)
RUN_TASK = "syncing.tasks.sync_job_run_task"


class SyncAbandoned(Exception):
    """The job is no longer running (the watchdog failed it): stop without writing."""


def job_lock(job_id: int) -> SyncJob:
    """Inside a transaction: the job, locked, still running; else SyncAbandoned."""
    job = SyncJob.objects.select_for_update().select_related("connection").get(pk=job_id)
    if job.status != SyncJob.Status.RUNNING:
        raise SyncAbandoned(job_id)
    return job


def _kind_widened(active: SyncJob, kind: str) -> str | None:
    """The kind that covers the steps of both, when the queued one lacks some of `kind`'s."""
    if SyncJob.Kind.LIST_ACCOUNTS in (active.kind, kind):
        return None
    steps = set(STEPS_BY_KIND[active.kind]) | set(STEPS_BY_KIND[kind])
    if steps == set(STEPS_BY_KIND[active.kind]):
        return None
    return _KIND_FOR_STEPS.get(tuple(sorted(steps)))


def _follow_up_kind(active: SyncJob, kind: str) -> str:
    """The smallest kind covering the steps `kind` adds to the running job (and any follow-up
    asked for already)."""
    wanted = set(STEPS_BY_KIND[kind]) - set(STEPS_BY_KIND[active.kind])
    if active.then_kind:
        wanted |= set(STEPS_BY_KIND[active.then_kind])
    for candidate in _FOLLOW_UP_KINDS:
        if wanted <= set(STEPS_BY_KIND[candidate]):
            return candidate
    return SyncJob.Kind.ALL


def sync_request(
    *, connection: Connection, kind: str, acting_user=None, delay_seconds: float = 0
) -> tuple[SyncJob, bool]:
    """Queue a sync of `kind` (to start no sooner than `delay_seconds` from now) unless one of
    this connection is already queued or running (then that one, and False). One queued that
    lacks steps of `kind` takes them on (an account sync queued at sign-in becomes account +
    invoices when Sync Account asks for invoices); one running gets them as its follow-up,
    queued when it ends. The database's partial unique constraint decides races.
    IntegrationDisabled, queueing nothing, when the connection's integration is disabled."""
    integration_enabled_guard(integration=connection.integration)
    with transaction.atomic():
        active = connection.sync_jobs.filter(status__in=SyncJob.ACTIVE).first()
        if active is not None:
            widened = _kind_widened(active, kind)
            if widened is None:
                return active, False
            now = timezone.now()
            # Each update is conditional: a worker may have claimed or ended it meanwhile.
            if SyncJob.objects.filter(pk=active.pk, status=SyncJob.Status.QUEUED).update(
                kind=widened, updated_at=now
            ):
                active.kind = widened
                return active, False
            follow_up = _follow_up_kind(active, kind)
            if SyncJob.objects.filter(pk=active.pk, status=SyncJob.Status.RUNNING).update(
                then_kind=follow_up, updated_at=now
            ):
                active.then_kind = follow_up
                return active, False
            # It ended just now: queue the request as a sync of its own.
        try:
            with transaction.atomic():
                job = SyncJob.objects.create(connection=connection, kind=kind)
        except IntegrityError:
            return connection.sync_jobs.get(status__in=SyncJob.ACTIVE), False
        task_enqueue(RUN_TASK, job.pk, task_name=f"sync job {job.pk}", delay_seconds=delay_seconds)
    return job, True


def job_claim(job_id: int, slice_number: int = 0) -> SyncJob | None:
    """Slice 0 takes a queued job to running; a later slice takes over a running job once
    (a task delivered twice finds its slice claimed already)."""
    with transaction.atomic():
        job = (
            SyncJob.objects.select_for_update()
            .select_related("connection__integration", "connection__identity", "connection__user")
            .filter(pk=job_id)
            .first()
        )
        if job is None:
            return None
        now = timezone.now()
        if slice_number == 0:
            if job.status != SyncJob.Status.QUEUED:
                return None
            job.status = SyncJob.Status.RUNNING
            job.started_at = now
            Connection.objects.filter(pk=job.connection_id).update(
                status=Connection.Status.IN_PROGRESS, updated_at=now
            )
        elif (
            job.status != SyncJob.Status.RUNNING
            or job.slice_number != slice_number
            or job.slice_claimed >= slice_number
        ):
            return None
        job.slice_claimed = slice_number
        job.heartbeat_at = now
        job.save(
            update_fields=["status", "started_at", "heartbeat_at", "slice_claimed", "updated_at"]
        )
        return job


def job_continue(job_id: int, *, next_step: int) -> None:
    """End this slice: the next one starts at `next_step`, in a new task."""
    with transaction.atomic():
        job = job_lock(job_id)
        job.next_step = next_step
        job.slice_number += 1
        job.heartbeat_at = timezone.now()
        job.save(update_fields=["next_step", "slice_number", "heartbeat_at", "updated_at"])
        task_enqueue(
            RUN_TASK,
            job.pk,
            job.slice_number,
            task_name=f"sync job {job.pk} slice {job.slice_number}",
        )


def sync_job_finish(*, job: SyncJob, error: str = "") -> None:
    """Inside a transaction, the job locked: its end, the connection's status and
    SYNC_ALL_SUCCESS / SYNC_ALL_ERROR."""
    now = timezone.now()
    job.status = SyncJob.Status.ERROR if error else SyncJob.Status.SUCCESS
    job.finished_at = now
    job.error = error[:2000]
    job.save(update_fields=["status", "finished_at", "error", "updated_at"])
    sync_job_count(kind=job.kind, is_success=not error)
    connection = Connection.objects.select_related("integration", "user").get(pk=job.connection_id)
    connection.status = Connection.Status.ERROR if error else Connection.Status.SUCCESS
    connection.last_error = error[:2000]
    connection.save(update_fields=["status", "last_error", "updated_at"])
    resource = connection_resource(connection)
    if error:
        resource["error"] = error[:500]
    event_record(
        user=connection.user,
        event_type="SYNC_ALL_ERROR" if error else "SYNC_ALL_SUCCESS",
        resource_type="CONNECTION",
        resource=resource,
    )
    if job.then_kind and connection.integration.enabled:
        sync_request(connection=connection, kind=job.then_kind)


def list_accounts_finish(*, job_id: int, accounts: list[Account]) -> SyncJob:
    """LIST_ACCOUNTS ends with the account list, then ALL starts by itself (reference 002)."""
    with transaction.atomic():
        job = job_lock(job_id)
        job.status = SyncJob.Status.SUCCESS
        job.finished_at = timezone.now()
        job.save(update_fields=["status", "finished_at", "updated_at"])
        sync_job_count(kind=job.kind, is_success=True)
        event_record(
            user=job.connection.user,
            event_type="LIST_ACCOUNTS_SUCCESS",
            resource_type="ACCOUNTS",
            resource={
                "connection_id": str(job.connection_id),
                "accounts": [account_resource(account) for account in accounts],
            },
        )
        if job.connection.integration.enabled:
            sync_request(connection=job.connection, kind=SyncJob.Kind.ALL)
    return job


def sync_watchdog_run(*, now=None) -> list[int]:
    """Fail syncs stuck running (no heartbeat for RUNNING_STUCK_AFTER) or queued and never
    picked up (QUEUED_STUCK_AFTER), each with SYNC_ALL_ERROR. Returns their ids."""
    now = now or timezone.now()
    stuck_ids = list(
        SyncJob.objects.filter(
            status=SyncJob.Status.RUNNING, heartbeat_at__lt=now - RUNNING_STUCK_AFTER
        ).values_list("pk", flat=True)
    ) + list(
        SyncJob.objects.filter(
            status=SyncJob.Status.QUEUED, created_at__lt=now - QUEUED_STUCK_AFTER
        ).values_list("pk", flat=True)
    )
    failed = []
    for job_id in stuck_ids:
        with transaction.atomic():
            job = SyncJob.objects.select_for_update().get(pk=job_id)
            if job.status not in SyncJob.ACTIVE:
                continue
            was = "running" if job.status == SyncJob.Status.RUNNING else "queued"
            sync_job_finish(job=job, error=f"stuck {was} past the timeout (watchdog)")
            failed.append(job_id)
    if failed:
        logger.warning("sync watchdog failed stuck jobs %s", failed)
    return failed
