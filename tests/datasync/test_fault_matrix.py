"""The fault matrix against a real local receiver over HTTP: every fault fails the run, keeps
the records queued in order and says why in the run history."""

import socket

import pytest

from datasync.models import ProgressRecord, SyncRun
from datasync.services.run import datasync_run
from integration_hub.selectors import default_subscriber
from integration_hub.services.customers import customer_create, customer_update
from integration_hub.services.system_settings import setting_set

from .conftest import datasync_configure
from .receiver import Behaviour

pytestmark = pytest.mark.django_db


def _queue_two_changes():
    customer = customer_create(subscriber=default_subscriber(), customer_id="C1")
    customer_update(customer=customer, first_name="Ada")


def _run():
    return datasync_run(trigger=SyncRun.Trigger.COMMAND, honour_backoff=False)


@pytest.mark.parametrize(
    ("behaviour", "status_code", "words"),
    [
        (Behaviour(status=500, body=b"boom"), 500, "boom"),
        (Behaviour(status=404, body=b"no such endpoint"), 404, "no such endpoint"),
        (
            Behaviour(status=301, headers={"Location": "https://elsewhere.example/"}),
            301,
            "redirect not followed",
        ),
        (
            Behaviour(status=429, headers={"Retry-After": "120"}, body=b"slow down"),
            429,
            "slow down",
        ),
        (Behaviour(status=410, body=b"gone"), 410, "gone"),
    ],
    ids=["500", "404", "301", "429", "410"],
)
def test_a_receiver_answering_an_error_leaves_the_records_queued_and_names_the_cause(
    local_receiver, behaviour, status_code, words
):
    datasync_configure(
        api_url=local_receiver.base_url + "/api", token_url=local_receiver.base_url + "/token"
    )
    _queue_two_changes()
    local_receiver.behaviour = behaviour
    run = _run()
    assert run.status == "FAILED"
    assert run.last_status_code == status_code
    assert words in run.last_error
    assert len(local_receiver.deliveries) == 1  # the customer's second record waited
    assert list(ProgressRecord.objects.values_list("action", "attempts")) == [
        ("CREATE", 1),
        ("UPDATE", 0),
    ]
    local_receiver.behaviour = Behaviour()
    assert _run().sent == 2
    actions = [m["action"] for m in local_receiver.messages()]
    assert actions == ["CUSTOMERCRE", "CUSTOMERCRE", "CUSTOMERMOD"]


def test_a_receiver_that_answers_429_sets_the_next_attempt_after_retry_after(local_receiver):
    from django.utils import timezone

    datasync_configure(
        api_url=local_receiver.base_url + "/api", token_url=local_receiver.base_url + "/token"
    )
    _queue_two_changes()
    local_receiver.behaviour = Behaviour(status=429, headers={"Retry-After": "900"})
    _run()
    record = ProgressRecord.objects.order_by("id").first()
    assert (record.next_attempt_at - timezone.now()).total_seconds() > 890


def test_a_receiver_that_hangs_past_the_timeout_fails_the_run(local_receiver):
    datasync_configure(
        api_url=local_receiver.base_url + "/api", token_url=local_receiver.base_url + "/token"
    )
    setting_set(key="OutboundTimeoutSeconds", value=1)
    _queue_two_changes()
    local_receiver.behaviour = Behaviour(hang_seconds=10)
    run = _run()
    assert run.status == "FAILED"
    assert run.last_status_code is None
    assert "did not answer within" in run.last_error
    assert ProgressRecord.objects.count() == 2
    assert ProgressRecord.objects.order_by("id").first().attempts == 1


def test_a_refused_connection_fails_the_run(db):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # Nothing listens on `port` any more: the token endpoint and the API both refuse.
    datasync_configure(
        api_url=f"http://127.0.0.1:{port}/api", token_url=f"http://127.0.0.1:{port}/token"
    )
    _queue_two_changes()
    run = _run()
    assert run.status == "FAILED"
    # The token endpoint is asked first: the run says that it refused the connection.
    assert f"127.0.0.1:{port}/token failed: Connection refused" in run.last_error
    assert ProgressRecord.objects.count() == 2


def test_a_receiver_that_refuses_the_api_connection_counts_an_attempt(local_receiver):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    datasync_configure(
        api_url=f"http://127.0.0.1:{port}/api", token_url=local_receiver.base_url + "/token"
    )
    _queue_two_changes()
    run = _run()
    assert run.status == "FAILED"
    assert f"127.0.0.1:{port}/api failed: Connection refused" in run.last_error
    assert ProgressRecord.objects.order_by("id").first().attempts == 1


def test_a_revoked_token_is_replaced_once_on_a_401(local_receiver):
    datasync_configure(
        api_url=local_receiver.base_url + "/api", token_url=local_receiver.base_url + "/token"
    )
    _queue_two_changes()
    local_receiver.behaviour = Behaviour(valid_token="token-1")
    assert _run().sent == 2
    local_receiver.behaviour = Behaviour(valid_token="token-2")  # token-1 revoked
    customer_update(
        customer=default_subscriber().customers.get(customer_id="C1"), first_name="Grace"
    )
    run = _run()
    assert (run.status, run.sent) == ("SUCCEEDED", 1)
    assert local_receiver.tokens_issued == 2
