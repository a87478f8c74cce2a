"""An unexpected error in one HTTP thread (a DatabaseError while the token row is read, say)
ends the run, but the other lanes' answers are taken in first: records the receiver
answered 2xx leave the queue and are not sent again by the next run."""

import json
import time

import pytest
import responses
from django.db import OperationalError

from datasync.models import ProgressRecord, SyncRun
from datasync.services import run as run_module
from integration_hub.selectors import default_subscriber
from integration_hub.services.customers import customer_create
from integration_hub.services.system_settings import setting_set

from .conftest import API_URL, TOKEN_URL

pytestmark = pytest.mark.django_db(transaction=True)


def test_records_delivered_by_other_threads_leave_the_queue_when_one_thread_errs(
    datasync_on, monkeypatch
):
    setting_set(key="DataSyncConcurrency", value=4)
    for n in range(4):
        customer_create(subscriber=default_subscriber(), customer_id=f"C{n}", first_name="x")
    delivered = []
    real_post = run_module._Run.post
    calls = []

    def post(self, batch):
        calls.append(1)
        if len(calls) == 2:
            time.sleep(0.05)
            raise OperationalError("database is locked")  # e.g. from LockedAuth.headers
        return real_post(self, batch)

    def api(request):
        time.sleep(0.3)
        delivered.extend(m["uniqueId"] for m in json.loads(request.body)["messages"])
        return 200, {}, "{}"

    monkeypatch.setattr(run_module._Run, "post", post)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.post(TOKEN_URL, json={"access_token": "t", "token_type": "Bearer", "expires_in": 3600})
        mock.add_callback("POST", API_URL, callback=api)
        with pytest.raises(OperationalError):
            run_module.datasync_run(trigger=SyncRun.Trigger.COMMAND, honour_backoff=False)
    assert delivered, "no other lane's POST was in flight"
    still = sorted(
        str(i) for i in ProgressRecord.objects.filter(id__in=delivered).values_list("id", flat=True)
    )
    assert still == [], f"{still} were answered 2xx yet stay queued (sent again next run)"
