"""Every admin action and custom admin view, for every role: each checks the same permission
as the REST operation (or the job) it mirrors (DESIGN.md, "Roles"). The tables below are the
contract; an action or view that is not in them fails the walk, so a new one is decided on
when it is written."""

import pytest
from django.contrib import admin
from django.contrib.messages import get_messages
from django.test import Client, RequestFactory
from django.urls import reverse
from django_q.models import OrmQ

from accounting.models import Packet, SyncRecord
from integration_hub import roles
from syncing.models import Connection, SyncJob
from tests.factories import (
    AccountingIntegrationFactory,
    OrganisationKitIntegrationFactory,
    SubscriberFactory,
    SubscriberOwnerFactory,
    VerifiedIdentityFactory,
)

pytestmark = pytest.mark.django_db

SA, SC, JA, ROOT = "System Admin", "System Config", "Job Admin", "superuser"
EVERYONE = {SA, SC, JA, ROOT}

# (model, action) → who is offered it. Deleting follows the REST API's DELETE (integrations,
# accounting integrations, customers: System Admin and System Config) or is System Admin's.
ACTIONS = {
    ("accounting.AccountingIntegration", "delete_selected"): {SA, SC, ROOT},
    # Resend in the API: the Owners of the record's subscriber (superusers own every one).
    ("accounting.SyncRecord", "resend_failed_packets"): {ROOT},
    ("auth.Group", "delete_selected"): {SA, ROOT},
    # Lifting a sign-in lockout (audited).
    ("axes.AccessAttempt", "delete_selected"): {SA, ROOT},
    # Replay: what the Data Sync page's Replay and Run now need (Job Admin).
    ("datasync.ProgressRecord", "replay"): {SA, JA, ROOT},
    ("django_q.Failure", "delete_selected"): {SA, ROOT},
    ("django_q.Failure", "resubmit_task"): {SA, JA, ROOT},
    ("django_q.Schedule", "delete_selected"): {SA, ROOT},
    ("django_q.Success", "delete_selected"): {SA, ROOT},
    ("django_q.Success", "resubmit_task"): {SA, JA, ROOT},
    ("integration_hub.Credential", "delete_selected"): {SA, ROOT},
    # Any user revokes their own at /tokens/; System Admin revokes anyone's here.
    ("integration_hub.ApiToken", "revoke_selected"): {SA, ROOT},
    ("integration_hub.Customer", "delete_selected"): {SA, SC, ROOT},
    ("integration_hub.Customer", "merge_selected"): {SA, SC, ROOT},
    ("integration_hub.Integration", "delete_selected"): {SA, SC, ROOT},
    ("integration_hub.Subscriber", "delete_selected"): {SA, ROOT},
    ("integration_hub.User", "delete_selected"): {SA, ROOT},
    ("oauth2_provider.Application", "delete_selected"): {SA, ROOT},
    ("sandbox.ReceivedRequest", "delete_selected"): {SA, ROOT},
    ("sandbox.SandboxReceiver", "delete_selected"): {SA, ROOT},
    # Where an identity provider's client secret goes is a System Admin decision.
    ("syncing.IdentityProvider", "delete_selected"): {SA, ROOT},
    # Sync Account in the API, for any user's connections: System Admin and System Config.
    ("syncing.Connection", "sync_now"): {SA, SC, ROOT},
    # Delivering notifications now is running a job now.
    ("syncing.Notification", "deliver_now"): {SA, JA, ROOT},
}
if admin.site.is_registered(OrmQ):  # django-q2 shows its queue with the ORM broker only
    ACTIONS[("django_q.OrmQ", "delete_selected")] = {SA, ROOT}

# Custom admin views: URL name → (method, POST body) → who gets through (others: 403).
VIEWS = {
    "integration_hub_clusterheartbeat_check_now": {("POST", ()): {SA, JA, ROOT}},
    "integration_hub_customer_import": {("GET", ()): {SA, SC, ROOT}},
    "integration_hub_order_import": {("GET", ()): {SA, SC, ROOT}},
    "integration_hub_systemsetting_category": {
        ("GET", ()): {SA, SC, ROOT},
        ("POST", ()): {SA, SC, ROOT},
    },
    "datasync_page": {
        ("GET", ()): EVERYONE,
        ("POST", (("action", "settings"),)): {SA, SC, ROOT},
        ("POST", (("action", "credentials"),)): {SA, ROOT},
        ("POST", (("action", "sample"),)): {SA, ROOT},  # or System Config and Job Admin
    },
    "datasync_run_now": {("POST", ()): {SA, JA, ROOT}},
}
_VIEW_ARGS = {"integration_hub_systemsetting_category": ["data-sync"]}
_STANDARD_VIEWS = ("_changelist", "_add", "_change", "_delete", "_history", "_autocomplete")


@pytest.fixture
def staff(make_user, django_user_model):
    return {
        SA: make_user(roles.SYSTEM_ADMIN, is_staff=True),
        SC: make_user(roles.SYSTEM_CONFIG, is_staff=True),
        JA: make_user(roles.JOB_ADMIN, is_staff=True),
        ROOT: django_user_model.objects.create_superuser("root", "root@example.com", "pw"),
    }


def _registered():
    return [
        (model._meta.label, model, model_admin)
        for model, model_admin in admin.site._registry.items()
    ]


def _custom_views():
    for _label, _model, model_admin in _registered():
        for pattern in model_admin.get_urls():
            if pattern.name and not pattern.name.endswith(_STANDARD_VIEWS):
                yield pattern.name


def test_the_tables_name_every_action_and_every_custom_view(staff):
    """A new action or view must be added to the tables (with who may use it)."""
    root = staff[ROOT]
    found = set()
    for label, _model, model_admin in _registered():
        request = _request(root)
        found |= {(label, name) for name in model_admin.get_actions(request)}
    assert found == set(ACTIONS)
    assert set(_custom_views()) == set(VIEWS)


def _request(user):
    request = RequestFactory().get("/admin/")
    request.user = user
    return request


@pytest.mark.parametrize("role", sorted(EVERYONE))
def test_each_role_is_offered_exactly_its_actions(staff, role):
    user = staff[role]
    offered = set()
    for label, _model, model_admin in _registered():
        offered |= {(label, name) for name in model_admin.get_actions(_request(user))}

    assert offered == {key for key, allowed in ACTIONS.items() if role in allowed}


@pytest.mark.parametrize("role", sorted(EVERYONE))
def test_each_action_posted_by_each_role_runs_only_where_allowed(staff, role, tasks):
    """An action the role is not offered does not run; an allowed one runs (here on a
    selection that names no row, so it changes nothing)."""
    for (label, action), allowed in ACTIONS.items():
        client = Client()  # a session of its own: no message left over from another action
        client.force_login(staff[role])
        app_label, model_name = label.split(".")
        url = reverse(f"admin:{app_label}_{model_name.lower()}_changelist")
        response = client.post(url, {"action": action, "_selected_action": ["999999999"]})
        assert _action_ran(response, action) is (role in allowed), (label, action, role)


def _action_ran(response, action: str) -> bool:
    """Django runs an action it offers and redirects back (delete_selected first asks for a
    confirmation); one it does not offer is "No action selected." or, for a role offered no
    action at all, the list again (or 403 for a role that may not see the list)."""
    said = [str(m) for m in get_messages(response.wsgi_request)]
    if "No action selected." in said:
        return False
    if action == "delete_selected":
        names = [t.name for t in response.templates or []]
        return any(n.endswith("delete_selected_confirmation.html") for n in names)
    return response.status_code == 302


@pytest.mark.parametrize("role", sorted(EVERYONE))
def test_each_custom_view_answers_each_role_as_its_rest_twin_would(client, staff, role, tasks):
    client.force_login(staff[role])
    for name, calls in VIEWS.items():
        url = reverse(f"admin:{name}", args=_VIEW_ARGS.get(name, []))
        for (method, body), allowed in calls.items():
            response = client.get(url) if method == "GET" else client.post(url, dict(body))
            assert (response.status_code != 403) is (role in allowed), (
                name,
                method,
                body,
                role,
                response.status_code,
            )


def test_system_config_and_job_admin_together_may_send_the_sample(client, make_user, tasks):
    both = make_user(roles.SYSTEM_CONFIG, roles.JOB_ADMIN, is_staff=True)
    client.force_login(both)
    response = client.post(reverse("admin:datasync_page"), {"action": "sample"})
    assert response.status_code == 200


def test_an_owner_is_not_staff_and_reaches_no_admin_page(client, owner):
    client.force_login(owner)
    for name in VIEWS:
        url = reverse(f"admin:{name}", args=_VIEW_ARGS.get(name, []))
        assert client.get(url).status_code == 302  # to the admin's sign-in
        assert client.post(url).status_code == 302


def _connection() -> Connection:
    identity = VerifiedIdentityFactory()
    return Connection.objects.create(
        user=identity.user, integration=OrganisationKitIntegrationFactory(), identity=identity
    )


def test_job_admin_cannot_sync_a_connection_from_the_admin_and_system_config_can(
    client, staff, tasks
):
    connection = _connection()
    url = reverse("admin:syncing_connection_changelist")
    client.force_login(staff[JA])
    client.post(url, {"action": "sync_now", "_selected_action": [connection.pk]})
    assert not SyncJob.objects.exists()

    client.force_login(staff[SC])
    client.post(url, {"action": "sync_now", "_selected_action": [connection.pk]})
    assert SyncJob.objects.filter(connection=connection).count() == 1


def test_resend_in_the_admin_needs_an_owner_of_the_records_subscriber(
    client, make_user, staff, tasks
):
    record = SyncRecord.objects.create(
        accounting_integration=AccountingIntegrationFactory(),
        status="Success",
        requested_at="2026-11-20T10:00:00Z",
    )
    Packet.objects.create(
        sync_record=record,
        key="T1",
        state="Failed",
        content={"date": "2026-11-20", "payments": [], "lines": []},
        idempotency_key="k1",
    )
    stranger = make_user(roles.OWNER, roles.JOB_ADMIN, is_staff=True)
    SubscriberOwnerFactory(user=stranger, subscriber=SubscriberFactory())
    client.force_login(stranger)
    response = client.post(
        reverse("admin:accounting_syncrecord_changelist"),
        {"action": "resend_failed_packets", "_selected_action": [record.pk]},
        follow=True,
    )

    assert f"Record {record.pk}: only the Owners of its subscriber" in response.content.decode()
    assert tasks.queued == []
    assert Packet.objects.get().state == "Failed"
