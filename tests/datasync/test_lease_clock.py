"""lease expressions on the database clock compare correctly (SQLite and PostgreSQL)."""

from datetime import timedelta

import pytest
from django.db.models.functions import Now
from django.utils import timezone

from datasync.models import LaneLease
from datasync.services import lease


@pytest.mark.django_db(transaction=True)
def test_leases_compare_on_the_database_clock(settings):
    settings.DATASYNC_LEASE_SECONDS = 15.0
    lease.lanes_ensure()
    assert lease.lane_take(3, holder="a", run_id=None)
    row = LaneLease.objects.get(lane=3)
    now = timezone.now()
    assert timedelta(seconds=14) < row.expires_at - now < timedelta(seconds=16)
    assert not lease.lane_take(3, holder="b", run_id=None)
    assert lease.lanes_held_elsewhere(holder="b") == ({3}, set(), set())
    # heartbeat 7 s ago (> 2 heartbeats of 3 s): stale, lease still valid
    LaneLease.objects.filter(lane=3).update(heartbeat_at=Now() - timedelta(seconds=7))
    assert lease.lanes_held_elsewhere(holder="b") == (set(), {3}, set())
    # heartbeat 5 s ago: live
    LaneLease.objects.filter(lane=3).update(heartbeat_at=Now() - timedelta(seconds=5))
    assert lease.lanes_held_elsewhere(holder="b") == ({3}, set(), set())
    # expired 0.5 s ago: free to take (its holder never gave it back)
    LaneLease.objects.filter(lane=3).update(expires_at=Now() - timedelta(seconds=0.5))
    assert lease.lanes_held_elsewhere(holder="b") == (set(), set(), {3})
    # expires in 0.5 s: still held
    LaneLease.objects.filter(lane=3).update(expires_at=Now() + timedelta(seconds=0.5))
    assert not lease.lane_take(3, holder="b", run_id=None)
    # Python-written value (as a test or admin would write it)
    LaneLease.objects.filter(lane=3).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert lease.lane_take(3, holder="b", run_id=None)
    assert lease.lanes_renew(holder="a", lanes={3}) == set()
    assert lease.lanes_renew(holder="b", lanes={3}) == {3}
    # whole queue: all or none
    assert not lease.lanes_take_all(holder="c", run_id=None)
    assert LaneLease.objects.filter(holder="c").count() == 0
    lease.lanes_release(holder="b")
    assert lease.lanes_take_all(holder="c", run_id=None)
