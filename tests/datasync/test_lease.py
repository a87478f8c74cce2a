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


def _held_by_a_live_run(**filters) -> None:
    """Lanes leased to another run that keeps beating."""
    later = timezone.now() + timedelta(minutes=1)
    LaneLease.objects.filter(**filters).update(holder="other", heartbeat_at=later, expires_at=later)


def test_a_run_is_refused_while_another_holds_the_lease(db, settings):
    settings.DATASYNC_LEASE_SECONDS = 2  # it watches the holder for 2.5 heartbeats: 1 s
    _held_by_a_live_run()
    with pytest.raises(RunConflict):
        datasync_run(trigger=SyncRun.Trigger.COMMAND, honour_backoff=False)
    assert not SyncRun.objects.exists()
    lanes_release(holder="other")
    assert datasync_run(trigger=SyncRun.Trigger.COMMAND, honour_backoff=False).pk


def test_a_run_is_refused_while_another_run_holds_even_one_lane(db, settings):
    settings.DATASYNC_LEASE_SECONDS = 2
    _held_by_a_live_run(lane=17)
    with pytest.raises(RunConflict):
        datasync_run(trigger=SyncRun.Trigger.COMMAND, honour_backoff=False)
    # Nothing half taken: the lanes that were free are free again.
    assert set(LaneLease.objects.exclude(holder="").values_list("lane", flat=True)) == {17}


def test_a_run_started_just_after_a_kill_waits_for_the_lease_and_takes_over(
    datasync_on, mocked_receiver, settings
):
    settings.DATASYNC_LEASE_SECONDS = 2
    now = timezone.now()
    assert lanes_take_all(holder="killed", run_id=None)
    # It beat 1 s ago and never again: stale, its lease ends in 1 s.
    LaneLease.objects.update(
        heartbeat_at=now - timedelta(seconds=1), expires_at=now + timedelta(seconds=1)
    )
    run = datasync_run(trigger=SyncRun.Trigger.COMMAND, honour_backoff=False)
    assert run.status == "SUCCEEDED"
    assert not LaneLease.objects.exclude(holder="").exists()


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
def test_two_overlapping_runs_give_one_active_run(local_receiver, settings):
    settings.DATASYNC_LEASE_SECONDS = 4  # the second run watches the first for 2 s
    datasync_configure(
        api_url=local_receiver.base_url + "/api", token_url=local_receiver.base_url + "/token"
    )
    customer_create(subscriber=default_subscriber(), customer_id="C1")
    local_receiver.behaviour = Behaviour(hang_seconds=5)  # the first run is mid-POST
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
