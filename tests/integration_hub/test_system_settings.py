import io

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db.models import F

from integration_hub import system_settings
from integration_hub.models import AuditEntry, SettingsVersion, SystemSetting
from integration_hub.services.system_settings import setting_reset, setting_set
from integration_hub.system_settings import setting_get

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("DataSyncEnabled", "maybe", "Enter true or false"),
        ("DataSyncBatchSize", "ten", "Enter a whole number"),
        ("DataSyncBatchSize", "0", "Must be at least 1"),
        ("DataSyncMessagesPerRequest", "5000", "Must be at most 1000"),
        ("DataSyncApiUrl", "ftp://example.com/x", "Only https and http URLs"),
        ("DataSyncApiUrl", "not a url", "Only https and http URLs"),
        ("NoSuchSetting", "1", "Unknown setting 'NoSuchSetting'"),
    ],
)
def test_invalid_values_are_refused_naming_the_setting_and_nothing_is_stored(key, value, message):
    with pytest.raises(ValidationError) as raised:
        setting_set(key=key, value=value)
    field = "key" if key == "NoSuchSetting" else key
    assert any(message in m for m in raised.value.message_dict[field])
    assert not SystemSetting.objects.exists()


def test_a_private_address_url_is_refused_when_private_networks_are_not_allowed(settings):
    settings.OUTBOUND_ALLOW_PRIVATE_NETWORKS = False
    with pytest.raises(ValidationError, match="non-public address"):
        setting_set(key="DataSyncApiUrl", value="http://10.0.0.5/messages")


def test_values_are_typed_defaults_apply_and_reset_goes_back():
    assert setting_get("DataSyncEnabled") is False
    assert setting_get("DataSyncBatchSize") == 100
    setting_set(key="DataSyncEnabled", value="Yes")
    setting_set(key="DataSyncBatchSize", value=" 250 ")
    assert setting_get("DataSyncEnabled") is True
    assert setting_get("DataSyncBatchSize") == 250
    setting_reset(key="DataSyncBatchSize")
    assert setting_get("DataSyncBatchSize") == 100
    changes = list(
        AuditEntry.objects.filter(target="DataSyncEnabled").values_list("details", flat=True)
    )
    assert changes == [{"key": "DataSyncEnabled", "value": "true"}]


def test_reads_are_served_from_the_cache_without_a_query(django_assert_num_queries):
    setting_get("DataSyncBatchSize")  # warm
    with django_assert_num_queries(0):
        for _ in range(1000):
            setting_get("DataSyncBatchSize")


def test_a_change_made_by_another_process_is_seen_after_the_version_check(monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(system_settings.time, "monotonic", lambda: clock[0])
    assert setting_get("DataSyncBatchSize") == 100

    # Another process writes the row and bumps the version, bypassing this process's cache.
    SystemSetting.objects.create(key="DataSyncBatchSize", value="500")
    SettingsVersion.objects.update(version=F("version") + 1)
    assert setting_get("DataSyncBatchSize") == 100, "within the check interval: cached"

    clock[0] += system_settings.CHECK_INTERVAL + 0.01
    assert setting_get("DataSyncBatchSize") == 500


def test_config_command_lists_gets_and_sets_with_the_same_validation():
    out = io.StringIO()
    call_command("config", "set", "DataSyncBatchSize", "42", stdout=out)
    call_command("config", "get", "DataSyncBatchSize", stdout=out)
    call_command("config", "list", stdout=out)
    text = out.getvalue()
    assert "DataSyncBatchSize = 42\n42\n" in text
    assert "[Data Sync]" in text
    assert "DataSyncEnabled = false  (default)" in text
    with pytest.raises(CommandError, match="DataSyncBatchSize: Must be at least 1"):
        call_command("config", "set", "DataSyncBatchSize", "-3")
    assert setting_get("DataSyncBatchSize") == 42


def test_config_never_prints_a_secret_setting(monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("whsec_topsecret\n"))
    out = io.StringIO()
    call_command("config", "set", "DataSyncSigningSecret", "-", stdout=out)
    call_command("config", "get", "DataSyncSigningSecret", stdout=out)
    call_command("config", "list", stdout=out)
    assert "topsecret" not in out.getvalue()
    assert "DataSyncSigningSecret = (secret set)" in out.getvalue()
    assert setting_get("DataSyncSigningSecret") == "whsec_topsecret"
    entry = AuditEntry.objects.get(target="DataSyncSigningSecret")
    assert "topsecret" not in str(entry.details)
