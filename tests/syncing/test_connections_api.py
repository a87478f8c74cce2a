"""/v2.1/ connections, synchronisation and queues, and the mirror under /api/v1/."""

import pytest

from syncing.models import Connection, SyncJob

pytestmark = pytest.mark.django_db


@pytest.fixture
def synced_connection(anna, kit_integration, partner, connect, tasks):
    connection = connect(anna, kit_integration)
    tasks.run()
    return connection


def test_creating_a_connection_answers_201_and_queues_its_initial_sync(
    anna, kit_integration, api_as, tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api_as(anna).post(
            "/v2.1/connections",
            {"integration": kit_integration.pk, "personalNumber": "198001011234"},
            format="json",
        )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["id"] == str(Connection.objects.get().pk)
    assert body["provider_id"] == str(kit_integration.pk)
    assert body["name"] == "Energy Co"
    assert (body["status"], body["auto_sync"]) == ("PENDING", True)
    assert [c["channel_definition_id"] for c in body["channels"]] == [
        "accounts",
        "users",
        "locations",
        "agreements",
        "products",
        "invoices",
    ]
    assert isinstance(body["creation_date"], int)
    job = SyncJob.objects.get()
    assert (job.kind, job.status) == ("INITIAL", "QUEUED")
    assert tasks.args_of("syncing.tasks.sync_job_run_task") == [(job.pk,)]


def test_a_connection_through_an_identity_the_user_has_not_verified_is_refused(
    anna, kit_integration, api_as
):
    for body in (
        {"integration": kit_integration.pk, "personalNumber": "197505052345"},
        {"integration": kit_integration.pk, "email": "anna@x.se"},
    ):
        response = api_as(anna).post("/v2.1/connections", body, format="json")
        assert response.status_code == 403, response.content
    assert not Connection.objects.exists()


def test_a_user_without_any_verified_identity_cannot_connect(plain_user, kit_integration, api_as):
    response = api_as(plain_user).post(
        "/v2.1/connections", {"integration": kit_integration.pk}, format="json"
    )

    assert response.status_code == 403


def test_connecting_to_an_integration_that_is_not_an_organisation_kit_is_a_400(anna, api_as):
    from tests.factories import IntegrationFactory

    webhook = IntegrationFactory()

    response = api_as(anna).post("/v2.1/connections", {"integration": webhook.pk}, format="json")

    assert response.status_code == 400
    assert "integration" in response.json()


def test_a_synced_connection_reads_with_its_channels_in_unix_seconds(
    anna, synced_connection, api_as
):
    response = api_as(anna).get(f"/v2.1/connections/{synced_connection.pk}/")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "SUCCESS"
    accounts = body["channels"][0]
    assert accounts["status"] == "SUCCESS"
    assert accounts["last_success_date"] == accounts["last_end_date"]
    assert accounts["last_success_date"] >= body["creation_date"]


def test_users_see_only_their_own_connections_and_queues(
    anna, other_user, synced_connection, api_as
):
    client = api_as(other_user)

    assert client.get("/v2.1/connections").json() == []
    assert client.get(f"/v2.1/connections/{synced_connection.pk}").status_code == 404
    assert client.post(f"/v2.1/connections/{synced_connection.pk}/synchronize").status_code == 404
    assert client.get(f"/api/v1/connections/{synced_connection.pk}/accounts/").status_code == 404
    assert client.get("/v2.1/queues").json() == []
    anna_queue = api_as(anna).get("/v2.1/queues").json()[0]["id"]
    assert client.get(f"/v2.1/queues/{anna_queue}").status_code == 404
    assert [c["id"] for c in api_as(anna).get("/v2.1/connections").json()] == [
        str(synced_connection.pk)
    ]


def test_synchronizing_one_connection_answers_204_and_queues_the_type(
    anna, synced_connection, api_as, tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api_as(anna).post(
            f"/v2.1/connections/{synced_connection.pk}/synchronize?type=LIST_ACCOUNTS"
        )

    assert response.status_code == 204
    assert synced_connection.sync_jobs.get(status="QUEUED").kind == "LIST_ACCOUNTS"
    assert len(tasks.queued) == 1


def test_synchronizing_while_a_sync_runs_answers_204_and_starts_nothing_new(
    anna, synced_connection, api_as, tasks, django_capture_on_commit_callbacks
):
    running = SyncJob.objects.create(connection=synced_connection, kind="ALL", status="RUNNING")

    with django_capture_on_commit_callbacks(execute=True):
        response = api_as(anna).post(f"/v2.1/connections/{synced_connection.pk}/synchronize")

    assert response.status_code == 204
    assert list(synced_connection.sync_jobs.filter(status__in=SyncJob.ACTIVE)) == [running]
    assert tasks.queued == []


def test_an_unknown_synchronization_type_is_a_400(anna, synced_connection, api_as):
    response = api_as(anna).post(f"/v2.1/connections/{synced_connection.pk}/synchronize?type=X")

    assert response.status_code == 400


def test_synchronizing_all_answers_the_links_of_every_connection_of_the_user(
    anna, synced_connection, api_as, tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api_as(anna).post("/v2.1/connections/synchronize")

    assert response.status_code == 200
    assert response.json() == {"connection_links": [f"/v2.1/connections/{synced_connection.pk}"]}
    assert synced_connection.sync_jobs.get(status="QUEUED").kind == "ALL"


def test_queue_events_come_oldest_first_and_after_an_event_id(anna, synced_connection, api_as):
    client = api_as(anna)
    queues = client.get("/v2.1/queues").json()
    assert [q["name"] for q in queues] == ["default"]

    events = client.get(f"/v2.1/queues/{queues[0]['id']}").json()

    assert events[0]["event_type"] == "ACCOUNTS_SEARCH_SUCCESS"
    assert events[-1]["event_type"] == "SYNC_ALL_SUCCESS"
    assert events[-1]["resource_type"] == "CONNECTION"
    assert events[-1]["resource"]["id"] == str(synced_connection.pk)
    ids = [int(e["id"]) for e in events]
    assert ids == sorted(ids)
    later = client.get(f"/v2.1/queues/{queues[0]['id']}?after={events[-2]['id']}").json()
    assert [e["id"] for e in later] == [events[-1]["id"]]
    assert client.get(f"/v2.1/queues/{queues[0]['id']}?after=x").status_code == 400


def test_a_long_queue_is_read_500_events_at_a_time(anna, synced_connection, api_as):
    from syncing.models import Event, EventQueue

    queue = EventQueue.objects.get(user=anna)
    Event.objects.bulk_create(
        Event(queue=queue, event_type="USERS_SUCCESS", resource_type="ACCOUNT") for _ in range(600)
    )
    total = queue.events.count()
    client = api_as(anna)

    first = client.get(f"/v2.1/queues/{queue.pk}").json()
    rest = client.get(f"/v2.1/queues/{queue.pk}?after={first[-1]['id']}").json()

    assert len(first) == 500
    assert len(first) + len(rest) == total
    assert int(rest[0]["id"]) > int(first[-1]["id"])


def test_an_account_owner_sees_everything_and_a_guest_only_locations_services_and_itself(
    anna, synced_connection, api_as
):
    response = api_as(anna).get(f"/api/v1/connections/{synced_connection.pk}/accounts/")

    assert response.status_code == 200
    accounts = {a["id"]: a for a in response.json()["results"]}
    owned, guest = accounts["A1"], accounts["A2"]
    assert (owned["role"], guest["role"]) == ("OWNER", "GUEST")
    owned_service = owned["locations"][0]["services"][0]
    assert owned_service["measurementId"] == "M-A1-S1"
    assert owned_service["costId"] == "C-A1-S1"
    assert owned_service["agreements"][0]["name"] == "Agreement v1"
    assert owned_service["products"][0]["price"] == "1.8500"
    assert {u["role"] for u in owned["users"]} == {"OWNER", "GUEST"}
    guest_service = guest["locations"][0]["services"][0]
    assert guest_service["measurementId"] == "M-A2-S1"
    assert guest_service["costId"] is None
    assert guest_service["agreements"] is None
    assert guest_service["products"] is None
    # A guest sees its own entry (its userId, to update its phone and email), no one else.
    assert [(u["id"], u["role"]) for u in guest["users"]] == [("U1", "GUEST")]


def test_a_guest_only_learns_its_own_user_id_from_the_mirror_and_updates_itself_through_it(
    anna, kit_integration, partner, connect, tasks, api_as
):
    del partner.accounts["A1"]  # Anna is only a GUEST (of A2, owned by Erik)
    connection = connect(anna, kit_integration)
    tasks.run()
    client = api_as(anna)
    mirror = f"/api/v1/connections/{connection.pk}/accounts/"

    [account] = client.get(mirror).json()["results"]
    assert account["role"] == "GUEST"
    [own] = account["users"]
    assert (own["id"], own["role"], own["name"]) == ("U1", "GUEST", "Anna")

    response = client.patch(
        f"/api/v1/connections/{connection.pk}/users/{own['id']}/",
        {"phoneNumber": "+46 70 555 12 12", "emailAddress": "anna@home.se"},
        format="json",
    )

    assert response.status_code == 200, response.content
    assert "PATCH users/U1" in partner.calls
    [own] = client.get(mirror).json()["results"][0]["users"]
    assert (own["id"], own["phoneNumber"], own["emailAddress"]) == (
        "U1",
        "+46 70 555 12 12",
        "anna@home.se",
    )
    # Erik, the account's owner, is neither listed to her nor hers to update.
    other = client.patch(
        f"/api/v1/connections/{connection.pk}/users/U2/", {"phoneNumber": "+4670"}, format="json"
    )
    assert other.status_code == 403


def test_bankid_at_an_integration_that_is_not_an_organisation_kit_is_a_400(anna, api_as):
    from tests.factories import IntegrationFactory

    webhook = IntegrationFactory()

    response = api_as(anna).post(
        "/api/v1/identities/bankid/",
        {"integration": webhook.pk, "personalNumber": "198001011234"},
        format="json",
    )

    assert response.status_code == 400
    assert "integration" in response.json()


def test_a_partner_failing_at_bankid_start_is_a_502(anna, kit_integration, api_as):
    import responses

    with responses.RequestsMock() as mock:
        mock.post("https://kit.example.com/api/bankid/auth", status=503)
        response = api_as(anna).post(
            "/api/v1/identities/bankid/",
            {"integration": kit_integration.pk, "personalNumber": "198001011234"},
            format="json",
        )

    assert response.status_code == 502
