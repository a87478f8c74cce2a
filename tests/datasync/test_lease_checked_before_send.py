"""a POST is made only while its lane's lease holds. The lease is checked before the
HTTP thread waits for the run's shared lock (taken by LockedAuth.headers for every POST, and
held across a token fetch); while the lock is held the heartbeat cannot renew, the leases
expire and another run takes the lanes - yet the waiting POSTs go out afterwards."""

import json
import time
from datetime import timedelta

import pytest
import responses
from django.db.models.functions import Now

from datasync.models import LaneLease, SyncRun
from datasync.services import lease
from datasync.services.run import datasync_run
from integration_hub.selectors import default_subscriber
from integration_hub.services.customers import customer_create
from integration_hub.services.system_settings import setting_set

from .conftest import API_URL, TOKEN_URL

pytestmark = pytest.mark.django_db(transaction=True)
INTRUDER_SECONDS = 3.0  # how long the other run holds the lanes it took


@pytest.mark.parametrize("concurrency", [1, 4])
def test_no_post_after_another_run_took_the_lane_while_the_token_was_fetched(
    datasync_on, settings, concurrency
):
    settings.DATASYNC_LEASE_SECONDS = 1.0
    setting_set(key="DataSyncConcurrency", value=concurrency)
    for n in range(8):
        customer_create(subscriber=default_subscriber(), customer_id=f"C{n}", first_name="x")
    intruded: dict[int, float] = {}
    posted: list[tuple[float, list[str]]] = []

    def slow_token(request):
        # A token endpoint answering in 1.6 leases (OutboundTimeoutSeconds allows 120 s
        # against a 15 s lease). This runs under the run's shared lock.
        time.sleep(1.6 * lease.lease_seconds())
        # Another run (another cluster) takes every lane whose lease expired meanwhile.
        free = list(LaneLease.objects.filter(lease._free()).values_list("lane", flat=True))
        LaneLease.objects.filter(lane__in=free).update(
            holder="intruder",
            heartbeat_at=Now(),
            expires_at=Now() + timedelta(seconds=INTRUDER_SECONDS),
        )
        now = time.monotonic()
        intruded.update(dict.fromkeys(free, now))
        return (
            200,
            {},
            json.dumps({"access_token": "t", "token_type": "Bearer", "expires_in": 3600}),
        )

    def api(request):
        body = json.loads(request.body)
        posted.append((time.monotonic(), [m["uniqueId"] for m in body["messages"]]))
        return 200, {}, "{}"

    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_callback("POST", TOKEN_URL, callback=slow_token)
        mock.add_callback("POST", API_URL, callback=api)
        datasync_run(trigger=SyncRun.Trigger.COMMAND, honour_backoff=False)

    assert intruded, "the leases did not expire while the token was fetched"
    start = min(intruded.values())
    after = [ids for at, ids in posted if start <= at < start + INTRUDER_SECONDS - 0.5]
    assert after == [], f"POSTed {after} after another run took those lanes ({sorted(intruded)})"
