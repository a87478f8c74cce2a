"""Sync, History and Resend at /Subscriber_{id}/AccountingIntegration/Type_{type}/..."""

from datetime import timedelta

import pytest
import responses
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounting.models import Packet, SyncRecord
from accounting.services.sync import ledger_commit
from integration_hub import roles
from integration_hub.models import ApiToken, Integration, SubscriberOwner
from tests.factories import SubscriberFactory

from .conftest import BOOKS_URL

TOKENS = ApiToken._meta.db_table

pytestmark = pytest.mark.django_db

SCOPE = "/Subscriber_{}/AccountingIntegration/Type_{}"


def _url(accounting_integration, tail="Sync"):
    return (
        SCOPE.format(accounting_integration.subscriber_id, accounting_integration.integration_type)
        + "/"
        + tail
    )


def test_an_owner_starts_a_sync_and_gets_202_with_the_queued_record(
    api_as, owner, accounting_integration, tasks
):
    response = api_as(owner).post(_url(accounting_integration))
    assert response.status_code == 202
    record = SyncRecord.objects.get()
    assert response.json() == {"syncRecordId": record.pk, "status": "Queued"}
    assert record.requested_by == owner
    assert tasks.queued == [("accounting.tasks.sync_record_run", (record.pk,))]


def test_the_paths_answer_with_and_without_a_trailing_slash(
    api_as, owner, accounting_integration, tasks
):
    client = api_as(owner)
    assert client.post(_url(accounting_integration) + "/").status_code == 202
    assert client.get(_url(accounting_integration, "History/")).status_code == 200
    assert client.get(_url(accounting_integration, "History")).status_code == 200


def test_a_second_sync_while_one_is_queued_is_409_with_the_running_record(
    api_as, owner, accounting_integration, tasks
):
    client = api_as(owner)
    first = client.post(_url(accounting_integration)).json()["syncRecordId"]
    response = client.post(_url(accounting_integration))
    assert response.status_code == 409
    assert response.json()["syncRecordId"] == first
    assert response.json()["status"] == "Queued"
    assert SyncRecord.objects.count() == 1


def test_the_database_refuses_two_active_records_of_one_integration(accounting_integration):
    from django.db import IntegrityError, transaction

    SyncRecord.objects.create(
        accounting_integration=accounting_integration,
        status=SyncRecord.Status.IN_PROGRESS,
        requested_at=timezone.now(),
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        SyncRecord.objects.create(
            accounting_integration=accounting_integration,
            status=SyncRecord.Status.QUEUED,
            requested_at=timezone.now(),
        )


def test_an_unknown_type_or_a_type_the_subscriber_lacks_is_404(
    api_as, owner, accounting_integration
):
    client = api_as(owner)
    subscriber = accounting_integration.subscriber_id
    assert client.post(SCOPE.format(subscriber, "FRESHBOOKS") + "/Sync").status_code == 404
    assert client.post(SCOPE.format(subscriber, "XERO") + "/Sync").status_code == 404
    assert client.get(SCOPE.format(subscriber, "XERO") + "/History").status_code == 404


def test_a_disabled_integration_is_400_naming_why(api_as, owner, accounting_integration):
    accounting_integration.enabled = False
    accounting_integration.save()
    response = api_as(owner).post(_url(accounting_integration))
    assert response.status_code == 400
    assert "disabled" in response.json()["enabled"][0]
    assert not SyncRecord.objects.exists()


def test_an_integration_without_its_credentials_is_400(api_as, owner, accounting_integration):
    Integration.objects.filter(pk=accounting_integration.integration_id).update(
        auth_type=Integration.AuthType.API_KEY, credential_key="books"
    )
    response = api_as(owner).post(_url(accounting_integration))
    assert response.status_code == 400
    assert "No credentials" in response.json()["integration"][0]


def test_an_owner_of_another_subscriber_gets_403(api_as, make_user, accounting_integration):
    other_owner = make_user(roles.OWNER)
    SubscriberOwner.objects.create(user=other_owner, subscriber=SubscriberFactory())
    client = api_as(other_owner)
    assert client.post(_url(accounting_integration)).status_code == 403
    assert client.get(_url(accounting_integration, "History")).status_code == 403
    assert not SyncRecord.objects.exists()


def test_a_signed_in_user_who_is_not_an_owner_gets_403_even_as_system_admin(
    api_as, plain_user, system_admin, accounting_integration
):
    assert api_as(plain_user).post(_url(accounting_integration)).status_code == 403
    assert api_as(system_admin).post(_url(accounting_integration)).status_code == 403


def test_the_owner_role_without_owning_this_subscriber_gets_403(
    api_as, make_user, accounting_integration
):
    assert api_as(make_user(roles.OWNER)).post(_url(accounting_integration)).status_code == 403


def test_anonymous_callers_get_401(api_client, accounting_integration):
    assert api_client.post(_url(accounting_integration)).status_code == 401
    assert api_client.get(_url(accounting_integration, "History")).status_code == 401


def test_a_superuser_may_sync_any_subscriber(api_as, make_user, accounting_integration, tasks):
    root = make_user(is_superuser=True)
    assert api_as(root).post(_url(accounting_integration)).status_code == 202


def _record(accounting_integration, minutes_ago, status="Success", packets=()):
    record = SyncRecord.objects.create(
        accounting_integration=accounting_integration,
        status=status,
        requested_at=timezone.now() - timedelta(minutes=minutes_ago),
    )
    for n, state in enumerate(packets):
        Packet.objects.create(
            sync_record=record,
            key=f"T{record.pk}-{n}",
            state=state,
            content={},
            idempotency_key=f"{record.pk}-{n}",
        )
    ledger_commit(sync_record=record)
    return record


def test_history_is_newest_first_with_packets_and_their_states(
    api_as, owner, accounting_integration
):
    old = _record(accounting_integration, 60, packets=["Sent", "Failed"])
    new = _record(accounting_integration, 5, status="Failed")
    response = api_as(owner).get(_url(accounting_integration, "History"))
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert [r["id"] for r in body["results"]] == [new.pk, old.pk]
    assert [p["state"] for p in body["results"][1]["packets"]] == ["Failed", "Sent"]  # failed first
    assert set(body["results"][1]["packets"][0]) == {
        "id",
        "key",
        "state",
        "responseCode",
        "error",
        "externalId",
    }
    assert body["results"][1]["packetCount"] == 2
    assert body["results"][1]["packetCounts"] == {"Pending": 0, "Sent": 1, "Failed": 1}
    assert body["results"][0]["packetCounts"] == {"Pending": 0, "Sent": 0, "Failed": 0}
    assert "Retry-After" not in response.headers


def test_history_since_keeps_the_records_requested_from_then_on(
    api_as, owner, accounting_integration
):
    _record(accounting_integration, 60)
    recent = _record(accounting_integration, 5)
    since = (timezone.now() - timedelta(minutes=10)).isoformat()
    response = api_as(owner).get(_url(accounting_integration, "History"), {"since": since})
    assert [r["id"] for r in response.json()["results"]] == [recent.pk]
    bad = api_as(owner).get(_url(accounting_integration, "History"), {"since": "yesterday"})
    assert bad.status_code == 400
    assert "since" in bad.json()


def test_history_pages_with_page_size(api_as, owner, accounting_integration):
    for minutes in range(5):
        _record(accounting_integration, minutes + 1)
    response = api_as(owner).get(_url(accounting_integration, "History"), {"pageSize": 2})
    body = response.json()
    assert body["count"] == 5
    assert len(body["results"]) == 2
    assert body["next"]


def test_history_asks_to_retry_after_5_seconds_while_a_record_is_queued_or_running(
    api_as, owner, accounting_integration
):
    _record(accounting_integration, 1, status="InProgress")
    response = api_as(owner).get(_url(accounting_integration, "History"))
    assert response.headers["Retry-After"] == "5"


def test_a_history_page_runs_the_same_number_of_queries_for_10_and_100_records(
    api_as, owner, accounting_integration
):
    client = api_as(owner)

    def queries(page_size):
        with CaptureQueriesContext(connection) as captured:
            response = client.get(_url(accounting_integration, "History"), {"pageSize": page_size})
        assert len(response.json()["results"]) == page_size
        # Not the token's last use, written on its first request in a minute only.
        return len([q for q in captured if not q["sql"].startswith(f'UPDATE "{TOKENS}"')])

    for minutes in range(100):
        _record(accounting_integration, minutes + 1, packets=["Sent"])
    assert queries(10) == queries(100)


@responses.activate
def test_resend_endpoint_queues_the_failed_packets_of_a_record(
    api_as, owner, accounting_integration, tasks
):
    responses.post(BOOKS_URL, json={}, status=201)
    record = _record(accounting_integration, 5, packets=["Sent", "Failed"])
    Packet.objects.filter(sync_record=record, state="Failed").update(
        content={"date": "2026-11-20", "payments": [["VISA", 2160]], "lines": []}
    )
    response = api_as(owner).post(_url(accounting_integration, f"History/{record.pk}/Resend"))
    assert response.status_code == 202
    assert response.json() == {"syncRecordId": record.pk, "packetCount": 1}
    tasks.run()
    assert len(responses.calls) == 1
    assert record.packets.filter(state="Sent").count() == 2


def test_resend_of_a_record_of_another_integration_is_404_and_of_a_running_one_400(
    api_as, owner, accounting_integration
):
    from tests.factories import AccountingIntegrationFactory

    other = AccountingIntegrationFactory(integration_type="XERO")
    foreign = _record(other, 5, packets=["Failed"])
    client = api_as(owner)
    assert (
        client.post(_url(accounting_integration, f"History/{foreign.pk}/Resend")).status_code == 404
    )
    running = _record(accounting_integration, 1, status="InProgress")
    response = client.post(_url(accounting_integration, f"History/{running.pk}/Resend"))
    assert response.status_code == 400
    assert "status" in response.json()


@pytest.mark.parametrize(
    ("method", "tail"),
    [("post", "Sync"), ("get", "History"), ("post", "History/1/Resend")],
)
@pytest.mark.parametrize("subscriber_id", ["9" * 18, "9" * 19, "1" + "0" * 40])
def test_a_subscriber_id_beyond_any_id_is_404_never_500(
    api_as, make_user, accounting_integration, method, tail, subscriber_id
):
    client = api_as(make_user(is_superuser=True))
    response = getattr(client, method)(SCOPE.format(subscriber_id, "GENERIC") + "/" + tail)
    assert response.status_code == 404


def test_a_sync_record_id_beyond_any_id_is_404(api_as, owner, accounting_integration):
    response = api_as(owner).post(_url(accounting_integration, f"History/{'9' * 30}/Resend"))
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("since", "count"),
    [("0001-01-01T00:00:00+14:00", 1), ("9999-12-31T23:59:59-14:00", 0)],
)
def test_history_since_at_either_end_of_the_calendar_answers_200(
    api_as, owner, accounting_integration, since, count
):
    _record(accounting_integration, 5)
    response = api_as(owner).get(_url(accounting_integration, "History"), {"since": since})
    assert response.status_code == 200
    assert response.json()["count"] == count


@pytest.mark.parametrize(
    ("page", "answer"), [("0", 400), ("-1", 400), ("1.5", 400), ("9" * 40, 404)]
)
def test_history_page_numbers_are_whole_numbers_of_at_least_1_and_never_500(
    api_as, owner, accounting_integration, page, answer
):
    _record(accounting_integration, 5)
    response = api_as(owner).get(_url(accounting_integration, "History"), {"page": page})
    assert response.status_code == answer
