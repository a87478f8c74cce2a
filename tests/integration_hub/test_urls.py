"""The root URLconf mounts every app's api_urls, web_urls and declared contract modules
without naming a pipeline; each of them must be reachable."""

from types import SimpleNamespace

import pytest
from django.apps import apps
from django.conf import settings
from django.urls import reverse

from integration_hub.urls import is_project_app


@pytest.mark.parametrize(
    ("name", "kwargs", "path"),
    [
        ("dashboard", {}, "/"),
        ("customer-list", {}, "/api/v1/customers"),
        ("accounting-integrations", {}, "/api/v1/accounting-integrations"),
        ("datasync-run-list", {}, "/api/v1/datasync/runs"),
        ("identities", {}, "/api/v1/identities"),
        ("connection-new", {}, "/connections/new/"),
        ("datasync-page", {}, "/datasync/"),
        ("accounting-integration", {"accounting_integration_id": 1}, "/accounting/1/"),
        ("v21-connections", {}, "/v2.1/connections"),
        (
            "accounting-sync",
            {"subscriber_id": 1, "integration_type": "GENERIC"},
            "/Subscriber_1/AccountingIntegration/Type_GENERIC/Sync",
        ),
    ],
)
def test_every_apps_routes_are_mounted_where_the_contract_puts_them(name, kwargs, path):
    assert reverse(name, kwargs=kwargs).rstrip("/") == path.rstrip("/")


def test_the_project_apps_are_told_from_third_party_ones():
    found = {app.name for app in apps.get_app_configs() if is_project_app(app)}
    assert {"integration_hub", "integration_hub.sandbox", "syncing", "accounting"} <= found
    assert "datasync" in found
    assert not found & {"rest_framework", "django_q", "django.contrib.admin"}


def test_an_app_imported_through_a_symlinked_checkout_still_counts(tmp_path):
    link = tmp_path / "current"
    link.symlink_to(settings.BASE_DIR, target_is_directory=True)

    app = SimpleNamespace(name="syncing", path=str(link / "syncing"))

    assert is_project_app(app)
