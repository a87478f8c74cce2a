"""Email verification through OpenID Connect (DESIGN.md, "Connections and inbound sync"),
against a fake provider that signs its own ID tokens: the user presses the provider's button,
comes back to the callback, and only a token that holds in every respect verifies an email.
"""

import base64
import hashlib
import json
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
from django.core.cache import cache
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from syncing.models import IdentityVerification, VerifiedIdentity
from syncing.services.identity_providers import identity_provider_create
from tests.factories import OrganisationKitIntegrationFactory, UserFactory

ISSUER = "https://id.example.com"
DISCOVERY_URL = f"{ISSUER}/.well-known/openid-configuration"
JWKS_URL = f"{ISSUER}/jwks"
TOKEN_URL = f"{ISSUER}/token"
CLIENT_ID = "hub-client"
CLIENT_SECRET = "s3cret-of-the-hub"
SITE = "http://hub.example.com"


class FakeProvider:
    """An OpenID provider: discovery, JWKS and a token endpoint answering with an ID token
    signed by its key, with claims the test may change."""

    def __init__(self, mock: responses.RequestsMock):
        self.key = RSAKey.generate_key(2048, parameters={"kid": "key-1"})
        self.published = [self.key]
        self.signing_key = self.key
        self.algorithm = "RS256"
        self.claims: dict = {}
        self.nonce = None
        self.token_requests = []
        self.jwks_fetches = 0
        self.discovery = {
            "issuer": ISSUER,
            "authorization_endpoint": f"{ISSUER}/authorize",
            "token_endpoint": TOKEN_URL,
            "jwks_uri": JWKS_URL,
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic"],
        }
        mock.add_callback(responses.GET, DISCOVERY_URL, callback=self._discovery)
        mock.add_callback(responses.GET, JWKS_URL, callback=self._jwks)
        mock.add_callback(responses.POST, TOKEN_URL, callback=self._token)

    def _discovery(self, request):
        return 200, {"Content-Type": "application/json"}, json.dumps(self.discovery)

    def _jwks(self, request):
        self.jwks_fetches += 1
        body = KeySet(self.published).as_dict(private=False)
        return 200, {"Content-Type": "application/json"}, json.dumps(body)

    def id_token(self) -> str:
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "sub": "person-1",
            "aud": CLIENT_ID,
            "iat": now,
            "exp": now + 300,
            "nonce": self.nonce,
            "email": "Ada@Example.com",
            "email_verified": True,
        }
        claims.update(self.claims)
        claims = {name: value for name, value in claims.items() if value is not ABSENT}
        if self.algorithm == "none":  # an unsigned token (RFC 7519 6)
            return ".".join([_b64({"alg": "none"}), _b64(claims), ""])
        header = {"alg": self.algorithm, "kid": self.signing_key.kid}
        return jwt.encode(header, claims, self.signing_key, algorithms=[self.algorithm])

    def _token(self, request):
        self.token_requests.append(request)
        body = {"access_token": "at", "token_type": "Bearer", "id_token": self.id_token()}
        return 200, {"Content-Type": "application/json"}, json.dumps(body)


ABSENT = object()


def _b64(value: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


@pytest.fixture(autouse=True)
def site(settings):
    settings.SITE_URL = SITE
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def organisation(db):
    return OrganisationKitIntegrationFactory(name="Energy Co")


@pytest.fixture
def idp(organisation):
    return identity_provider_create(
        name="Example ID",
        discovery_url=DISCOVERY_URL,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        integrations=[organisation],
    )


@pytest.fixture
def fake():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield FakeProvider(mock)


@pytest.fixture
def user(db):
    return UserFactory(username="ada")


@pytest.fixture
def as_user(client, user):
    client.force_login(user)
    return client


def start(client, provider, next_url="/connections/new/") -> dict:
    """Press the provider's button; the authorization request's parameters."""
    response = client.post("/identities/verify/email/", {"provider": provider.pk, "next": next_url})
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == f"{ISSUER}/authorize"
    return {name: values[0] for name, values in parse_qs(location.query).items()}


def come_back(client, fake, params, **claims):
    """The provider signs the person in and sends them back with a code."""
    fake.nonce = params["nonce"]
    fake.claims = claims
    return client.get(
        "/identities/verify/email/callback", {"code": "the-code", "state": params["state"]}
    )


def page_messages(client, response) -> str:
    return client.get(response["Location"]).content.decode()


def verified_emails(user) -> list[str]:
    return list(
        VerifiedIdentity.objects.filter(user=user, kind="EMAIL").values_list("value", flat=True)
    )


def test_an_email_the_provider_verified_becomes_an_identity_for_the_organisations_it_trusts(
    as_user, user, idp, fake, organisation
):
    params = start(as_user, idp)

    assert params["scope"] == "openid email"
    assert params["response_type"] == "code"
    assert params["client_id"] == CLIENT_ID
    assert params["redirect_uri"] == f"{SITE}/identities/verify/email/callback"
    assert params["code_challenge_method"] == "S256"
    assert params["state"]
    assert params["nonce"]
    assert params["state"] != params["nonce"]

    response = come_back(as_user, fake, params)

    assert response.status_code == 302
    assert response["Location"] == "/connections/new/"
    assert "Example ID verified your email ada@example.com" in page_messages(as_user, response)
    identity = VerifiedIdentity.objects.get(user=user)
    assert (identity.kind, identity.value) == ("EMAIL", "ada@example.com")
    verification = identity.verifications.get()
    assert (verification.method, verification.provider) == ("OPENID", idp)
    assert list(VerifiedIdentity.objects.valid_for(organisation)) == [identity]
    assert not VerifiedIdentity.objects.valid_for(OrganisationKitIntegrationFactory()).exists()
    # The code went back with its PKCE verifier, the same redirect URI and the hub's secret.
    (token_request,) = fake.token_requests
    form = parse_qs(token_request.body)
    verifier = form["code_verifier"][0]
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    assert challenge.rstrip(b"=").decode() == params["code_challenge"]
    assert form["redirect_uri"] == [f"{SITE}/identities/verify/email/callback"]
    assert form["code"] == ["the-code"]
    basic = base64.b64decode(token_request.headers["Authorization"].split()[1]).decode()
    assert basic == f"{CLIENT_ID}:{CLIENT_SECRET}"


@pytest.mark.parametrize(
    ("claims", "why"),
    [
        ({"aud": "another-client"}, "aud"),
        ({"aud": ["another-client"]}, "aud"),
        ({"iss": "https://evil.example.com"}, "iss"),
        ({"exp": int(time.time()) - 3600}, "exp"),
        ({"nonce": "a-nonce-of-an-earlier-flow"}, "nonce"),
        ({"nonce": ABSENT}, "nonce"),
        ({"email_verified": False}, "email_verified is false"),
        ({"email_verified": ABSENT}, "email_verified is null"),
        ({"email_verified": "true"}, 'email_verified is "true"'),
    ],
    ids=[
        "wrong-aud",
        "wrong-aud-list",
        "wrong-iss",
        "expired",
        "replayed-nonce",
        "no-nonce",
        "email-not-verified",
        "email-verified-missing",
        "email-verified-a-string",
    ],
)
def test_an_id_token_that_does_not_hold_verifies_nothing(as_user, user, idp, fake, claims, why):
    params = start(as_user, idp)

    response = come_back(as_user, fake, params, **claims)

    assert response.status_code == 302
    page = page_messages(as_user, response)
    assert "Email not verified" in page
    assert why in page.replace("&quot;", '"')
    assert verified_emails(user) == []


def test_a_token_signed_with_another_key_under_the_published_kid_verifies_nothing(
    as_user, user, idp, fake
):
    fake.signing_key = RSAKey.generate_key(2048, parameters={"kid": "key-1"})
    params = start(as_user, idp)

    page = page_messages(as_user, come_back(as_user, fake, params))

    assert "signature does not verify" in page
    assert verified_emails(user) == []


def test_an_unknown_kid_fetches_the_key_set_once_more_then_fails(as_user, user, idp, fake):
    fake.signing_key = RSAKey.generate_key(2048, parameters={"kid": "key-unpublished"})
    params = start(as_user, idp)

    page = page_messages(as_user, come_back(as_user, fake, params))

    assert "signed with a key the provider does not publish" in page
    assert fake.jwks_fetches == 2  # the cached set, then once again: never a third time
    assert verified_emails(user) == []


def test_a_rotated_key_is_found_by_fetching_the_key_set_again(as_user, user, idp, fake):
    params = start(as_user, idp)
    # A first verification caches the key set...
    come_back(as_user, fake, params)
    assert fake.jwks_fetches == 1
    # ...then the provider rotates its key: the cached set lacks the new kid.
    rotated = RSAKey.generate_key(2048, parameters={"kid": "key-2"})
    fake.published, fake.signing_key = [rotated], rotated
    VerifiedIdentity.objects.all().delete()

    params = start(as_user, idp)
    come_back(as_user, fake, params)

    assert fake.jwks_fetches == 2
    assert verified_emails(user) == ["ada@example.com"]


def test_an_unsigned_token_verifies_nothing_even_if_the_discovery_lists_none(
    as_user, user, idp, fake
):
    fake.discovery["id_token_signing_alg_values_supported"] = ["none", "RS256"]
    fake.algorithm = "none"
    params = start(as_user, idp)

    response = come_back(as_user, fake, params)

    assert "signature does not verify" in page_messages(as_user, response)
    assert verified_emails(user) == []


def test_a_discovery_that_lists_only_none_is_refused_before_the_user_leaves(
    as_user, user, idp, fake
):
    fake.discovery["id_token_signing_alg_values_supported"] = ["none"]

    response = as_user.post("/identities/verify/email/", {"provider": idp.pk})

    assert response.status_code == 302
    assert "lists no ID token signing algorithm" in page_messages(as_user, response)


def test_a_forged_state_verifies_nothing_and_calls_no_token_endpoint(as_user, user, idp, fake):
    start(as_user, idp)

    response = as_user.get(
        "/identities/verify/email/callback", {"code": "stolen", "state": "forged-state"}
    )

    assert response.status_code == 302
    assert "does not belong to a verification you started here" in page_messages(as_user, response)
    assert fake.token_requests == []
    assert verified_emails(user) == []


def test_a_callback_is_used_once(as_user, user, idp, fake):
    params = start(as_user, idp)
    come_back(as_user, fake, params)
    VerifiedIdentity.objects.all().delete()

    replayed = come_back(as_user, fake, params)

    assert "does not belong to a verification you started here" in page_messages(as_user, replayed)
    assert len(fake.token_requests) == 1
    assert verified_emails(user) == []


def test_another_users_callback_verifies_nothing_for_them(client, idp, fake):
    ada, eve = UserFactory(username="ada"), UserFactory(username="eve")
    client.force_login(ada)
    params = start(client, idp)
    client.force_login(eve)  # a new session: Ada's state is not in it

    come_back(client, fake, params)

    assert not VerifiedIdentity.objects.exists()


def test_a_declined_consent_verifies_nothing(as_user, user, idp, fake):
    params = start(as_user, idp)

    response = as_user.get(
        "/identities/verify/email/callback", {"error": "access_denied", "state": params["state"]}
    )

    assert "Example ID said no (you declined)" in page_messages(as_user, response)
    assert fake.token_requests == []
    assert verified_emails(user) == []


def test_emails_compare_case_insensitively_when_connecting(as_user, user, idp, fake, organisation):
    come_back(as_user, fake, start(as_user, idp), email="ADA@EXAMPLE.COM")

    with responses.RequestsMock(assert_all_requests_are_fired=False):
        response = as_user.post(
            "/v2.1/connections",
            {"integration": organisation.pk, "email": "Ada@example.COM"},
            content_type="application/json",
        )

    assert response.status_code == 201, response.content


def test_a_provider_at_a_private_address_is_refused_by_the_network_policy(
    as_user, user, organisation, settings
):
    settings.OUTBOUND_ALLOW_PRIVATE_NETWORKS = False
    provider = identity_provider_create(
        name="Inside",
        discovery_url="http://10.0.0.7/.well-known/openid-configuration",
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
    )

    with responses.RequestsMock():  # nothing may leave
        response = as_user.post("/identities/verify/email/", {"provider": provider.pk})

    assert "Email not verified" in page_messages(as_user, response)
    assert verified_emails(user) == []


def test_the_client_secret_and_tokens_never_reach_the_page_or_the_log(
    as_user, user, idp, fake, caplog
):
    caplog.set_level("DEBUG")
    params = start(as_user, idp)
    response = come_back(as_user, fake, params)
    page = page_messages(as_user, response)

    (token_request,) = fake.token_requests
    verifier = parse_qs(token_request.body)["code_verifier"][0]
    for secret in (CLIENT_SECRET, verifier, "the-code", params["nonce"]):
        assert secret not in page
        assert secret not in caplog.text
    assert IdentityVerification.objects.filter(method="OPENID").count() == 1


def test_a_discovery_document_naming_another_issuer_is_refused(as_user, user, idp, fake):
    fake.discovery["issuer"] = "https://other-provider.example.com"

    response = as_user.post("/identities/verify/email/", {"provider": idp.pk})

    assert "names another issuer" in page_messages(as_user, response)
    assert fake.token_requests == []


def test_a_session_keeps_only_its_five_latest_flows(as_user, user, idp, fake):
    first, *_, last = [start(as_user, idp) for _ in range(6)]

    come_back(as_user, fake, first)
    assert verified_emails(user) == []  # the oldest was forgotten: nothing was exchanged
    assert fake.token_requests == []

    come_back(as_user, fake, last)
    assert verified_emails(user) == ["ada@example.com"]
