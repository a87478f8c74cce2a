"""The sandbox as an OpenID provider over real HTTP, met the way an OpenID client meets it
(Authlib): discovery, the hub's sign-in and a consent page, a code exchanged with PKCE, and an
ID token checked against the published keys."""

import secrets
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt
from joserfc.jwk import KeySet
from oauth2_provider.models import get_application_model

from integration_hub.sandbox.services import sandbox_oidc_client_ensure
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)

DISCOVERY_PATH = "/sandbox/oidc/.well-known/openid-configuration"


class _FormInputs(HTMLParser):
    """The name and value of each <input> of a page's forms (the last one wins)."""

    def __init__(self):
        super().__init__()
        self.values: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        fields = dict(attrs)
        if tag == "input" and fields.get("name") and fields.get("type") != "submit":
            self.values[fields["name"]] = fields.get("value") or ""


def form_inputs(page: str) -> dict[str, str]:
    parser = _FormInputs()
    parser.feed(page)
    return parser.values


@pytest.fixture
def discovery(live_server) -> dict:
    response = requests.get(f"{live_server.url}{DISCOVERY_PATH}", timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def oidc_client(live_server, monkeypatch):
    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")  # the live server speaks http
    return sandbox_oidc_client_ensure(redirect_uri=f"{live_server.url}/identities/callback/")


def session_for(oidc_client, live_server) -> OAuth2Session:
    return OAuth2Session(
        oidc_client.client_id,
        oidc_client.client_secret,
        scope="openid email",
        redirect_uri=f"{live_server.url}/identities/callback/",
        code_challenge_method="S256",
    )


def consent(browser: requests.Session, authorize_url: str, user, *, allow: bool = True) -> dict:
    """The user opens the authorization URL, signs in to the hub on its sign-in page, and
    answers the consent page; the parameters of the redirect back to the client."""
    sign_in = browser.get(authorize_url, timeout=10)
    assert urlsplit(sign_in.url).path == "/login/", sign_in.url
    consent_page = browser.post(
        sign_in.url,
        data={**form_inputs(sign_in.text), "username": user.username, "password": PASSWORD},
        timeout=10,
    )
    assert consent_page.status_code == 200
    assert "Integration Hub (Sandbox ID)" in consent_page.text
    form = form_inputs(consent_page.text)
    if allow:
        form["allow"] = "Authorize"
    answer = browser.post(consent_page.url, data=form, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    return {
        name: values[0]
        for name, values in parse_qs(urlsplit(answer.headers["Location"]).query).items()
    } | {"location": answer.headers["Location"]}


def signed_in_id_token(live_server, discovery, oidc_client, user) -> tuple[dict, dict]:
    """The full flow for `user`: the token answer and the ID token's verified claims."""
    session = session_for(oidc_client, live_server)
    verifier = secrets.token_urlsafe(48)
    nonce = secrets.token_urlsafe(16)
    authorize_url, state = session.create_authorization_url(
        discovery["authorization_endpoint"], nonce=nonce, code_verifier=verifier
    )
    redirect = consent(requests.Session(), authorize_url, user)
    assert redirect["state"] == state
    token = session.fetch_token(
        discovery["token_endpoint"],
        authorization_response=redirect["location"],
        code_verifier=verifier,
        timeout=10,
    )
    keys = KeySet.import_key_set(requests.get(discovery["jwks_uri"], timeout=10).json())
    id_token = jwt.decode(token["id_token"], keys, algorithms=["RS256"])
    jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": discovery["issuer"]},
        aud={"essential": True, "value": oidc_client.client_id},
        nonce={"essential": True, "value": nonce},
        exp={"essential": True},
    ).validate(id_token.claims)
    assert id_token.header["alg"] == "RS256"
    return token, id_token.claims


def test_the_discovery_document_points_at_the_sandbox_provider_and_signs_with_rs256(
    live_server, discovery
):
    base = f"{live_server.url}/sandbox/oidc"

    assert discovery["issuer"] == base
    assert discovery["authorization_endpoint"] == f"{base}/authorize/"
    assert discovery["token_endpoint"] == f"{base}/token/"
    assert discovery["jwks_uri"] == f"{base}/.well-known/jwks.json"
    assert discovery["userinfo_endpoint"] == f"{base}/userinfo/"
    assert "RS256" in discovery["id_token_signing_alg_values_supported"]
    assert "none" not in discovery["id_token_signing_alg_values_supported"]
    assert {"openid", "email"} <= set(discovery["scopes_supported"])
    assert {"email", "email_verified"} <= set(discovery["claims_supported"])
    assert discovery["code_challenge_methods_supported"] == ["S256"]


def test_a_signed_in_user_gets_an_id_token_with_their_email_lower_cased_and_verified(
    live_server, discovery, oidc_client, make_user
):
    user = make_user(email="Ada.Lovelace@Example.COM")

    token, claims = signed_in_id_token(live_server, discovery, oidc_client, user)
    userinfo = requests.get(
        discovery["userinfo_endpoint"],
        headers={"Authorization": f"Bearer {token['access_token']}"},
        timeout=10,
    )

    assert claims["email"] == "ada.lovelace@example.com"
    assert claims["email_verified"] is True
    assert claims["sub"] == str(user.pk)
    assert userinfo.status_code == 200, userinfo.text
    assert userinfo.json() == {
        "sub": str(user.pk),
        "email": "ada.lovelace@example.com",
        "email_verified": True,
    }


def test_a_user_without_an_email_gets_no_email_claim_and_email_verified_false(
    live_server, discovery, oidc_client, make_user
):
    user = make_user(email="")

    _, claims = signed_in_id_token(live_server, discovery, oidc_client, user)

    assert "email" not in claims
    assert claims["email_verified"] is False


def test_a_code_is_refused_with_the_wrong_code_verifier(
    live_server, discovery, oidc_client, make_user
):
    session = session_for(oidc_client, live_server)
    verifier = secrets.token_urlsafe(48)
    authorize_url, _ = session.create_authorization_url(
        discovery["authorization_endpoint"], nonce="n-1", code_verifier=verifier
    )
    redirect = consent(requests.Session(), authorize_url, make_user())

    answer = requests.post(
        discovery["token_endpoint"],
        data={
            "grant_type": "authorization_code",
            "code": redirect["code"],
            "redirect_uri": f"{live_server.url}/identities/callback/",
            "code_verifier": secrets.token_urlsafe(48),
        },
        auth=(oidc_client.client_id, oidc_client.client_secret),
        timeout=10,
    )

    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_grant"
    assert "id_token" not in answer.json()


def test_a_user_who_denies_consent_is_sent_back_with_access_denied(
    live_server, discovery, oidc_client, make_user
):
    session = session_for(oidc_client, live_server)
    authorize_url, state = session.create_authorization_url(
        discovery["authorization_endpoint"], nonce="n-1", code_verifier=secrets.token_urlsafe(48)
    )

    redirect = consent(requests.Session(), authorize_url, make_user(), allow=False)

    assert redirect["error"] == "access_denied"
    assert redirect["state"] == state
    assert "code" not in redirect


@pytest.mark.parametrize(
    "path", ["/sandbox/oidc/applications/", "/sandbox/oidc/applications/register/"]
)
def test_the_application_registration_pages_are_not_offered(live_server, make_user, path):
    user = make_user("System Admin")
    browser = requests.Session()
    sign_in = browser.get(f"{live_server.url}/login/", timeout=10)
    browser.post(
        sign_in.url,
        data={**form_inputs(sign_in.text), "username": user.username, "password": PASSWORD},
        timeout=10,
    )

    assert browser.get(f"{live_server.url}{path}", timeout=10).status_code == 404


def test_the_ensured_client_keeps_its_redirect_uris_and_gets_a_new_secret():
    first = sandbox_oidc_client_ensure(redirect_uri="http://127.0.0.1:8000/identities/callback/")
    second = sandbox_oidc_client_ensure(redirect_uri="http://localhost:8000/identities/callback/")

    application = get_application_model().objects.get(name="Integration Hub (Sandbox ID)")
    assert second.client_id == first.client_id
    assert second.client_secret != first.client_secret
    assert application.redirect_uris.split() == [
        "http://127.0.0.1:8000/identities/callback/",
        "http://localhost:8000/identities/callback/",
    ]
    assert application.algorithm == "RS256"
    assert second.discovery_path == DISCOVERY_PATH
