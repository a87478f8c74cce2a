"""Log lines (DESIGN.md "Running" → "Operations"): LOG_FORMAT=json writes one JSON object per
line with time, level, logger and message; lines carry the id of the request or the task they
were logged in; every outbound call logs one line; no secret reaches a log line, at DEBUG
either. Each test applies the project's own LOGGING (tests/project_logging.py)."""

import base64
import json
import logging
import re
import socket
import subprocess
import sys
import uuid
from datetime import datetime
from multiprocessing import Value
from pathlib import Path
from queue import Queue

import pytest
import responses
from django.urls import path
from django_q.models import Task
from django_q.worker import worker
from rest_framework.test import APIClient

from integration_hub.models import Credential, OAuthToken
from integration_hub.outbound import (
    OutboundClient,
    OutboundConnectionRefused,
    OutboundTimeout,
    ensure_success,
)
from integration_hub.sandbox.services import sandbox_demo_setup
from integration_hub.services.api_tokens import api_token_create
from tests.factories import PASSWORD
from tests.reliability.cluster import run_cluster

REPO_ROOT = Path(__file__).resolve().parents[2]
NEW_ID = re.compile(r"[0-9a-f]{32}")
LOGGER = "tests.logging"


def _raise_an_error(request):
    raise RuntimeError("the view broke\non two lines")


# Only the tests marked @pytest.mark.urls(__name__) see this URL conf.
urlpatterns = [path("boom/", _raise_an_error)]


def task_that_logs(text: str) -> str:
    """A django-q2 task whose own line the tests look for."""
    logging.getLogger(LOGGER).info("task says: %s", text)
    return text


def _lines_of(objects: list[dict], logger: str) -> list[dict]:
    return [line for line in objects if line["logger"] == logger]


# --- the JSON format ------------------------------------------------------------------------


def test_each_json_line_is_one_object_with_time_level_logger_and_message(project_logging):
    log = project_logging("json")
    logger = logging.getLogger(LOGGER)

    logger.info("plain %s", "words")
    logger.warning("a message\nover two lines")
    try:
        raise ValueError("what went wrong")
    except ValueError:
        logger.exception("it failed")

    lines = log.lines()
    assert len(lines) == 3  # the two-line message and the traceback stay on their line
    first, second, third = log.objects()
    assert {"time", "level", "logger", "message"} <= set(first)
    assert (first["level"], first["logger"], first["message"]) == ("INFO", LOGGER, "plain words")
    assert datetime.fromisoformat(first["time"]).utcoffset().total_seconds() == 0
    assert second["message"] == "a message\nover two lines"
    assert (third["level"], third["message"]) == ("ERROR", "it failed")
    assert third["exception"].startswith("Traceback (most recent call last):")
    assert "ValueError: what went wrong" in third["exception"]
    assert "requestId" not in first
    assert "taskId" not in first


def test_extra_fields_are_kept_when_plain_and_left_out_when_objects(project_logging):
    class Request:
        def __str__(self):
            return "<WSGIRequest: GET '/callback?code=oauth-code-secret'>"

    log = project_logging("json")

    logging.getLogger(LOGGER).warning(
        "Not Found: /callback", extra={"status_code": 404, "request": Request()}
    )

    (line,) = log.objects()
    assert line["status_code"] == 404
    assert "request" not in line
    assert "oauth-code-secret" not in log.text


def test_runserver_access_lines_carry_no_query_string(project_logging):
    log = project_logging("json")

    # As django.core.servers.basehttp.WSGIRequestHandler.log_message writes them.
    logging.getLogger("django.server").info(
        '"%s" %s %s',
        "GET /identities/verify/email/callback?code=oauth-code-secret&state=s HTTP/1.1",
        "302",
        "0",
        extra={"request": object(), "server_time": "02/Mar/2026 08:16:00", "status_code": 302},
    )

    (line,) = log.objects()
    assert line["message"] == '"GET /identities/verify/email/callback?<redacted> HTTP/1.1" 302 0'
    assert "oauth-code-secret" not in log.text


# --- settings -------------------------------------------------------------------------------


def _start_django(**variables: str) -> subprocess.CompletedProcess:
    """A fresh process with the production settings (DEBUG on) writes three lines."""
    script = (
        "import django, logging; django.setup(); "
        "logging.getLogger('integration_hub.demo').warning('started'); "
        "logging.getLogger('django.request').warning('Not Found: /x'); "
        "logging.getLogger('oauthlib').info('an oauthlib info line')"
    )
    return subprocess.run(  # noqa: S603 (this interpreter, a fixed script)
        [sys.executable, "-c", script],
        cwd=REPO_ROOT,
        env={
            "PATH": "/usr/bin:/bin",
            "ENV_FILE": "/dev/null",
            "DJANGO_SETTINGS_MODULE": "integration_hub.settings",
            "DEBUG": "true",
            **variables,
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_log_format_json_from_the_environment_writes_json_lines():
    result = _start_django(LOG_FORMAT="json")

    assert result.returncode == 0, result.stderr
    # Each line once, as JSON: Django's own handlers (a plain copy in DEBUG) are gone.
    lines = [json.loads(line) for line in result.stderr.split("\n") if line]
    assert [(line["logger"], line["message"]) for line in lines] == [
        ("integration_hub.demo", "started"),
        ("django.request", "Not Found: /x"),
        ("oauthlib", "an oauthlib info line"),
    ]


def test_log_level_holds_for_every_logger():
    result = _start_django(LOG_LEVEL="WARNING")

    assert result.returncode == 0, result.stderr
    assert "started" in result.stderr
    assert "Not Found: /x" in result.stderr
    assert "an oauthlib info line" not in result.stderr


def test_the_default_log_format_is_readable_text():
    result = _start_django()

    assert result.returncode == 0, result.stderr
    assert re.search(r" WARNING integration_hub.demo: started$", result.stderr, re.MULTILINE)


@pytest.mark.parametrize(
    ("variable", "value"), [("LOG_FORMAT", "xml"), ("LOG_FORMAT", "JSON "), ("LOG_LEVEL", "LOUD")]
)
def test_an_unknown_log_format_or_level_is_refused_at_start_up_naming_it(variable, value):
    result = _start_django(**{variable: value})

    assert result.returncode != 0
    assert f"{variable} must be" in result.stderr
    assert repr(value) in result.stderr


# --- request ids ----------------------------------------------------------------------------


@pytest.fixture
def axes_on(settings):
    """Sign-in throttling on, as in production: a failed sign-in logs a warning."""
    settings.AXES_ENABLED = True


def _failed_sign_in(client, **headers):
    return client.post(
        "/login/",
        {"username": "ada", "password": "not-the-password-1234"},
        REMOTE_ADDR="203.0.113.7",
        headers=headers,
    )


@pytest.mark.django_db
def test_an_incoming_request_id_is_echoed_and_carried_by_every_line_of_the_request(
    client, make_user, axes_on, project_logging
):
    make_user(username="ada")
    log = project_logging("json")

    response = _failed_sign_in(client, **{"X-Request-ID": "lb-7f3a.1:edge_42"})
    logging.getLogger(LOGGER).info("after the request")

    assert response["X-Request-ID"] == "lb-7f3a.1:edge_42"
    *during, after = log.objects()
    assert any(line["logger"].startswith("axes") for line in during)  # the view logged
    assert {line.get("requestId") for line in during} == {"lb-7f3a.1:edge_42"}
    assert "requestId" not in after


@pytest.mark.django_db
def test_without_an_incoming_request_id_one_is_made(client, project_logging):
    log = project_logging("json")

    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert NEW_ID.fullmatch(response["X-Request-ID"])
    (not_found,) = _lines_of(log.objects(), "django.request")
    assert not_found["message"] == "Not Found: /no-such-page/"
    assert not_found["requestId"] == response["X-Request-ID"]
    assert not_found["status_code"] == 404


@pytest.mark.parametrize(
    "incoming",
    [
        "x" * 201,
        "has spaces",
        "line\nbreak",
        "<script>alert(1)</script>",
        "semi;colon",
        "",
    ],
)
@pytest.mark.django_db
def test_an_unsafe_request_id_is_replaced_and_never_logged(
    client, make_user, axes_on, project_logging, incoming
):
    make_user(username="ada")
    log = project_logging("text")

    response = _failed_sign_in(client, **{"X-Request-ID": incoming})

    request_id = response["X-Request-ID"]
    assert NEW_ID.fullmatch(request_id)
    assert f"[req={request_id}]" in log.text
    if incoming:
        assert incoming not in log.text


@pytest.mark.django_db
def test_the_text_format_marks_the_request_id_and_stays_readable(
    client, make_user, axes_on, project_logging
):
    make_user(username="ada")
    log = project_logging("text")

    _failed_sign_in(client, **{"X-Request-ID": "req-1"})

    assert re.search(r"^\S+ \S+ WARNING axes\S* \[req=req-1\]: AXES: ", log.text, re.MULTILINE)


@pytest.mark.django_db
def test_every_kind_of_response_carries_its_request_id(client, system_admin):
    answers = {
        "page not found": client.get("/no-such-page/"),
        "admin sign-in page": client.get("/admin/login/"),
        "API without a token (401)": client.get("/api/v1/credentials/"),
        # A declared length over the limit: RequestBodyLimitMiddleware answers by itself.
        "body over 2.5 MB (413)": client.post(
            "/api/v1/integrations/", "{}", content_type="application/json", CONTENT_LENGTH="3000000"
        ),
        "sign-in page": client.get("/login/"),
    }
    client.force_login(system_admin)
    answers["dashboard"] = client.get("/")

    statuses = {name: response.status_code for name, response in answers.items()}
    assert statuses == {
        "page not found": 404,
        "admin sign-in page": 200,
        "API without a token (401)": 401,
        "body over 2.5 MB (413)": 413,
        "sign-in page": 200,
        "dashboard": 200,
    }
    ids = [response["X-Request-ID"] for response in answers.values()]
    assert all(NEW_ID.fullmatch(request_id) for request_id in ids)
    assert len(set(ids)) == len(ids)


@pytest.mark.urls(__name__)
@pytest.mark.django_db
def test_a_server_error_is_one_json_line_with_its_traceback_and_request_id(client, project_logging):
    client.raise_request_exception = False
    log = project_logging("json")

    response = client.get("/boom/", headers={"X-Request-ID": "err-1"})

    assert response.status_code == 500
    assert response["X-Request-ID"] == "err-1"
    lines = log.lines()
    (error,) = _lines_of(log.objects(), "django.request")
    assert len(lines) == len(log.objects())
    assert (error["level"], error["message"]) == ("ERROR", "Internal Server Error: /boom/")
    assert error["requestId"] == "err-1"
    assert "Traceback (most recent call last):" in error["exception"]
    assert "RuntimeError: the view broke\non two lines" in error["exception"]


# --- task ids -------------------------------------------------------------------------------


def _run_in_a_django_q2_worker(task: dict) -> dict:
    """django-q2's own worker loop, in this process: it sends pre_execute, runs the task's
    function and sends post_execute_in_worker, as in a cluster's worker process."""
    tasks, results = Queue(), Queue()
    tasks.put(task)
    tasks.put("STOP")
    worker(tasks, results, Value("f", -1), timeout=None)
    return results.get_nowait()


@pytest.mark.django_db
def test_a_task_run_by_a_django_q2_worker_logs_with_its_task_id(project_logging):
    log = project_logging("json")
    task_id = uuid.uuid4().hex
    task = {
        "id": task_id,
        "name": "seven-alpha-kilo-oscar",
        "func": f"{__name__}.task_that_logs",
        "args": ("hello",),
        "kwargs": {},
        "sync": True,
    }

    result = _run_in_a_django_q2_worker(task)
    logging.getLogger(LOGGER).info("after the task")

    assert result["success"] is True, result["result"]
    task_line, after = _lines_of(log.objects(), LOGGER)
    assert task_line["message"] == "task says: hello"
    assert task_line["taskId"] == task_id
    assert task_line["taskName"] == "seven-alpha-kilo-oscar"
    assert "taskId" not in after  # cleared in the worker once the task is done


@pytest.mark.cluster
@pytest.mark.django_db(transaction=True)
def test_a_real_cluster_writes_json_lines_and_a_task_s_lines_carry_its_id():
    with run_cluster(extra_env={"LOG_FORMAT": "json"}) as cluster:
        task_id = cluster.enqueue(f"{__name__}.task_that_logs", "from the cluster")
        cluster.wait_until(lambda: Task.objects.filter(id=task_id, success=True).exists())

    lines = [line for line in cluster.log().split("\n") if line]
    objects = [json.loads(line) for line in lines]  # every line of the cluster is JSON
    (task_line,) = [line for line in objects if line["message"] == "task says: from the cluster"]
    assert task_line["taskId"] == task_id
    assert task_line["logger"] == LOGGER


# --- outbound calls -------------------------------------------------------------------------

API = "https://api.partner.example.com/v1/items"


@pytest.mark.django_db
@responses.activate
def test_an_outbound_call_logs_method_host_path_status_and_ms_without_the_query(project_logging):
    responses.add(responses.GET, API, json={"items": []})
    log = project_logging("json")

    OutboundClient().get(f"{API}?apikey=query-secret-1&ssn=198001011234")

    (line,) = _lines_of(log.objects(), "integration_hub.outbound")
    assert line["level"] == "INFO"
    assert (line["method"], line["host"], line["path"], line["status"]) == (
        "GET",
        "api.partner.example.com",
        "/v1/items",
        200,
    )
    assert isinstance(line["ms"], float)
    assert line["ms"] >= 0
    assert line["message"].startswith("GET https://api.partner.example.com/v1/items -> 200 in ")
    assert "query-secret-1" not in log.text
    assert "198001011234" not in log.text


@pytest.mark.django_db
@responses.activate
def test_the_text_format_writes_the_same_outbound_line(project_logging):
    responses.add(responses.POST, API, status=503)
    log = project_logging("text")

    OutboundClient().post(f"{API}?token=query-secret-2", json={})

    assert re.search(
        r" INFO integration_hub.outbound: POST https://api.partner.example.com/v1/items -> 503 "
        r"in \d+ ms$",
        log.text,
        re.MULTILINE,
    )
    assert "query-secret-2" not in log.text


def test_a_refused_outbound_call_logs_the_same_fields_with_the_error_kind(project_logging):
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    log = project_logging("json")

    with pytest.raises(OutboundConnectionRefused):
        OutboundClient().post(f"http://127.0.0.1:{port}/hook?token=abc", json={}, timeout=2)

    (line,) = _lines_of(log.objects(), "integration_hub.outbound")
    assert (line["method"], line["host"], line["path"]) == ("POST", f"127.0.0.1:{port}", "/hook")
    assert (line["error"], line["status"]) == ("refused", None)
    assert line["ms"] >= 0
    assert "token=abc" not in log.text


def test_a_timed_out_outbound_call_logs_the_error_kind(project_logging):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)  # the kernel accepts; nobody ever answers
    port = listener.getsockname()[1]
    log = project_logging("json")
    try:
        with pytest.raises(OutboundTimeout):
            OutboundClient().get(f"http://127.0.0.1:{port}/slow", timeout=0.3)
    finally:
        listener.close()

    (line,) = _lines_of(log.objects(), "integration_hub.outbound")
    assert (line["method"], line["path"], line["error"]) == ("GET", "/slow", "timeout")
    assert line["ms"] >= 300


# --- no secret in any line, at DEBUG --------------------------------------------------------


@pytest.mark.parametrize("log_format", ["text", "json"])
@pytest.mark.django_db(transaction=True)
def test_no_secret_reaches_a_log_line_at_debug(
    log_format, live_server, client, make_user, system_admin, settings, project_logging
):
    settings.AXES_ENABLED = True
    make_user(username="ada")
    api_token = api_token_create(user=system_admin, name="admin script").value
    admin_api = APIClient()
    admin_api.credentials(HTTP_AUTHORIZATION=f"Token {api_token}")
    saved_secret = "client-secret-saved-through-the-api"
    log = project_logging(log_format, level="DEBUG")

    # A System Admin saves a client secret through the API.
    saved = admin_api.post(
        "/api/v1/credentials/",
        {"keyName": "partner", "clientId": "hub-client", "clientSecret": saved_secret},
        format="json",
    )
    # A delivery to the sandbox over real HTTP: an OAuth2 client credentials token fetched
    # from its provider (HTTP Basic), then a POST with that token.
    integration = sandbox_demo_setup(base_url=live_server.url)
    delivered = ensure_success(
        OutboundClient.for_integration(integration).post(json={"messages": [{"uniqueId": "m"}]})
    )
    # Sign-ins: a wrong password, then the right one.
    refused = _failed_sign_in(client)
    signed_in = client.post("/login/", {"username": "ada", "password": PASSWORD})

    assert saved.status_code == 201
    assert delivered.status_code == 200
    assert (refused.status_code, signed_in.status_code) == (200, 302)
    credential = Credential.objects.get(key_name=integration.credential_key)
    access_token = OAuthToken.objects.get(credential=credential).access_token
    basic = base64.b64encode(f"{credential.client_id}:{credential.client_secret}".encode())
    secrets = {
        "saved client secret": saved_secret,
        "sandbox client secret": credential.client_secret,
        "HTTP Basic credentials": basic.decode(),
        "access token": access_token,
        "API token": api_token,
        "password": PASSWORD,
        "wrong password": "not-the-password-1234",
    }
    text = log.text
    # What was logged: DEBUG was on, and the flow's lines are there.
    assert "urllib3.connectionpool" in text
    assert "Fetched an OAuth2 token (client credentials)" in text
    assert "/sandbox/o/token/" in text
    assert "AXES: " in text
    leaked = [name for name, secret in secrets.items() if secret in text]
    assert leaked == []
    if log_format == "json":
        assert len(log.objects()) == len(log.lines())
