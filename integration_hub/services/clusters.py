"""The cluster heartbeat (DESIGN.md "Running" → "Operations"): a cluster records that it is
processing tasks after its tasks and at least once a minute (the "Cluster heartbeat"
schedule), so that the dashboard and /readyz can tell whether background jobs run.

A cluster is its Q_CLUSTER name (the queue it serves) on one host. Times are the database's
clock, so that web servers and clusters on machines whose clocks differ still agree."""

import logging
import socket
import time

from django.conf import settings
from django.db.models.functions import Now

from integration_hub.models import ClusterHeartbeat

logger = logging.getLogger(__name__)

# After a task, the heartbeat is written at most this often per process: django-q2 sends
# post_execute from the cluster's one monitor process, so a busy cluster writes the row at
# most every few seconds instead of once per task, and the row is never more than this much
# behind the cluster's last finished task (well inside /readyz's two minutes).
HEARTBEAT_AFTER_TASK_EVERY_SECONDS = 5.0

_last_written_after_task: float | None = None  # time.monotonic() of this process's last write


def this_cluster() -> tuple[str, str]:
    """(cluster name, host) of the cluster this process belongs to."""
    return settings.Q_CLUSTER["name"], socket.gethostname()[:200]


def cluster_heartbeat_record(*, cluster_name: str, host: str) -> None:
    """Record that the cluster `cluster_name` on `host` is processing tasks now: one upsert."""
    ClusterHeartbeat.objects.bulk_create(
        [ClusterHeartbeat(cluster_name=cluster_name, host=host, seen_at=Now())],
        update_conflicts=True,
        unique_fields=["cluster_name", "host"],
        update_fields=["seen_at"],
    )


def cluster_heartbeat_after_task(*, task: dict, **kwargs) -> None:
    """django-q2's post_execute receiver: the cluster that finished `task` is alive.

    Never raises: django-q2 sends post_execute without catching, from the loop that saves
    every task's result, so a failed write is logged and retried after the next task."""
    global _last_written_after_task
    if task.get("sync"):
        return  # run in the caller's process (sync mode), not by a cluster
    now = time.monotonic()
    last = _last_written_after_task
    if last is not None and now - last < HEARTBEAT_AFTER_TASK_EVERY_SECONDS:
        return
    cluster_name, host = this_cluster()
    try:
        cluster_heartbeat_record(cluster_name=cluster_name, host=host)
    except Exception as error:  # the task's result is saved already; this must not stop the loop
        logger.warning(
            "Could not record the cluster heartbeat after a task (%s).", type(error).__name__
        )
        return
    _last_written_after_task = now
