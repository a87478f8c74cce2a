import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from integration_hub import roles
from integration_hub.system_settings import settings_cache_clear

from .factories import UserFactory

pytest_plugins = ["tests.plugins.markers"]


def page_queries(client, path: str) -> int:
    """The SQL queries one GET of `path` runs (it must answer 200): page tests compare
    them for little and much data."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == 200
    return len(queries)


@pytest.fixture(autouse=True)
def _fresh_settings_cache():
    """Each test starts with no cached system settings (a rolled-back test may have set one)."""
    settings_cache_clear()
    yield
    settings_cache_clear()


@pytest.fixture
def make_user(db):
    """make_user("System Admin", "Job Admin") → a user holding those roles."""

    def make(*role_names: str, **fields):
        for name in role_names:
            assert name in roles.ROLES, name
        return UserFactory(roles=list(role_names), **fields)

    return make


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def api_as(db):
    """api_as(user) → an APIClient sending that user's token as `Authorization: Token KEY`."""

    def make(user, keyword: str = "Token"):
        client = APIClient()
        token, _ = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"{keyword} {token.key}")
        return client

    return make


@pytest.fixture
def system_admin(make_user):
    return make_user(roles.SYSTEM_ADMIN, is_staff=True)


@pytest.fixture
def system_config(make_user):
    return make_user(roles.SYSTEM_CONFIG, is_staff=True)


@pytest.fixture
def job_admin(make_user):
    return make_user(roles.JOB_ADMIN, is_staff=True)


@pytest.fixture
def owner(make_user):
    from integration_hub.models import SubscriberOwner
    from integration_hub.selectors import default_subscriber

    user = make_user(roles.OWNER)
    SubscriberOwner.objects.create(user=user, subscriber=default_subscriber())
    return user


@pytest.fixture
def plain_user(make_user):
    return make_user()


@pytest.fixture(autouse=True)
def _rows_that_migrations_create(request):
    """A transactional test starts from what migrate leaves: roles with their permissions and
    schedules (post_migrate) and the default subscriber and settings version (migration 0002).

    An earlier transactional test flushed the database: the flush re-ran post_migrate but not
    the data migration (and, after a serialized-rollback test, neither).
    """
    marker = request.node.get_closest_marker("django_db")
    is_transactional = (marker is not None and marker.kwargs.get("transaction")) or bool(
        {"transactional_db", "live_server"} & set(request.fixturenames)
    )
    if not is_transactional:
        return
    request.getfixturevalue("transactional_db")
    from django.contrib.auth.models import Group
    from django.core.management.sql import emit_post_migrate_signal

    from integration_hub.models import SettingsVersion, Subscriber

    if Group.objects.filter(name__in=roles.ROLES).count() < len(roles.ROLES):
        emit_post_migrate_signal(verbosity=0, interactive=False, db="default")
    if not Subscriber.objects.exists():
        Subscriber.objects.create(name="Default subscriber")
    if not SettingsVersion.objects.exists():
        SettingsVersion.objects.create(version=0)
