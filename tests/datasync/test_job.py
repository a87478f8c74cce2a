"""The Data Sync job against a receiver mocked with `responses` (reference 003, "Data Sync
Job"; DESIGN.md, "Data Sync")."""

import base64
import hashlib
import hmac
import json
from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from datasync.models import CustomerPendingRecord, ProgressRecord, SyncRun
from datasync.services.queues import capture_number_next
from datasync.services.replay import dead_letters_replay
from datasync.services.run import datasync_run
from datasync.services.sample import sample_message_send
from datasync.tasks import datasync_scheduled_run
from integration_hub.selectors import default_subscriber
from integration_hub.services.customers import customer_create, customer_update
from integration_hub.services.system_settings import setting_set

from .conftest import API_URL, SIGNING_SECRET, TOKEN_URL

pytestmark = pytest.mark.django_db


@pytest.fixture(params=[1, 8], ids=["concurrency 1", "concurrency 8"])
def concurrency(request, datasync_on):
    """Runs the test with one deliverer for the whole queue, and with lanes side by side."""
    setting_set(key="DataSyncConcurrency", value=request.param)
    return request.param


def _customer(customer_id, **fields):
    return customer_create(subscriber=default_subscriber(), customer_id=customer_id, **fields)


def _run(honour_backoff=False, **kwargs):
    return datasync_run(trigger=SyncRun.Trigger.COMMAND, honour_backoff=honour_backoff, **kwargs)


def _posted(mock_):
    return [c for c in mock_.calls if c.request.url == API_URL]


def _messages(mock_):
    return [m for c in _posted(mock_) for m in json.loads(c.request.body)["messages"]]


def test_each_record_is_posted_with_the_documented_body_and_headers(datasync_on, mocked_receiver):
    mocked_receiver.post(API_URL, json={"ok": True})
    _customer("C1", first_name="Ada")
    run = _run()
    assert (run.status, run.sent, run.moved) == ("SUCCEEDED", 1, 1)
    (call,) = _posted(mocked_receiver)
    body = json.loads(call.request.body)
    assert list(body) == ["messages"]
    (message,) = body["messages"]
    assert list(message) == ["action", "payload", "type", "uniqueId"]
    assert (message["action"], message["type"]) == ("CUSTOMERCRE", "CUSTOMER")
    assert json.loads(message["payload"])["customerID"] == "C1"
    assert message["uniqueId"].isdigit()
    assert call.request.headers["Content-Type"] == "application/json"
    assert call.request.headers["Authorization"] == "Bearer tok-1"
    assert call.request.headers["webhook-id"] == message["uniqueId"]
    assert "webhook-signature" not in call.request.headers
    assert not ProgressRecord.objects.exists()
    assert not CustomerPendingRecord.objects.exists()


def test_a_delete_carries_the_bare_customer_id_and_a_transaction_the_postrn_shapes(
    datasync_on, mocked_receiver
):
    from integration_hub.services.customers import customer_delete

    from .test_capture import _order

    mocked_receiver.post(API_URL, json={})
    _order(None, "T9")
    customer_delete(customer=_customer("C1"))
    _run()
    messages = _messages(mocked_receiver)
    assert [(m["action"], m["type"]) for m in messages] == [
        ("POSTRNCRE", "POSTRN"),
        ("CUSTOMERDEL", "CUSTOMER"),
    ]
    assert json.loads(messages[0]["payload"])["retailTransactionId"] == "T9"
    assert messages[1]["payload"] == "C1"


def test_records_are_delivered_in_capture_order_per_customer_across_batches(
    concurrency, mocked_receiver
):
    mocked_receiver.post(API_URL, json={})
    setting_set(key="DataSyncBatchSize", value=2)
    a = _customer("A", first_name="1")
    b = _customer("B", first_name="1")
    for n in range(2, 5):
        customer_update(customer=a, first_name=str(n))
        customer_update(customer=b, first_name=str(n))
    run = _run()
    assert run.moved == run.sent == 8
    for key in ("A", "B"):
        names = [
            json.loads(m["payload"])["entityInformation"]["individual"]["name"]["name"][0]["value"]
            for m in _messages(mocked_receiver)
            if json.loads(m["payload"])["customerID"] == key
        ]
        assert names == ["1", "2", "3", "4"]
    if concurrency == 1:  # one deliverer: global capture order, as the reference does
        ids = [int(m["uniqueId"]) for m in _messages(mocked_receiver)]
        assert ids == sorted(ids)


def test_the_progress_queue_is_sent_before_pending_records_are_moved(datasync_on, mocked_receiver):
    pending_at_each_post = []

    def answer(request):
        pending_at_each_post.append(CustomerPendingRecord.objects.count())
        return 200, {}, "{}"

    mocked_receiver.add_callback("POST", API_URL, callback=answer)
    number = capture_number_next()  # as a record moved to progress earlier: id = its number
    ProgressRecord.objects.create(
        id=number,
        object_name="Customer",
        unique_id="OLD",
        action="DELETE",
        capture_order=number,
        subscriber_id=1,
        customer_key="OLD",
    )
    _customer("NEW")
    _run()
    assert _messages(mocked_receiver)[0]["payload"] == "OLD"
    # When OLD went, NEW was still pending: the progress queue went before the move.
    assert pending_at_each_post == [1, 0]


def test_with_a_slow_receiver_each_delivered_record_leaves_the_queue_before_the_next_post(
    datasync_on, mocked_receiver, monkeypatch
):
    """DESIGN.md: a record delivered is removed right after its 2xx (or in groups at most
    100 ms apart), so only the POST in flight is repeated after a crash."""
    from types import SimpleNamespace

    from datasync.services import run as run_module

    clock = [1000.0]
    monkeypatch.setattr(
        run_module, "time", SimpleNamespace(monotonic=lambda: clock[0], time=run_module.time.time)
    )
    still_queued_at_each_post = []

    def slow_answer(request):
        still_queued_at_each_post.append(ProgressRecord.objects.count())
        clock[0] += 0.3  # each POST takes 300 ms
        return 200, {}, "{}"

    mocked_receiver.add_callback("POST", API_URL, callback=slow_answer)
    for n in range(4):
        _customer(f"C{n}")

    assert _run().sent == 4

    # Each POST found only itself and the ones after it queued.
    assert still_queued_at_each_post == [4, 3, 2, 1]


def test_several_messages_go_in_one_post_when_configured(datasync_on, mocked_receiver):
    mocked_receiver.post(API_URL, json={})
    setting_set(key="DataSyncMessagesPerRequest", value=3)
    for n in range(7):
        _customer(f"C{n}")
    run = _run()
    assert run.sent == 7
    sizes = [len(json.loads(c.request.body)["messages"]) for c in _posted(mocked_receiver)]
    assert sizes == [3, 3, 1]
    first = _posted(mocked_receiver)[0]
    ids = [m["uniqueId"] for m in json.loads(first.request.body)["messages"]]
    assert first.request.headers["webhook-id"] not in ids
    assert first.request.headers["webhook-id"].startswith("batch_")


def _independent_signature(secret: str, msg_id: str, timestamp: str, body: bytes) -> str:
    # Standard Webhooks, written from the spec: HMAC-SHA256 over "id.timestamp.body" with the
    # base64-decoded part of the whsec_ secret; "v1," + base64 of the digest.
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def test_signed_messages_verify_with_an_independent_implementation(datasync_on, mocked_receiver):
    mocked_receiver.post(API_URL, json={})
    setting_set(key="DataSyncSigningSecret", value=SIGNING_SECRET)
    _customer("C1")
    _customer("C2")
    _run()
    for call in _posted(mocked_receiver):
        headers = call.request.headers
        expected = _independent_signature(
            SIGNING_SECRET, headers["webhook-id"], headers["webhook-timestamp"], call.request.body
        )
        assert expected in headers["webhook-signature"].split(" ")
        assert abs(int(headers["webhook-timestamp"]) - timezone.now().timestamp()) < 60
        wrong = _independent_signature(
            "whsec_" + base64.b64encode(b"another key").decode(),
            headers["webhook-id"],
            headers["webhook-timestamp"],
            call.request.body,
        )
        assert wrong not in headers["webhook-signature"]


def test_a_failure_keeps_the_record_counts_an_attempt_and_names_the_cause(
    concurrency, mocked_receiver
):
    mocked_receiver.post(API_URL, status=503, body="down for maintenance")
    _customer("C1")
    before = timezone.now()
    run = _run()
    assert run.status == "FAILED"
    assert run.last_status_code == 503
    assert "down for maintenance" in run.last_response_excerpt
    record = ProgressRecord.objects.get()
    assert record.attempts == 1
    assert record.next_attempt_at > before + timedelta(seconds=10)


def test_a_retry_resends_the_same_unique_id(concurrency, mocked_receiver):
    mocked_receiver.post(API_URL, status=500)
    _customer("C1")
    _run()
    mocked_receiver.replace("POST", API_URL, json={})
    _run()
    first, second = _messages(mocked_receiver)
    assert first["uniqueId"] == second["uniqueId"]
    assert not ProgressRecord.objects.exists()


def test_a_scheduled_run_waits_out_the_backoff_while_others_flow_and_an_explicit_run_does_not(
    concurrency, mocked_receiver
):
    mocked_receiver.post(API_URL, status=429, headers={"Retry-After": "600"})
    _customer("A")
    _run()
    assert ProgressRecord.objects.get().next_attempt_at > timezone.now() + timedelta(seconds=590)
    mocked_receiver.replace("POST", API_URL, json={})
    customer_update(customer=default_subscriber().customers.get(customer_id="A"), first_name="x")
    _customer("B")
    datasync_scheduled_run()
    assert [m["action"] for m in _messages(mocked_receiver)[1:]] == ["CUSTOMERCRE"]
    assert json.loads(_messages(mocked_receiver)[-1]["payload"])["customerID"] == "B"
    assert ProgressRecord.objects.filter(customer_key="A").count() == 2
    run = _run(honour_backoff=False)
    assert run.sent == 2
    assert not ProgressRecord.objects.exists()


def test_after_max_attempts_a_customers_records_are_dead_lettered_and_replay_restores_order(
    concurrency, mocked_receiver
):
    setting_set(key="DataSyncMaxAttempts", value=2)
    mocked_receiver.post(API_URL, status=500)
    a = _customer("A", first_name="1")
    customer_update(customer=a, first_name="2")
    _run()
    _run()
    assert ProgressRecord.objects.filter(is_dead_letter=True).count() == 2
    # Other customers flow on; a later record of A stays behind A's dead letters.
    mocked_receiver.replace("POST", API_URL, json={})
    customer_update(customer=a, first_name="3")
    _customer("B")
    run = _run()
    assert run.status == "SUCCEEDED"
    sent_after = [json.loads(m["payload"])["customerID"] for m in _messages(mocked_receiver)[2:]]
    assert sent_after == ["B"]
    assert ProgressRecord.objects.filter(customer_key="A", is_dead_letter=True).count() == 3
    replayed = dead_letters_replay(
        record_ids=[ProgressRecord.objects.filter(customer_key="A").first().id]
    )
    assert replayed == 3
    _run()
    names = [
        json.loads(m["payload"])["entityInformation"]["individual"]["name"]["name"][0]["value"]
        for m in _messages(mocked_receiver)[3:]
    ]
    assert names == ["1", "2", "3"]
    assert not ProgressRecord.objects.exists()


def test_a_401_fetches_a_new_token_once_before_counting_a_failure(concurrency, mocked_receiver):
    mocked_receiver.post(API_URL, status=401)
    mocked_receiver.post(API_URL, json={})
    _customer("C1")
    run = _run()
    assert run.status == "SUCCEEDED"
    token_calls = [c for c in mocked_receiver.calls if c.request.url == TOKEN_URL]
    assert len(token_calls) == 2


def test_two_401s_fail_the_run_and_keep_the_record(concurrency, mocked_receiver):
    mocked_receiver.post(API_URL, status=401)
    _customer("C1")
    run = _run()
    assert (run.status, run.last_status_code) == ("FAILED", 401)
    assert len(_posted(mocked_receiver)) == 2
    assert ProgressRecord.objects.get().attempts == 1


def test_a_token_endpoint_that_refuses_fails_the_run_without_counting_attempts(
    concurrency, mocked_receiver
):
    mocked_receiver.replace("POST", TOKEN_URL, status=400, json={"error": "invalid_client"})
    _customer("C1")
    run = _run()
    assert run.status == "FAILED"
    assert "token" in run.last_error.lower()
    assert ProgressRecord.objects.get().attempts == 0


def test_an_expired_token_is_fetched_again(datasync_on, mocked_receiver):
    mocked_receiver.replace(
        "POST", TOKEN_URL, json={"access_token": "short", "token_type": "Bearer", "expires_in": 1}
    )
    mocked_receiver.post(API_URL, json={})
    _customer("C1")
    _run()
    _customer("C2")
    _run()
    token_calls = [c for c in mocked_receiver.calls if c.request.url == TOKEN_URL]
    assert len(token_calls) == 2  # the first token expired within the safety margin


def test_a_slice_that_runs_out_of_time_says_there_is_more(concurrency, mocked_receiver):
    mocked_receiver.post(API_URL, json={})
    _customer("C1")
    run = _run(slice_seconds=0)
    assert run.status == "SUCCEEDED"
    assert run.has_more
    assert _run().sent == 1


def test_a_scheduled_slice_with_more_to_do_queues_its_continuation(
    datasync_on, mocked_receiver, tasks
):
    mocked_receiver.post(API_URL, json={})
    _customer("C1")
    with mock.patch("datasync.tasks.datasync_run", wraps=lambda **kw: _run(slice_seconds=0)):
        datasync_scheduled_run()
    assert tasks.queued == [("datasync.tasks.datasync_run_continue", (True,))]


def test_the_sample_message_is_exactly_the_documented_body(datasync_on, mocked_receiver):
    mocked_receiver.post(API_URL, status=202, body="accepted it")
    result = sample_message_send()
    assert (result.status_code, result.body) == (202, "accepted it")
    (call,) = _posted(mocked_receiver)
    assert json.loads(call.request.body) == {
        "messages": [
            {
                "action": "CUSTOMERCRE",
                "payload": "Test message",
                "type": "CUSTOMER",
                "uniqueId": "0",
            }
        ]
    }


def test_a_run_without_an_api_url_fails_saying_so(db):
    run = _run()
    assert run.status == "FAILED"
    assert "DataSyncApiUrl" in run.last_error


def test_a_scheduled_run_with_more_free_lanes_than_its_concurrency_asks_for_one_more_run(
    datasync_on, mocked_receiver, tasks
):
    setting_set(key="DataSyncConcurrency", value=2)
    mocked_receiver.post(API_URL, json={})
    for n in range(12):  # in more than two lanes
        _customer(f"C{n}")
    datasync_scheduled_run()
    assert tasks.queued == [("datasync.tasks.datasync_run_continue", (True,))]
    assert not ProgressRecord.objects.exists()  # and this run delivered every lane itself


def test_a_run_that_sends_nothing_asks_for_no_more_runs(datasync_on, mocked_receiver, tasks):
    """Lanes whose records all wait out a backoff, or a receiver that is down, must not chain
    runs back to back: the schedule comes back at its interval."""
    setting_set(key="DataSyncConcurrency", value=2)
    mocked_receiver.post(API_URL, status=503)
    for n in range(12):
        _customer(f"C{n}")
    assert _run().status == "FAILED"  # the receiver is down
    for _ in range(3):  # every record now waits out its backoff (the others never tried)
        datasync_scheduled_run()
    ProgressRecord.objects.update(next_attempt_at=timezone.now() + timedelta(hours=1))
    datasync_scheduled_run()
    assert tasks.queued == []
