"""One active deliverer at a time at DataSyncConcurrency 1: every lane's lease, renewed by a
heartbeat (DESIGN.md, "Invariants")."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from datasync.models import LaneLease, SyncRun
from datasync.services.lease import lanes_release, lanes_take_all
from datasync.services.run import RunConflict, datasync_run
from integration_hub.selectors import default_subscriber
from integration_hub.services.customers import customer_create

from .conftest import datasync_configure
from .receiver import Behaviour


def test_a_run_is_refused_while_another_holds_the_lease(db):
    assert lanes_take_all(holder="other", run_id=None)
    with pytest.raises(RunConflict):
        datasync_run(trigger=SyncRun.Trigger.COMMAND, honour_backoff=False)
    assert not SyncRun.objects.exists()
    lanes_release(holder="other")
    assert datasync_run(trigger=SyncRun.Trigger.COMMAND, honour_backoff=False).pk


def test_a_run_is_refused_while_another_run_holds_even_one_lane(db):
    LaneLease.objects.filter(lane=17).update(
        holder="other", heartbeat_at=timezone.now(), expires_at=timezone.now() + timedelta(10)
    )
    with pytest.raises(RunConflict):
        datasync_run(trigger=SyncRun.Trigger.COMMAND, honour_backoff=False)
    # Nothing half taken: the lanes that were free are free again.
    assert set(LaneLease.objects.exclude(holder="").values_list("lane", flat=True)) == {17}


def test_a_killed_runs_expired_lease_is_taken_over_and_its_run_marked_abandoned(db):
    long_ago = timezone.now() - timedelta(minutes=5)
    dead = SyncRun.objects.create(trigger="SCHEDULE", started_at=long_ago, heartbeat_at=long_ago)
    assert lanes_take_all(holder="killed", run_id=dead.pk)
    LaneLease.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    run = datasync_run(trigger=SyncRun.Trigger.COMMAND, honour_backoff=False)
    dead.refresh_from_db()
    assert dead.status == "FAILED"
    assert "Abandoned" in dead.last_error
    assert run.pk != dead.pk
    assert not LaneLease.objects.exclude(holder="").exists()


@pytest.mark.django_db(transaction=True)
def test_two_overlapping_runs_give_one_active_run(local_receiver):
    datasync_configure(
        api_url=local_receiver.base_url + "/api", token_url=local_receiver.base_url + "/token"
    )
    customer_create(subscriber=default_subscriber(), customer_id="C1")
    local_receiver.behaviour = Behaviour(hang_seconds=3)  # the first run is mid-POST
    outcome = {}

    def first():
        try:
            outcome["first"] = datasync_run(trigger=SyncRun.Trigger.COMMAND, honour_backoff=False)
        finally:
            connection.close()

    thread = threading.Thread(target=first)
    thread.start()
    deadline = timezone.now() + timedelta(seconds=10)
    while not local_receiver.deliveries and not local_receiver._release.is_set():
        if timezone.now() > deadline:
            break
        if SyncRun.objects.filter(status="RUNNING").exists():
            break
    with pytest.raises(RunConflict):
        datasync_run(trigger=SyncRun.Trigger.COMMAND, honour_backoff=False)
    thread.join()
    assert outcome["first"].status == "SUCCEEDED"
    assert outcome["first"].sent == 1
    assert len(local_receiver.deliveries) == 1
    assert SyncRun.objects.count() == 1
