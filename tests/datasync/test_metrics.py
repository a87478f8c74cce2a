"""What Data Sync shows in /metrics: the depth of its queues at the moment of the scrape,
records delivered and runs, counted by whichever process did the work (a cluster's worker
included) and summed in the web process's scrape."""

import pytest
from django_q.models import Schedule, Task

from datasync.models import CustomerPendingRecord, ProgressRecord, SyncRun
from datasync.selectors import queue_depths
from datasync.services.run import datasync_run
from integration_hub.metrics import metrics_flush
from integration_hub.selectors import default_subscriber
from integration_hub.services.customers import customer_create, customer_update
from integration_hub.services.system_settings import setting_set
from tests.reliability.cluster import run_cluster
from tests.scrape import scrape

from .conftest import API_URL, receiver_configure


def _customer(customer_id: str):
    return customer_create(subscriber=default_subscriber(), customer_id=customer_id)


def _run():
    return datasync_run(trigger=SyncRun.Trigger.COMMAND, honour_backoff=False)


@pytest.mark.django_db
def test_the_queue_gauges_are_the_real_depths_of_the_queues(
    client, settings, datasync_on, mocked_receiver
):
    setting_set(key="DataSyncMaxAttempts", value=2)
    mocked_receiver.post(API_URL, status=500)
    a = _customer("A")
    _run()  # A's record fails once: in progress, attempt 1
    _run()  # and again: dead-lettered
    _customer("B")
    _run()  # B's record fails once: in progress
    c = _customer("C")
    customer_update(customer=c, first_name="Changed")  # captured, still pending
    customer_update(customer=a, first_name="Changed")

    assert ProgressRecord.objects.filter(is_dead_letter=True).count() == 1
    assert ProgressRecord.objects.filter(is_dead_letter=False).count() == 1
    assert CustomerPendingRecord.objects.count() == 3
    found = scrape(client, settings)
    assert found.value("hub_datasync_queue_records", queue="pending") == 3
    assert found.value("hub_datasync_queue_records", queue="progress") == 1
    assert found.value("hub_datasync_queue_records", queue="dead") == 1
    depths = queue_depths()
    assert depths["customer_pending"] + depths["transaction_pending"] == 3


@pytest.mark.django_db(transaction=True)
def test_records_delivered_and_runs_are_counted(
    client, settings, fresh_metrics, datasync_on, mocked_receiver
):
    mocked_receiver.post(API_URL, json={})
    for n in range(3):
        _customer(f"C{n}")
    assert _run().sent == 3
    mocked_receiver.replace("POST", API_URL, status=503)
    _customer("D")
    assert _run().status == "FAILED"

    assert metrics_flush()
    found = scrape(client, settings)
    assert found.value("hub_datasync_delivered_total") == 3
    assert found.value("hub_datasync_runs_total", status="succeeded") == 1
    assert found.value("hub_datasync_runs_total", status="failed") == 1
    assert found.value("hub_datasync_run_seconds_count") == 2
    assert found.value("hub_datasync_run_seconds_bucket", le="+Inf") == 2
    requests_total = "hub_outbound_requests_total"
    assert found.value(requests_total, integration="Data Sync", status_class="2xx") == 3
    assert found.value(requests_total, integration="Data Sync", status_class="5xx") == 1


@pytest.mark.cluster
@pytest.mark.django_db(transaction=True)
def test_what_a_cluster_worker_counts_is_in_the_web_process_scrape(
    client, settings, fresh_metrics, local_receiver
):
    Schedule.objects.all().delete()  # only the task below runs
    receiver_configure(local_receiver)
    for n in range(5):
        _customer(f"C{n}")
    assert scrape(client, settings).value("hub_datasync_delivered_total") == 0
    with run_cluster() as cluster:
        task_id = cluster.enqueue("datasync.tasks.datasync_run_now")
        # The worker flushes after the task, before the cluster records the task's success.
        cluster.wait_until(lambda: Task.objects.filter(id=task_id, success=True).exists())
        found = scrape(client, settings)  # the worker lives on; its counts are in already
    assert len(local_receiver.messages()) == 5
    assert not fresh_metrics.deltas  # this process counted none of it
    assert found.value("hub_datasync_delivered_total") == 5
    assert found.value("hub_datasync_runs_total", status="succeeded") == 1
    assert (
        found.value("hub_outbound_requests_total", integration="Data Sync", status_class="2xx") == 5
    )
