import io

import pytest
from django.core.management import CommandError, call_command

from integration_hub import roles
from integration_hub.models import Credential, Customer, Integration, User

pytestmark = pytest.mark.django_db


def test_demo_creates_the_sign_ins_and_data_once_and_prints_where_to_go(settings, monkeypatch):
    settings.DEBUG = True
    monkeypatch.setenv("DEMO_ADMIN_PASSWORD", "admin-pass-123")
    monkeypatch.setenv("DEMO_OWNER_PASSWORD", "owner-pass-456")
    out = io.StringIO()
    call_command("demo", stdout=out)
    call_command("demo", stdout=out)
    text = out.getvalue()
    assert "superuser    admin / admin-pass-123" in text
    assert "Owner        owner / owner-pass-456" in text
    assert "http://127.0.0.1:8000/api/docs/" in text
    assert text.count("Loaded 300 demo customers") == 1
    admin = User.objects.get(username="admin")
    owner = User.objects.get(username="owner")
    assert admin.is_superuser
    assert admin.check_password("admin-pass-123")
    assert roles.user_has_role(owner, roles.OWNER)
    assert not owner.is_staff
    assert Customer.objects.count() == 300
    receiver = Integration.objects.get(name="Sandbox receiver")
    assert Credential.objects.get(key_name=receiver.credential_key).has_client_secret


def test_demo_refuses_to_run_in_production_mode(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG is off"):
        call_command("demo")
    assert not User.objects.filter(username="admin").exists()


def test_demo_runs_every_apps_registered_step_once_each_time_and_twice_changes_nothing(
    settings, django_capture_on_commit_callbacks
):
    from accounting.models import AccountingIntegration
    from integration_hub.system_settings import setting_get
    from syncing.models import Connection

    settings.DEBUG = True
    settings.SANDBOX_ENABLED = True
    outputs = []
    for _ in range(2):
        out = io.StringIO()
        with django_capture_on_commit_callbacks(execute=True):
            call_command("demo", stdout=out)
        outputs.append(out.getvalue())

    for text in outputs:
        # Each app's line, in the order the steps are declared.
        lines = [line.split()[0] for line in text.splitlines() if line.startswith("  ")]
        assert lines[3:] == [
            "Records",
            "Sandbox",
            "Data",
            "Accounting",
            "QuickBooks",
            "Xero",
            "Sage",
            "Connections",
            "superuser",
            "Owner",
        ]
    assert setting_get("DataSyncEnabled") is True
    assert setting_get("DataSyncApiUrl") == "http://127.0.0.1:8000/sandbox/receiver/datasync/"
    # The GENERIC demo and the sandbox QuickBooks, Xero and Sage, once each, summarised.
    assert sorted(AccountingIntegration.objects.values_list("integration_type", flat=True)) == [
        "GENERIC",
        "QUICKBOOKS_ONLINE",
        "SAGE",
        "XERO",
    ]
    assert all(AccountingIntegration.objects.values_list("summarize_data", flat=True))
    assert not AccountingIntegration.objects.filter(grant__isnull=False).exists()
    assert Connection.objects.filter(user__username="owner").count() == 1
    assert Integration.objects.filter(name="Sandbox receiver").count() == 1
    assert Customer.objects.count() == 300


def test_without_the_sandbox_the_demo_wires_no_pipeline_to_it(settings):
    from accounting.models import AccountingIntegration
    from integration_hub.system_settings import setting_get

    settings.DEBUG = True
    settings.SANDBOX_ENABLED = False
    out = io.StringIO()
    call_command("demo", stdout=out)

    assert "  Sandbox      off" in out.getvalue()
    assert "Data Sync" not in out.getvalue()
    assert setting_get("DataSyncEnabled") is False
    assert not AccountingIntegration.objects.exists()
    assert Customer.objects.count() == 300
