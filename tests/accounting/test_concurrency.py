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
    monkeypatch.setattr("accounting.services.sync._enqueue", lambda *args: None)
    from rest_framework.authtoken.models import Token

    owner = make_user("Owner")
    SubscriberOwner.objects.create(user=owner, subscriber=default_subscriber())
    token = Token.objects.create(user=owner).key
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
