"""The sandbox over real HTTP: its OAuth2 provider, the receiver, and the staff page."""

import json

import pytest
from oauth2_provider.models import AccessToken, get_application_model

from integration_hub.models import Credential
from integration_hub.outbound import (
    OutboundClient,
    OutboundHTTPError,
    OutboundTokenError,
    ensure_success,
)
from integration_hub.sandbox.models import ReceivedRequest, SandboxReceiver
from integration_hub.sandbox.services import sandbox_demo_setup
from integration_hub.services.credentials import credential_set

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def demo_integration(live_server):
    return sandbox_demo_setup(base_url=live_server.url)


def _client_for_receiver(integration, slug: str) -> OutboundClient:
    base = integration.base_url.replace("/receiver/demo/", f"/receiver/{slug}/")
    return OutboundClient.for_credentials(
        auth_type=integration.auth_type,
        token_url=integration.token_url,
        map_name=integration.credential_map,
        key_name=integration.credential_key,
        base_url=base,
    )


def test_a_delivery_is_recorded_without_its_token_and_shown_to_staff(
    demo_integration, client, make_user
):
    payload = {"messages": [{"uniqueId": "m-1", "customer": "Ada Lovelace"}]}

    response = ensure_success(OutboundClient.for_integration(demo_integration).post(json=payload))

    received = ReceivedRequest.objects.get(pk=response.json()["received"])
    assert received.receiver.slug == "demo"
    assert received.method == "POST"
    assert json.loads(received.body) == payload
    assert received.headers["Content-Type"] == "application/json"
    assert "authorization" not in {name.lower() for name in received.headers}
    client.force_login(make_user(is_staff=True))
    page = client.get("/sandbox/receiver/demo/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Ada Lovelace" in html
    assert "&quot;uniqueId&quot;: &quot;m-1&quot;" in html  # pretty-printed JSON
    assert "Bearer" not in html
    assert '<th scope="col">Body</th>' in html


def test_demo_setup_is_idempotent_and_keeps_a_working_secret(demo_integration, live_server):
    secret_before = Credential.objects.get(key_name="sandbox-receiver").client_secret

    again = sandbox_demo_setup(base_url=live_server.url)

    assert again.pk == demo_integration.pk
    assert get_application_model().objects.filter(name="Sandbox receiver").count() == 1
    assert Credential.objects.get(key_name="sandbox-receiver").client_secret == secret_before
    ensure_success(OutboundClient.for_integration(again).post(json={}))


def test_demo_setup_resets_the_secret_when_the_credential_entry_is_gone(live_server):
    sandbox_demo_setup(base_url=live_server.url)
    Credential.objects.filter(key_name="sandbox-receiver").delete()

    integration = sandbox_demo_setup(base_url=live_server.url)

    ensure_success(OutboundClient.for_integration(integration).post(json={"after": "reset"}))


def test_a_wrong_client_secret_is_a_token_error(demo_integration):
    application = get_application_model().objects.get(name="Sandbox receiver")
    credential_set(
        key_name="sandbox-receiver", client_id=application.client_id, client_secret="wrong"
    )

    with pytest.raises(OutboundTokenError, match="401") as excinfo:
        OutboundClient.for_integration(demo_integration).post(json={})

    assert "/sandbox/o/token/" in str(excinfo.value)
    assert ReceivedRequest.objects.count() == 0


def test_a_delivery_without_a_valid_token_gets_401(demo_integration):
    anonymous = OutboundClient(base_url=demo_integration.base_url)

    without_token = anonymous.post(json={"sneaky": True})
    with_bad_token = anonymous.post(json={}, headers={"Authorization": "Bearer not-a-token"})

    for response in (without_token, with_bad_token):
        assert response.status_code == 401
        assert response.headers["Content-Type"] == "application/json"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert "detail" in response.json()
    assert ReceivedRequest.objects.count() == 0


def test_a_revoked_token_is_replaced_after_one_401(demo_integration):
    client = OutboundClient.for_integration(demo_integration)
    ensure_success(client.post(json={"n": 1}))
    AccessToken.objects.all().delete()

    ensure_success(client.post(json={"n": 2}))

    assert [json.loads(r.body)["n"] for r in ReceivedRequest.objects.order_by("id")] == [1, 2]
    assert AccessToken.objects.count() == 1


def test_a_receiver_set_to_fail_answers_its_status_and_retry_after(demo_integration):
    SandboxReceiver.objects.create(slug="flaky", respond_status=503, retry_after="7")

    response = _client_for_receiver(demo_integration, "flaky").post(json={"n": 1})

    with pytest.raises(OutboundHTTPError) as excinfo:
        ensure_success(response)
    assert excinfo.value.status_code == 503
    assert excinfo.value.retry_after == 7
    assert ReceivedRequest.objects.get().response_status == 503


def test_an_unknown_receiver_is_created_accepting_on_first_delivery(demo_integration):
    response = ensure_success(_client_for_receiver(demo_integration, "brand-new").put(data="hi"))

    receiver = SandboxReceiver.objects.get(slug="brand-new")
    assert receiver.respond_status == 200
    assert receiver.received_requests.get().pk == response.json()["received"]


def test_a_body_over_one_megabyte_is_stored_cut(demo_integration):
    body = "a" * (ReceivedRequest.BODY_LIMIT + 10)

    ensure_success(
        OutboundClient.for_integration(demo_integration).post(
            data=body, headers={"Content-Type": "text/plain"}
        )
    )

    received = ReceivedRequest.objects.get()
    assert len(received.body) == ReceivedRequest.BODY_LIMIT
    assert received.body_truncated


def test_only_staff_can_open_the_receiver_page(client, make_user):
    anonymous = client.get("/sandbox/receiver/demo/")
    client.force_login(make_user())
    not_staff = client.get("/sandbox/receiver/demo/")

    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/login/")
    assert not_staff.status_code == 403


def test_an_admin_sets_a_receiver_to_fail_and_received_requests_are_read_only(client, system_admin):
    receiver = SandboxReceiver.objects.create(slug="demo")
    client.force_login(system_admin)

    saved = client.post(
        f"/admin/sandbox/sandboxreceiver/{receiver.pk}/change/",
        {"slug": "demo", "respond_status": "429", "retry_after": "30"},
    )
    add_page = client.get("/admin/sandbox/receivedrequest/add/")
    list_page = client.get("/admin/sandbox/receivedrequest/")

    assert saved.status_code == 302
    receiver.refresh_from_db()
    assert (receiver.respond_status, receiver.retry_after) == (429, "30")
    assert add_page.status_code == 403
    assert list_page.status_code == 200
