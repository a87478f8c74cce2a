"""Each broker runs a real cluster: a task enqueued here is picked up by `manage.py qcluster`
in another process and writes to the same database (DESIGN.md, "Running")."""

import pytest
from django.conf import settings
from django_q.models import Schedule, Task

from integration_hub.models import ClusterHeartbeat

from .cluster import run_cluster

pytestmark = [
    pytest.mark.cluster,
    # Committed data, so that the cluster process sees it.
    pytest.mark.django_db(transaction=True),
]


def _heartbeat_from_a_real_cluster() -> None:
    # No schedules: only the task enqueued below can write this cluster's heartbeat.
    Schedule.objects.all().delete()
    with run_cluster() as cluster:
        task_id = cluster.enqueue("integration_hub.tasks.cluster_heartbeat")
        cluster.wait_until(
            lambda: (
                Task.objects.filter(id=task_id, success=True).exists()
                and ClusterHeartbeat.objects.filter(cluster_name=cluster.name).exists()
            )
        )
    assert Task.objects.get(id=task_id).result == cluster.name
    assert cluster.stopped_cleanly, f"cluster did not stop on SIGTERM:\n{cluster.log()}"


@pytest.mark.skipif(
    bool(settings.REDIS_URL), reason="REDIS_URL is set: this process's django-q2 uses Redis"
)
def test_a_cluster_on_the_orm_broker_runs_an_enqueued_task():
    assert "orm" in settings.Q_CLUSTER
    _heartbeat_from_a_real_cluster()


@pytest.mark.redis
def test_a_cluster_on_the_redis_broker_runs_an_enqueued_task():
    assert settings.Q_CLUSTER["redis"] == settings.REDIS_URL
    _heartbeat_from_a_real_cluster()
