"""A POST is made only while its lane's lease holds: the leases stay renewed while a slow
token endpoint is fetched from (the fetch does not hold the run's database connection), and
a lease the run can no longer vouch for stops the POST waiting on that token."""

import json
import time
from datetime import timedelta

import pytest
import responses
from django.db.models.functions import Now

from datasync.models import LaneLease, ProgressRecord, SyncRun
from datasync.services import lease
from datasync.services import run as run_module
from datasync.services.queues import lane_for
from datasync.services.run import datasync_run
from integration_hub.selectors import default_subscriber
from integration_hub.services.customers import customer_create
from integration_hub.services.system_settings import setting_set

from .conftest import API_URL, TOKEN_URL

pytestmark = pytest.mark.django_db(transaction=True)


def _slow_token(request):
    # A token endpoint answering in 1.6 leases (OutboundTimeoutSeconds allows 120 s against
    # a 15 s lease).
    time.sleep(1.6 * lease.lease_seconds())
    body = {"access_token": "t", "token_type": "Bearer", "expires_in": 3600}
    return 200, {}, json.dumps(body)


def _customers(count: int) -> None:
    for n in range(count):
        customer_create(subscriber=default_subscriber(), customer_id=f"C{n}", first_name="x")


@pytest.mark.parametrize("concurrency", [1, 4])
def test_the_leases_stay_renewed_while_a_slow_token_endpoint_answers(
    datasync_on, settings, concurrency
):
    settings.DATASYNC_LEASE_SECONDS = 1.0
    setting_set(key="DataSyncConcurrency", value=concurrency)
    _customers(8)
    lapsed = []

    def api(request):
        return 200, {}, "{}"

    def token(request):
        answer = _slow_token(request)
        # What another run would find now: none of this run's lanes free to take.
        lapsed.extend(
            LaneLease.objects.exclude(holder="")
            .filter(expires_at__lt=Now())
            .values_list("lane", flat=True)
        )
        return answer

    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_callback("POST", TOKEN_URL, callback=token)
        mock.add_callback("POST", API_URL, callback=api)
        run = datasync_run(trigger=SyncRun.Trigger.COMMAND, honour_backoff=False)

    assert lapsed == [], f"lanes {lapsed} lapsed while the token was fetched"
    assert (run.status, run.sent) == ("SUCCEEDED", 8)


@pytest.mark.parametrize("concurrency", [1, 4])
def test_no_post_goes_out_once_the_run_can_no_longer_vouch_for_its_lease(
    datasync_on, settings, monkeypatch, concurrency
):
    settings.DATASYNC_LEASE_SECONDS = 1.0
    setting_set(key="DataSyncConcurrency", value=concurrency)
    _customers(8)

    taken: dict[int, float] = {}  # lane -> when another run took it

    def taken_by_another_run(*, holder, lanes):
        # The run's heartbeats fail (its database is out of its reach), and another run
        # (another cluster) takes each of its lanes once the lease has expired, as lane_take
        # allows: from then on the lane is the other run's.
        expired = LaneLease.objects.filter(lane__in=lanes, expires_at__lt=Now())
        for lane in expired.values_list("lane", flat=True):
            taken.setdefault(lane, time.monotonic())
        later = Now() + timedelta(minutes=1)
        expired.update(holder="other", heartbeat_at=later, expires_at=later)
        return set()

    monkeypatch.setattr(run_module, "lanes_renew", taken_by_another_run)
    posted: list[tuple[float, int]] = []  # (when, lane)
    subscriber_id = default_subscriber().pk

    def api(request):
        (message,) = json.loads(request.body)["messages"]
        key = json.loads(message["payload"])["customerID"]
        posted.append(
            (
                time.monotonic(),
                lane_for(subscriber_id=subscriber_id, customer_key=key, unique_id=key),
            )
        )
        return 200, {}, "{}"

    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_callback("POST", TOKEN_URL, callback=_slow_token)
        mock.add_callback("POST", API_URL, callback=api)
        run = datasync_run(trigger=SyncRun.Trigger.COMMAND, honour_backoff=False)

    assert taken, "the heartbeat never ran"
    intruded = [(at, lane) for at, lane in posted if lane in taken and at >= taken[lane]]
    assert intruded == [], "a POST went out on a lane another run held"
    # What was not sent waits, queued, for the lanes' new holder.
    assert ProgressRecord.objects.count() + len(posted) == 8
    assert set(ProgressRecord.objects.values_list("lane", flat=True)) <= set(taken)
    if concurrency == 1:
        assert run.status == "FAILED"  # the whole queue's lease was lost
