"""The network policy of outbound calls: refused destinations never get a connection."""

import re
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from integration_hub.outbound import (
    OutboundClient,
    OutboundHTTPError,
    OutboundPolicyError,
    check_address,
    ensure_success,
)
from tests.listener import PROMPT_SHUTDOWN

pytestmark = pytest.mark.django_db


@pytest.fixture
def private_networks_refused(settings):
    settings.OUTBOUND_ALLOW_PRIVATE_NETWORKS = False
    settings.OUTBOUND_REQUIRE_HTTPS = False


@pytest.fixture
def connection_attempts(monkeypatch):
    """Every socket connect made during the test (none may happen for a refused URL)."""
    attempts = []
    real_connect = socket.socket.connect

    def recording_connect(sock, address):
        attempts.append(address)
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", recording_connect)
    return attempts


def _fake_resolver(monkeypatch, answers: dict[str, list[str]]):
    """Make socket.getaddrinfo answer `answers` for these names (others resolve as usual)."""
    real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
        if host in answers:
            results = []
            for address in answers[host]:
                if ":" in address:
                    results.append(
                        (socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, port, 0, 0))
                    )
                else:
                    results.append((socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port)))
            return results
        return real_getaddrinfo(host, port, family, type, proto, flags)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://[::1]/hook",
        "http://10.1.2.3/hook",
        "http://172.16.0.1/hook",
        "http://192.168.1.1/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://100.64.0.1/hook",
        "http://0.0.0.0/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://2130706433/hook",
        "http://0x7f000001/hook",
        "http://0177.0.0.1/hook",
        "http://localhost/hook",
    ],
)
def test_a_private_loopback_or_link_local_destination_is_refused_without_connecting(
    private_networks_refused, connection_attempts, url
):
    with pytest.raises(OutboundPolicyError):
        OutboundClient().post(url, json={"hello": "world"})

    assert connection_attempts == []


def test_a_host_name_that_resolves_to_a_private_address_is_refused(
    private_networks_refused, connection_attempts, monkeypatch
):
    _fake_resolver(monkeypatch, {"partner.example.com": ["10.0.0.7"]})

    with pytest.raises(OutboundPolicyError, match=re.escape("10.0.0.7")):
        OutboundClient().get("http://partner.example.com/api")

    assert connection_attempts == []


def test_a_host_name_with_one_public_and_one_private_address_is_refused(
    private_networks_refused, connection_attempts, monkeypatch
):
    _fake_resolver(monkeypatch, {"partner.example.com": ["93.184.215.14", "192.168.0.9"]})

    with pytest.raises(OutboundPolicyError, match=re.escape("192.168.0.9")):
        OutboundClient().get("http://partner.example.com/api")

    assert connection_attempts == []


def test_plain_http_is_refused_when_https_is_required(settings, connection_attempts):
    settings.OUTBOUND_REQUIRE_HTTPS = True

    with pytest.raises(OutboundPolicyError, match="https"):
        OutboundClient().get("http://partner.example.com/api")

    assert connection_attempts == []


def test_a_public_address_passes_the_address_check(private_networks_refused):
    check_address("partner.example.com", "93.184.215.14")
    check_address("partner.example.com", "2606:4700::1111")


def test_an_ipv6_address_carrying_a_loopback_ipv4_address_is_refused(private_networks_refused):
    for address in ("::ffff:127.0.0.1", "::127.0.0.1", "64:ff9b::7f00:1"):
        with pytest.raises(OutboundPolicyError):
            check_address("partner.example.com", address)


class _LocalServer:
    """A real HTTP server on 127.0.0.1 that counts the hits of each path."""

    def __init__(self, routes):
        hits = self.hits = dict.fromkeys(routes, 0)
        self.host_headers = []
        host_headers = self.host_headers

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                hits[self.path] = hits.get(self.path, 0) + 1
                host_headers.append(self.headers["Host"])
                status, headers = routes.get(self.path, (404, {}))
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs=PROMPT_SHUTDOWN, daemon=True
        )

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def test_a_redirect_is_not_followed_and_counts_as_a_failure():
    routes = {"/start": (302, {"Location": "/target"}), "/target": (200, {})}
    with _LocalServer(routes) as server:
        response = OutboundClient().get(f"http://127.0.0.1:{server.port}/start")

        assert response.status_code == 302
        with pytest.raises(OutboundHTTPError) as excinfo:
            ensure_success(response)

    assert excinfo.value.status_code == 302
    assert server.hits == {"/start": 1, "/target": 0}


def test_the_connection_goes_to_the_checked_address_with_the_host_name_kept(monkeypatch):
    with _LocalServer({"/ping": (204, {})}) as server:
        _fake_resolver(monkeypatch, {"partner.test": ["127.0.0.1"]})

        response = OutboundClient().get(f"http://partner.test:{server.port}/ping")

    assert response.status_code == 204
    assert server.host_headers == [f"partner.test:{server.port}"]
