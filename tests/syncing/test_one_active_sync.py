"""One active sync per connection, enforced by the database (a partial unique constraint)."""

import threading

import pytest
from django.db import IntegrityError, close_old_connections, connection, transaction

from syncing.models import SyncJob
from syncing.services.sync_jobs import sync_request


def test_the_database_refuses_a_second_queued_or_running_sync_of_a_connection(
    anna, kit_integration, connect
):
    conn = connect(anna, kit_integration)  # its initial sync is queued

    with pytest.raises(IntegrityError), transaction.atomic():
        SyncJob.objects.create(connection=conn, kind="ALL", status="RUNNING")

    SyncJob.objects.create(connection=conn, kind="ALL", status="SUCCESS")  # ended: allowed


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_sync_requests_of_one_connection_queue_exactly_one_sync(
    anna, kit_integration, tasks
):
    from syncing.models import Channel, Connection, VerifiedIdentity

    conn = Connection.objects.create(
        user=anna,
        integration=kit_integration,
        identity=VerifiedIdentity.objects.get(user=anna),
    )
    Channel.objects.create(connection=conn, definition="accounts")
    workers = 8
    barrier = threading.Barrier(workers)
    outcomes: list[tuple[int, bool]] = []

    def request():
        try:
            barrier.wait()
            outcomes.append(sync_request(connection=conn, kind="ALL"))
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=request) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    job_ids = {job.pk for job, _ in outcomes}

    assert len(outcomes) == workers
    assert sum(created for _, created in outcomes) == 1
    assert len(job_ids) == 1
    assert SyncJob.objects.filter(connection=conn).count() == 1
