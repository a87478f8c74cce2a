"""Identities that hold (DESIGN.md, "Connections and inbound sync"): an identity counts only
for the integrations whoever verified it vouches for — BankID at one organisation, an identity
provider for those that trust it, a System Admin for one or all. Connecting, the role on a
partner account and the identity pages all follow that."""

from html.parser import HTMLParser

import pytest
from django.test import Client

from syncing.models import Account, Connection
from syncing.services.identities import identity_verify
from syncing.services.identity_providers import identity_provider_create
from syncing.services.sync_jobs import sync_request
from tests.factories import OrganisationKitIntegrationFactory, VerifiedIdentityFactory

from .conftest import ANNA_NUMBER

pytestmark = pytest.mark.django_db

BANKID, OPENID, ADMIN = "BANKID", "OPENID", "ADMIN"


@pytest.fixture
def energy(db):
    return OrganisationKitIntegrationFactory(name="Energy Co")


@pytest.fixture
def water(db):
    return OrganisationKitIntegrationFactory(name="Water Co")


@pytest.fixture
def user(make_user):
    return make_user("Owner", username="anna", email="anna@x.se")


def provider(name: str, *integrations, **options):
    return identity_provider_create(
        name=name,
        discovery_url=f"https://{name.lower()}.example.com/.well-known/openid-configuration",
        client_id=f"{name.lower()}-client",
        client_secret="provider-secret",
        integrations=list(integrations),
        **options,
    )


def post_connection(api_as, user, integration, **identity):
    return api_as(user).post(
        "/v2.1/connections", {"integration": integration.pk, **identity}, format="json"
    )


# --- Connecting through the API -----------------------------------------------------------


def test_a_personal_number_verified_by_bankid_at_one_organisation_connects_only_there(
    user, energy, water, api_as, tasks
):
    identity_verify(user=user, personal_number=ANNA_NUMBER, method=BANKID, integration=energy)

    at_energy = post_connection(api_as, user, energy, personalNumber=ANNA_NUMBER)
    at_water = post_connection(api_as, user, water, personalNumber=ANNA_NUMBER)

    assert at_energy.status_code == 201, at_energy.content
    assert at_water.status_code == 403, at_water.content
    assert "not verified for Water Co" in at_water.json()["detail"]
    assert [c.integration for c in Connection.objects.all()] == [energy]


def test_an_email_verified_by_a_provider_trusted_for_one_organisation_connects_only_there(
    user, energy, water, api_as, tasks
):
    energy_id = provider("EnergyID", energy)
    identity_verify(user=user, email="anna@x.se", method=OPENID, provider=energy_id)

    at_energy = post_connection(api_as, user, energy, email="anna@x.se")
    at_water = post_connection(api_as, user, water, email="anna@x.se")

    assert at_energy.status_code == 201, at_energy.content
    assert at_water.status_code == 403, at_water.content
    assert "not verified for Water Co" in at_water.json()["detail"]
    assert [c.integration for c in Connection.objects.all()] == [energy]


def test_an_email_verified_by_a_provider_trusted_for_all_connects_everywhere(
    user, energy, water, api_as, tasks
):
    everyone_id = provider("Everyone ID")
    assert everyone_id.is_trusted_for_all
    identity_verify(user=user, email="Anna@X.se", method=OPENID, provider=everyone_id)

    for integration in (energy, water):
        response = post_connection(api_as, user, integration, email="anna@x.se")
        assert response.status_code == 201, response.content
    assert Connection.objects.count() == 2


def test_a_system_admin_verifies_for_one_organisation_or_for_all(
    user, make_user, energy, water, api_as, tasks
):
    erik = make_user("Owner", username="erik")
    identity_verify(user=user, personal_number=ANNA_NUMBER, method=ADMIN, integration=energy)
    identity_verify(user=erik, personal_number="197505052345", method=ADMIN)

    assert post_connection(api_as, user, energy, personalNumber=ANNA_NUMBER).status_code == 201
    refused = post_connection(api_as, user, water, personalNumber=ANNA_NUMBER)
    assert refused.status_code == 403
    assert "not verified for Water Co" in refused.json()["detail"]
    for integration in (energy, water):
        response = post_connection(api_as, erik, integration, personalNumber="197505052345")
        assert response.status_code == 201, response.content


def test_without_an_identity_the_connection_takes_one_valid_for_the_organisation(
    user, energy, water, api_as, tasks
):
    # A personal number comes first, but it counts only at Energy Co: Water Co gets the email
    # that a provider Water Co trusts verified.
    identity_verify(user=user, personal_number=ANNA_NUMBER, method=BANKID, integration=energy)
    identity_verify(user=user, email="anna@x.se", method=OPENID, provider=provider("W", water))
    gas = OrganisationKitIntegrationFactory(name="Gas Co")

    at_energy = post_connection(api_as, user, energy)
    at_water = post_connection(api_as, user, water)
    at_gas = post_connection(api_as, user, gas)

    assert (at_energy.status_code, at_water.status_code) == (201, 201)
    identities = {
        c.integration.name: (c.identity.kind, c.identity.value)
        for c in Connection.objects.select_related("identity", "integration")
    }
    assert identities == {
        "Energy Co": ("PERSONAL_NUMBER", ANNA_NUMBER),
        "Water Co": ("EMAIL", "anna@x.se"),
    }
    assert at_gas.status_code == 403
    assert "no identity verified for Gas Co" in at_gas.json()["detail"]


# --- Connecting in the web UI -------------------------------------------------------------


class _Options(HTMLParser):
    """The options of the select named `identity`: value → attributes."""

    def __init__(self):
        super().__init__()
        self.in_select = False
        self.options: dict[str, dict] = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "select":
            self.in_select = attrs.get("name") == "identity"
        elif tag == "option" and self.in_select and attrs.get("value"):
            self.options[attrs["value"]] = attrs

    def handle_endtag(self, tag):
        if tag == "select":
            self.in_select = False


def identity_options(html: str) -> dict[str, dict]:
    parser = _Options()
    parser.feed(html)
    return parser.options


def test_the_connect_page_says_which_organisations_each_identity_counts_for(user, energy, water):
    number = VerifiedIdentityFactory(user=user, value=ANNA_NUMBER, verified_for=energy)
    everywhere = VerifiedIdentityFactory(user=user, kind="EMAIL", value="anna@x.se")
    nowhere = VerifiedIdentityFactory(user=user, value="197505052345", verified_for=())
    client = Client()
    client.force_login(user)

    options = identity_options(client.get("/connections/new/").content.decode())

    assert options[str(number.pk)]["data-valid-for"] == str(energy.pk)
    assert options[str(everywhere.pk)]["data-valid-for"] == "all"
    assert options[str(nowhere.pk)].get("data-valid-for", "") == ""


def test_connecting_in_the_web_ui_with_an_identity_not_valid_there_shows_an_error(
    user, energy, water, tasks
):
    number = VerifiedIdentityFactory(user=user, value=ANNA_NUMBER, verified_for=energy)
    client = Client()
    client.force_login(user)

    response = client.post(
        "/connections/new/",
        {"integration": water.pk, "identity": number.pk, "auto_sync": "on"},
    )

    assert response.status_code == 200
    errors = response.context["form"].errors["identity"]
    assert errors == [
        "That identity is not verified for Water Co: verify it with its BankID, or with an "
        "identity provider it trusts."
    ]
    assert "not verified for Water Co" in response.content.decode()
    assert not Connection.objects.exists()
    # The same identity where it is valid connects.
    response = client.post(
        "/connections/new/",
        {"integration": energy.pk, "identity": number.pk, "auto_sync": "on"},
    )
    assert response.status_code == 302
    assert Connection.objects.get().integration == energy


# --- The role on a partner account --------------------------------------------------------


def sync_roles(connect, tasks, user, integration, **identity) -> dict[str, str]:
    """Connect, run the initial sync against the fake partner: account id → the user's role."""
    connection = connect(user, integration, **identity)
    tasks.run()
    connection.refresh_from_db()
    assert connection.status == "SUCCESS", connection.last_error
    return dict(Account.objects.filter(connection=connection).values_list("partner_id", "role"))


def owner_of_a1(partner, **person):
    partner.users["A1"] = [{"role": "OWNER", "user": {"id": "U1", "name": "Anna", **person}}]


def test_a_personal_number_makes_the_owner_only_where_it_is_verified(
    user, energy, water, partner, connect, tasks
):
    owner_of_a1(partner, personalNumber=ANNA_NUMBER, emailAddress=None)
    # Connected by the email Energy Co's provider verified; the number: BankID at Water Co.
    identity_verify(user=user, email="anna@x.se", method=OPENID, provider=provider("E", energy))
    identity_verify(user=user, personal_number=ANNA_NUMBER, method=BANKID, integration=water)

    roles = sync_roles(connect, tasks, user, energy, email="anna@x.se")

    assert roles["A1"] == "GUEST"
    # Once BankID at Energy Co has verified the number, the partner's OWNER entry is hers.
    identity_verify(user=user, personal_number=ANNA_NUMBER, method=BANKID, integration=energy)
    connection = Connection.objects.get()
    sync_request(connection=connection, kind="ALL")
    tasks.run()
    assert Account.objects.get(connection=connection, partner_id="A1").role == "OWNER"


def test_a_personal_number_verified_for_the_organisation_makes_the_owner(
    user, energy, partner, connect, tasks
):
    owner_of_a1(partner, personalNumber=int(ANNA_NUMBER))  # a JSON number
    VerifiedIdentityFactory(user=user, value=ANNA_NUMBER, verified_for=energy)

    assert sync_roles(connect, tasks, user, energy)["A1"] == "OWNER"


def test_an_entry_without_a_personal_number_is_not_the_user(user, energy, partner, connect, tasks):
    owner_of_a1(partner, personalNumber=None, emailAddress=None)
    VerifiedIdentityFactory(user=user, value=ANNA_NUMBER, verified_for=energy)

    assert sync_roles(connect, tasks, user, energy)["A1"] == "GUEST"


def test_an_email_matches_the_partners_whatever_its_case(user, energy, partner, connect, tasks):
    owner_of_a1(partner, emailAddress="Anna@X.se", personalNumber=None)
    identity_verify(user=user, email="anna@x.se", method=ADMIN, integration=energy)

    assert sync_roles(connect, tasks, user, energy)["A1"] == "OWNER"


# --- What each identity counts for --------------------------------------------------------


def test_the_identities_api_and_page_show_what_each_identity_counts_for(
    user, energy, water, api_as
):
    gas = OrganisationKitIntegrationFactory(name="Gas Co")
    number = VerifiedIdentityFactory(user=user, value=ANNA_NUMBER, verified_for=water)
    identity_verify(user=user, personal_number=ANNA_NUMBER, method=BANKID, integration=energy)
    email = VerifiedIdentityFactory(user=user, kind="EMAIL", value="anna@x.se")
    trusted = provider("GasID", gas)
    identity_verify(user=user, email="erik@x.se", method=OPENID, provider=trusted)
    erik_email = user.verified_identities.get(value="erik@x.se")

    body = api_as(user).get("/api/v1/identities/").json()

    by_id = {row["id"]: row for row in body["results"]}
    assert set(by_id) == {number.pk, email.pk, erik_email.pk}
    assert (by_id[number.pk]["validForAll"], by_id[number.pk]["validFor"]) == (
        False,
        [energy.pk, water.pk],
    )
    assert sorted((v["method"], v["integration"]) for v in by_id[number.pk]["verifications"]) == [
        (BANKID, energy.pk),
        (BANKID, water.pk),
    ]
    assert (by_id[email.pk]["validForAll"], by_id[email.pk]["validFor"]) == (True, [])
    assert [v["method"] for v in by_id[email.pk]["verifications"]] == [ADMIN]
    assert (by_id[erik_email.pk]["validForAll"], by_id[erik_email.pk]["validFor"]) == (
        False,
        [gas.pk],
    )
    assert [(v["method"], v["provider"]) for v in by_id[erik_email.pk]["verifications"]] == [
        (OPENID, trusted.pk)
    ]

    client = Client()
    client.force_login(user)
    page = client.get("/identities/")
    assert page.status_code == 200
    counts_for = {entry.identity.pk: entry for entry in page.context["identities"]}
    html = page.content.decode()
    assert "<td data-valid-for>Energy Co, Water Co</td>" in html
    assert "<td data-valid-for>Every organisation</td>" in html
    assert "<td data-valid-for>Gas Co</td>" in html
    assert "BankID at Energy Co" in html
    assert "GasID" in html
    assert len(counts_for) == 3


def test_a_connection_whose_identity_no_longer_counts_there_syncs_nothing(
    user, energy, water, partner, connect, tasks
):
    trusted = provider("E", energy)
    identity_verify(user=user, email="anna@x.se", method=OPENID, provider=trusted)
    connection = connect(user, energy, email="anna@x.se")
    tasks.run()
    calls_while_trusted = len(partner.calls)
    assert calls_while_trusted > 0

    # The System Admin no longer trusts the provider for Energy Co.
    trusted.integrations.set([water])
    sync_request(connection=connection, kind="ALL")
    tasks.run()

    connection.refresh_from_db()
    assert connection.status == "ERROR"
    assert "no longer verified for Energy Co" in connection.last_error
    assert len(partner.calls) == calls_while_trusted  # the partner was not asked
