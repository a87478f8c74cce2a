"""Only one record per integration is queued or running, whatever the number of callers."""

import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from accounting.models import SyncRecord
from integration_hub.models import SubscriberOwner
from integration_hub.selectors import default_subscriber
from tests.factories import AccountingIntegrationFactory

SIMULTANEOUS = 20


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_simultaneous_sync_requests_give_one_record_and_nineteen_409s(
    make_user, monkeypatch
):
    from integration_hub.services.api_tokens import api_token_create

    owner = make_user("Owner")
    SubscriberOwner.objects.create(user=owner, subscriber=default_subscriber())
    token = api_token_create(user=owner, name="concurrency").value
    accounting_integration = AccountingIntegrationFactory()
    subscriber_id = accounting_integration.subscriber_id
    url = f"/Subscriber_{subscriber_id}/AccountingIntegration/Type_GENERIC/Sync"
    start = threading.Barrier(SIMULTANEOUS)
    statuses = []
    lock = threading.Lock()

    def request():
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        try:
            start.wait()
            status = client.post(url).status_code
            with lock:
                statuses.append(status)
        finally:
            connection.close()  # each thread has its own connection

    threads = [threading.Thread(target=request) for _ in range(SIMULTANEOUS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [202] + [409] * (SIMULTANEOUS - 1)
    assert SyncRecord.objects.filter(accounting_integration=accounting_integration).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_order_saved_before_the_window_end_but_committed_after_it_is_not_lost(
    post_order, monkeypatch
):
    """On PostgreSQL an order's updated_at is taken before its transaction commits: the run
    waits for such transactions, so the order is in this window (and the next starts after
    it)."""
    import time

    import responses
    from django.db import transaction

    from accounting.services.sync import sync_record_run, sync_request
    from tests.accounting.conftest import BOOKS_URL

    accounting_integration = AccountingIntegrationFactory()
    for kind, source, target in (
        ("REVENUE_CATEGORY", "Classes", "4000"),
        ("PAYMENT_METHOD", "VISA", "1200"),
        ("TAX_RATE", "0.0800", "TAX8"),
    ):
        accounting_integration.maps.create(kind=kind, source=source, target=target)
    written, release = threading.Event(), threading.Event()

    def slow_writer():
        try:
            with transaction.atomic():
                post_order("LATE")
                written.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    writer = threading.Thread(target=slow_writer)
    writer.start()
    assert written.wait(timeout=30)
    record = sync_request(accounting_integration=accounting_integration, acting_user=None)
    outcome = {}

    def run():
        try:
            with responses.RequestsMock() as mock:
                mock.post(BOOKS_URL, json={}, status=201)
                outcome["record"] = sync_record_run(sync_record_id=record.pk)
        finally:
            connection.close()

    runner = threading.Thread(target=run)
    runner.start()
    deadline = time.monotonic() + 30
    while SyncRecord.objects.filter(pk=record.pk, status="Queued").exists():
        assert time.monotonic() < deadline, "the run never started"
        time.sleep(0.05)
    time.sleep(0.5)  # the run has fixed its window and would read the orders now
    release.set()
    writer.join(timeout=30)
    runner.join(timeout=60)

    finished = outcome["record"]
    assert finished.status == SyncRecord.Status.SUCCESS, finished.failure_reason
    assert finished.order_count == 1
    assert list(finished.packets.values_list("key", flat=True)) == ["LATE"]
