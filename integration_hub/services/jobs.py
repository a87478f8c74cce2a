from django.db import transaction
from django_q.tasks import async_task

from .audit import audit_record


def job_enqueue(*, func: str, description: str, args: tuple = (), acting_user=None) -> None:
    """Queue a django-q2 task after the surrounding transaction commits, and record who
    triggered it. Pipelines use this for their "Run now" buttons and commands."""
    audit_record(
        actor=acting_user, action="job.triggered", target=description, details={"func": func}
    )
    transaction.on_commit(lambda: async_task(func, *args, task_name=description[:100]))
