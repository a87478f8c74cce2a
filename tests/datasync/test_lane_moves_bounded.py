"""A lane deliverer whose lane has nothing left moves pending batches, hoping one lands in
its lane; it moves a few per step and then lets go of the run's connection, so that the
heartbeat and the other lanes are not kept waiting while a large pending queue moves."""

import pytest
from django.db import transaction

from datasync.models import CustomerPendingRecord, SyncRun
from datasync.services import queues
from datasync.services import run as run_module
from datasync.services.queues import lane_for, pending_batch_move
from integration_hub.selectors import default_subscriber
from integration_hub.services.customers import customer_create
from integration_hub.services.system_settings import setting_set

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_large_pending_queue_moves_a_few_batches_at_a_time(
    datasync_on, mocked_receiver, monkeypatch
):
    from .conftest import API_URL

    mocked_receiver.post(API_URL, json={})
    setting_set(key="DataSyncConcurrency", value=2)
    subscriber = default_subscriber()
    customer_create(subscriber=subscriber, customer_id="A", first_name="a")
    pending_batch_move(batch_size=100)  # A's record is in progress, in lane_a
    lane_a = lane_for(subscriber_id=subscriber.pk, customer_key="A", unique_id="A")
    other = next(
        f"B{n}"
        for n in range(1000)
        if lane_for(subscriber_id=subscriber.pk, customer_key=f"B{n}", unique_id="") != lane_a
    )
    lane_b = lane_for(subscriber_id=subscriber.pk, customer_key=other, unique_id="")
    with transaction.atomic():  # e.g. a bulk import of one customer's orders
        CustomerPendingRecord.objects.bulk_create(
            CustomerPendingRecord(
                object_name="Customer",
                unique_id=other,
                action="UPDATE",
                json_object={"x": 1},
                capture_order=queues.capture_number_next(),
                subscriber_id=subscriber.pk,
                customer_key=other,
                lane=lane_b,
            )
            for _ in range(2_000)
        )
    moves_per_step = [0]
    real_step = run_module._Run.step

    def counted_step(self):
        moves_per_step.append(0)
        return real_step(self)

    def counted_move(**kwargs):
        moves_per_step[-1] += 1
        return real_move(**kwargs)

    real_move = run_module.pending_batch_move
    monkeypatch.setattr(run_module._Run, "step", counted_step)
    monkeypatch.setattr(run_module, "pending_batch_move", counted_move)
    run = run_module.datasync_run(trigger=SyncRun.Trigger.COMMAND, honour_backoff=False)
    assert run.status == "SUCCEEDED"
    assert run.sent == 2_001
    assert sum(moves_per_step) >= 20  # 2,000 records in batches of 100
    assert max(moves_per_step) < sum(moves_per_step) / 2, "one step moved most of the queue"
