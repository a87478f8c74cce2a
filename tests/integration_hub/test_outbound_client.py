"""The outbound client: authentication, the token cache, 401 handling and typed failures."""

import base64
import logging
import socket
import ssl
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest
import responses
from django.db import connection, connections
from django.utils import timezone

from integration_hub.models import Credential, OAuthToken
from integration_hub.outbound import (
    OutboundClient,
    OutboundConnectionRefused,
    OutboundHTTPError,
    OutboundTimeout,
    OutboundTokenError,
    ensure_success,
)
from integration_hub.outbound.transport import thread_adapter
from integration_hub.services.credentials import credential_set
from tests.listener import PROMPT_SHUTDOWN

pytestmark = pytest.mark.django_db

TOKEN_URL = "https://auth.partner.example.com/oauth/token"
API_URL = "https://api.partner.example.com/v1/messages"
CLIENT_ID = "hub-client"
CLIENT_SECRET = "s3cr3t-client-secret-value"


@pytest.fixture
def client_credentials():
    return credential_set(key_name="partner", client_id=CLIENT_ID, client_secret=CLIENT_SECRET)


def _client() -> OutboundClient:
    return OutboundClient.for_credentials(
        auth_type="OAUTH2_CLIENT_CREDENTIALS",
        token_url=TOKEN_URL,
        map_name="ce_credentials",
        key_name="partner",
        base_url="https://api.partner.example.com/v1/",
    )


def _token_response(access_token: str, expires_in: int = 3600, **extra):
    return responses.Response(
        responses.POST,
        TOKEN_URL,
        json={
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": expires_in,
            **extra,
        },
    )


def _calls_to(url: str) -> list:
    return [call for call in responses.calls if call.request.url.split("?")[0] == url]


@responses.activate
def test_a_token_is_fetched_once_and_reused_by_another_worker(client_credentials):
    responses.add(_token_response("token-one"))
    responses.add(responses.POST, API_URL, json={"ok": True})

    first_worker, second_worker = _client(), _client()
    ensure_success(first_worker.post("messages", json={"n": 1}))
    ensure_success(second_worker.post("messages", json={"n": 2}))

    assert len(_calls_to(TOKEN_URL)) == 1
    api_calls = _calls_to(API_URL)
    assert [call.request.headers["Authorization"] for call in api_calls] == [
        "Bearer token-one",
        "Bearer token-one",
    ]


@responses.activate
def test_the_cached_token_is_stored_encrypted(client_credentials):
    responses.add(_token_response("plain-token-value"))
    responses.add(responses.POST, API_URL, json={})

    _client().post("messages", json={})

    with connection.cursor() as cursor:
        cursor.execute("SELECT access_token FROM integration_hub_oauthtoken")
        (stored,) = cursor.fetchone()
    assert stored
    assert "plain-token-value" not in stored
    assert OAuthToken.objects.get().access_token == "plain-token-value"


@responses.activate
def test_a_token_within_a_minute_of_its_expiry_is_fetched_again(client_credentials):
    responses.add(_token_response("old-token"))
    responses.add(_token_response("new-token"))
    responses.add(responses.POST, API_URL, json={})
    _client().post("messages", json={})
    OAuthToken.objects.update(expires_at=timezone.now() + timedelta(seconds=30))

    _client().post("messages", json={})

    assert len(_calls_to(TOKEN_URL)) == 2
    assert _calls_to(API_URL)[-1].request.headers["Authorization"] == "Bearer new-token"


@responses.activate
def test_a_token_well_before_its_expiry_is_not_fetched_again(client_credentials):
    responses.add(_token_response("only-token"))
    responses.add(responses.POST, API_URL, json={})
    _client().post("messages", json={})
    OAuthToken.objects.update(expires_at=timezone.now() + timedelta(seconds=120))

    _client().post("messages", json={})

    assert len(_calls_to(TOKEN_URL)) == 1


@responses.activate
def test_a_401_fetches_a_new_token_once_and_retries_once(client_credentials):
    responses.add(_token_response("revoked-token"))
    responses.add(_token_response("fresh-token"))
    responses.add(responses.POST, API_URL, status=401)
    responses.add(responses.POST, API_URL, json={"ok": True})

    response = ensure_success(_client().post("messages", json={}))

    assert response.json() == {"ok": True}
    assert len(_calls_to(TOKEN_URL)) == 2
    assert [call.request.headers["Authorization"] for call in _calls_to(API_URL)] == [
        "Bearer revoked-token",
        "Bearer fresh-token",
    ]
    assert OAuthToken.objects.get().access_token == "fresh-token"


@responses.activate
def test_a_second_401_surfaces_as_http_401_without_more_attempts(client_credentials):
    responses.add(_token_response("token-a"))
    responses.add(_token_response("token-b"))
    responses.add(responses.POST, API_URL, status=401, body="still not allowed")

    response = _client().post("messages", json={})

    assert response.status_code == 401
    with pytest.raises(OutboundHTTPError) as excinfo:
        ensure_success(response)
    assert excinfo.value.status_code == 401
    assert len(_calls_to(TOKEN_URL)) == 2
    assert len(_calls_to(API_URL)) == 2


@responses.activate
def test_the_client_authenticates_to_the_token_endpoint_by_http_basic(client_credentials):
    responses.add(_token_response("t"))
    responses.add(responses.POST, API_URL, json={})

    _client().post("messages", json={})

    (token_call,) = _calls_to(TOKEN_URL)
    expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    assert token_call.request.headers["Authorization"] == f"Basic {expected}"
    body = parse_qs(token_call.request.body)
    assert body["grant_type"] == ["client_credentials"]
    assert "client_secret" not in body
    assert "client_id" not in body


@responses.activate
def test_an_api_key_is_sent_as_the_x_api_key_header():
    credential_set(key_name="keyed-partner", api_key="k-123456")
    responses.add(responses.GET, API_URL, json=[])
    client = OutboundClient.for_credentials(
        auth_type="API_KEY", key_name="keyed-partner", base_url="https://api.partner.example.com/v1"
    )

    ensure_success(client.get("/messages"))

    (call,) = responses.calls
    assert call.request.headers["X-API-Key"] == "k-123456"
    assert "Authorization" not in call.request.headers
    assert "k-123456" not in repr(client)


@responses.activate
def test_the_refresh_token_grant_stores_the_rotated_refresh_token():
    credential = credential_set(
        key_name="refreshing-partner",
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        refresh_token="refresh-one",
    )
    responses.add(_token_response("access-1", refresh_token="refresh-two"))
    responses.add(responses.POST, API_URL, json={})
    client = OutboundClient.for_credentials(
        auth_type="OAUTH2_REFRESH_TOKEN",
        token_url=TOKEN_URL,
        key_name="refreshing-partner",
        base_url=API_URL,
    )

    ensure_success(client.post(json={}))

    (token_call,) = _calls_to(TOKEN_URL)
    body = parse_qs(token_call.request.body)
    assert body["grant_type"] == ["refresh_token"]
    assert body["refresh_token"] == ["refresh-one"]
    assert token_call.request.headers["Authorization"].startswith("Basic ")
    credential.refresh_from_db()
    assert credential.refresh_token == "refresh-two"
    assert _calls_to(API_URL)[0].request.headers["Authorization"] == "Bearer access-1"


@responses.activate
def test_a_refused_token_request_names_the_endpoint_but_never_the_secret(
    client_credentials, caplog
):
    caplog.set_level(logging.DEBUG)
    responses.add(
        responses.POST,
        TOKEN_URL,
        status=400,
        json={"error": "invalid_client", "error_description": f"bad secret {CLIENT_SECRET}"},
    )

    with pytest.raises(OutboundTokenError) as excinfo:
        _client().post("messages", json={})

    message = str(excinfo.value)
    assert "auth.partner.example.com/oauth/token" in message
    assert "400" in message
    basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    for secret in (CLIENT_SECRET, basic):
        assert secret not in message
        assert secret not in repr(excinfo.value)
        assert secret not in caplog.text
    assert _calls_to(API_URL) == []


def test_missing_credentials_name_the_map_and_key():
    client = OutboundClient.for_credentials(
        auth_type="OAUTH2_CLIENT_CREDENTIALS",
        token_url=TOKEN_URL,
        map_name="ce_credentials",
        key_name="nobody-saved-this",
        base_url=API_URL,
    )

    with pytest.raises(OutboundTokenError, match="ce_credentials/nobody-saved-this"):
        client.post(json={})


def test_an_entry_without_a_client_secret_names_the_map_and_key():
    credential_set(key_name="only-a-key", api_key="k")
    client = OutboundClient.for_credentials(
        auth_type="OAUTH2_CLIENT_CREDENTIALS",
        token_url=TOKEN_URL,
        key_name="only-a-key",
        base_url=API_URL,
    )

    with pytest.raises(OutboundTokenError, match="ce_credentials/only-a-key"):
        client.post(json={})


def test_reprs_of_clients_and_auth_show_no_secret(client_credentials):
    client = _client()

    assert CLIENT_SECRET not in repr(client)
    assert CLIENT_SECRET not in repr(client.auth)
    assert CLIENT_SECRET not in repr(Credential.objects.get())


@responses.activate
def test_ensure_success_reads_status_body_and_retry_after():
    responses.add(
        responses.POST, API_URL, status=503, body="x" * 2000, headers={"Retry-After": "120"}
    )

    with pytest.raises(OutboundHTTPError) as excinfo:
        ensure_success(OutboundClient().post(API_URL, json={}))

    assert excinfo.value.status_code == 503
    assert excinfo.value.retry_after == 120
    assert 0 < len(excinfo.value.body_excerpt) <= 500


@responses.activate
def test_retry_after_as_an_http_date_becomes_seconds():
    when = timezone.now() + timedelta(seconds=90)
    http_date = when.strftime("%a, %d %b %Y %H:%M:%S GMT")
    responses.add(responses.POST, API_URL, status=429, headers={"Retry-After": http_date})

    with pytest.raises(OutboundHTTPError) as excinfo:
        ensure_success(OutboundClient().post(API_URL, json={}))

    assert 80 <= excinfo.value.retry_after <= 90


@pytest.fixture
def local_server_answering_500():
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            self.send_response(500)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs=PROMPT_SHUTDOWN, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_query_strings_stay_out_of_log_lines(local_server_answering_500, caplog):
    caplog.set_level(logging.DEBUG)

    response = OutboundClient().get(
        f"{local_server_answering_500}/v1/messages", params={"apikey": "query-secret"}
    )

    assert response.status_code == 500
    assert "/v1/messages" in caplog.text
    assert "urllib3.connectionpool" in caplog.text  # the library's request line is there too
    assert "query-secret" not in caplog.text


def test_a_partner_that_never_answers_times_out():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)  # the kernel accepts; nobody ever answers
    port = listener.getsockname()[1]
    try:
        with pytest.raises(OutboundTimeout):
            OutboundClient().post(f"http://127.0.0.1:{port}/hook", json={}, timeout=0.5)
    finally:
        listener.close()


def test_a_closed_port_is_a_refused_connection():
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()

    with pytest.raises(OutboundConnectionRefused) as excinfo:
        OutboundClient().post(f"http://127.0.0.1:{port}/hook?token=abc", json={}, timeout=2)

    assert f"127.0.0.1:{port}/hook" in str(excinfo.value)
    assert "token=abc" not in str(excinfo.value)


def test_tls_is_1_2_or_newer_with_certificates_verified():
    context = thread_adapter().ssl_context

    assert context.minimum_version >= ssl.TLSVersion.TLSv1_2
    assert context.verify_mode == ssl.CERT_REQUIRED


@pytest.fixture
def tls_server_for_partner_test(tmp_path):
    """A local HTTPS server whose self-signed certificate names only partner.test."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "partner.test")])
    now = timezone.now()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("partner.test")]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_pem = certificate.public_bytes(serialization.Encoding.PEM)
    (tmp_path / "cert.pem").write_bytes(cert_pem)
    (tmp_path / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    server_names = []
    server_context.sni_callback = lambda sock, server_name, ctx: server_names.append(server_name)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = server_context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs=PROMPT_SHUTDOWN, daemon=True)
    thread.start()
    yield {"port": server.server_address[1], "cert_pem": cert_pem, "server_names": server_names}
    server.shutdown()
    server.server_close()


def _resolve_to_loopback(monkeypatch, *names: str) -> None:
    real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host in names:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]
        return real_getaddrinfo(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def test_https_checks_the_certificate_against_the_host_name_sent_as_sni(
    tls_server_for_partner_test, monkeypatch
):
    server = tls_server_for_partner_test
    _resolve_to_loopback(monkeypatch, "partner.test", "impostor.test")
    outcomes = {}

    def in_a_fresh_thread():
        # A new thread has its own session, so trusting the test certificate stays there.
        thread_adapter().ssl_context.load_verify_locations(cadata=server["cert_pem"].decode())
        port = server["port"]
        try:
            outcomes["named"] = (
                OutboundClient().get(f"https://partner.test:{port}/", timeout=10).status_code
            )
            OutboundClient().get(f"https://impostor.test:{port}/", timeout=10)
        except OutboundConnectionRefused as exc:
            outcomes["impostor"] = str(exc)
        finally:
            connections.close_all()

    worker = threading.Thread(target=in_a_fresh_thread)
    worker.start()
    worker.join(timeout=30)

    assert outcomes["named"] == 204
    assert "TLS" in outcomes["impostor"]
    assert server["server_names"][0] == "partner.test"


def test_an_untrusted_certificate_is_refused(tls_server_for_partner_test, monkeypatch):
    _resolve_to_loopback(monkeypatch, "partner.test")

    with pytest.raises(OutboundConnectionRefused, match="TLS"):
        OutboundClient().get(f"https://partner.test:{tls_server_for_partner_test['port']}/")
