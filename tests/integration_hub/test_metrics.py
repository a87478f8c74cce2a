"""GET /metrics (DESIGN.md, "Operations"): who may read it, and counters and histograms summed
over every process that flushed into the database, so that they never go down."""

import multiprocessing
import threading
import time
from datetime import timedelta

import pytest
import requests
import responses
from django.db import OperationalError, transaction
from django.utils import timezone

from integration_hub.metrics import Counter, Histogram, instruments, metrics_flush
from integration_hub.metrics import flush as flush_module
from integration_hub.models import ClusterHeartbeat, Integration, MetricTotal
from integration_hub.outbound import OutboundClient, OutboundConnectionRefused
from tests.scrape import SCRAPE_TOKEN, scrape

JOBS = Counter("hub_test_jobs_total", "Jobs of the tests.", ["outcome"])
PLAIN = Counter("hub_test_plain_total", "A counter without labels.")
SECONDS = Histogram("hub_test_seconds", "Durations of the tests.", ["kind"], buckets=(0.1, 1, 10))


@pytest.fixture
def test_metrics():
    """The metrics above, declared as an app would declare them, for this test only."""
    for metric in (JOBS, PLAIN, SECONDS):
        instruments.metric_declare(metric)
    yield
    for metric in (JOBS, PLAIN, SECONDS):
        instruments._metrics.pop(metric.name, None)


def _new_process(monkeypatch) -> instruments.Store:
    """What a process started afresh holds: nothing counted yet."""
    store = instruments.Store()
    monkeypatch.setattr(instruments, "store", store)
    return store


# -- access ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_with_debug_off_and_no_token_set_metrics_is_not_there(client, settings):
    settings.DEBUG = False
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers={"Authorization": "Bearer anything"}).status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong-token", f"Token {SCRAPE_TOKEN}", "Bearer", f"Basic {SCRAPE_TOKEN}"],
)
def test_a_missing_or_wrong_token_gets_401_asking_for_a_bearer_token(
    client, settings, authorization
):
    settings.DEBUG = False
    settings.METRICS_TOKEN = SCRAPE_TOKEN
    headers = {"Authorization": authorization} if authorization else {}
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert b"hub_" not in response.content


@pytest.mark.django_db
def test_the_right_token_gets_the_metrics_in_the_prometheus_text_format(client, settings):
    settings.DEBUG = False
    settings.METRICS_TOKEN = SCRAPE_TOKEN
    response = client.get("/metrics", headers={"Authorization": f"Bearer {SCRAPE_TOKEN}"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    body = response.content.decode()
    for name in (
        "hub_datasync_queue_records",
        "hub_datasync_delivered_total",
        "hub_datasync_run_seconds_bucket",
        "hub_outbound_requests_total",
        "hub_outbound_request_seconds",
        "hub_sync_jobs_total",
        "hub_accounting_packets_total",
        "hub_cluster_last_seen_timestamp_seconds",
    ):
        assert name in body


@pytest.mark.django_db
def test_with_debug_on_metrics_is_open_without_a_token(client, settings):
    settings.DEBUG = True
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 200


@pytest.mark.django_db
def test_prometheus_asking_for_openmetrics_gets_it(client, settings):
    settings.DEBUG = True
    response = client.get("/metrics", headers={"Accept": "application/openmetrics-text"})
    assert response["Content-Type"].startswith("application/openmetrics-text")
    assert response.content.decode().endswith("# EOF\n")


@pytest.mark.django_db
def test_metrics_is_not_part_of_the_api_schema(client):
    schema = client.get("/api/schema/", headers={"Accept": "application/json"})
    assert schema.status_code == 200
    assert "/metrics" not in schema.json()["paths"]


# -- counters and histograms of every process ------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_counters_are_summed_over_processes_and_never_go_down_across_a_restart(
    client, settings, monkeypatch, test_metrics
):
    process_a = _new_process(monkeypatch)
    JOBS.inc(outcome="success")
    JOBS.inc(2, outcome="success")
    JOBS.inc(outcome="error")
    PLAIN.inc(5)
    assert process_a.deltas  # counted in memory only, until a flush
    assert not MetricTotal.objects.exists()
    assert metrics_flush()
    first = scrape(client, settings)
    assert first.value("hub_test_jobs_total", outcome="success") == 3
    assert first.value("hub_test_jobs_total", outcome="error") == 1
    assert first.value("hub_test_plain_total") == 5

    # Process A is recycled: process B starts from zero, counts a little and flushes.
    _new_process(monkeypatch)
    JOBS.inc(outcome="success")
    assert metrics_flush()
    second = scrape(client, settings)
    assert second.value("hub_test_jobs_total", outcome="success") == 4
    assert second.value("hub_test_jobs_total", outcome="error") == 1
    assert second.value("hub_test_plain_total") == 5
    for key, value in first.items():
        if key[0].startswith("hub_test_"):
            assert second[key] >= value


@pytest.mark.django_db(transaction=True)
def test_histogram_buckets_of_two_processes_are_summed_cumulatively(
    client, settings, monkeypatch, test_metrics
):
    _new_process(monkeypatch)
    for seconds in (0.05, 0.5, 0.5, 20):
        SECONDS.observe(seconds, kind="sync")
    SECONDS.observe(1, kind="other")  # on a bound: counted in that bucket (le is <=)
    assert metrics_flush()
    _new_process(monkeypatch)
    for seconds in (0.1, 5):
        SECONDS.observe(seconds, kind="sync")
    assert metrics_flush()

    found = scrape(client, settings)
    buckets = {
        dict(labels)["le"]: value
        for labels, value in found.series("hub_test_seconds_bucket").items()
        if dict(labels)["kind"] == "sync"
    }
    assert buckets == {"0.1": 2, "1.0": 4, "10.0": 5, "+Inf": 6}
    assert found.value("hub_test_seconds_count", kind="sync") == 6
    assert found.value("hub_test_seconds_sum", kind="sync") == pytest.approx(26.15)
    assert found.value("hub_test_seconds_bucket", kind="other", le="0.1") == 0
    assert found.value("hub_test_seconds_bucket", kind="other", le="1.0") == 1
    assert found.value("hub_test_seconds_count", kind="other") == 1


@pytest.mark.django_db(transaction=True)
def test_a_flush_that_fails_keeps_what_it_took_for_the_next_one(
    client, settings, monkeypatch, test_metrics
):
    store = _new_process(monkeypatch)
    JOBS.inc(3, outcome="success")

    def database_down(connection, rows):
        raise OperationalError("could not connect to server")

    with monkeypatch.context() as down:
        down.setattr(flush_module, "_upsert", database_down)
        assert not metrics_flush()
    JOBS.inc(outcome="success")  # counted while the database was away
    assert store.deltas
    assert not MetricTotal.objects.exists()
    assert metrics_flush()
    assert not store.deltas
    assert scrape(client, settings).value("hub_test_jobs_total", outcome="success") == 4


@pytest.mark.django_db(transaction=True)
def test_a_flush_never_writes_inside_the_callers_transaction(
    client, settings, monkeypatch, test_metrics
):
    store = _new_process(monkeypatch)
    JOBS.inc(outcome="success")
    flushed_inside = []

    def work_that_fails():
        with transaction.atomic():
            JOBS.inc(outcome="error")
            flushed_inside.append(metrics_flush())
            raise RuntimeError("the caller's work fails and rolls back")

    with pytest.raises(RuntimeError):
        work_that_fails()
    assert flushed_inside == [False]  # left for later: nothing of it was in that transaction
    assert store.deltas
    assert metrics_flush()
    found = scrape(client, settings)
    assert found.value("hub_test_jobs_total", outcome="success") == 1
    assert found.value("hub_test_jobs_total", outcome="error") == 1


@pytest.mark.django_db(transaction=True)
def test_a_count_on_commit_is_counted_only_when_its_transaction_commits(
    client, settings, monkeypatch, test_metrics
):
    _new_process(monkeypatch)

    def job_end_rolled_back():
        with transaction.atomic():
            JOBS.inc_on_commit(outcome="error")
            raise RuntimeError("rolled back: the job never ended")

    with pytest.raises(RuntimeError):
        job_end_rolled_back()
    with transaction.atomic():
        JOBS.inc_on_commit(outcome="success")
    assert metrics_flush()
    found = scrape(client, settings)
    assert found.value("hub_test_jobs_total", outcome="success") == 1
    assert found.value("hub_test_jobs_total", outcome="error") is None


@pytest.mark.django_db(transaction=True)
def test_the_background_thread_flushes_a_process_counts_within_its_interval(
    settings, monkeypatch, test_metrics
):
    settings.METRICS_FLUSH_SECONDS = 0.1
    store = _new_process(monkeypatch)
    store.on_first_change = flush_module.flusher_ensure
    try:
        PLAIN.inc(7)  # the first increment starts the thread
        deadline = time.monotonic() + 10
        while not MetricTotal.objects.filter(name="hub_test_plain_total").exists():
            assert time.monotonic() < deadline, "not flushed in time"
            time.sleep(0.05)
    finally:
        flush_module.flusher_stop()
    assert MetricTotal.objects.get(name="hub_test_plain_total").value == 7


def _child_reports_its_deltas(queue) -> None:
    queue.put(len(instruments.store.deltas))


def test_a_forked_process_starts_without_what_its_parent_had_not_flushed(monkeypatch):
    _new_process(monkeypatch)
    PLAIN.inc()  # counted by a cluster's parent process before it forks a worker
    assert instruments.store.deltas
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_child_reports_its_deltas, args=(queue,))
    child.start()
    child.join(timeout=30)
    assert queue.get(timeout=5) == 0
    assert instruments.store.deltas  # the parent still writes its own


def test_a_counter_refuses_to_go_down_and_names_wrong_labels():
    with pytest.raises(ValueError, match="only goes up"):
        JOBS.inc(-1, outcome="success")
    with pytest.raises(ValueError, match=r"takes the labels \['outcome'\]"):
        JOBS.inc(status="success")


# -- what the core counts ---------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_outbound_requests_are_counted_by_integration_and_class_of_answer(
    client, settings, fresh_metrics
):
    integration = Integration.objects.create(
        name="Energy Co", kind=Integration.Kind.WEBHOOK, base_url="https://energy.example.com"
    )
    energy = OutboundClient.for_integration(integration)
    with responses.RequestsMock() as mock:
        mock.get("https://energy.example.com/ok", json={})
        mock.get("https://energy.example.com/missing", status=404)
        mock.get("https://energy.example.com/broken", status=503)
        mock.get("https://elsewhere.example.com/ok", json={})
        mock.get(
            "https://energy.example.com/refused",
            body=requests.ConnectionError("connection refused"),
        )
        energy.get("ok")
        energy.get("ok")
        energy.get("missing")
        energy.get("broken")
        with pytest.raises(OutboundConnectionRefused):
            energy.get("refused")
        OutboundClient().get("https://elsewhere.example.com/ok")
    assert metrics_flush()
    found = scrape(client, settings)
    requests_total = "hub_outbound_requests_total"
    assert found.value(requests_total, integration="Energy Co", status_class="2xx") == 2
    assert found.value(requests_total, integration="Energy Co", status_class="4xx") == 1
    assert found.value(requests_total, integration="Energy Co", status_class="5xx") == 1
    assert found.value(requests_total, integration="Energy Co", status_class="error") == 1
    assert found.value(requests_total, integration="none", status_class="2xx") == 1
    assert found.value("hub_outbound_request_seconds_count", integration="Energy Co") == 5
    assert found.value("hub_outbound_request_seconds_bucket", integration="none", le="+Inf") == 1


@pytest.mark.django_db
def test_each_cluster_is_shown_with_when_it_last_reported(client, settings):
    seen = timezone.now().replace(microsecond=0) - timedelta(minutes=4)
    ClusterHeartbeat.objects.create(cluster_name="workers", host="a", seen_at=seen)
    found = scrape(client, settings)
    value = found.value("hub_cluster_last_seen_timestamp_seconds", cluster="workers")
    assert value == seen.timestamp()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_flushes_at_once_over_the_same_series_neither_deadlock_nor_lose_counts(
    monkeypatch, test_metrics
):
    """Each flush adds to the rows it touches in one order, so processes flushing at once
    wait for each other (here: threads with connections of their own)."""
    from django.db import connection

    _new_process(monkeypatch)
    outcomes = [f"outcome-{n}" for n in range(40)]
    failed = []

    def worker(seed: int) -> None:
        # Each thread counts the series in an order of its own.
        order = outcomes[seed * 10 :] + outcomes[: seed * 10]
        if seed % 2:
            order.reverse()
        try:
            for _ in range(30):
                for outcome in order:
                    JOBS.inc(outcome=outcome)
                if not metrics_flush():
                    failed.append(seed)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(seed,)) for seed in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failed == []
    totals = dict(MetricTotal.objects.filter(name=JOBS.name).values_list("labels", "value"))
    assert sorted(totals.values()) == [4 * 30] * 40
