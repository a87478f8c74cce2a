"""OAuth authorization code grants: the authorize URL with PKCE, the code exchange, the
access token cached per grant, refresh with rotation, the 401 retry, revocation, and the
integration fields that say where the grant goes."""

import base64
import hashlib
import logging
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
from django.utils import timezone

from integration_hub.models import Integration, OAuthGrant
from integration_hub.outbound import OutboundClient, OutboundPolicyError, OutboundTokenError
from integration_hub.services.credentials import credential_set
from integration_hub.services.errors import SECRET_ROUTING_MESSAGE
from integration_hub.services.oauth_grants import (
    oauth_authorization_start,
    oauth_code_exchange,
    oauth_grant_revoke,
)
from tests.factories import IntegrationFactory, OAuthGrantFactory

pytestmark = pytest.mark.django_db

API = "https://api.books.example.com"
TOKEN_URL = "https://identity.books.example.com/connect/token"
AUTHORIZE_URL = "https://login.books.example.com/authorize?filter=apiv3.1"
REVOKE_URL = "https://identity.books.example.com/connect/revocation"
REDIRECT_URI = "https://hub.example.com/accounting/oauth/callback"
CLIENT_ID = "books-app"
CLIENT_SECRET = "books-app-secret-value"


@pytest.fixture
def app():
    """An ACCOUNTING integration of the authorization code type with the app's credential."""
    credential_set(key_name="books-app", client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    return IntegrationFactory(
        kind=Integration.Kind.ACCOUNTING,
        base_url=API,
        auth_type=Integration.AuthType.OAUTH2_AUTHORIZATION_CODE,
        credential_key="books-app",
    )


def _form(call) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(call.request.body).items()}


def _basic(call) -> tuple[str, str]:
    header = call.request.headers.get("Authorization", "")
    assert header.startswith("Basic ")
    client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
    return client_id, secret


def _token(access: str, refresh: str | None = None, expires_in: int = 1800):
    body = {"access_token": access, "token_type": "Bearer", "expires_in": expires_in}
    if refresh is not None:
        body["refresh_token"] = refresh
    return responses.Response(responses.POST, TOKEN_URL, json=body)


def test_the_authorize_url_asks_for_a_code_with_state_scope_and_an_s256_challenge(app):
    start = oauth_authorization_start(
        integration=app,
        authorize_url=AUTHORIZE_URL,
        redirect_uri=REDIRECT_URI,
        scope="offline_access accounting.banktransactions",
    )

    parts = urlsplit(start.url)
    query = {key: values[0] for key, values in parse_qs(parts.query).items()}
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == AUTHORIZE_URL.split("?")[0]
    assert query.pop("filter") == "apiv3.1"  # the authorize URL's own query is kept
    challenge = base64.urlsafe_b64encode(hashlib.sha256(start.code_verifier.encode()).digest())
    assert query == {
        "response_type": "code",
        "client_id": CLIENT_ID,
        "redirect_uri": REDIRECT_URI,
        "scope": "offline_access accounting.banktransactions",
        "state": start.state,
        "code_challenge": challenge.decode().rstrip("="),
        "code_challenge_method": "S256",
    }
    assert 43 <= len(start.code_verifier) <= 128
    assert CLIENT_SECRET not in start.url


def test_two_starts_never_share_a_state_or_a_verifier(app):
    first, second = (
        oauth_authorization_start(
            integration=app, authorize_url=AUTHORIZE_URL, redirect_uri=REDIRECT_URI, scope=""
        )
        for _ in range(2)
    )

    assert first.state != second.state
    assert first.code_verifier != second.code_verifier


@responses.activate
def test_the_code_is_exchanged_with_its_verifier_and_the_app_authenticates_by_http_basic(app):
    responses.add(_token("access-1", "refresh-1"))

    grant = oauth_code_exchange(
        integration=app,
        token_url=TOKEN_URL,
        client_auth=OAuthGrant.ClientAuth.BASIC,
        code="the-code",
        redirect_uri=REDIRECT_URI,
        code_verifier="v" * 64,
    )

    call = responses.calls[0]
    assert _form(call) == {
        "grant_type": "authorization_code",
        "code": "the-code",
        "redirect_uri": REDIRECT_URI,
        "code_verifier": "v" * 64,
    }
    assert _basic(call) == (CLIENT_ID, CLIENT_SECRET)
    grant.refresh_from_db()
    assert (grant.refresh_token, grant.access_token) == ("refresh-1", "access-1")
    assert grant.origin == "https://api.books.example.com:443"
    assert grant.integration == app


@responses.activate
def test_sage_style_client_authentication_sends_the_id_and_secret_in_the_form_body(app):
    responses.add(_token("access-1", "refresh-1"))

    oauth_code_exchange(
        integration=app,
        token_url=TOKEN_URL,
        client_auth=OAuthGrant.ClientAuth.BODY,
        code="the-code",
        redirect_uri=REDIRECT_URI,
        code_verifier="v" * 64,
    )

    call = responses.calls[0]
    assert "Authorization" not in call.request.headers
    form = _form(call)
    assert (form["client_id"], form["client_secret"]) == (CLIENT_ID, CLIENT_SECRET)
    assert form["code_verifier"] == "v" * 64


@responses.activate
def test_a_refused_code_stores_no_grant_and_says_why_without_the_secret(app):
    responses.add(responses.POST, TOKEN_URL, status=400, json={"error": "invalid_grant"})

    with pytest.raises(OutboundTokenError) as refused:
        oauth_code_exchange(
            integration=app,
            token_url=TOKEN_URL,
            client_auth=OAuthGrant.ClientAuth.BASIC,
            code="the-code",
            redirect_uri=REDIRECT_URI,
            code_verifier="v" * 64,
        )

    assert "invalid_grant" in str(refused.value)
    assert CLIENT_SECRET not in str(refused.value)
    assert not OAuthGrant.objects.exists()


@responses.activate
def test_calls_with_a_grant_carry_that_grants_access_token(app):
    grant = OAuthGrantFactory(integration=app, access_token="grant-access")
    responses.add(responses.GET, f"{API}/connections", json=[])

    OutboundClient.for_integration(app, grant=grant).get("connections")

    assert responses.calls[0].request.headers["Authorization"] == "Bearer grant-access"


@responses.activate
def test_two_grants_of_one_app_credential_each_get_their_own_token(app):
    """The app's client id and secret are shared by every subscriber; a token is not."""
    first = OAuthGrantFactory(integration=app, access_token="", access_token_expires_at=None)
    second = OAuthGrantFactory(integration=app, access_token="", access_token_expires_at=None)
    responses.add(_token("access-of-first", "refresh-first-2"))
    responses.add(_token("access-of-second", "refresh-second-2"))
    responses.add(responses.GET, f"{API}/books", json={})

    OutboundClient.for_integration(app, grant=first).get("books")
    OutboundClient.for_integration(app, grant=second).get("books")
    OutboundClient.for_integration(app, grant=first).get("books")

    sent = [
        c.request.headers["Authorization"] for c in responses.calls if c.request.url.startswith(API)
    ]
    assert sent == ["Bearer access-of-first", "Bearer access-of-second", "Bearer access-of-first"]
    refreshed_with = [
        _form(c)["refresh_token"] for c in responses.calls if c.request.url == TOKEN_URL
    ]
    assert refreshed_with == [first.refresh_token, second.refresh_token]
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.access_token == "access-of-first"
    assert second.access_token == "access-of-second"


@responses.activate
def test_a_token_near_its_expiry_is_refreshed_and_the_rotated_refresh_token_kept(app):
    grant = OAuthGrantFactory(
        integration=app,
        refresh_token="refresh-1",
        access_token="old-access",
        access_token_expires_at=timezone.now() + timedelta(seconds=30),
    )
    responses.add(_token("new-access", "refresh-2", expires_in=1800))
    responses.add(responses.GET, f"{API}/books", json={})

    OutboundClient.for_integration(app, grant=grant).get("books")

    token_call, api_call = responses.calls
    assert _form(token_call) == {"grant_type": "refresh_token", "refresh_token": "refresh-1"}
    assert _basic(token_call) == (CLIENT_ID, CLIENT_SECRET)
    assert api_call.request.headers["Authorization"] == "Bearer new-access"
    grant.refresh_from_db()
    assert (grant.refresh_token, grant.access_token) == ("refresh-2", "new-access")
    assert grant.access_token_expires_at > timezone.now() + timedelta(minutes=29)
    assert grant.refreshing_until is None


@responses.activate
def test_a_sage_style_grant_refreshes_with_the_id_and_secret_in_the_body(app):
    grant = OAuthGrantFactory(
        integration=app,
        client_auth=OAuthGrant.ClientAuth.BODY,
        refresh_token="refresh-1",
        access_token_expires_at=timezone.now() - timedelta(minutes=1),
    )
    responses.add(_token("new-access", "refresh-2"))
    responses.add(responses.GET, f"{API}/books", json={})

    OutboundClient.for_integration(app, grant=grant).get("books")

    token_call = responses.calls[0]
    assert "Authorization" not in token_call.request.headers
    assert _form(token_call) == {
        "grant_type": "refresh_token",
        "refresh_token": "refresh-1",
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
    }


@responses.activate
def test_a_401_refreshes_the_grants_token_once_and_retries_once(app):
    grant = OAuthGrantFactory(integration=app, refresh_token="refresh-1", access_token="revoked")
    responses.add(responses.GET, f"{API}/books", status=401)
    responses.add(_token("fresh", "refresh-2"))
    responses.add(responses.GET, f"{API}/books", json={"ok": True})

    response = OutboundClient.for_integration(app, grant=grant).get("books")

    assert response.status_code == 200
    sent = [c.request.headers.get("Authorization") for c in responses.calls]
    assert sent[0] == "Bearer revoked"
    assert sent[2] == "Bearer fresh"
    assert len(responses.calls) == 3
    grant.refresh_from_db()
    assert (grant.refresh_token, grant.access_token) == ("refresh-2", "fresh")


@responses.activate
def test_a_second_401_is_answered_to_the_caller_without_another_refresh(app):
    grant = OAuthGrantFactory(integration=app, refresh_token="refresh-1")
    responses.add(responses.GET, f"{API}/books", status=401)
    responses.add(_token("fresh", "refresh-2"))

    response = OutboundClient.for_integration(app, grant=grant).get("books")

    assert response.status_code == 401
    assert [c.request.url for c in responses.calls].count(TOKEN_URL) == 1


@responses.activate
def test_a_refresh_the_token_endpoint_refuses_is_an_outbound_token_error(app):
    grant = OAuthGrantFactory(
        integration=app, access_token_expires_at=timezone.now() - timedelta(minutes=1)
    )
    responses.add(responses.POST, TOKEN_URL, status=400, json={"error": "invalid_grant"})

    with pytest.raises(OutboundTokenError, match="invalid_grant"):
        OutboundClient.for_integration(app, grant=grant).get("books")

    grant.refresh_from_db()
    assert grant.refreshing_until is None  # the lease is given back


def test_a_grants_token_is_never_sent_to_another_origin(app):
    grant = OAuthGrantFactory(integration=app)
    app.base_url = "https://elsewhere.example.com"
    app.save()

    with pytest.raises(OutboundPolicyError):
        OutboundClient.for_integration(app, grant=grant).get("books")


def test_a_grant_of_another_integration_is_refused(app):
    other = OAuthGrantFactory()

    with pytest.raises(ValueError, match="another integration"):
        OutboundClient.for_integration(app, grant=other)


def test_an_authorization_code_integration_without_a_grant_cannot_call(app):
    with pytest.raises(OutboundTokenError, match="connect first"):
        OutboundClient.for_integration(app)


@responses.activate
def test_revoking_posts_the_refresh_token_to_the_revoke_url_and_forgets_the_grant(app):
    grant = OAuthGrantFactory(integration=app, refresh_token="refresh-1")
    responses.add(responses.POST, REVOKE_URL, status=200)

    assert oauth_grant_revoke(grant=grant, revoke_url=REVOKE_URL) is True

    call = responses.calls[0]
    assert _form(call)["token"] == "refresh-1"
    assert _basic(call) == (CLIENT_ID, CLIENT_SECRET)
    assert not OAuthGrant.objects.filter(pk=grant.pk).exists()


@responses.activate
def test_a_failed_revocation_is_logged_and_the_grant_forgotten_all_the_same(app, caplog):
    grant = OAuthGrantFactory(integration=app, refresh_token="refresh-1")
    responses.add(responses.POST, REVOKE_URL, status=503)

    with caplog.at_level(logging.WARNING, logger="integration_hub.outbound"):
        assert oauth_grant_revoke(grant=grant, revoke_url=REVOKE_URL) is False

    assert not OAuthGrant.objects.filter(pk=grant.pk).exists()
    assert "503" in caplog.text
    assert "refresh-1" not in caplog.text


def test_without_a_revoke_url_the_grant_is_only_forgotten(app):
    grant = OAuthGrantFactory(integration=app)

    with responses.RequestsMock():  # any call would fail the test
        oauth_grant_revoke(grant=grant, revoke_url="")

    assert not OAuthGrant.objects.filter(pk=grant.pk).exists()


def test_a_grants_repr_and_str_hold_no_token():
    grant = OAuthGrantFactory(refresh_token="refresh-secret", access_token="access-secret")

    for text in (repr(grant), str(grant)):
        assert "secret" not in text


# The integration's new fields (DESIGN.md, "REST API" and "Roles").

URL = "/api/v1/integrations/"


def test_an_authorization_code_integration_may_leave_its_urls_to_the_accounting_types_default(
    api_as, system_admin
):
    response = api_as(system_admin).post(
        URL,
        {
            "name": "Xero app",
            "kind": "ACCOUNTING",
            "baseUrl": "https://api.xero.com",
            "authType": "OAUTH2_AUTHORIZATION_CODE",
            "credentialKey": "xero-app",
        },
        format="json",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["tokenUrl"], body["authorizeUrl"], body["revokeUrl"], body["scope"]) == (
        "",
        "",
        "",
        "",
    )


def test_system_admin_sets_the_authorize_and_revoke_urls_and_scope(api_as, system_admin):
    integration = IntegrationFactory(kind="ACCOUNTING", base_url=API)
    fields = {
        "authType": "OAUTH2_AUTHORIZATION_CODE",
        "credentialKey": "books-app",
        "authorizeUrl": "https://login.books.example.com/authorize",
        "tokenUrl": TOKEN_URL,
        "revokeUrl": REVOKE_URL,
        "scope": "full_access",
    }

    response = api_as(system_admin).patch(f"{URL}{integration.pk}/", fields, format="json")

    assert response.status_code == 200, response.json()
    assert {key: response.json()[key] for key in fields} == fields


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("authorizeUrl", "https://attacker.example.com/authorize"),
        ("revokeUrl", "https://attacker.example.com/revoke"),
        ("scope", "everything"),
    ],
)
def test_system_config_may_not_decide_where_a_grant_goes(api_as, system_config, field, value):
    integration = IntegrationFactory(kind="ACCOUNTING", base_url=API)

    response = api_as(system_config).patch(f"{URL}{integration.pk}/", {field: value}, format="json")

    assert response.status_code == 403
    assert response.json() == {field: [SECRET_ROUTING_MESSAGE]}


def test_system_config_may_send_the_current_authorize_url_unchanged(api_as, system_config):
    integration = IntegrationFactory(
        kind="ACCOUNTING", base_url=API, authorize_url="https://login.books.example.com/a"
    )

    response = api_as(system_config).patch(
        f"{URL}{integration.pk}/",
        {"authorizeUrl": "https://login.books.example.com/a", "name": "Renamed"},
        format="json",
    )

    assert response.status_code == 200


def test_an_authorize_url_on_a_private_address_is_refused(api_as, system_admin, settings):
    settings.OUTBOUND_ALLOW_PRIVATE_NETWORKS = False
    integration = IntegrationFactory(kind="ACCOUNTING", base_url=API)

    response = api_as(system_admin).patch(
        f"{URL}{integration.pk}/", {"authorizeUrl": "https://10.0.0.5/authorize"}, format="json"
    )

    assert response.status_code == 400
    assert "authorizeUrl" in response.json()


def test_the_admin_shows_where_a_grant_goes_read_only_to_system_config(client, system_config):
    integration = IntegrationFactory(kind="ACCOUNTING", base_url=API)
    client.force_login(system_config)

    page = client.get(f"/admin/integration_hub/integration/{integration.pk}/change/")

    assert page.status_code == 200
    form_fields = page.context["adminform"].form.fields
    for name in ("authorize_url", "revoke_url", "scope", "token_url"):
        assert name not in form_fields


def test_a_refresh_that_finds_a_newer_refresh_token_stored_keeps_the_newer_one(app):
    """Compare and swap: a worker whose lease ran out while another stored rotated tokens
    uses the access token it got but never overwrites the newer refresh token."""
    grant = OAuthGrantFactory(
        integration=app,
        refresh_token="refresh-1",
        access_token_expires_at=timezone.now() - timedelta(minutes=1),
    )

    def token_endpoint(request):
        OAuthGrant.objects.filter(pk=grant.pk).update(refresh_token="refresh-from-another")
        return 200, {}, '{"access_token": "mine", "refresh_token": "refresh-2"}'

    with responses.RequestsMock() as mock:
        mock.add_callback(responses.POST, TOKEN_URL, callback=token_endpoint)
        mock.add(responses.GET, f"{API}/books", json={})
        response = OutboundClient.for_integration(app, grant=grant).get("books")

    assert response.request.headers["Authorization"] == "Bearer mine"
    grant.refresh_from_db()
    assert grant.refresh_token == "refresh-from-another"
