"""A lane stays leased while its POST is in flight, even past the end of the slice it began
in (OutboundTimeoutSeconds allows 120 s against a 15 s lease): no other run may take the
lane and send the same record meanwhile."""

import time

import pytest
import responses

from datasync.models import LaneLease, SyncRun
from datasync.services import lease
from datasync.services.queues import lane_for
from datasync.services.run import datasync_run
from integration_hub.selectors import default_subscriber
from integration_hub.services.customers import customer_create
from integration_hub.services.system_settings import setting_set

from .conftest import API_URL, TOKEN_URL

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("concurrency", [1, 2])
def test_a_lane_stays_leased_while_its_post_is_in_flight(datasync_on, settings, concurrency):
    settings.DATASYNC_LEASE_SECONDS = 1.0
    setting_set(key="DataSyncConcurrency", value=concurrency)
    customer_create(subscriber=default_subscriber(), customer_id="C1", first_name="x")
    checks = []

    def api(request):
        deadline = time.monotonic() + 3.5 * lease.lease_seconds()
        while time.monotonic() < deadline:
            time.sleep(0.1)
        # Read the lease rows the way another run would (this thread has no lock: the run's
        # main thread is idle waiting for this POST, the heartbeat has returned).
        checks.append(
            sorted(LaneLease.objects.filter(lease._free()).values_list("lane", flat=True))
        )
        return 200, {}, "{}"

    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.post(TOKEN_URL, json={"access_token": "t", "token_type": "Bearer", "expires_in": 3600})
        mock.add_callback("POST", API_URL, callback=api)
        run = datasync_run(trigger=SyncRun.Trigger.COMMAND, honour_backoff=False, slice_seconds=0.3)
    assert run.sent == 1
    (free,) = checks
    lane = lane_for(subscriber_id=default_subscriber().pk, customer_key="C1", unique_id="C1")
    assert lane not in free, "the lane was free for another run while its POST was in flight"
    if concurrency == 1:
        assert free == [], "the whole queue's lanes stay held"
