"""The one way to queue background work: after the surrounding transaction commits, so that a
task never runs before the rows it reads exist, and a rollback queues nothing (STYLE.md,
"Code": side effects run after commit)."""

from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from .audit import audit_record


@dataclass(frozen=True, eq=False)
class QueuedTask:
    """A django-q2 task waiting for its transaction to commit: `func(*args)`, named
    `task_name`, to run now or `delay_seconds` from the commit."""

    func: str
    args: tuple
    task_name: str
    delay_seconds: float = 0

    def __call__(self) -> None:
        _task_send(self)


def task_enqueue(func: str, *args, task_name: str, delay_seconds: float = 0) -> None:
    """Queue the django-q2 task `func(*args)` once the current transaction commits (at once
    outside a transaction); a rollback queues nothing. With `delay_seconds`, it runs through
    a one-off schedule instead (django-q2's scheduler looks about every 30 s)."""
    transaction.on_commit(QueuedTask(func, args, task_name[:100], delay_seconds))


def _task_send(task: QueuedTask) -> None:
    from django_q.models import Schedule
    from django_q.tasks import async_task, schedule

    if task.delay_seconds > 0:
        schedule(
            task.func,
            *task.args,
            name=task.task_name,
            schedule_type=Schedule.ONCE,
            next_run=timezone.now() + timedelta(seconds=task.delay_seconds),
        )
    else:
        async_task(task.func, *task.args, task_name=task.task_name)


def job_enqueue(*, func: str, description: str, args: tuple = (), acting_user=None) -> None:
    """A job someone triggered ("Run now", a command): audited, then queued after commit."""
    audit_record(
        actor=acting_user, action="job.triggered", target=description, details={"func": func}
    )
    task_enqueue(func, *args, task_name=description)
