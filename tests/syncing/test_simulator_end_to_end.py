"""Against the sandbox's Organisation Kit simulator over real HTTP (OAuth2 included): the
BankID identity flow, a full sync, the simulator's data and writes, and a sync run by a real
django-q2 cluster."""

from datetime import date, timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from integration_hub.sandbox.models import OrganisationKitEvent
from syncing.demo import syncing_demo_setup
from syncing.models import Account, Connection, Event, SyncJob, VerifiedIdentity
from syncing.organisation_kit import OrganisationKitClient, PartnerNotFound
from syncing.services.identities import identity_bankid_collect, identity_bankid_start
from syncing.services.sync_jobs import RUN_TASK
from syncing.services.sync_run import sync_job_run
from tests.factories import UserFactory
from tests.reliability.cluster import run_cluster

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def demo(live_server, tasks):
    """The demo's integration and connection for user `owner`, its sync not run yet (the
    ids of the queued sync jobs alongside)."""
    UserFactory(username="owner")
    connection = syncing_demo_setup(base_url=live_server.url)
    return connection, [job_id for (job_id,) in tasks.args_of(RUN_TASK)]


def test_the_bankid_flow_of_the_simulator_verifies_a_personal_number(demo, live_server):
    connection, _ = demo
    user = UserFactory(username="sara")
    integration = connection.integration

    order_ref = identity_bankid_start(
        user=user, integration=integration, personal_number="199002023456"
    )
    assert identity_bankid_collect(user=user, integration=integration, order_ref=order_ref) is None
    kit = OrganisationKitClient.for_integration(integration)
    kit.outbound.post("bankid/complete", json={"orderRef": order_ref}).raise_for_status()
    identity = identity_bankid_collect(user=user, integration=integration, order_ref=order_ref)

    assert (identity.kind, identity.value) == ("PERSONAL_NUMBER", "199002023456")
    # Verified by that organisation's BankID, so for that organisation only.
    assert [(v.method, v.integration) for v in identity.verifications.all()] == [
        ("BANKID", integration)
    ]


def test_only_the_user_who_started_a_bankid_order_may_collect_it(demo):
    from syncing.services.identities import IdentityFlowFailed

    connection, _ = demo
    sara, mallory = UserFactory(username="sara"), UserFactory(username="mallory")
    integration = connection.integration
    order_ref = identity_bankid_start(
        user=sara, integration=integration, personal_number="199002023456"
    )
    kit = OrganisationKitClient.for_integration(integration)
    kit.outbound.post("bankid/complete", json={"orderRef": order_ref}).raise_for_status()

    with pytest.raises(IdentityFlowFailed):
        identity_bankid_collect(user=mallory, integration=integration, order_ref=order_ref)

    assert not VerifiedIdentity.objects.filter(user=mallory).exists()
    assert identity_bankid_collect(user=sara, integration=integration, order_ref=order_ref)


def test_a_full_sync_against_the_simulator_mirrors_owned_and_guest_accounts(demo):
    connection, queued = demo

    job = sync_job_run(job_id=queued.pop())

    assert job.status == SyncJob.Status.SUCCESS, job.error
    roles = dict(Account.objects.filter(connection=connection).values_list("partner_id", "role"))
    assert roles == {"A1001": "OWNER", "A1002": "OWNER", "A1003": "GUEST"}
    owned = Account.objects.get(partner_id="A1001")
    services = [s for loc in owned.locations.all() for s in loc.services.all()]
    assert len({s.type for s in services}) >= 2
    assert all(s.measurement_id and s.cost_id for s in services)
    assert all(s.agreements.exists() and s.products.exists() for s in services)
    assert Event.objects.filter(queue__user=connection.user).last().event_type == "SYNC_ALL_SUCCESS"


def test_the_simulator_serves_a_year_of_invoices_and_hourly_measurements(demo):
    connection, _ = demo
    kit = OrganisationKitClient.for_integration(connection.integration)
    today = timezone.localdate()

    invoices = kit.account_invoices("A1001", from_date=today - timedelta(days=366), to_date=today)
    day = date(2026, 11, 1)
    location = kit.account_locations("A1001")[0]
    service = location["services"][0]
    measured = kit.measurements(service["measurementId"], from_date=day, to_date=day)
    cost = kit.cost(service["costId"], from_date=day, to_date=day)

    assert len(invoices) == 12
    assert {i["status"] for i in invoices} <= {"new", "paid", "overdue"}
    assert invoices[-1]["status"] == "new"
    assert len(measured["values"]) == 24
    assert measured == kit.measurements(service["measurementId"], from_date=day, to_date=day)
    assert len(cost["values"]) == 24
    assert kit.invoice_url("A1001", invoices[0]["id"]).endswith("/stream")
    assert kit.invoice_stream("A1001", invoices[0]["id"]).content.startswith(b"%PDF")
    with pytest.raises(PartnerNotFound):
        kit.account_get("A9999")


def test_the_simulator_accepts_user_updates_added_guests_and_events(demo):
    connection, _ = demo
    kit = OrganisationKitClient.for_integration(connection.integration)

    updated = kit.user_update("U1", phone_number="+46700000000")
    kit.user_add("A1001", user={"name": "New Guest", "emailAddress": "guest@example.com"})
    kit.event_report("A1001", event_type="INVOICE_NEW", timestamp=1763800000, data={"id": "I"})

    assert updated["phoneNumber"] == "+46700000000"
    users = kit.account_users("A1001")
    assert {"New Guest"} <= {u["user"]["name"] for u in users}
    assert next(u for u in users if u["user"]["id"] == "U1")["user"]["phoneNumber"] == (
        "+46700000000"
    )
    assert OrganisationKitEvent.objects.get().event_type == "INVOICE_NEW"


def test_the_simulator_refuses_calls_without_a_token(live_server):
    import requests

    response = requests.get(
        f"{live_server.url}/sandbox/organisation-kit/accounts/A1001", timeout=10
    )

    assert response.status_code == 401


def test_the_identity_command_verifies_an_email_of_a_user():
    UserFactory(username="ada")

    call_command("identity", "verify", "ada", "--email", "Ada@Example.com")

    assert VerifiedIdentity.objects.get().value == "ada@example.com"


@pytest.mark.cluster
def test_a_real_cluster_runs_the_initial_sync_against_the_simulator(demo):
    connection, queued = demo

    with run_cluster() as cluster:
        cluster.enqueue("syncing.tasks.sync_job_run_task", queued.pop())
        cluster.wait_until(
            lambda: Connection.objects.get(pk=connection.pk).status in ("SUCCESS", "ERROR"),
            timeout=90,
        )

    connection.refresh_from_db()
    assert connection.status == "SUCCESS", connection.last_error
    assert connection.accounts.filter(is_present=True).count() == 3


def test_a_user_verifies_themselves_with_bankid_through_the_api_and_then_connects(
    demo, api_as, make_user
):
    connection, _ = demo
    integration = connection.integration
    erik = make_user("Owner", username="erik")
    client = api_as(erik)

    started = client.post(
        "/api/v1/identities/bankid/",
        {"integration": integration.pk, "personalNumber": "197505052345"},
        format="json",
    )
    assert started.status_code == 201, started.content
    order_ref = started.json()["orderRef"]
    collect = {"integration": integration.pk, "orderRef": order_ref}
    pending = client.post("/api/v1/identities/bankid/collect/", collect, format="json").json()
    assert pending == {"status": "pending", "identity": None}
    refused = client.post(
        "/v2.1/connections",
        {"integration": integration.pk, "personalNumber": "197505052345"},
        format="json",
    )
    assert refused.status_code == 403
    kit = OrganisationKitClient.for_integration(integration)
    kit.outbound.post("bankid/complete", json={"orderRef": order_ref}).raise_for_status()

    complete = client.post("/api/v1/identities/bankid/collect/", collect, format="json").json()

    assert complete["status"] == "complete"
    assert complete["identity"]["value"] == "197505052345"
    assert client.get("/api/v1/identities/").json()["count"] == 1
    created = client.post(
        "/v2.1/connections",
        {"integration": integration.pk, "personalNumber": "197505052345"},
        format="json",
    )
    assert created.status_code == 201, created.content


def test_after_a_full_sync_no_invoice_or_measurement_is_in_the_database(demo, api_as):
    """Reference 000: invoices and measurements are never stored. Whatever the hub wrote
    during a full sync and the live reads after it, none of their figures is in any table."""
    from django.apps import apps
    from django.core import serializers

    connection, queued = demo
    assert sync_job_run(job_id=queued.pop()).status == SyncJob.Status.SUCCESS
    owner = api_as(connection.user)
    service = Account.objects.get(partner_id="A1001").locations.first().services.first()
    base = f"/api/v1/connections/{connection.pk}"
    invoices = owner.get(f"{base}/accounts/A1001/invoices/").json()
    measured = owner.get(f"{base}/services/{service.partner_id}/measurements/").json()
    cost = owner.get(f"{base}/services/{service.partner_id}/cost/").json()
    assert len(invoices) == 12
    assert measured["values"]
    assert cost["values"]

    stored = "".join(
        serializers.serialize("json", model.objects.all())
        for model in apps.get_models()
        if model._meta.app_label in ("syncing", "integration_hub", "django_q")
    )
    for invoice in invoices:
        assert f'"{invoice["amount"]}"' not in stored
    figures = {point["value"] for point in measured["values"] + cost["values"]}
    assert not {value for value in figures if f'"{value}"' in stored}
    # What is kept: the last seen status of the invoices of the owned accounts, and the
    # notifications of the latest (new) invoices.
    assert connection.notifications.filter(kind="INVOICE_NEW").exists()
