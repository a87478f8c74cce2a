import pytest
import responses

from integration_hub.services.credentials import credential_set
from integration_hub.services.system_settings import setting_set

from .receiver import LocalReceiver

API_URL = "https://receiver.example.com/api/messages"
TOKEN_URL = "https://receiver.example.com/oauth/token"
SIGNING_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def datasync_configure(*, api_url: str, token_url: str, enabled: bool = True, **more) -> None:
    credential_set(key_name="datasync", client_id="client-1", client_secret="s3cret-value")
    setting_set(key="DataSyncApiUrl", value=api_url)
    setting_set(key="DataSyncTokenUrl", value=token_url)
    setting_set(key="DataSyncEnabled", value=enabled)
    for key, value in more.items():
        setting_set(key=key, value=value)


def receiver_configure(receiver, **more) -> None:
    """Data Sync enabled against a LocalReceiver (its /api and /token)."""
    datasync_configure(
        api_url=receiver.base_url + "/api", token_url=receiver.base_url + "/token", **more
    )


def customers_changed(customers: int, updates: int) -> None:
    """`customers` customers C000..., each created then changed `updates` times (captured)."""
    from integration_hub.selectors import default_subscriber
    from integration_hub.services.customers import customer_create, customer_update

    subscriber = default_subscriber()
    for n in range(customers):
        customer = customer_create(subscriber=subscriber, customer_id=f"C{n:03}", first_name="v0")
        for version in range(1, updates + 1):
            customer = customer_update(customer=customer, first_name=f"v{version}")


@pytest.fixture
def datasync_on(db):
    """Data Sync enabled against API_URL / TOKEN_URL (mock them with `responses`)."""
    datasync_configure(api_url=API_URL, token_url=TOKEN_URL)


@pytest.fixture
def mocked_receiver():
    """`responses` with a token endpoint; the test adds what API_URL answers."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.post(
            TOKEN_URL,
            json={"access_token": "tok-1", "token_type": "Bearer", "expires_in": 3600},
        )
        yield mock


@pytest.fixture
def local_receiver():
    receiver = LocalReceiver().start()
    yield receiver
    receiver.stop()
