import io

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.test import TestCase, override_settings
from django.utils import timezone
from django_q.models import Schedule

from integration_hub import roles
from integration_hub.models import Credential, Customer, Integration, User

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="class")
def demo_run_twice(django_db_setup, django_db_blocker):
    """`manage.py demo` run twice on a fresh database, as `make demo` runs it on a developer's
    machine (DEBUG on, the sandbox on, the two sign-ins' passwords from the environment), each
    run's on-commit work done: what each run printed. Its rows stay for the class's tests, which
    only read them, and are rolled back after the class (one run of the demo's 3,000 orders for
    all of them instead of one each)."""
    with (
        django_db_blocker.unblock(),
        pytest.MonkeyPatch.context() as env,
        override_settings(DEBUG=True, SANDBOX_ENABLED=True),
    ):
        env.setenv("DEMO_ADMIN_PASSWORD", "admin-pass-123")
        env.setenv("DEMO_OWNER_PASSWORD", "owner-pass-456")
        with transaction.atomic():
            outputs = []
            for _ in range(2):
                out = io.StringIO()
                with TestCase.captureOnCommitCallbacks(execute=True):
                    call_command("demo", stdout=out)
                outputs.append(out.getvalue())
            yield outputs
            transaction.set_rollback(True)


class TestTheDemoRunTwice:
    def test_the_demo_gives_the_owner_a_verified_identity_and_one_connection_with_its_sync_queued(
        self, demo_run_twice
    ):
        from syncing.models import Connection, SyncJob

        connection = Connection.objects.get(user__username="owner")
        assert connection.integration.name == "Sandbox Organisation Kit"
        assert connection.integration.base_url == "http://127.0.0.1:8000/sandbox/organisation-kit/"
        assert connection.identity.value == "198001011234"
        assert list(connection.sync_jobs.values_list("kind", "status")) == [
            (SyncJob.Kind.INITIAL, SyncJob.Status.QUEUED)
        ]
        # Once the web server (the simulator) is up: make run starts it with the cluster.
        scheduled = Schedule.objects.get(name=f"sync job {connection.sync_jobs.get().pk}")
        assert scheduled.func == "syncing.tasks.sync_job_run_task"
        assert scheduled.next_run > timezone.now()

    def test_demo_creates_the_sign_ins_and_data_once_and_prints_where_to_go(self, demo_run_twice):
        text = "".join(demo_run_twice)
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

    def test_demo_runs_every_apps_registered_step_once_each_time_and_twice_changes_nothing(
        self, demo_run_twice
    ):
        from accounting.models import AccountingIntegration
        from integration_hub.system_settings import setting_get
        from syncing.models import Connection

        for text in demo_run_twice:
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


def test_demo_refuses_to_run_in_production_mode(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG is off"):
        call_command("demo")
    assert not User.objects.filter(username="admin").exists()


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
