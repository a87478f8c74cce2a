"""Second reading of issue 16 (identities bound to whom verified them, OpenID Connect): each
test here is a defect found in review, kept so that it stays fixed."""

import pytest

from syncing.models import IdentityVerification
from tests.syncing import test_openid

# The fake provider and the signed-in user of the OpenID tests.
site, organisation, idp, fake = (
    test_openid.site,
    test_openid.organisation,
    test_openid.idp,
    test_openid.fake,
)
user, as_user, page_messages = test_openid.user, test_openid.as_user, test_openid.page_messages


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("id_token_signing_alg_values_supported", 5),
        ("id_token_signing_alg_values_supported", "RS256"),
        ("id_token_signing_alg_values_supported", {"RS256": True}),
        ("token_endpoint_auth_methods_supported", 5),
        ("token_endpoint_auth_methods_supported", "client_secret_post"),
    ],
)
def test_a_discovery_document_with_a_field_of_the_wrong_type_is_refused_clearly(
    as_user, idp, fake, field, value
):
    fake.discovery[field] = value

    response = as_user.post("/identities/verify/email/", {"provider": idp.pk})

    assert response.status_code == 302
    assert not response["Location"].startswith("https://id.example.com/")
    page = page_messages(as_user, response)
    assert "Email not verified" in page
    assert f"{field} is not a list of strings" in page


@pytest.mark.parametrize("provider", ["²", "1²", "٣x", "-1", " 1"])
def test_an_odd_provider_value_asks_to_choose_a_provider(as_user, idp, provider):
    response = as_user.post("/identities/verify/email/", {"provider": provider})

    assert response.status_code == 302
    assert "Choose one of the identity providers below." in page_messages(as_user, response)


# --- A connection whose identity no longer counts reads and writes nothing live ------------


def url(connection, rest: str) -> str:
    return f"/api/v1/connections/{connection.pk}/{rest}"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "accounts/A1/invoices/", None),
        ("get", "accounts/A1/invoices/INV-2/pdf", None),
        ("get", "services/A1-S1/measurements/", None),
        ("get", "services/A1-S1/cost/", None),
        ("post", "accounts/A1/guests/", {"name": "Eve", "emailAddress": "eve@x.se"}),
    ],
)
def test_a_connection_whose_identity_no_longer_counts_calls_the_partner_for_nothing(
    synced_anna, anna, api_as, partner, method, path, body
):
    # The System Admin took back the verification the connection was made with.
    IdentityVerification.objects.filter(identity=synced_anna.identity).delete()

    response = getattr(api_as(anna), method)(url(synced_anna, path), body, format="json")

    assert response.status_code == 403, response.content
    assert "no longer verified for" in response.json()["detail"]
    assert partner.calls == []


def test_the_web_page_of_live_invoices_says_the_identity_no_longer_counts(
    synced_anna, anna, client, partner
):
    IdentityVerification.objects.filter(identity=synced_anna.identity).delete()
    client.force_login(anna)

    response = client.get(f"/connections/{synced_anna.pk}/accounts/A1/invoices/")

    assert response.status_code == 403
    assert partner.calls == []
