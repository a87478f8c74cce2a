"""/healthz and /readyz, as a load balancer's probe sees them (DESIGN.md "Running" →
"Operations"), and the cluster heartbeat they read."""

import socket
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection, connections
from django.utils import timezone
from django_q.models import Schedule, Task

from integration_hub.models import ClusterHeartbeat
from integration_hub.services import clusters
from integration_hub.tasks import cluster_heartbeat
from tests.reliability.cluster import run_cluster

pytestmark = pytest.mark.django_db

PROBE_ADDRESS = "10.20.30.40"  # not in ALLOWED_HOSTS: load balancers probe by IP


def closed_port() -> int:
    """A loopback port nothing listens on: connecting to it is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def database_unreachable(tmp_path: Path):
    """The default connection pointed where no database answers (a closed port for
    PostgreSQL, a file in a folder that does not exist for SQLite), then put back."""
    saved = dict(connection.settings_dict)
    connection.close()
    if connection.vendor == "sqlite":
        connection.settings_dict["NAME"] = str(tmp_path / "no such folder" / "hub.sqlite3")
    else:
        connection.settings_dict.update(HOST="127.0.0.1", PORT=str(closed_port()))
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.update(saved)


@pytest.fixture(autouse=True)
def _fresh_heartbeat_throttle(monkeypatch):
    monkeypatch.setattr(clusters, "_last_written_after_task", None)


def test_healthz_answers_ok_without_a_database_query(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response["Cache-Control"] == "no-store"


def test_probes_answer_whatever_the_host_header_while_pages_still_refuse_it(client):
    assert client.get("/login/", HTTP_HOST=PROBE_ADDRESS).status_code == 400
    for path in ("/healthz", "/readyz", "/healthz/", "/readyz/"):
        response = client.get(path, HTTP_HOST=PROBE_ADDRESS)
        assert response.status_code == 200, path
        assert response.json()["status"] == "ok"


def test_probes_are_never_sent_to_sign_in_nor_throttled(client, settings):
    anonymous_rate = int(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["anon"].split("/")[0])
    statuses = {client.get("/healthz").status_code for _ in range(anonymous_rate + 1)}
    assert statuses == {200}
    assert client.get("/readyz").status_code == 200


def test_probes_answer_head_and_refuse_other_methods(client):
    head = client.head("/readyz")
    assert head.status_code == 200
    assert head.content == b""
    for path in ("/healthz", "/readyz"):
        refused = client.post(path)
        assert refused.status_code == 405
        assert refused["Allow"] == "GET, HEAD"


def test_readyz_warns_when_no_cluster_reported(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "warnings": ["cluster"]}


def test_readyz_warns_when_the_last_heartbeat_is_older_than_two_minutes(client, settings):
    ClusterHeartbeat.objects.create(
        cluster_name=settings.Q_CLUSTER["name"],
        host="worker-1",
        seen_at=timezone.now() - timedelta(minutes=2, seconds=5),
    )
    assert client.get("/readyz").json() == {"status": "ok", "warnings": ["cluster"]}


def test_readyz_has_no_warning_once_a_cluster_of_this_queue_reported(client, settings):
    ClusterHeartbeat.objects.create(
        cluster_name="another-queue", host="worker-1", seen_at=timezone.now()
    )
    assert client.get("/readyz").json()["warnings"] == ["cluster"]
    cluster_heartbeat()
    assert client.get("/readyz").json() == {"status": "ok", "warnings": []}


@pytest.mark.django_db(transaction=True)
def test_readyz_names_the_database_when_it_is_unreachable(client, settings, tmp_path):
    with database_unreachable(tmp_path):
        response = client.get("/readyz")
        healthz = client.get("/healthz")
    # With the ORM broker the queue is a table in that same database: no task can be queued.
    failing = ["database"] if settings.REDIS_URL else ["database", "broker"]
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "failing": failing}
    assert healthz.status_code == 200
    assert client.get("/readyz").status_code == 200


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_connection_the_database_dropped_is_replaced_by_the_next_probe(client, settings):
    assert client.get("/readyz").status_code == 200
    probe_backend = connection.connection.info.backend_pid
    other_session = connections.create_connection("default")
    try:
        with other_session.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [probe_backend])
    finally:
        other_session.close()

    failing = ["database"] if settings.REDIS_URL else ["database", "broker"]
    assert client.get("/readyz").json() == {"status": "unavailable", "failing": failing}
    assert client.get("/readyz").status_code == 200


def test_readyz_names_the_broker_when_redis_does_not_answer_and_never_shows_its_url(
    client, settings
):
    settings.REDIS_URL = f"redis://:broker-password@127.0.0.1:{closed_port()}/0"
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "failing": ["broker"]}
    assert b"broker-password" not in response.content
    assert b"127.0.0.1" not in response.content


@pytest.mark.redis
def test_readyz_is_ok_with_the_redis_broker_answering(client, settings):
    assert settings.REDIS_URL
    cluster_heartbeat()
    assert client.get("/readyz").json() == {"status": "ok", "warnings": []}


def test_after_a_task_the_heartbeat_is_written_at_most_every_few_seconds(
    django_assert_num_queries, settings
):
    with django_assert_num_queries(1):
        clusters.cluster_heartbeat_after_task(task={"id": "1", "success": True})
    with django_assert_num_queries(0):
        clusters.cluster_heartbeat_after_task(task={"id": "2", "success": True})
    beat = ClusterHeartbeat.objects.get()
    assert (beat.cluster_name, beat.host) == (settings.Q_CLUSTER["name"], socket.gethostname())

    clusters._last_written_after_task -= clusters.HEARTBEAT_AFTER_TASK_EVERY_SECONDS
    with django_assert_num_queries(1):
        clusters.cluster_heartbeat_after_task(task={"id": "3", "success": False})
    assert ClusterHeartbeat.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_heartbeat_that_cannot_be_written_leaves_the_cluster_running_and_is_retried(tmp_path):
    with database_unreachable(tmp_path):
        clusters.cluster_heartbeat_after_task(task={"id": "1", "success": True})
    clusters.cluster_heartbeat_after_task(task={"id": "2", "success": True})
    assert ClusterHeartbeat.objects.count() == 1


def test_a_task_run_in_the_callers_process_is_no_cluster_heartbeat():
    clusters.cluster_heartbeat_after_task(task={"id": "1", "success": True, "sync": True})
    assert not ClusterHeartbeat.objects.exists()


def test_one_cluster_name_on_two_hosts_is_two_clusters(settings):
    name = settings.Q_CLUSTER["name"]
    clusters.cluster_heartbeat_record(cluster_name=name, host="worker-1")
    clusters.cluster_heartbeat_record(cluster_name=name, host="worker-2")
    clusters.cluster_heartbeat_record(cluster_name=name, host="worker-1")
    assert sorted(ClusterHeartbeat.objects.values_list("host", flat=True)) == [
        "worker-1",
        "worker-2",
    ]


@pytest.mark.cluster
@pytest.mark.django_db(transaction=True)
def test_a_task_run_by_a_cluster_records_that_clusters_heartbeat():
    # No schedules: the scheduled heartbeat cannot be the one that writes the row.
    Schedule.objects.all().delete()
    with run_cluster() as cluster:
        task_id = cluster.enqueue("math.floor", 2.5)
        cluster.wait_until(
            lambda: ClusterHeartbeat.objects.filter(
                cluster_name=cluster.name, host=socket.gethostname()
            ).exists()
        )
    assert Task.objects.get(id=task_id).result == 2


@pytest.mark.cluster
@pytest.mark.django_db(transaction=True)
def test_readyz_has_no_cluster_warning_while_a_real_cluster_runs(client, settings):
    with run_cluster() as cluster:
        settings.Q_CLUSTER = {**settings.Q_CLUSTER, "name": cluster.name}
        assert client.get("/readyz").json()["warnings"] == ["cluster"]
        # Any task it runs makes it report at once (else its scheduled heartbeat within ~90 s).
        cluster.enqueue("math.floor", 2.5)
        cluster.wait_until(lambda: client.get("/readyz").json() == {"status": "ok", "warnings": []})
