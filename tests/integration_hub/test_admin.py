import re

import pytest
from django.urls import reverse

from integration_hub.models import AuditEntry, Credential, Integration
from integration_hub.services.credentials import credential_set
from integration_hub.system_settings import setting_get
from tests.factories import IntegrationFactory

pytestmark = pytest.mark.django_db

SECRET = "admin-form-secret-do-not-show"


@pytest.fixture
def signed_in(client):
    def sign_in(user):
        client.force_login(user)
        return client

    return sign_in


def test_system_admin_saves_client_credentials_and_the_page_never_shows_the_secret(
    signed_in, system_admin
):
    client = signed_in(system_admin)
    url = reverse("admin:integration_hub_credential_add")
    response = client.post(
        url,
        {
            "map_name": "ce_credentials",
            "key_name": "datasync",
            "client_id": "cid",
            "new_client_secret": SECRET,
        },
    )
    assert response.status_code == 302, response.content
    credential = Credential.objects.get(key_name="datasync")
    assert credential.client_secret == SECRET

    change = client.get(reverse("admin:integration_hub_credential_change", args=[credential.pk]))
    listing = client.get(reverse("admin:integration_hub_credential_changelist"))
    for page in (change, listing):
        assert page.status_code == 200
        assert SECRET not in page.content.decode()
    assert 'type="password"' in change.content.decode()
    assert AuditEntry.objects.filter(action="credential.saved", actor=system_admin).exists()


def test_the_admin_form_refuses_a_client_id_without_its_secret(signed_in, system_admin):
    client = signed_in(system_admin)
    response = client.post(
        reverse("admin:integration_hub_credential_add"),
        {"map_name": "ce_credentials", "key_name": "datasync", "client_id": "cid"},
    )
    assert response.status_code == 200
    assert "saved together: enter both" in response.content.decode()
    assert not Credential.objects.exists()


def test_an_empty_secret_box_keeps_the_stored_secret(signed_in, system_admin):
    credential = credential_set(key_name="k", client_id="cid", client_secret=SECRET)
    client = signed_in(system_admin)
    response = client.post(
        reverse("admin:integration_hub_credential_change", args=[credential.pk]),
        {
            "map_name": "ce_credentials",
            "key_name": "k",
            "client_id": "cid",
            "new_api_key": "new-key",
        },
    )
    assert response.status_code == 302
    credential.refresh_from_db()
    assert (credential.client_secret, credential.api_key) == (SECRET, "new-key")


def test_system_config_may_look_at_credentials_but_not_save_them(signed_in, system_config):
    credential = credential_set(key_name="k", client_id="cid", client_secret=SECRET)
    client = signed_in(system_config)
    assert client.get(reverse("admin:integration_hub_credential_changelist")).status_code == 200
    view = client.get(reverse("admin:integration_hub_credential_change", args=[credential.pk]))
    assert view.status_code == 200
    assert SECRET not in view.content.decode()
    assert "new_client_secret" not in view.content.decode()
    assert client.get(reverse("admin:integration_hub_credential_add")).status_code == 403
    posted = client.post(
        reverse("admin:integration_hub_credential_change", args=[credential.pk]),
        {"map_name": "ce_credentials", "key_name": "k", "client_id": "x", "new_client_secret": "y"},
    )
    assert posted.status_code == 403
    credential.refresh_from_db()
    assert credential.client_id == "cid"


@pytest.mark.parametrize(
    ("role_fixture", "integration_status", "credential_status", "audit_status"),
    [
        ("system_admin", 200, 200, 200),
        ("system_config", 200, 200, 200),
        ("job_admin", 403, 403, 200),
    ],
)
def test_admin_pages_follow_the_roles(
    request, signed_in, role_fixture, integration_status, credential_status, audit_status
):
    client = signed_in(request.getfixturevalue(role_fixture))
    assert (
        client.get(reverse("admin:integration_hub_integration_changelist")).status_code
        == integration_status
    )
    assert (
        client.get(reverse("admin:integration_hub_credential_changelist")).status_code
        == credential_status
    )
    assert (
        client.get(reverse("admin:integration_hub_auditentry_changelist")).status_code
        == audit_status
    )


def test_an_owner_does_not_reach_the_admin(signed_in, owner):
    response = signed_in(owner).get(reverse("admin:index"))
    assert response.status_code == 302
    assert "/admin/login/" in response.url


def test_audit_entries_are_read_only_even_for_system_admin(signed_in, system_admin):
    credential_set(key_name="k", api_key="v")
    entry = AuditEntry.objects.get()
    client = signed_in(system_admin)
    change = client.post(
        reverse("admin:integration_hub_auditentry_change", args=[entry.pk]), {"action": "x"}
    )
    assert change.status_code == 403
    assert (
        client.post(
            reverse("admin:integration_hub_auditentry_delete", args=[entry.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert AuditEntry.objects.get().action == "credential.saved"


def test_integration_saved_in_the_admin_is_validated_and_audited(signed_in, system_admin, settings):
    settings.OUTBOUND_ALLOW_PRIVATE_NETWORKS = False
    client = signed_in(system_admin)
    data = {
        "name": "Energy Co",
        "kind": "ORGANISATION_KIT",
        "base_url": "http://169.254.169.254/latest",
        "auth_type": "OAUTH2_CLIENT_CREDENTIALS",
        "token_url": "",
        "credential_map": "ce_credentials",
        "credential_key": "energy",
        "enabled": "on",
    }
    refused = client.post(reverse("admin:integration_hub_integration_add"), data)
    assert refused.status_code == 200
    body = refused.content.decode()
    assert "non-public address" in body
    assert "OAuth2 needs the token endpoint" in body
    assert not Integration.objects.exists()

    data.update(
        base_url="https://energy.example.com/api", token_url="https://energy.example.com/token"
    )
    assert client.post(reverse("admin:integration_hub_integration_add"), data).status_code == 302
    integration = Integration.objects.get()
    assert AuditEntry.objects.filter(
        action="integration.created", target="Energy Co", actor=system_admin
    ).exists()
    client.post(
        reverse("admin:integration_hub_integration_delete", args=[integration.pk]), {"post": "yes"}
    )
    assert not Integration.objects.exists()
    assert AuditEntry.objects.filter(action="integration.deleted").exists()


def test_settings_page_saves_a_category_with_typed_validation(signed_in, system_config):
    client = signed_in(system_config)
    url = reverse("admin:integration_hub_systemsetting_category", args=["data-sync"])
    page = client.get(url)
    assert page.status_code == 200
    assert "DataSyncBatchSize" in page.content.decode()

    base = {
        "DataSyncApiUrl": "https://receiver.example.com/messages",
        "DataSyncTokenUrl": "",
        "DataSyncCredentialMapName": "ce_credentials",
        "DataSyncCredentialKeyName": "datasync",
        "DataSyncBatchSize": "100",
        "DataSyncMessagesPerRequest": "1",
        "DataSyncMaxAttempts": "10",
        "DataSyncIntervalMinutes": "5",
    }
    bad = client.post(url, {**base, "DataSyncBatchSize": "lots", "DataSyncEnabled": "on"})
    assert bad.status_code == 200
    assert "Enter a whole number" in bad.content.decode()
    assert setting_get("DataSyncEnabled") is False, "nothing half written"

    good = client.post(url, {**base, "DataSyncBatchSize": "300", "DataSyncEnabled": "on"})
    assert good.status_code == 302
    assert setting_get("DataSyncBatchSize") == 300
    assert setting_get("DataSyncEnabled") is True
    # Where the messages (and the Data Sync token) go is System Admin's to decide: the box
    # is read-only for System Config and what it posts there is ignored.
    assert setting_get("DataSyncApiUrl") == ""


def test_only_system_admin_sets_a_secret_setting_on_the_settings_page(
    signed_in, system_config, system_admin
):
    url = reverse("admin:integration_hub_systemsetting_category", args=["data-sync"])
    signed_in(system_config).post(
        url, {"DataSyncSigningSecret": "whsec_from_config", "DataSyncBatchSize": "100"}
    )
    assert setting_get("DataSyncSigningSecret") == ""
    client = signed_in(system_admin)
    client.post(url, {"DataSyncSigningSecret": "whsec_from_admin", "DataSyncBatchSize": "100"})
    assert setting_get("DataSyncSigningSecret") == "whsec_from_admin"
    assert "whsec_from_admin" not in client.get(url).content.decode()
    listing = client.get(reverse("admin:integration_hub_systemsetting_changelist"))
    assert "whsec_from_admin" not in listing.content.decode()


def test_integrations_admin_list_filters_and_search(signed_in, system_admin):
    IntegrationFactory(name="Alpha accounting", kind="ACCOUNTING")
    IntegrationFactory(name="Beta webhook")
    client = signed_in(system_admin)
    url = reverse("admin:integration_hub_integration_changelist")
    assert "Alpha accounting" in client.get(url, {"kind__exact": "ACCOUNTING"}).content.decode()
    assert "Beta webhook" not in client.get(url, {"q": "Alpha"}).content.decode()


def test_a_job_admin_checks_the_cluster_now_and_the_trigger_is_audited(
    signed_in, job_admin, django_capture_on_commit_callbacks
):
    from django_q.brokers import get_broker

    broker = get_broker()
    before = broker.queue_size()
    client = signed_in(job_admin)
    page = client.get(reverse("admin:integration_hub_clusterheartbeat_changelist"))
    assert "Check the cluster now" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:integration_hub_clusterheartbeat_check_now"))
    assert response.status_code == 302
    assert broker.queue_size() == before + 1
    entry = AuditEntry.objects.get(action="job.triggered")
    assert entry.actor == job_admin
    assert entry.details == {"func": "integration_hub.tasks.cluster_heartbeat"}


def test_system_config_cannot_trigger_jobs(signed_in, system_config):
    client = signed_in(system_config)
    response = client.post(reverse("admin:integration_hub_clusterheartbeat_check_now"))
    assert response.status_code == 403
    assert not AuditEntry.objects.filter(action="job.triggered").exists()


def test_no_per_row_settings_page_shows_or_saves_a_secret(signed_in, system_config, system_admin):
    from integration_hub.models import SystemSetting
    from integration_hub.services.system_settings import setting_set

    setting_set(key="DataSyncSigningSecret", value="whsec_hidden_value")
    row = SystemSetting.objects.get(key="DataSyncSigningSecret")
    for user in (system_config, system_admin):
        client = signed_in(user)
        page = client.get(f"/admin/integration_hub/systemsetting/{row.pk}/change/")
        assert page.status_code in (302, 404)
        assert "whsec_hidden_value" not in page.content.decode()
        client.post(
            f"/admin/integration_hub/systemsetting/{row.pk}/change/",
            {"key": "DataSyncSigningSecret", "secret_value": "whsec_overwritten"},
        )
    assert setting_get("DataSyncSigningSecret") == "whsec_hidden_value"


@pytest.mark.parametrize("value", ["0", "33"])
def test_a_data_sync_concurrency_outside_1_to_32_is_refused_on_the_settings_page(
    signed_in, system_config, value
):
    client = signed_in(system_config)
    url = reverse("admin:integration_hub_systemsetting_category", args=["data-sync"])
    form = {
        "DataSyncCredentialMapName": "ce_credentials",
        "DataSyncCredentialKeyName": "datasync",
        "DataSyncBatchSize": "100",
        "DataSyncMessagesPerRequest": "1",
        "DataSyncMaxAttempts": "10",
        "DataSyncIntervalMinutes": "5",
    }
    refused = client.post(url, {**form, "DataSyncConcurrency": value})
    assert refused.status_code == 200
    page = refused.content.decode()
    error = re.search(r'id="id_DataSyncConcurrency_error"><li>([^<]+)</li>', page)
    assert error, "the error is shown beside DataSyncConcurrency"
    assert error.group(1) in ("Must be at least 1.", "Must be at most 32.")
    assert setting_get("DataSyncConcurrency") == 1, "nothing saved"
    assert client.post(url, {**form, "DataSyncConcurrency": "8"}).status_code == 302
    assert setting_get("DataSyncConcurrency") == 8
