"""`manage.py identity` (DESIGN.md, "Connections and inbound sync"): a System Admin trusts
identity providers and verifies identities from the shell, for one integration or for all."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from syncing.models import Connection, IdentityProvider
from syncing.services.connections import IdentityNotVerified, connection_create
from tests.factories import IntegrationFactory, OrganisationKitIntegrationFactory

pytestmark = pytest.mark.django_db

SECRET = "provider-secret-that-must-not-leak"
DISCOVERY = "https://id.example.com/.well-known/openid-configuration"


@pytest.fixture
def energy(db):
    return OrganisationKitIntegrationFactory(name="Energy Co")


@pytest.fixture
def water(db):
    return OrganisationKitIntegrationFactory(name="Water Co")


def provider_add(monkeypatch, *options: str) -> str:
    """Run `identity providers add` with the secret on standard input: what it printed."""
    monkeypatch.setattr("sys.stdin", io.StringIO(SECRET + "\n"))
    out = io.StringIO()
    call_command(
        "identity", "providers", "add", "--name", "Sandbox ID", "--discovery-url", DISCOVERY,
        "--client-id", "hub-client", *options, stdout=out,
    )  # fmt: skip
    return out.getvalue()


def _raw_client_secret(credential_id: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT client_secret FROM integration_hub_credential WHERE id = %s", [credential_id]
        )
        return cursor.fetchone()[0]


def test_adding_a_provider_prints_its_id_last_and_keeps_the_secret_encrypted(monkeypatch):
    out = provider_add(monkeypatch)

    provider = IdentityProvider.objects.get()
    assert out.strip().splitlines()[-1] == str(provider.pk)
    assert SECRET not in out
    assert (provider.name, provider.discovery_url) == ("Sandbox ID", DISCOVERY)
    assert provider.credential.client_id == "hub-client"
    assert provider.credential.client_secret == SECRET
    raw = _raw_client_secret(provider.credential_id)
    assert SECRET not in raw
    assert raw.startswith("gAAAA"), "Fernet ciphertext"
    # Without --integration: trusted for every integration.
    assert provider.is_trusted_for_all
    assert list(provider.integrations.all()) == []


def test_a_provider_added_with_integrations_is_trusted_for_those_only(monkeypatch, energy, water):
    out = provider_add(monkeypatch, "--integration", str(energy.pk))

    provider = IdentityProvider.objects.get(pk=int(out.strip().splitlines()[-1]))
    assert not provider.is_trusted_for_all
    assert list(provider.integrations.all()) == [energy]
    assert "trusted for Energy Co" in out


def test_a_provider_for_an_integration_that_is_not_an_organisation_kit_is_refused(monkeypatch):
    webhook = IntegrationFactory()

    with pytest.raises(CommandError, match="--integration") as refused:
        provider_add(monkeypatch, "--integration", str(webhook.pk))

    assert "not an Organisation Kit" in str(refused.value)
    assert not IdentityProvider.objects.exists()


def test_listing_the_providers_says_what_each_is_trusted_for(monkeypatch, energy):
    provider_add(monkeypatch)
    monkeypatch.setattr("sys.stdin", io.StringIO(SECRET + "\n"))
    call_command(
        "identity", "providers", "add", "--name", "EnergyID", "--discovery-url", DISCOVERY,
        "--client-id", "energy-client", "--integration", str(energy.pk), stdout=io.StringIO(),
    )  # fmt: skip
    out = io.StringIO()

    call_command("identity", "providers", "list", stdout=out)

    lines = out.getvalue().strip().splitlines()
    by_name = {line.split("\t")[1]: line for line in lines}
    assert set(by_name) == {"Sandbox ID", "EnergyID"}
    assert "trusted for every integration" in by_name["Sandbox ID"]
    assert f"trusted for Energy Co ({energy.pk})" in by_name["EnergyID"]
    assert "client energy-client" in by_name["EnergyID"]
    assert SECRET not in out.getvalue()


def test_a_personal_number_verified_from_the_shell_for_one_integration_counts_only_there(
    make_user, energy, water, tasks
):
    anna = make_user("Owner", username="anna")
    out = io.StringIO()

    call_command(
        "identity", "verify", "anna", "--personal-number", "19800101-1234",
        "--integration", str(energy.pk), stdout=out,
    )  # fmt: skip

    assert "for Energy Co" in out.getvalue()
    connection_create(user=anna, integration_id=energy.pk, personal_number="198001011234")
    with pytest.raises(IdentityNotVerified, match="not verified for Water Co"):
        connection_create(user=anna, integration_id=water.pk, personal_number="198001011234")
    assert [c.integration for c in Connection.objects.all()] == [energy]


def test_an_identity_verified_from_the_shell_without_integration_counts_everywhere(
    make_user, energy, water, tasks
):
    anna = make_user("Owner", username="anna")

    call_command("identity", "verify", "anna", "--email", "Anna@X.se", stdout=io.StringIO())

    for integration in (energy, water):
        connection_create(user=anna, integration_id=integration.pk, email="anna@x.se")
    assert Connection.objects.count() == 2


def test_verifying_for_an_integration_that_is_not_an_organisation_kit_is_refused(make_user):
    make_user(username="anna")
    webhook = IntegrationFactory()

    with pytest.raises(CommandError, match="--integration"):
        call_command(
            "identity", "verify", "anna", "--personal-number", "198001011234",
            "--integration", str(webhook.pk),
        )  # fmt: skip
