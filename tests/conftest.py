pytest_plugins = ["tests.plugins.markers"]

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from integration_hub import roles
from integration_hub.system_settings import settings_cache_clear

from .factories import UserFactory


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
    from integration_hub.selectors import default_subscriber
    from integration_hub.models import SubscriberOwner

    user = make_user(roles.OWNER)
    SubscriberOwner.objects.create(user=user, subscriber=default_subscriber())
    return user


@pytest.fixture
def plain_user(make_user):
    return make_user()
