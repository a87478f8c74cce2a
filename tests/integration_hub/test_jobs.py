"""The one way to queue background work: after the transaction commits, never before, and
never after a rollback."""

import pytest
from django.db import transaction

from integration_hub.services.jobs import job_enqueue, task_enqueue

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_task_is_queued_when_its_transaction_commits_and_not_before(tasks):
    with transaction.atomic():
        task_enqueue("syncing.tasks.sync_job_run_task", 7, task_name="sync job 7")
        assert tasks.queued == []

    assert tasks.queued == [("syncing.tasks.sync_job_run_task", (7,))]


def _enqueue_then_fail(func: str, *args) -> None:
    with transaction.atomic():
        task_enqueue(func, *args, task_name="doomed")
        raise RuntimeError("the write failed")


def test_a_rolled_back_transaction_queues_nothing(tasks):
    with pytest.raises(RuntimeError):
        _enqueue_then_fail("syncing.tasks.sync_job_run_task", 7)

    assert tasks.queued == []


def test_a_rolled_back_savepoint_drops_only_its_own_tasks(tasks):
    with transaction.atomic():
        task_enqueue("accounting.tasks.sync_record_run", 1, task_name="kept")
        with pytest.raises(RuntimeError):
            _enqueue_then_fail("accounting.tasks.sync_record_run", 2)

    assert tasks.args_of("accounting.tasks.sync_record_run") == [(1,)]


def test_outside_a_transaction_a_task_is_queued_at_once(tasks):
    task_enqueue("datasync.tasks.datasync_run_now", task_name="Data Sync")

    assert tasks.queued == [("datasync.tasks.datasync_run_now", ())]


def test_a_triggered_job_is_audited_and_queued_after_commit(tasks, system_admin):
    from integration_hub.models import AuditEntry

    with transaction.atomic():
        job_enqueue(
            func="datasync.tasks.datasync_run_now",
            description="Data Sync",
            acting_user=system_admin,
        )
        assert tasks.queued == []

    assert tasks.queued == [("datasync.tasks.datasync_run_now", ())]
    assert AuditEntry.objects.filter(action="job.triggered", actor=system_admin).exists()
