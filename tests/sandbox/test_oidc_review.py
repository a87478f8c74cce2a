"""Second reading of the sandbox's OpenID provider: its OpenID scopes belong to the hub's
sign-in application only, never to the receiver's client credentials grant."""

import base64

import pytest

from integration_hub.sandbox.services import _demo_application_ensure

pytestmark = pytest.mark.django_db


def client_credentials(client, scope: str | None):
    application, secret = _demo_application_ensure()
    basic = base64.b64encode(f"{application.client_id}:{secret}".encode()).decode()
    body = {"grant_type": "client_credentials", **({"scope": scope} if scope else {})}
    return client.post("/sandbox/o/token/", body, HTTP_AUTHORIZATION=f"Basic {basic}")


@pytest.mark.parametrize("scope", ["openid", "email", "openid email", "receive openid"])
def test_the_receivers_client_credentials_get_no_openid_scope(client, scope):
    response = client_credentials(client, scope)

    assert response.status_code == 400, response.content
    assert response.json()["error"] == "invalid_scope"


def test_the_receivers_client_credentials_token_still_works_and_opens_no_userinfo(client):
    response = client_credentials(client, None)

    assert response.status_code == 200, response.content
    assert response.json()["scope"] == "receive"
    token = response.json()["access_token"]
    userinfo = client.get("/sandbox/oidc/userinfo/", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert userinfo.status_code in (401, 403)
