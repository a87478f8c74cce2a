"""OAuth 2.0 of the sandbox's QuickBooks, Xero and Sage: consent, code with PKCE, each
system's client authentication, refresh rotation, revocation, and the tenants a token
reaches."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from integration_hub.models import Credential
from integration_hub.sandbox import accounting_data as data
from integration_hub.sandbox.models import AccountingApp, AccountingGrant, AccountingToken
from integration_hub.sandbox.services import sandbox_accounting_app_ensure

from .conftest import (
    QUICKBOOKS_REALM,
    REDIRECT_URI,
    SAGE_BUSINESS,
    XERO_TENANTS,
    bearer,
    pkce_pair,
    redirect_params,
)

pytestmark = pytest.mark.django_db


def _exchange(app, client, code, verifier, **overrides):
    return app.token_post(
        client,
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
            **overrides,
        },
    )


@pytest.mark.parametrize("system", data.SYSTEMS)
def test_the_consent_page_names_the_app_the_scope_and_the_companies(client, make_app, system):
    app = make_app(system)
    _, challenge = pkce_pair()

    page = client.get(app.path("authorize_url"), app.authorize_params(challenge))

    assert page.status_code == 200
    html = page.content.decode()
    assert "<strong>Integration Hub</strong> wants to connect to" in html
    for scope in data.DEFAULT_SCOPES[system].split():
        assert f"<code>{scope}</code>" in html
    for company in data.COMPANIES[system]:
        assert company.name in html
    assert 'value="allow">Allow</button>' in html
    assert 'value="deny">Deny</button>' in html


def test_xero_offers_each_organisation_with_the_first_ticked(client, xero):
    _, challenge = pkce_pair()

    html = client.get(xero.path("authorize_url"), xero.authorize_params(challenge)).content
    html = html.decode()

    assert f'name="tenant" value="{XERO_TENANTS[0]}" checked>' in html
    assert f'name="tenant" value="{XERO_TENANTS[1]}">' in html


def test_allow_redirects_with_code_state_and_the_quickbooks_realm(client, quickbooks):
    _, challenge = pkce_pair()

    params = quickbooks.consent(client, challenge)

    assert params["state"] == "st-123"
    assert params["realmId"] == QUICKBOOKS_REALM
    assert len(params["code"]) > 20


@pytest.mark.parametrize("system", data.SYSTEMS)
def test_deny_redirects_with_access_denied_and_the_state(client, make_app, system):
    app = make_app(system)
    _, challenge = pkce_pair()

    response = client.post(
        app.path("authorize_url"), {**app.authorize_params(challenge), "decision": "deny"}
    )

    assert redirect_params(response) == {"error": "access_denied", "state": "st-123"}
    assert AccountingGrant.objects.count() == 0


@pytest.mark.parametrize(
    ("override", "shown"),
    [
        ({"client_id": "nobody"}, "Unknown client_id"),
        ({"redirect_uri": "/accounting/oauth/callback"}, "absolute http(s)"),
        ({"redirect_uri": "ftp://hub.example.com/cb"}, "absolute http(s)"),
    ],
)
def test_an_unknown_client_or_unusable_redirect_uri_is_shown_not_redirected(
    client, xero, override, shown
):
    _, challenge = pkce_pair()

    page = client.get(xero.path("authorize_url"), xero.authorize_params(challenge, **override))

    assert page.status_code == 400
    assert shown in page.content.decode()


@pytest.mark.parametrize(
    ("override", "error"),
    [
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge": ""}, "invalid_request"),
        ({"scope": "accounting.everything"}, "invalid_scope"),
    ],
)
def test_a_bad_authorize_request_goes_back_with_its_error(client, sage, override, error):
    _, challenge = pkce_pair()

    response = client.get(sage.path("authorize_url"), sage.authorize_params(challenge, **override))

    params = redirect_params(response)
    assert params["error"] == error
    assert params["state"] == "st-123"


@pytest.mark.parametrize("system", data.SYSTEMS)
def test_a_code_with_its_verifier_gives_tokens_in_the_systems_shape(client, make_app, system):
    app = make_app(system)

    token = app.connect(client)

    assert token["access_token"]
    assert token["refresh_token"]
    assert token["token_type"].lower() == "bearer"
    assert token["expires_in"] == data.ACCESS_TOKEN_SECONDS[system]
    if system == data.QUICKBOOKS:
        assert token["x_refresh_token_expires_in"] == data.REFRESH_TOKEN_SECONDS[system]
    if system == data.SAGE:
        assert token["refresh_token_expires_in"] == data.REFRESH_TOKEN_SECONDS[system]
    assert not AccountingToken.objects.filter(token_hash=token["access_token"]).exists()


def test_a_code_is_used_once(client, xero):
    verifier, challenge = pkce_pair()
    code = xero.consent(client, challenge)["code"]
    assert _exchange(xero, client, code, verifier).status_code == 200

    again = _exchange(xero, client, code, verifier)

    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"


@pytest.mark.parametrize(
    "override",
    [
        {"code_verifier": "x" * 50},
        {"code_verifier": ""},
        {"redirect_uri": "http://hub.example.com/elsewhere"},
    ],
)
def test_a_wrong_verifier_or_redirect_uri_is_refused_and_spends_the_code(
    client, quickbooks, override
):
    verifier, challenge = pkce_pair()
    code = quickbooks.consent(client, challenge)["code"]

    refused = _exchange(quickbooks, client, code, verifier, **override)
    right_after = _exchange(quickbooks, client, code, verifier)

    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_grant"
    assert right_after.status_code == 400


def test_a_code_older_than_60_seconds_is_refused(client, sage):
    verifier, challenge = pkce_pair()
    code = sage.consent(client, challenge)["code"]
    AccountingGrant.objects.update(code_expires_at=timezone.now() - timedelta(seconds=1))

    response = _exchange(sage, client, code, verifier)

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


@pytest.mark.parametrize("system", data.SYSTEMS)
def test_a_wrong_client_secret_is_invalid_client(client, make_app, system):
    app = make_app(system)
    verifier, challenge = pkce_pair()
    code = app.consent(client, challenge)["code"]

    response = app.token_post(
        client,
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
        },
        secret="wrong",
    )

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_quickbooks_and_xero_refuse_credentials_in_the_body(client, quickbooks, xero):
    for app in (quickbooks, xero):
        response = client.post(
            app.path("token_url"),
            {
                "grant_type": "refresh_token",
                "refresh_token": "anything",
                "client_id": app.client_id,
                "client_secret": app.client_secret,
            },
        )

        assert response.status_code == 401
        assert response.json()["error"] == "invalid_client"
        assert "HTTP Basic" in response.json()["error_description"]


def test_sage_refuses_credentials_as_http_basic(client, sage):
    import base64

    basic = base64.b64encode(f"{sage.client_id}:{sage.client_secret}".encode()).decode()

    response = client.post(
        sage.path("token_url"),
        {"grant_type": "refresh_token", "refresh_token": "anything"},
        HTTP_AUTHORIZATION=f"Basic {basic}",
    )

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


@pytest.mark.parametrize("system", data.SYSTEMS)
def test_every_refresh_rotates_the_refresh_token_and_the_old_one_is_refused(
    client, make_app, system
):
    app = make_app(system)
    first = app.connect(client)

    second = app.token_post(
        client, {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    )
    old_again = app.token_post(
        client, {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    )
    third = app.token_post(
        client, {"grant_type": "refresh_token", "refresh_token": second.json()["refresh_token"]}
    )

    assert second.status_code == 200
    assert second.json()["refresh_token"] != first["refresh_token"]
    assert second.json()["access_token"] != first["access_token"]
    assert old_again.status_code == 400
    assert old_again.json() == {
        "error": "invalid_grant",
        "error_description": "The refresh token is unknown, used or expired.",
    }
    assert third.status_code == 200


def test_another_apps_refresh_token_is_refused(client, xero):
    token = xero.connect(client)
    other_id, other_secret = sandbox_accounting_app_ensure(system=data.XERO, name="Other app")
    other = type(xero)(system=data.XERO, client_id=other_id, client_secret=other_secret)

    response = other.token_post(
        client, {"grant_type": "refresh_token", "refresh_token": token["refresh_token"]}
    )

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_xero_gives_no_refresh_token_without_offline_access(client, xero):
    verifier, challenge = pkce_pair()
    code = xero.consent(client, challenge, scope="accounting.banktransactions")["code"]

    token = _exchange(xero, client, code, verifier).json()

    assert "refresh_token" not in token
    assert token["scope"] == "accounting.banktransactions"


def test_xero_connections_lists_the_organisations_ticked_for_that_token(client, xero):
    one = xero.connect(client)
    both = xero.connect(client, tenants=XERO_TENANTS)

    listed_one = client.get(xero.path("base_url") + "/connections", **bearer(one)).json()
    listed_both = client.get(xero.path("base_url") + "/connections", **bearer(both)).json()

    assert [c["tenantId"] for c in listed_one] == XERO_TENANTS[:1]
    assert [c["tenantId"] for c in listed_both] == XERO_TENANTS
    assert {c["tenantType"] for c in listed_both} == {"ORGANISATION"}
    assert [c["tenantName"] for c in listed_both] == [
        company.name for company in data.COMPANIES[data.XERO]
    ]
    assert all(c["id"] for c in listed_both)


def test_xero_consent_with_no_organisation_ticked_asks_again(client, xero):
    _, challenge = pkce_pair()

    page = client.post(
        xero.path("authorize_url"), {**xero.authorize_params(challenge), "decision": "allow"}
    )

    assert page.status_code == 400
    assert "Tick at least one organisation" in page.content.decode()
    assert AccountingGrant.objects.count() == 0


def test_sage_businesses_lists_the_business_under_items(client, sage):
    token = sage.connect(client)

    response = client.get(sage.path("base_url") + "/v3.1/businesses", **bearer(token))

    assert response.status_code == 200
    assert response.json()["$items"] == [
        {
            "id": SAGE_BUSINESS,
            "displayed_as": "Demo Studio Ltd",
            "$path": f"/businesses/{SAGE_BUSINESS}",
            "name": "Demo Studio Ltd",
        }
    ]


def test_listing_tenants_needs_a_valid_token(client, xero, sage):
    xero_response = client.get(
        xero.path("base_url") + "/connections", HTTP_AUTHORIZATION="Bearer nope"
    )
    sage_response = client.get(sage.path("base_url") + "/v3.1/businesses")

    assert xero_response.status_code == 401
    assert xero_response.json()["Title"] == "Unauthorized"
    assert sage_response.status_code == 401
    assert sage_response.json()[0]["$severity"] == "error"


def test_an_expired_access_token_is_refused(client, xero):
    token = xero.connect(client)
    AccountingToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    response = client.get(xero.path("base_url") + "/connections", **bearer(token))

    assert response.status_code == 401


@pytest.mark.parametrize("system", data.SYSTEMS)
def test_revoking_a_token_ends_the_grant(client, make_app, system):
    app = make_app(system)
    token = app.connect(client)
    if system == data.QUICKBOOKS:  # Intuit's revoke takes JSON
        revoked = client.post(
            app.path("revoke_url"),
            json.dumps({"token": token["refresh_token"]}),
            content_type="application/json",
            HTTP_AUTHORIZATION=app.basic(),
        )
    else:
        revoked = app.token_post(client, {"token": token["refresh_token"]}, url="revoke_url")

    refreshed = app.token_post(
        client, {"grant_type": "refresh_token", "refresh_token": token["refresh_token"]}
    )
    listing = {
        data.QUICKBOOKS: "/v3/company/9341453050/journalentry",
        data.XERO: "/connections",
        data.SAGE: "/v3.1/businesses",
    }[system]
    method = client.post if system == data.QUICKBOOKS else client.get
    used = method(app.path("base_url") + listing, **bearer(token))
    assert revoked.status_code == 200
    assert refreshed.status_code == 400
    assert used.status_code == 401


def test_revoking_needs_the_apps_own_credentials(client, sage):
    token = sage.connect(client)

    refused = sage.token_post(
        client, {"token": token["access_token"]}, url="revoke_url", secret="x"
    )

    assert refused.status_code == 401
    assert AccountingGrant.objects.get().revoked_at is None


def test_the_app_service_is_idempotent_and_keeps_a_working_secret_in_the_store(db):
    client_id, secret = sandbox_accounting_app_ensure(
        system=data.XERO, credential_key="sandbox-xero"
    )
    again_id, again_secret = sandbox_accounting_app_ensure(
        system=data.XERO, credential_key="sandbox-xero"
    )
    Credential.objects.filter(key_name="sandbox-xero").delete()
    reset_id, reset_secret = sandbox_accounting_app_ensure(
        system=data.XERO, credential_key="sandbox-xero"
    )

    assert secret is not None
    assert (again_id, again_secret) == (client_id, None)
    assert reset_id == client_id
    assert reset_secret not in (None, secret)
    stored = Credential.objects.get(key_name="sandbox-xero")
    assert (stored.client_id, stored.client_secret) == (client_id, reset_secret)
    assert AccountingApp.objects.filter(system=data.XERO).count() == 1
    assert secret not in AccountingApp.objects.get().client_secret_hash


def test_a_token_of_one_system_is_refused_by_another(client, quickbooks, sage):
    quickbooks_token = quickbooks.connect(client)

    response = client.get(sage.path("base_url") + "/v3.1/businesses", **bearer(quickbooks_token))

    assert response.status_code == 401
