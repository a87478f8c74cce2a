"""Identity providers in the admin (DESIGN.md, "Roles"): every field of one decides where
the hub's client secret goes, so only System Admin adds, changes or deletes one; the secret is
typed in and never shown back."""

import pytest
from django.test import Client

from syncing.models import IdentityProvider
from syncing.services.identity_providers import identity_provider_create
from tests.factories import OrganisationKitIntegrationFactory

pytestmark = pytest.mark.django_db

SECRET = "provider-secret-that-must-not-leak"
DISCOVERY = "https://id.example.com/.well-known/openid-configuration"
CHANGELIST = "/admin/syncing/identityprovider/"
ADD = CHANGELIST + "add/"


def change_url(provider) -> str:
    return f"{CHANGELIST}{provider.pk}/change/"


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def energy(db):
    return OrganisationKitIntegrationFactory(name="Energy Co")


@pytest.fixture
def existing(energy):
    return identity_provider_create(
        name="EnergyID",
        discovery_url=DISCOVERY,
        client_id="hub-client",
        client_secret=SECRET,
        integrations=[energy],
    )


def form_data(**changes) -> dict:
    data = {
        "name": "Sandbox ID",
        "discovery_url": DISCOVERY,
        "client_id": "hub-client",
        "client_secret": "",
        "integrations": [],
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def test_system_config_sees_providers_but_may_not_add_or_change_one(
    system_config, existing, energy
):
    client = logged_in(system_config)

    changelist = client.get(CHANGELIST)
    assert changelist.status_code == 200
    assert "EnergyID" in changelist.content.decode()
    assert ADD not in changelist.content.decode()
    assert client.get(ADD).status_code == 403
    added = client.post(ADD, form_data(client_secret=SECRET, is_trusted_for_all="on"))
    assert added.status_code == 403
    changed = client.post(
        change_url(existing),
        form_data(
            name="EnergyID",
            discovery_url="https://evil.example.com/.well-known/openid-configuration",
            is_trusted_for_all="on",
        ),
    )
    assert changed.status_code == 403
    existing.refresh_from_db()
    assert (existing.discovery_url, existing.is_trusted_for_all) == (DISCOVERY, False)
    assert list(IdentityProvider.objects.values_list("name", flat=True)) == ["EnergyID"]
    # Nor is the secret shown on its (read-only) page.
    page = client.get(change_url(existing))
    assert page.status_code == 200
    assert SECRET not in page.content.decode()


def test_system_admin_adds_a_provider_and_its_secret_is_never_shown_back(system_admin, energy):
    client = logged_in(system_admin)
    assert ADD in client.get(CHANGELIST).content.decode()

    response = client.post(
        ADD, form_data(client_secret=SECRET, integrations=[energy.pk]), follow=True
    )

    assert response.status_code == 200
    provider = IdentityProvider.objects.get()
    assert (provider.name, provider.discovery_url) == ("Sandbox ID", DISCOVERY)
    assert (provider.credential.client_id, provider.credential.client_secret) == (
        "hub-client",
        SECRET,
    )
    assert (provider.is_trusted_for_all, list(provider.integrations.all())) == (False, [energy])
    page = client.get(change_url(provider))
    assert page.status_code == 200
    html = page.content.decode()
    assert "hub-client" in html
    assert SECRET not in html


def test_a_form_sent_back_with_an_error_does_not_echo_the_typed_secret(system_admin):
    response = logged_in(system_admin).post(
        ADD, form_data(discovery_url="ftp://id.example.com/", client_secret=SECRET)
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["discovery_url"]
    assert SECRET not in response.content.decode()
    assert not IdentityProvider.objects.exists()


def test_changing_the_client_id_without_the_secret_is_refused(system_admin, existing, energy):
    client = logged_in(system_admin)

    response = client.post(
        change_url(existing),
        form_data(name="EnergyID", client_id="another-client", integrations=[energy.pk]),
    )

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert list(errors) == ["client_secret"]
    assert "enter the secret too" in errors["client_secret"][0]
    existing.credential.refresh_from_db()
    assert (existing.credential.client_id, existing.credential.client_secret) == (
        "hub-client",
        SECRET,
    )
    # With the secret, the new client id is saved with it.
    saved = client.post(
        change_url(existing),
        form_data(
            name="EnergyID",
            client_id="another-client",
            client_secret="new-secret",
            integrations=[energy.pk],
        ),
    )
    assert saved.status_code == 302
    existing.credential.refresh_from_db()
    assert (existing.credential.client_id, existing.credential.client_secret) == (
        "another-client",
        "new-secret",
    )


def test_system_admin_changes_what_a_provider_is_trusted_for_keeping_the_secret(
    system_admin, existing, energy
):
    response = logged_in(system_admin).post(
        change_url(existing), form_data(name="EnergyID", is_trusted_for_all="on")
    )

    assert response.status_code == 302
    existing.refresh_from_db()
    assert existing.is_trusted_for_all
    existing.credential.refresh_from_db()
    assert (existing.credential.client_id, existing.credential.client_secret) == (
        "hub-client",
        SECRET,
    )
