import io
import logging

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.db import connection

from integration_hub.crypto import SecretUnreadable
from integration_hub.models import AuditEntry, Credential, SystemSetting
from integration_hub.services.credentials import credential_rotate, credential_set
from integration_hub.services.system_settings import setting_set
from integration_hub.system_settings import setting_get

pytestmark = pytest.mark.django_db

SECRET = "s3cr3t-value-that-must-not-leak"


def _raw(table: str, column: str, pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608
        return cursor.fetchone()[0]


def test_a_secrets_raw_database_column_holds_no_plaintext():
    credential = credential_set(key_name="datasync", client_id="client-1", client_secret=SECRET)
    raw = _raw("integration_hub_credential", "client_secret", credential.pk)
    assert SECRET not in raw
    assert raw.startswith("gAAAA"), "Fernet ciphertext"
    assert Credential.objects.get(pk=credential.pk).client_secret == SECRET


def test_a_secret_setting_is_stored_encrypted_like_a_credential():
    setting_set(key="DataSyncSigningSecret", value="whsec_" + "A" * 32)
    row = SystemSetting.objects.get(key="DataSyncSigningSecret")
    assert "whsec_" not in _raw("integration_hub_systemsetting", "secret_value", row.pk)
    assert _raw("integration_hub_systemsetting", "value", row.pk) == ""
    assert setting_get("DataSyncSigningSecret") == "whsec_" + "A" * 32


def test_rotate_keeps_every_secret_readable_after_the_old_key_is_dropped(settings):
    old_keys = list(settings.FIELD_ENCRYPTION_KEYS)
    credential = credential_set(
        key_name="partner", client_id="id", client_secret=SECRET, api_key="key-123"
    )
    setting_set(key="DataSyncSigningSecret", value="whsec_rotated")
    new_key = Fernet.generate_key().decode()

    settings.FIELD_ENCRYPTION_KEYS = [new_key, *old_keys]
    count = credential_rotate()
    assert count == 3

    settings.FIELD_ENCRYPTION_KEYS = [new_key]
    reread = Credential.objects.get(pk=credential.pk)
    assert (reread.client_secret, reread.api_key) == (SECRET, "key-123")
    assert SystemSetting.objects.get(key="DataSyncSigningSecret").secret_value == "whsec_rotated"


def test_without_rotation_dropping_the_old_key_makes_secrets_unreadable(settings):
    credential = credential_set(key_name="partner", client_id="id", client_secret=SECRET)
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(SecretUnreadable, match="credentials rotate"):
        Credential.objects.get(pk=credential.pk)


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"client_id": "only-the-id"}, "clientSecret"),
        ({"client_secret": SECRET}, "clientId"),
        ({"client_id": "", "client_secret": SECRET}, "clientId"),
        ({}, "clientId"),
        ({"api_key": "   "}, "apiKey"),
        ({"key_name": "", "api_key": "k"}, "keyName"),
    ],
)
def test_client_credentials_are_saved_only_together_and_nothing_is_half_written(fields, named):
    arguments = {"key_name": "datasync", **fields}
    with pytest.raises(ValidationError) as raised:
        credential_set(**arguments)
    assert named in raised.value.message_dict
    assert not Credential.objects.exists()


def test_an_api_key_or_refresh_token_is_saved_on_its_own():
    credential = credential_set(key_name="org", api_key="key-1")
    credential = credential_set(key_name="org", refresh_token="refresh-1")
    assert (credential.api_key, credential.refresh_token, credential.client_id) == (
        "key-1",
        "refresh-1",
        "",
    )


def test_only_system_admin_saves_secrets(system_admin, system_config, job_admin, owner):
    for user in (system_config, job_admin, owner):
        with pytest.raises(PermissionDenied):
            credential_set(key_name="x", api_key="k", acting_user=user)
        with pytest.raises(PermissionDenied):
            setting_set(key="DataSyncSigningSecret", value="whsec_x", acting_user=user)
    credential_set(key_name="x", api_key="k", acting_user=system_admin)
    entry = AuditEntry.objects.get(action="credential.saved")
    assert entry.actor == system_admin
    assert entry.details == {"fields": ["apiKey"]}


def test_repr_and_str_never_show_a_secret():
    credential = credential_set(key_name="k", client_id="cid", client_secret=SECRET, api_key="AK")
    assert SECRET not in repr(credential)
    assert "AK" not in repr(credential).replace("has_api_key", "")
    assert SECRET not in str(credential)
    assert "has_client_secret=True" in repr(credential)


def test_cli_reads_the_secret_from_stdin_and_never_prints_it(monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)
    monkeypatch.setattr("sys.stdin", io.StringIO(SECRET + "\n"))
    out = io.StringIO()
    call_command("credentials", "set", "--key", "datasync", "--client-id", "cid", stdout=out)
    call_command("credentials", "list", stdout=out)
    text = out.getvalue()
    assert "ce_credentials/datasync: client_id=cid client_secret=set" in text
    assert SECRET not in text
    assert SECRET not in caplog.text
    assert Credential.objects.get(key_name="datasync").client_secret == SECRET


def test_cli_takes_the_secret_from_an_environment_variable(monkeypatch):
    monkeypatch.setenv("PARTNER_SECRET", SECRET)
    call_command(
        "credentials", "set", "--map", "m", "--key", "k", "--client-id", "cid",
        "--secret-env", "PARTNER_SECRET", stdout=io.StringIO(),
    )  # fmt: skip
    assert Credential.objects.get(map_name="m", key_name="k").client_secret == SECRET


def test_cli_refuses_an_empty_secret_and_writes_nothing(monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("\n"))
    with pytest.raises(CommandError, match="No client secret was given"):
        call_command("credentials", "set", "--key", "k", "--client-id", "cid")
    assert not Credential.objects.exists()


def test_cli_delete_and_rotate(monkeypatch):
    credential_set(key_name="gone", api_key="k")
    out = io.StringIO()
    call_command("credentials", "rotate", stdout=out)
    assert "Re-encrypted 1 secret values" in out.getvalue()
    call_command("credentials", "delete", "--key", "gone", stdout=out)
    assert not Credential.objects.exists()
    with pytest.raises(CommandError, match="No credential ce_credentials/gone"):
        call_command("credentials", "delete", "--key", "gone")
