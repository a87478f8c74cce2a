"""The web pages of inbound sync (DESIGN.md, "Web UI"): who may see what, what a form error
says, the background sync request, and a fixed number of SQL queries per page."""

import pytest
from django.test import TestCase

from syncing.models import Channel, Connection, Notification, SyncJob
from tests.conftest import page_queries
from tests.factories import OrganisationKitIntegrationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def as_anna(client, anna):
    client.force_login(anna)
    return client


def test_the_connection_page_shows_status_accounts_and_what_a_guest_may_not_see(
    synced_anna, as_anna
):
    page = as_anna.get(f"/connections/{synced_anna.pk}/").content.decode()

    assert "Energy Co" in page
    assert f'data-connection-status="{synced_anna.pk}" data-status="SUCCESS"' in page
    assert "Home" in page
    assert "Office" in page
    # Invoices, agreements and users of A1 (owned) are offered, not those of A2 (guest).
    assert f"/connections/{synced_anna.pk}/accounts/A1/invoices/" in page
    assert f"/connections/{synced_anna.pk}/accounts/A2/invoices/" not in page
    assert page.count("Add guest</button>") == 1
    assert "Your contact details at Energy Co" in page


def test_another_users_connection_pages_are_not_found(synced_anna, client, other_user):
    client.force_login(other_user)
    base = f"/connections/{synced_anna.pk}"
    for path in ("/", "/accounts/A1/invoices/", "/services/A1-S1/"):
        assert client.get(base + path).status_code == 404, path
    assert client.post(base + "/sync/").status_code == 404
    assert not synced_anna.sync_jobs.filter(status__in=SyncJob.ACTIVE).exists()


def test_pages_ask_an_anonymous_visitor_to_sign_in(client, synced_anna):
    response = client.get(f"/connections/{synced_anna.pk}/")
    assert response.status_code == 302
    assert response.url.startswith("/login/")


def test_sync_now_in_the_background_answers_202_and_queues_one_sync(synced_anna, as_anna):
    for _ in range(2):
        with TestCase.captureOnCommitCallbacks(execute=True):
            response = as_anna.post(
                f"/connections/{synced_anna.pk}/sync/", HTTP_ACCEPT="application/json"
            )
        assert response.status_code == 202
        assert response.json() == {"connections": [{"id": synced_anna.pk, "status": "QUEUED"}]}

    assert synced_anna.sync_jobs.filter(status=SyncJob.Status.QUEUED).count() == 1


def test_sync_now_without_javascript_redirects_back_with_a_message(synced_anna, as_anna):
    response = as_anna.post(
        f"/connections/{synced_anna.pk}/sync/", {"next": "https://evil.example.com/"}, follow=True
    )

    # Never to another site: back to the connection's page instead.
    assert response.redirect_chain[-1][0] == f"/connections/{synced_anna.pk}/"
    assert "Sync started" in response.content.decode()


def test_a_guest_of_the_account_gets_403_for_its_invoices(synced_anna, as_anna, partner):
    assert as_anna.get(f"/connections/{synced_anna.pk}/accounts/A2/invoices/").status_code == 403
    assert partner.calls == []


def test_the_invoice_page_lists_the_partners_invoices_with_pdf_links(synced_anna, as_anna):
    page = as_anna.get(f"/connections/{synced_anna.pk}/accounts/A1/invoices/").content.decode()

    assert "INV-2" in page
    assert "INV-1" in page
    assert f"/api/v1/connections/{synced_anna.pk}/accounts/A1/invoices/INV-2/pdf" in page


def test_a_failing_partner_shows_the_cause_on_the_page(synced_anna, as_anna, partner):
    partner.fail("accounts/A1/invoices", 503)

    response = as_anna.get(f"/connections/{synced_anna.pk}/accounts/A1/invoices/")

    assert response.status_code == 502
    assert "HTTP 503" in response.content.decode()


def test_the_service_page_charts_measurements_and_hides_cost_from_a_guest(
    synced_anna, as_anna, partner
):
    owned = as_anna.get(f"/connections/{synced_anna.pk}/services/A1-S1/").content.decode()
    visited = as_anna.get(f"/connections/{synced_anna.pk}/services/A2-S1/").content.decode()

    assert owned.count("<svg") == 2  # measurements and cost
    assert visited.count("<svg") == 1
    assert "Cost is shown to the account's owners only." in visited
    assert "costs/C-A2-S1" not in partner.calls


def test_bad_dates_on_the_service_page_name_the_field(synced_anna, as_anna):
    page = as_anna.get(
        f"/connections/{synced_anna.pk}/services/A1-S1/",
        {"from_date": "2026-11-20", "to_date": "2026-11-01"},
    ).content.decode()

    assert "From must be before To" in page


def test_updating_ones_phone_number_from_the_page(synced_anna, as_anna, partner):
    response = as_anna.post(
        f"/connections/{synced_anna.pk}/users/U1/",
        {"phone_number": "+46 70 000 00 00", "email_address": ""},
        follow=True,
    )

    assert "Your contact details are updated" in response.content.decode()
    assert partner.calls[0] == "PATCH users/U1"


def test_a_contact_form_without_any_value_is_refused_before_the_partner_is_asked(
    synced_anna, as_anna, partner
):
    response = as_anna.post(
        f"/connections/{synced_anna.pk}/users/U1/",
        {"phone_number": "", "email_address": ""},
        follow=True,
    )

    assert "Give a phone number, an email address or both." in response.content.decode()
    assert partner.calls == []


def test_adding_a_guest_from_the_page_names_a_bad_field(synced_anna, as_anna, partner):
    response = as_anna.post(
        f"/connections/{synced_anna.pk}/accounts/A1/guests/",
        {"name": "Bo", "email_address": "not-an-email"},
        follow=True,
    )

    assert "Email address: Enter a valid email address." in response.content.decode()
    assert partner.calls == []


def test_connecting_from_the_page_creates_the_connection_and_queues_its_sync(
    anna, kit_integration, as_anna, tasks
):
    identity = anna.verified_identities.get()
    form = as_anna.get("/connections/new/").content.decode()
    assert "Energy Co" in form

    with TestCase.captureOnCommitCallbacks(execute=True):
        response = as_anna.post(
            "/connections/new/",
            {"integration": kit_integration.pk, "identity": identity.pk, "auto_sync": "on"},
        )

    connection = Connection.objects.get(user=anna)
    assert response.url == f"/connections/{connection.pk}/"
    assert connection.sync_jobs.get().kind == SyncJob.Kind.INITIAL
    assert tasks.args_of("syncing.tasks.sync_job_run_task") == [(connection.sync_jobs.get().pk,)]


def test_connecting_without_choosing_names_the_missing_fields(anna, kit_integration, as_anna):
    page = as_anna.post("/connections/new/", {}).content.decode()

    assert page.count("This field is required.") == 2
    assert not Connection.objects.exists()


def test_someone_elses_identity_cannot_be_chosen(anna, other_user, kit_integration, as_anna):
    erik_identity = other_user.verified_identities.get()

    page = as_anna.post(
        "/connections/new/", {"integration": kit_integration.pk, "identity": erik_identity.pk}
    ).content.decode()

    assert "Select a valid choice" in page
    assert not Connection.objects.exists()


def test_notifications_page_and_marking_one_read(synced_anna, as_anna, anna):
    notification = Notification.objects.get()
    assert notification.message in as_anna.get("/notifications/").content.decode()

    as_anna.post(f"/notifications/{notification.pk}/read/")

    notification.refresh_from_db()
    assert notification.read_at is not None
    assert notification.message not in as_anna.get("/").content.decode()


def _connections_for(user, count: int):
    """`count` connections of `user`, each with a finished sync and its channels."""
    identity = user.verified_identities.get()
    for _ in range(count):
        connection = Connection.objects.create(
            user=user, integration=OrganisationKitIntegrationFactory(), identity=identity
        )
        Channel.objects.bulk_create(
            Channel(connection=connection, definition=d) for d in Channel.Definition.values
        )
        SyncJob.objects.create(connection=connection, kind="ALL", status="ERROR", error="x")


def test_the_dashboard_runs_the_same_queries_for_one_connection_as_for_eight(
    anna, as_anna, monkeypatch
):
    monkeypatch.setattr("syncing.services.triggers.sync_on_sign_in", lambda **kwargs: [])
    _connections_for(anna, 1)
    one = page_queries(as_anna, "/")
    _connections_for(anna, 7)
    assert page_queries(as_anna, "/") == one


def test_the_connection_page_runs_the_same_queries_for_two_accounts_as_for_six(
    anna, kit_integration, partner, connect, tasks, as_anna
):
    partner_accounts = dict(partner.accounts)
    connection = connect(anna, kit_integration)
    tasks.run()
    few = page_queries(as_anna, f"/connections/{connection.pk}/")
    for n in range(3, 7):
        partner.accounts[f"A{n}"] = {**partner_accounts["A1"], "id": f"A{n}", "name": f"N{n}"}
        partner.users[f"A{n}"] = partner.users["A1"]
    partner.invoices.update({f"A{n}": [] for n in range(3, 7)})
    with TestCase.captureOnCommitCallbacks(execute=True):
        from syncing.services.sync_jobs import sync_request

        sync_request(connection=connection, kind=SyncJob.Kind.ALL)
    tasks.run()
    assert connection.accounts.count() == 6
    assert page_queries(as_anna, f"/connections/{connection.pk}/") == few


def test_the_admin_lists_syncing_models_read_only_and_syncs_from_an_action(
    synced_anna, client, system_admin, tasks
):
    client.force_login(system_admin)
    for model in ("connection", "syncjob", "event", "account", "notification", "verifiedidentity"):
        response = client.get(f"/admin/syncing/{model}/", {"q": "anna"})
        assert response.status_code == 200, model
        assert client.get(f"/admin/syncing/{model}/add/").status_code == 403, model

    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(
            "/admin/syncing/connection/",
            {"action": "sync_now", "_selected_action": [synced_anna.pk]},
            follow=True,
        )

    assert "1 sync(s) queued" in response.content.decode()
    assert synced_anna.sync_jobs.filter(status=SyncJob.Status.QUEUED, kind="ALL").exists()


def test_starting_bankid_from_the_page_waits_for_the_users_own_order(
    anna, kit_integration, partner, as_anna
):
    from syncing.models import BankIdOrder

    page = as_anna.post(
        "/connections/new/",
        {
            "action": "bankid",
            "bankid-integration": kit_integration.pk,
            "bankid-personal_number": "198001011234",
        },
    ).content.decode()

    assert 'data-order-ref="ORDER-1"' in page
    assert "Open the BankID app on your phone" in page
    order = BankIdOrder.objects.get()
    assert (order.user, order.personal_number) == (anna, "198001011234")


def test_a_bad_personal_number_is_named_before_bankid_is_asked(anna, kit_integration, as_anna):
    page = as_anna.post(
        "/connections/new/",
        {
            "action": "bankid",
            "bankid-integration": kit_integration.pk,
            "bankid-personal_number": "12-34",
        },
    ).content.decode()

    assert "Enter 10 or 12 digits, without a dash." in page
