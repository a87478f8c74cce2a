"""What inbound sync shows in /metrics: sync jobs ended, by kind and outcome."""

import pytest

from integration_hub.metrics import metrics_flush
from syncing.models import SyncJob
from syncing.services.sync_jobs import sync_request
from tests.scrape import scrape


@pytest.mark.django_db(transaction=True)
def test_sync_jobs_are_counted_by_kind_and_outcome_when_they_end(
    client, settings, fresh_metrics, anna, kit_integration, partner, connect, tasks
):
    connection = connect(anna, kit_integration)
    tasks.run()  # the initial sync succeeds
    partner.fail("accounts/A1/users", 503)
    sync_request(connection=connection, kind=SyncJob.Kind.ALL)
    tasks.run()  # this one fails at step 2
    assert list(connection.sync_jobs.order_by("id").values_list("kind", "status")) == [
        ("INITIAL", "SUCCESS"),
        ("ALL", "ERROR"),
    ]

    assert metrics_flush()
    found = scrape(client, settings)
    assert found.value("hub_sync_jobs_total", kind="initial", outcome="success") == 1
    assert found.value("hub_sync_jobs_total", kind="all", outcome="error") == 1
    # Known kinds and outcomes show 0 until one ends so: increase() sees the first.
    assert found.value("hub_sync_jobs_total", kind="all", outcome="success") == 0
    assert found.value("hub_sync_jobs_total", kind="invoices", outcome="error") == 0
