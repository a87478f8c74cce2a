"""What the Data Sync page and `manage.py datasync status` show of the lanes (DESIGN.md, "Data
Sync": lanes): how many lanes are busy, what is queued in each, which run on which worker
holds which lane, and how fast each run sends."""

import itertools
import re
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from datasync.models import CustomerPendingRecord, LaneLease, ProgressRecord, SyncRun
from datasync.services.lease import lane_take, lanes_take_all
from datasync.services.queues import lane_for
from integration_hub.services.system_settings import setting_set
from tests.conftest import page_queries

pytestmark = pytest.mark.django_db

_numbers = itertools.count(1)


def _customer_in(lane: int) -> str:
    """A customer key whose records go in `lane`."""
    return next(
        key
        for key in (f"C{n}" for n in itertools.count())
        if lane_for(subscriber_id=1, customer_key=key, unique_id=key) == lane
    )


def _queued(lane: int, *, progress: int = 0, pending: int = 0, dead: int = 0) -> None:
    customer = _customer_in(lane)
    fields = {
        "object_name": "Customer",
        "unique_id": customer,
        "action": "UPDATE",
        "subscriber_id": 1,
        "customer_key": customer,
        "lane": lane,
    }
    for _ in range(pending):
        CustomerPendingRecord.objects.create(capture_order=next(_numbers), **fields)
    for is_dead_letter in [False] * progress + [True] * dead:
        number = next(_numbers)
        ProgressRecord.objects.create(
            id=number,
            capture_order=number,
            is_dead_letter=is_dead_letter,
            attempts=10 if is_dead_letter else 0,
            **fields,
        )


def _running(*, worker: str, concurrency: int, sent: int, seconds: float) -> SyncRun:
    """A run that, at its last heartbeat (now), had sent `sent` records in `seconds`."""
    now = timezone.now()
    return SyncRun.objects.create(
        trigger="SCHEDULE",
        started_at=now - timedelta(seconds=seconds),
        heartbeat_at=now,
        worker=worker,
        concurrency=concurrency,
        sent=sent,
    )


def _finished(*, worker: str, concurrency: int, sent: int, seconds: float) -> SyncRun:
    ended = timezone.now() - timedelta(minutes=10)
    return SyncRun.objects.create(
        trigger="SCHEDULE",
        status="SUCCEEDED",
        started_at=ended - timedelta(seconds=seconds),
        finished_at=ended,
        heartbeat_at=ended,
        worker=worker,
        concurrency=concurrency,
        sent=sent,
    )


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def _row(page: str, attribute: str) -> str:
    """The text of the table row (or list item) marked `attribute`, as a reader sees it."""
    found = re.search(rf"<(tr|li|p)\b[^>]*\s{attribute}(?=[\s>])[^>]*>(.*?)</\1>", page, re.DOTALL)
    assert found, f"no {attribute} on the page"
    return _text(found.group(2))


@pytest.fixture
def lanes_at_work():
    """At DataSyncConcurrency 8: run A on host-a holds lanes 7 and 21 and has sent 900 records
    in 3 s; lane 40 has work and dead letters but is free (its holder was killed and its lease
    expired); lane 9 has pending work; an earlier run sent 1,000 records in 4 s."""
    setting_set(key="DataSyncConcurrency", value=8)
    run = _running(worker="host-a pid 4242", concurrency=8, sent=900, seconds=3)
    killed = _running(worker="host-b pid 77", concurrency=8, sent=5, seconds=120)
    SyncRun.objects.filter(pk=killed.pk).update(heartbeat_at=timezone.now() - timedelta(minutes=1))
    assert lane_take(7, holder="run-a", run_id=run.pk)
    assert lane_take(21, holder="run-a", run_id=run.pk)
    assert lane_take(40, holder="killed", run_id=killed.pk)
    LaneLease.objects.filter(lane=40).update(expires_at=timezone.now() - timedelta(seconds=5))
    _queued(7, progress=3, pending=2)
    _queued(40, progress=2, dead=1)
    _queued(9, pending=4)
    finished = _finished(worker="host-c pid 9", concurrency=4, sent=1000, seconds=4)
    return {"run": run, "killed": killed, "finished": finished}


def test_the_page_shows_busy_lanes_what_waits_in_each_and_who_holds_it(
    client, job_admin, lanes_at_work
):
    run, killed, finished = lanes_at_work["run"], lanes_at_work["killed"], lanes_at_work["finished"]
    client.force_login(job_admin)

    page = client.get("/datasync/").content.decode()

    assert "2 of 64 lanes busy" in _row(page, "data-lanes-busy")
    assert "DataSyncConcurrency 8" in _row(page, "data-lanes-busy")
    held = _row(page, 'data-lane="7"')
    assert held.startswith("7 5 0 ")  # lane, queued (progress and pending), dead letters
    assert f"run #{run.pk} on host-a pid 4242" in held
    assert re.search(r"\d+ s ago", held)
    assert f"run #{run.pk} on host-a pid 4242" in _row(page, 'data-lane="21"')
    assert _row(page, 'data-lane="21"').startswith("21 0 0 ")  # held, its work in flight
    assert _row(page, 'data-lane="40"') == "40 2 1 free —"  # an expired lease is free
    assert _row(page, 'data-lane="9"') == "9 4 0 free —"
    assert 'data-lane="8"' not in page  # nothing queued, nobody holds it
    assert "The other 60 lanes are idle" in _row(page, "data-lanes-idle")
    active = _row(page, f'data-active-run="{run.pk}"')
    assert "host-a pid 4242, concurrency 8: sent 900 in 3.0 s (300 records/s)" in active
    assert f'data-active-run="{killed.pk}"' not in page  # its heartbeat stopped
    recent = _row(page, f'data-run="{finished.pk}"')
    assert "host-c pid 9 4 1000 250 records/s over 4.0 s" in recent
    stopped = _row(page, f'data-run="{killed.pk}"')
    assert re.search(r"running no heartbeat for \d+ s host-b pid 77 8 5 0\.1 records/s", stopped)


def test_at_concurrency_1_the_page_shows_one_run_holding_every_lane(client, job_admin):
    run = _running(worker="host-a pid 1", concurrency=1, sent=30, seconds=2)
    assert lanes_take_all(holder="whole", run_id=run.pk)
    _queued(12, progress=6)
    client.force_login(job_admin)

    page = client.get("/datasync/").content.decode()

    assert "64 of 64 lanes busy" in _row(page, "data-lanes-busy")
    assert "DataSyncConcurrency 1" in _row(page, "data-lanes-busy")
    assert f"Run #{run.pk} on host-a pid 1 holds every lane" in _row(page, "data-whole-queue")
    assert re.findall(r'data-lane="(\d+)"', page) == ["12"]  # only the lane with work
    assert _row(page, 'data-lane="12"').startswith(f"12 6 0 run #{run.pk} on host-a pid 1")
    assert "The other 63 lanes have nothing queued" in _row(page, "data-lanes-idle")


def test_with_nothing_queued_and_no_run_the_page_says_every_lane_is_idle(client, job_admin):
    client.force_login(job_admin)

    page = client.get("/datasync/").content.decode()

    assert "0 of 64 lanes busy" in _row(page, "data-lanes-busy")
    assert "No run is delivering now." in page
    assert "All 64 lanes are idle" in _row(page, "data-lanes-idle")


def test_the_status_command_shows_busy_lanes_holders_and_throughput(lanes_at_work):
    run, killed = lanes_at_work["run"], lanes_at_work["killed"]
    out = StringIO()

    call_command("datasync", "status", stdout=out)

    lines = out.getvalue().splitlines()
    assert "Lanes: 2 of 64 busy (DataSyncConcurrency 8)" in lines
    lane_lines = [line.strip() for line in lines if line.strip().startswith("lane ")]
    assert lane_lines[
        0
    ] == "lane 07  queued 5  dead 0  held by run {} (host-a pid 4242), {}".format(
        run.pk, lane_lines[0].split(", ", 1)[1]
    )
    assert re.fullmatch(r"heartbeat \d+ s ago", lane_lines[0].split(", ", 1)[1])
    assert "lane 09  queued 4  dead 0  free" in lane_lines
    assert lane_lines[2].startswith(f"lane 21  queued 0  dead 0  held by run {run.pk}")
    assert "lane 40  queued 2  dead 1  free" in lane_lines
    assert len(lane_lines) == 4
    assert "  60 other lanes idle" in lines
    output = out.getvalue()
    assert (
        f"active: run {run.pk} (host-a pid 4242), concurrency 8, sent 900 in 3.0 s (300/s)"
        in output
    )
    assert f"active: run {killed.pk}" not in output
    assert "host-c pid 9, concurrency 4: sent 1000 in 4.0 s (250/s), failed 0" in output
    assert re.search(r"host-b pid 77, concurrency 8: .* \(no heartbeat for \d+ s\)", output)


def test_the_status_command_at_concurrency_1_names_the_run_holding_every_lane(db):
    run = _running(worker="host-a pid 1", concurrency=1, sent=0, seconds=1)
    assert lanes_take_all(holder="whole", run_id=run.pk)
    out = StringIO()

    call_command("datasync", "status", stdout=out)

    assert "Lanes: 64 of 64 busy (DataSyncConcurrency 1)" in out.getvalue()
    assert f"every lane held by run {run.pk} (host-a pid 1)" in out.getvalue()
    assert "64 lanes with nothing queued" in out.getvalue()


def test_the_page_runs_the_same_queries_for_many_busy_lanes_as_for_one(
    client, job_admin, settings_cache_steady
):
    setting_set(key="DataSyncConcurrency", value=8)
    client.force_login(job_admin)
    first = _running(worker="host-a pid 1", concurrency=8, sent=10, seconds=1)
    assert lane_take(0, holder="first", run_id=first.pk)
    _queued(0, progress=1, pending=1, dead=1)
    page_queries(client, "/datasync/")  # the settings it reads are cached from here on
    one = page_queries(client, "/datasync/")
    for worker in range(1, 8):
        run = _running(worker=f"host-{worker} pid 1", concurrency=8, sent=10, seconds=1)
        for lane in range(worker * 8, worker * 8 + 4):
            assert lane_take(lane, holder=f"run-{worker}", run_id=run.pk)
            _queued(lane, progress=2, pending=1, dead=1)
    page = client.get("/datasync/").content.decode()
    assert "29 of 64 lanes busy" in _row(page, "data-lanes-busy")
    assert page_queries(client, "/datasync/") == one


def test_the_status_command_names_a_running_run_that_never_beat(db):
    """A run left RUNNING with no heartbeat recorded (killed before it beat once)."""
    SyncRun.objects.create(trigger="SCHEDULE", started_at=timezone.now() - timedelta(minutes=5))
    out = StringIO()
    call_command("datasync", "status", stdout=out)
    assert "RUNNING" in out.getvalue()
    assert "(no heartbeat" in out.getvalue()
