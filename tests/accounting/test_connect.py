"""Connect and Disconnect of QuickBooks, Xero and Sage on /accounting/{id}/ (DESIGN.md,
"Accounting": connecting an accounting system): state bound to the session and the
integration and used once, PKCE, the tenant, the pick page, revocation, and syncs refused
until connected."""

import base64
import hashlib
import json
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from accounting.connect import DEFAULTS
from accounting.models import AccountingIntegration, SyncRecord
from accounting.services.integrations import accounting_integration_problems
from integration_hub import roles
from integration_hub.models import AuditEntry, Integration, OAuthGrant, SubscriberOwner
from integration_hub.services.credentials import credential_set
from integration_hub.services.errors import SECRET_ROUTING_MESSAGE
from tests.factories import (
    AccountingIntegrationFactory,
    IntegrationFactory,
    SubscriberFactory,
    connected,
)

pytestmark = pytest.mark.django_db

CALLBACK = "/accounting/oauth/callback"
REDIRECT_URI = "http://testserver/accounting/oauth/callback"
BASE_URLS = {
    "XERO": "https://api.xero.com",
    "SAGE": "https://api.accounting.sage.com",
    "QUICKBOOKS_ONLINE": "https://quickbooks.api.intuit.com",
}
CLIENT_ID = "hub-app"
CLIENT_SECRET = "hub-app-secret-value"


def _accounting_integration(integration_type: str) -> AccountingIntegration:
    credential_set(
        key_name=f"{integration_type}-app", client_id=CLIENT_ID, client_secret=CLIENT_SECRET
    )
    app = IntegrationFactory(
        kind=Integration.Kind.ACCOUNTING,
        base_url=BASE_URLS[integration_type],
        auth_type=Integration.AuthType.OAUTH2_AUTHORIZATION_CODE,
        credential_key=f"{integration_type}-app",
    )
    return AccountingIntegrationFactory(integration_type=integration_type, integration=app)


@pytest.fixture
def xero():
    return _accounting_integration("XERO")


@pytest.fixture
def sage():
    return _accounting_integration("SAGE")


@pytest.fixture
def quickbooks():
    return _accounting_integration("QUICKBOOKS_ONLINE")


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


def _connect(client, accounting_integration) -> dict[str, str]:
    """Press Connect: the query of the authorize URL the Owner is sent to."""
    response = client.post(f"/accounting/{accounting_integration.pk}/connect")
    assert response.status_code == 302, response.content
    parts = urlsplit(response["Location"])
    return {key: values[0] for key, values in parse_qs(parts.query).items()} | {
        "_url": response["Location"]
    }


def _token_endpoint(accounting_integration, access="access-1", refresh="refresh-1", status=200):
    body = {"access_token": access, "refresh_token": refresh, "expires_in": 1800}
    if status != 200:
        body = {"error": "invalid_grant"}
    responses.add(
        responses.POST,
        DEFAULTS[accounting_integration.integration_type].token_url,
        json=body,
        status=status,
    )


def _xero_connections(*tenants):
    responses.add(
        responses.GET,
        "https://api.xero.com/connections",
        json=[
            {"id": f"c{n}", "tenantId": tenant_id, "tenantName": name, "tenantType": "ORGANISATION"}
            for n, (tenant_id, name) in enumerate(tenants)
        ],
    )


def _form(call) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(call.request.body).items()}


def _token_calls():
    token_urls = {settings.token_url for settings in DEFAULTS.values()}
    return [call for call in responses.calls if call.request.url in token_urls]


def _page(client, accounting_integration) -> str:
    return client.get(f"/accounting/{accounting_integration.pk}/").content.decode()


# Start


def test_connect_sends_the_owner_to_the_systems_consent_page_with_pkce(owner_client, xero):
    query = _connect(owner_client, xero)

    assert query["_url"].startswith("https://login.xero.com/identity/connect/authorize?")
    assert query["response_type"] == "code"
    assert query["client_id"] == CLIENT_ID
    assert query["redirect_uri"] == REDIRECT_URI
    assert query["scope"] == "offline_access accounting.banktransactions accounting.settings.read"
    assert query["code_challenge_method"] == "S256"
    assert query["state"]


def test_the_integrations_own_urls_and_scope_replace_the_defaults(owner_client, xero):
    Integration.objects.filter(pk=xero.integration_id).update(
        authorize_url="https://sandbox.example.com/xero/authorize", scope="accounting.transactions"
    )

    query = _connect(owner_client, xero)

    assert query["_url"].startswith("https://sandbox.example.com/xero/authorize?")
    assert query["scope"] == "accounting.transactions"


def test_sage_is_sent_to_its_consent_page_with_its_filter_kept(owner_client, sage):
    query = _connect(owner_client, sage)

    assert query["_url"].startswith("https://www.sageone.com/oauth2/auth/central?")
    assert query["filter"] == "apiv3.1"
    assert query["scope"] == "full_access"


def test_a_generic_integration_has_nothing_to_connect(owner_client, accounting_integration):
    response = owner_client.post(f"/accounting/{accounting_integration.pk}/connect", follow=True)

    assert "nothing to connect" in response.content.decode()
    assert "Connect</button>" not in _page(owner_client, accounting_integration)


def test_an_app_not_set_up_for_the_authorization_code_is_refused_with_why(owner_client, xero):
    Integration.objects.filter(pk=xero.integration_id).update(auth_type="API_KEY")

    response = owner_client.post(f"/accounting/{xero.pk}/connect", follow=True)

    assert "OAUTH2_AUTHORIZATION_CODE" in response.content.decode()


# Callback


@responses.activate
def test_xero_connects_its_one_organisation_with_the_pkce_verifier(owner_client, xero):
    query = _connect(owner_client, xero)
    _token_endpoint(xero, access="xero-access")
    _xero_connections(("tenant-a", "Demo Company (US)"))

    response = owner_client.get(
        CALLBACK, {"code": "the-code", "state": query["state"]}, follow=True
    )

    assert response.status_code == 200
    token_call, connections_call = responses.calls
    form = _form(token_call)
    assert form["grant_type"] == "authorization_code"
    assert form["code"] == "the-code"
    assert form["redirect_uri"] == REDIRECT_URI
    digest = hashlib.sha256(form["code_verifier"].encode()).digest()
    assert base64.urlsafe_b64encode(digest).decode().rstrip("=") == query["code_challenge"]
    basic = base64.b64decode(token_call.request.headers["Authorization"].removeprefix("Basic "))
    assert basic.decode() == f"{CLIENT_ID}:{CLIENT_SECRET}"
    assert connections_call.request.headers["Authorization"] == "Bearer xero-access"
    xero.refresh_from_db()
    assert (xero.tenant_id, xero.tenant_name) == ("tenant-a", "Demo Company (US)")
    assert xero.grant.refresh_token == "refresh-1"
    assert xero.grant.access_token == "xero-access"
    page = response.content.decode()
    assert "Connected to Xero: Demo Company (US) (tenant-a)." in page
    assert "Disconnect</button>" in page
    assert "xero-access" not in page
    assert "refresh-1" not in page
    assert AuditEntry.objects.filter(action="accounting_integration.connected").exists()


@responses.activate
def test_a_forged_state_is_refused_and_nothing_is_called_or_stored(owner_client, xero):
    _connect(owner_client, xero)

    response = owner_client.get(CALLBACK, {"code": "the-code", "state": "forged"})

    assert response.status_code == 400
    assert "does not belong to a Connect you started" in response.content.decode()
    assert len(responses.calls) == 0
    assert not OAuthGrant.objects.exists()


@responses.activate
def test_a_callback_without_state_is_refused(owner_client, xero):
    _connect(owner_client, xero)

    assert owner_client.get(CALLBACK, {"code": "the-code"}).status_code == 400
    assert len(responses.calls) == 0


@responses.activate
def test_a_state_is_used_once(owner_client, xero):
    query = _connect(owner_client, xero)
    _token_endpoint(xero)
    _xero_connections(("tenant-a", "Demo"))
    first = owner_client.get(CALLBACK, {"code": "the-code", "state": query["state"]})
    assert first.status_code == 302

    again = owner_client.get(CALLBACK, {"code": "other-code", "state": query["state"]})

    assert again.status_code == 400
    assert len(_token_calls()) == 1
    assert OAuthGrant.objects.count() == 1


@responses.activate
def test_a_state_issued_in_another_session_is_refused(client, owner, make_user, xero):
    """An attacker's own state, slipped to the Owner (or the Owner's, to another user),
    never connects anything: a state is good only in the session it was issued to."""
    other_owner = make_user(roles.OWNER)
    SubscriberOwner.objects.create(user=other_owner, subscriber=xero.subscriber)
    client.force_login(other_owner)
    query = _connect(client, xero)
    client.logout()
    client.force_login(owner)

    response = client.get(CALLBACK, {"code": "the-code", "state": query["state"]})

    assert response.status_code == 400
    assert len(responses.calls) == 0
    xero.refresh_from_db()
    assert not xero.is_connected


@responses.activate
def test_a_state_is_bound_to_the_integration_it_was_issued_for(owner_client, xero, sage):
    """Connect pressed on Xero, then on Sage: each answer connects the integration its state
    names, whatever order the answers come back in."""
    xero_query = _connect(owner_client, xero)
    sage_query = _connect(owner_client, sage)
    _token_endpoint(sage, access="sage-access")
    responses.add(
        responses.GET,
        "https://api.accounting.sage.com/v3.1/businesses",
        json=[{"id": "business-1", "name": "Sage Ltd"}],
    )
    _token_endpoint(xero, access="xero-access")
    _xero_connections(("tenant-a", "Demo"))

    owner_client.get(CALLBACK, {"code": "sage-code", "state": sage_query["state"]})
    owner_client.get(CALLBACK, {"code": "xero-code", "state": xero_query["state"]})

    xero.refresh_from_db()
    sage.refresh_from_db()
    assert (xero.tenant_id, xero.grant.access_token) == ("tenant-a", "xero-access")
    assert (sage.tenant_id, sage.grant.access_token) == ("business-1", "sage-access")


@responses.activate
def test_access_denied_says_so_on_the_page_and_stores_nothing(owner_client, xero):
    query = _connect(owner_client, xero)

    response = owner_client.get(
        CALLBACK, {"error": "access_denied", "state": query["state"]}, follow=True
    )

    assert "Xero is not connected: access was refused (access_denied)" in (
        response.content.decode()
    )
    assert len(responses.calls) == 0
    assert not OAuthGrant.objects.exists()


@responses.activate
def test_quickbooks_connects_the_company_its_realm_id_names(owner_client, quickbooks):
    query = _connect(owner_client, quickbooks)
    _token_endpoint(quickbooks)

    owner_client.get(CALLBACK, {"code": "c", "state": query["state"], "realmId": "9130350"})

    quickbooks.refresh_from_db()
    assert quickbooks.tenant_id == "9130350"
    assert quickbooks.is_connected
    assert len(responses.calls) == 1  # the token call only: the realmId is the tenant


@responses.activate
def test_quickbooks_without_a_realm_id_is_refused_and_stores_nothing(owner_client, quickbooks):
    query = _connect(owner_client, quickbooks)

    response = owner_client.get(CALLBACK, {"code": "c", "state": query["state"]}, follow=True)

    assert "no realmId" in response.content.decode()
    assert len(responses.calls) == 0
    assert not OAuthGrant.objects.exists()
    quickbooks.refresh_from_db()
    assert (quickbooks.tenant_id, quickbooks.is_connected) == ("", False)


@responses.activate
def test_no_tenant_stores_nothing_and_says_why(owner_client, xero):
    query = _connect(owner_client, xero)
    _token_endpoint(xero)
    _xero_connections()

    response = owner_client.get(CALLBACK, {"code": "c", "state": query["state"]}, follow=True)

    assert "gave access to no company" in response.content.decode()
    assert not OAuthGrant.objects.exists()
    xero.refresh_from_db()
    assert not xero.is_connected


@responses.activate
def test_a_refused_code_stores_nothing_and_says_why(owner_client, xero):
    query = _connect(owner_client, xero)
    _token_endpoint(xero, status=400)

    response = owner_client.get(CALLBACK, {"code": "c", "state": query["state"]}, follow=True)

    assert "invalid_grant" in response.content.decode()
    assert not OAuthGrant.objects.exists()


@responses.activate
def test_several_tenants_are_picked_on_a_page_then_stored(owner_client, xero):
    query = _connect(owner_client, xero)
    _token_endpoint(xero, access="xero-access")
    _xero_connections(("tenant-a", "Shop A"), ("tenant-b", "Shop B"))

    picking = owner_client.get(CALLBACK, {"code": "c", "state": query["state"]}, follow=True)

    page = picking.content.decode()
    assert "Shop A" in page
    assert "Shop B" in page
    assert 'name="csrfmiddlewaretoken"' in page
    assert "xero-access" not in page
    assert "refresh-1" not in page
    xero.refresh_from_db()
    assert not xero.is_connected  # nothing until the Owner picks

    done = owner_client.post(
        f"/accounting/{xero.pk}/connect/pick", {"tenant": "tenant-b"}, follow=True
    )

    assert "Connected to Xero: Shop B (tenant-b)." in done.content.decode()
    xero.refresh_from_db()
    assert (xero.tenant_id, xero.tenant_name) == ("tenant-b", "Shop B")
    assert xero.grant.access_token == "xero-access"
    # Picked once: the pending connection is gone.
    assert owner_client.get(f"/accounting/{xero.pk}/connect/pick").status_code == 400


@responses.activate
def test_a_tenant_that_was_not_offered_cannot_be_picked(owner_client, xero):
    query = _connect(owner_client, xero)
    _token_endpoint(xero)
    _xero_connections(("tenant-a", "Shop A"), ("tenant-b", "Shop B"))
    owner_client.get(CALLBACK, {"code": "c", "state": query["state"]})

    owner_client.post(f"/accounting/{xero.pk}/connect/pick", {"tenant": "tenant-evil"})

    xero.refresh_from_db()
    assert not xero.is_connected


@responses.activate
def test_the_pick_of_one_integration_cannot_connect_another(owner_client, xero, sage):
    query = _connect(owner_client, xero)
    _token_endpoint(xero)
    _xero_connections(("tenant-a", "Shop A"), ("tenant-b", "Shop B"))
    owner_client.get(CALLBACK, {"code": "c", "state": query["state"]})

    response = owner_client.post(f"/accounting/{sage.pk}/connect/pick", {"tenant": "tenant-a"})

    assert response.status_code == 400
    sage.refresh_from_db()
    assert not sage.is_connected


@responses.activate
def test_sage_lists_businesses_under_items_and_authenticates_in_the_form_body(owner_client, sage):
    query = _connect(owner_client, sage)
    _token_endpoint(sage, access="sage-access")
    responses.add(
        responses.GET,
        "https://api.accounting.sage.com/v3.1/businesses",
        json={"$items": [{"id": "business-1", "name": "Sage Ltd"}]},
    )

    owner_client.get(CALLBACK, {"code": "c", "state": query["state"]})

    token_call = _token_calls()[0]
    assert "Authorization" not in token_call.request.headers
    form = _form(token_call)
    assert (form["client_id"], form["client_secret"]) == (CLIENT_ID, CLIENT_SECRET)
    sage.refresh_from_db()
    assert (sage.tenant_id, sage.tenant_name) == ("business-1", "Sage Ltd")


@responses.activate
def test_connecting_again_replaces_the_tenant_and_the_grant(owner_client, xero):
    connected(xero)
    old_grant = xero.grant_id
    query = _connect(owner_client, xero)
    _token_endpoint(xero, access="new-access")
    _xero_connections(("tenant-new", "New"))

    owner_client.get(CALLBACK, {"code": "c", "state": query["state"]})

    xero.refresh_from_db()
    assert xero.tenant_id == "tenant-new"
    assert xero.grant_id != old_grant
    assert not OAuthGrant.objects.filter(pk=old_grant).exists()


# Disconnect


@responses.activate
def test_disconnect_revokes_the_grant_and_forgets_it(owner_client, xero):
    connected(xero, refresh_token="refresh-to-revoke")
    grant = xero.grant_id
    responses.add(responses.POST, "https://identity.xero.com/connect/revocation", status=200)

    response = owner_client.post(f"/accounting/{xero.pk}/disconnect", follow=True)

    assert _form(responses.calls[0])["token"] == "refresh-to-revoke"
    assert "Disconnected from Xero." in response.content.decode()
    assert not OAuthGrant.objects.filter(pk=grant).exists()
    xero.refresh_from_db()
    assert (xero.is_connected, xero.tenant_id) == (False, "")
    assert "Not connected" in response.content.decode()


@responses.activate
def test_disconnect_forgets_the_grant_even_when_revocation_fails(owner_client, sage):
    connected(sage)
    responses.add(responses.POST, "https://oauth.accounting.sage.com/revoke", status=500)

    owner_client.post(f"/accounting/{sage.pk}/disconnect")

    sage.refresh_from_db()
    assert not sage.is_connected
    assert not OAuthGrant.objects.exists()
    assert "client_secret" in _form(responses.calls[0])  # Sage: the app in the form body


@responses.activate
def test_quickbooks_revocation_sends_the_token_as_json_as_intuit_asks(owner_client, quickbooks):
    connected(quickbooks, refresh_token="qb-refresh")
    responses.add(
        responses.POST, "https://developer.api.intuit.com/v2/oauth2/tokens/revoke", status=200
    )

    owner_client.post(f"/accounting/{quickbooks.pk}/disconnect")

    call = responses.calls[0]
    assert json.loads(call.request.body)["token"] == "qb-refresh"
    assert call.request.headers["Authorization"].startswith("Basic ")
    assert not OAuthGrant.objects.exists()


# Who may


@pytest.mark.parametrize("action", ["connect", "disconnect"])
def test_a_user_who_is_not_an_owner_is_refused(client, make_user, xero, action):
    connected(xero)
    client.force_login(make_user(roles.SYSTEM_ADMIN, is_staff=True))

    assert client.post(f"/accounting/{xero.pk}/{action}").status_code == 403
    xero.refresh_from_db()
    assert xero.is_connected


@pytest.mark.parametrize("action", ["connect", "disconnect"])
def test_an_owner_of_another_subscriber_gets_404(client, make_user, action):
    xero = _accounting_integration("XERO")
    connected(xero)
    stranger = make_user(roles.OWNER)
    SubscriberOwner.objects.create(user=stranger, subscriber=SubscriberFactory())
    client.force_login(stranger)

    assert client.post(f"/accounting/{xero.pk}/{action}").status_code == 404
    xero.refresh_from_db()
    assert xero.is_connected


def test_connect_and_disconnect_are_posts_only(owner_client, xero):
    assert owner_client.get(f"/accounting/{xero.pk}/connect").status_code == 405
    assert owner_client.get(f"/accounting/{xero.pk}/disconnect").status_code == 405


def test_a_superuser_may_connect_any_integration(client, make_user, xero):
    client.force_login(make_user(is_superuser=True, is_staff=True))

    assert _connect(client, xero)["state"]


# The page, Sync, the API and the admin


def test_the_page_shows_the_system_and_the_connected_company(owner_client, xero):
    assert "Not connected" in _page(owner_client, xero)
    connected(xero)
    AccountingIntegration.objects.filter(pk=xero.pk).update(
        tenant_id="tenant-a", tenant_name="Demo Company"
    )

    page = _page(owner_client, xero)

    assert "Xero for" in page
    assert "Connected to <strong" in page
    assert "Demo Company (tenant-a)" in page
    assert "Disconnect</button>" in page


@pytest.mark.parametrize("integration_type", ["XERO", "SAGE", "QUICKBOOKS_ONLINE"])
def test_a_sync_of_a_system_not_connected_is_400_naming_it(api_as, owner, integration_type):
    accounting_integration = _accounting_integration(integration_type)
    url = (
        f"/Subscriber_{accounting_integration.subscriber_id}/AccountingIntegration/"
        f"Type_{integration_type}/Sync"
    )

    response = api_as(owner).post(url)

    assert response.status_code == 400
    name = accounting_integration.get_integration_type_display()
    assert response.json()["integration"] == [
        f"{name} is not connected: its Owner presses Connect on "
        f"/accounting/{accounting_integration.pk}/."
    ]
    assert not SyncRecord.objects.exists()


def test_a_connected_system_passes_the_sync_checks(xero):
    connected(xero)

    assert accounting_integration_problems(xero) == {}


API = "/api/v1/accounting-integrations/"


def test_the_api_shows_the_tenant_and_whether_it_is_connected(api_as, system_config, xero):
    client = api_as(system_config)
    assert client.get(f"{API}{xero.pk}/").json()["connected"] is False
    connected(xero)

    body = client.get(f"{API}{xero.pk}/").json()

    assert (body["tenantId"], body["connected"]) == ("tenant-1", True)
    assert "grant" not in body


def test_only_system_admin_sets_the_tenant(api_as, system_admin, system_config, xero):
    refused = api_as(system_config).patch(f"{API}{xero.pk}/", {"tenantId": "other"}, format="json")
    assert refused.status_code == 403
    assert refused.json() == {"tenantId": [SECRET_ROUTING_MESSAGE]}

    unchanged = api_as(system_config).patch(
        f"{API}{xero.pk}/", {"tenantId": "", "summarizeData": True}, format="json"
    )
    assert unchanged.status_code == 200

    allowed = api_as(system_admin).patch(f"{API}{xero.pk}/", {"tenantId": "t-9"}, format="json")
    assert allowed.status_code == 200
    assert allowed.json()["tenantId"] == "t-9"


def test_system_config_may_not_create_an_integration_with_a_tenant(api_as, system_config, xero):
    response = api_as(system_config).post(
        API,
        {
            "subscriberId": SubscriberFactory().pk,
            "integrationType": "XERO",
            "integration": xero.integration_id,
            "tenantId": "t-1",
        },
        format="json",
    )

    assert response.status_code == 403
    assert response.json() == {
        "integration": [SECRET_ROUTING_MESSAGE],
        "tenantId": [SECRET_ROUTING_MESSAGE],
    }


def test_pointing_the_integration_at_another_app_forgets_the_grant(api_as, system_admin, xero):
    connected(xero)
    other_app = IntegrationFactory(kind=Integration.Kind.ACCOUNTING)

    api_as(system_admin).patch(f"{API}{xero.pk}/", {"integration": other_app.pk}, format="json")

    xero.refresh_from_db()
    assert not xero.is_connected
    assert not OAuthGrant.objects.exists()


def test_the_admin_never_shows_the_grant_and_shows_the_tenant_read_only_to_others(
    client, system_config, system_admin, xero
):
    connected(xero, refresh_token="refresh-secret-value", access_token="access-secret-value")
    url = f"/admin/accounting/accountingintegration/{xero.pk}/change/"

    client.force_login(system_config)
    page = client.get(url)
    assert page.status_code == 200
    fields = page.context["adminform"].form.fields
    assert "tenant_id" not in fields
    assert "grant" not in fields
    assert "tenant-1" in page.content.decode()
    assert "secret-value" not in page.content.decode()

    client.force_login(system_admin)
    page = client.get(url)
    fields = page.context["adminform"].form.fields
    assert "tenant_id" in fields
    assert "grant" not in fields
    assert "secret-value" not in page.content.decode()
