"""Two workers refreshing one grant at once (DESIGN.md, "Accounting": refresh tokens rotate;
a refresh takes a lease, calls the token endpoint outside any transaction and stores by
compare and swap, so that no rotated token is ever lost)."""

import threading
from datetime import timedelta
from urllib.parse import parse_qs

import pytest
import responses
from django.db import connection
from django.utils import timezone

from integration_hub.models import Integration, OAuthGrant
from integration_hub.outbound import OutboundClient
from integration_hub.outbound.grants import OAuthGrantAuth
from integration_hub.services.credentials import credential_set
from tests.factories import IntegrationFactory, OAuthGrantFactory

API = "https://api.books.example.com"
TOKEN_URL = "https://identity.books.example.com/connect/token"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_refreshing_one_grant_call_the_token_endpoint_once_and_keep_its_rotation(
    monkeypatch,
):
    credential_set(key_name="books-app", client_id="books-app", client_secret="app-secret")
    app = IntegrationFactory(
        kind=Integration.Kind.ACCOUNTING,
        base_url=API,
        auth_type=Integration.AuthType.OAUTH2_AUTHORIZATION_CODE,
        credential_key="books-app",
    )
    grant = OAuthGrantFactory(
        integration=app,
        token_url=TOKEN_URL,
        refresh_token="refresh-1",
        access_token="expired",
        access_token_expires_at=timezone.now() - timedelta(minutes=1),
    )
    # The first worker to take the lease holds the token endpoint until the other has found
    # the lease taken and is waiting for its tokens.
    loser_waits = threading.Event()
    take = OAuthGrantAuth._lease_take

    def lease_take(self):
        lease = take(self)
        if lease is None:
            loser_waits.set()
        return lease

    monkeypatch.setattr(OAuthGrantAuth, "_lease_take", lease_take)
    refreshed_with = []

    def token_endpoint(request):
        refreshed_with.append(parse_qs(request.body)["refresh_token"][0])
        assert loser_waits.wait(timeout=30)
        return (
            200,
            {},
            '{"access_token": "access-2", "refresh_token": "refresh-2", "expires_in": 1800}',
        )

    start = threading.Barrier(2)
    sent, errors = [], []
    lock = threading.Lock()

    def worker():
        try:
            start.wait()
            response = OutboundClient.for_integration(app, grant=grant).get("books")
            with lock:
                sent.append(response.request.headers["Authorization"])
        except Exception as exc:  # reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()  # each thread has its own connection

    with responses.RequestsMock() as mock:
        mock.add_callback(responses.POST, TOKEN_URL, callback=token_endpoint)
        mock.add(responses.GET, f"{API}/books", json={})
        threads = [threading.Thread(target=worker) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    assert errors == []
    assert refreshed_with == ["refresh-1"]
    assert sent == ["Bearer access-2", "Bearer access-2"]
    grant = OAuthGrant.objects.get(pk=grant.pk)
    assert (grant.refresh_token, grant.access_token) == ("refresh-2", "access-2")
    assert grant.refreshing_until is None
