"""The /tokens/ page, where a signed-in user manages their own API tokens, and API tokens in the
admin (DESIGN.md, "REST API")."""

import re

import pytest
from django.urls import reverse

from integration_hub.models import ApiToken, AuditEntry
from integration_hub.services.api_tokens import api_token_create

pytestmark = pytest.mark.django_db

PAGE = "/tokens/"


def _shown_value(html: str) -> str:
    return re.search(r'id="new-token-value"[^>]*value="([0-9a-f]{64})"', html).group(1)


def test_signing_in_is_required(client):
    response = client.get(PAGE)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_the_header_links_to_the_page_for_any_signed_in_user(client, plain_user):
    client.force_login(plain_user)
    assert f'href="{PAGE}"' in client.get("/").content.decode()


def test_creating_a_token_shows_its_value_once_and_then_only_its_prefix(client, owner, api_client):
    client.force_login(owner)
    created = client.post(PAGE, {"name": "History poller", "expires_in_days": ""})

    assert created.status_code == 200
    html = created.content.decode()
    value = _shown_value(html)
    assert "will not be shown again" in html
    assert "no-store" in created["Cache-Control"]
    token = ApiToken.objects.get()
    assert (token.user, token.name, token.expiry) == (owner, "History poller", None)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {value}")
    assert api_client.get("/api/v1/notifications/").status_code == 200

    listing = client.get(PAGE).content.decode()
    assert value not in listing
    assert "History poller" in listing
    assert f"{token.token_key}…" in listing
    assert AuditEntry.objects.filter(action="api_token.created", actor=owner).exists()


def test_a_token_can_be_made_to_expire(client, owner):
    client.force_login(owner)
    html = client.post(PAGE, {"name": "trial", "expires_in_days": "14"}).content.decode()
    token = ApiToken.objects.get()
    assert abs((token.expiry - token.created).total_seconds() - 14 * 86400) < 60
    assert "It expires on" in html


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": ""}, "This field is required."),
        ({"name": "app", "expires_in_days": "0"}, "greater than or equal to 1"),
        ({"name": "app", "expires_in_days": "soon"}, "Enter a whole number."),
    ],
)
def test_a_bad_form_creates_nothing_and_says_why(client, owner, data, message):
    client.force_login(owner)
    response = client.post(PAGE, data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert 'id="new-token-value"' not in response.content.decode()
    assert not ApiToken.objects.exists()


def test_the_list_shows_only_the_users_own_tokens(client, owner, plain_user):
    api_token_create(user=owner, name="mine")
    api_token_create(user=plain_user, name="someone else's")
    client.force_login(owner)
    html = client.get(PAGE).content.decode()
    assert "mine" in html
    assert "someone else" not in html


def test_a_user_revokes_their_own_token(client, owner, api_client):
    created = api_token_create(user=owner, name="old app")
    client.force_login(owner)

    response = client.post(reverse("api-token-revoke", args=[created.token.pk]), follow=True)

    assert response.status_code == 200
    assert "Revoked the API token old app" in response.content.decode()
    assert not ApiToken.objects.exists()
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {created.value}")
    assert api_client.get("/api/v1/notifications/").status_code == 401
    assert AuditEntry.objects.filter(action="api_token.revoked", actor=owner).exists()


def test_revoking_another_users_token_is_not_found(client, owner, plain_user):
    theirs = api_token_create(user=plain_user, name="theirs")
    client.force_login(owner)
    for token_id in (theirs.token.pk, 999_999, 10**30):
        response = client.post(f"/tokens/{token_id}/revoke/")
        assert response.status_code == 404
    assert ApiToken.objects.filter(pk=theirs.token.pk).exists()


def test_revoking_needs_a_post_with_csrf(owner):
    from django.test import Client

    created = api_token_create(user=owner, name="app")
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    url = reverse("api-token-revoke", args=[created.token.pk])
    assert client.get(url).status_code == 405
    assert client.post(url).status_code == 403
    assert ApiToken.objects.exists()


# The admin


def _admin_pages(client, token: ApiToken) -> list[str]:
    listing = client.get(reverse("admin:integration_hub_apitoken_changelist"))
    change = client.get(reverse("admin:integration_hub_apitoken_change", args=[token.pk]))
    assert listing.status_code == change.status_code == 200
    return [listing.content.decode(), change.content.decode()]


def test_the_admin_lists_tokens_without_their_values_or_digests(client, system_admin, owner):
    created = api_token_create(user=owner, name="History poller")
    client.force_login(system_admin)
    for html in _admin_pages(client, created.token):
        assert created.value not in html
        assert created.token.digest not in html
        assert "History poller" in html
        assert created.token.token_key in html
    assert client.get(reverse("admin:integration_hub_apitoken_add")).status_code == 403


def test_system_admin_revokes_any_token_with_the_admin_action(
    client, system_admin, owner, api_client
):
    created = api_token_create(user=owner, name="leaked")
    client.force_login(system_admin)
    response = client.post(
        reverse("admin:integration_hub_apitoken_changelist"),
        {"action": "revoke_selected", "_selected_action": [created.token.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert "Revoked 1 API token" in response.content.decode()
    assert not ApiToken.objects.exists()
    revoked = AuditEntry.objects.get(action="api_token.revoked")
    assert (revoked.actor, revoked.target) == (system_admin, owner.username)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {created.value}")
    assert api_client.get("/api/v1/notifications/").status_code == 401


def test_the_admin_offers_no_plain_delete_and_its_delete_page_revokes_through_the_service(
    client, system_admin, owner
):
    created = api_token_create(user=owner, name="app")
    client.force_login(system_admin)
    listing = client.get(reverse("admin:integration_hub_apitoken_changelist")).content.decode()
    assert "revoke_selected" in listing
    assert "delete_selected" not in listing
    delete = reverse("admin:integration_hub_apitoken_delete", args=[created.token.pk])
    assert created.token.digest not in client.get(delete).content.decode()
    client.post(delete, {"post": "yes"})
    assert not ApiToken.objects.exists()
    assert AuditEntry.objects.filter(action="api_token.revoked", actor=system_admin).exists()


@pytest.mark.parametrize("role_fixture", ["system_config", "job_admin"])
def test_other_admin_roles_neither_see_nor_revoke_tokens(request, client, owner, role_fixture):
    created = api_token_create(user=owner, name="app")
    client.force_login(request.getfixturevalue(role_fixture))
    assert "apitoken" not in client.get(reverse("admin:index")).content.decode()
    assert client.get(reverse("admin:integration_hub_apitoken_changelist")).status_code == 403
    response = client.post(
        reverse("admin:integration_hub_apitoken_changelist"),
        {"action": "revoke_selected", "_selected_action": [created.token.pk]},
    )
    assert response.status_code == 403
    delete = reverse("admin:integration_hub_apitoken_delete", args=[created.token.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert ApiToken.objects.exists()
