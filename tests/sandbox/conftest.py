"""The sandbox's accounting systems driven through the Django test client: an app
registered with a system, a consent given, tokens exchanged, and calls made with them."""

import base64
import hashlib
import json
import re
import secrets
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest

from integration_hub.sandbox import accounting_data as data
from integration_hub.sandbox.services import sandbox_accounting_app_ensure

REDIRECT_URI = "http://hub.example.com/accounting/oauth/callback"
XERO_TENANTS = [company.tenant_id for company in data.COMPANIES[data.XERO]]
QUICKBOOKS_REALM = data.COMPANIES[data.QUICKBOOKS][0].tenant_id
SAGE_BUSINESS = data.COMPANIES[data.SAGE][0].tenant_id


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def redirect_params(response) -> dict[str, str]:
    assert response.status_code == 302, response.content
    location = response["Location"]
    assert location.startswith(REDIRECT_URI)
    return {name: values[0] for name, values in parse_qs(urlsplit(location).query).items()}


@dataclass
class App:
    system: str
    client_id: str
    client_secret: str

    @property
    def urls(self) -> dict[str, str]:
        return data.sandbox_accounting_urls(system=self.system, site="http://testserver")

    def path(self, name: str) -> str:
        return urlsplit(self.urls[name]).path

    def token_post(self, client, form: dict, *, secret: str | None = None, url="token_url"):
        """POST a form to the token (or revoke) endpoint, authenticating in the system's
        own style."""
        secret = self.client_secret if secret is None else secret
        if self.system == data.SAGE:
            return client.post(
                self.path(url), {**form, "client_id": self.client_id, "client_secret": secret}
            )
        return client.post(self.path(url), form, HTTP_AUTHORIZATION=self.basic(secret))

    def basic(self, secret: str | None = None) -> str:
        secret = self.client_secret if secret is None else secret
        return "Basic " + base64.b64encode(f"{self.client_id}:{secret}".encode()).decode()

    def authorize_params(self, challenge: str, **overrides) -> dict:
        return {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": REDIRECT_URI,
            "scope": data.DEFAULT_SCOPES[self.system],
            "state": "st-123",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            **overrides,
        }

    def consent(self, client, challenge: str, *, tenants: list[str] | None = None, **overrides):
        """The user presses Allow on the consent page; returns the redirect's parameters."""
        form = {**self.authorize_params(challenge, **overrides), "decision": "allow"}
        if tenants is None and self.system == data.XERO:
            tenants = XERO_TENANTS[:1]  # the page ticks the first organisation
        if tenants is not None:
            form["tenant"] = tenants
        return redirect_params(client.post(self.path("authorize_url"), form))

    def connect(self, client, *, tenants: list[str] | None = None) -> dict:
        """Consent, then exchange the code: the token answer."""
        verifier, challenge = pkce_pair()
        code = self.consent(client, challenge, tenants=tenants)["code"]
        response = self.token_post(
            client,
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": REDIRECT_URI,
                "code_verifier": verifier,
            },
        )
        assert response.status_code == 200, response.content
        return response.json()


@pytest.fixture
def make_app(db):
    def make(system: str) -> App:
        client_id, secret = sandbox_accounting_app_ensure(system=system)
        assert secret is not None
        return App(system=system, client_id=client_id, client_secret=secret)

    return make


@pytest.fixture
def quickbooks(make_app) -> App:
    return make_app(data.QUICKBOOKS)


@pytest.fixture
def xero(make_app) -> App:
    return make_app(data.XERO)


@pytest.fixture
def sage(make_app) -> App:
    return make_app(data.SAGE)


def bearer(token: dict) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token['access_token']}"}


def json_text(body) -> str:
    """`body` as JSON with each Decimal written as a number with its own digits ("108.00"),
    as the hub writes amounts."""

    def mark(value):
        if isinstance(value, Decimal):
            return f"__decimal__{value}__"
        raise TypeError(value)

    return re.sub(r'"__decimal__([-0-9.E+]+)__"', r"\1", json.dumps(body, default=mark))


def post_json(client, path: str, body, *, method: str = "post", **extra):
    payload = body if isinstance(body, (str, bytes)) else json_text(body)
    return getattr(client, method)(path, data=payload, content_type="application/json", **extra)
