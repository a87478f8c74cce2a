"""Health and readiness probes for load balancers and orchestrators (DESIGN.md "Running" →
"Operations"; README "Health and readiness").

- `GET /healthz`: the process answers. No database call, so a database outage never makes a
  healthy process look dead (and get restarted for nothing).
- `GET /readyz`: the database and the broker answer, so this process can serve requests and
  queue work. No cluster seen within CLUSTER_SEEN_WITHIN is a warning, not a failure: web
  servers stay in the load balancer while workers restart.

Both are answered by HealthProbeMiddleware, first in MIDDLEWARE: before anything calls
`request.get_host()` (probes come by IP, which ALLOWED_HOSTS need not list), before any
sign-in redirect or throttle. They are public on purpose (a probe has no credentials) and so
say nothing but the names of the parts that fail: never an address, a DSN or an error text.
"""

import contextlib
import logging
from collections.abc import Callable
from datetime import timedelta
from functools import lru_cache

from django.conf import settings
from django.db import connections
from django.db.models.functions import Now
from django.http import HttpRequest, HttpResponse, JsonResponse

logger = logging.getLogger(__name__)

# A cluster records a heartbeat at least once a minute (integration_hub.services.clusters).
CLUSTER_SEEN_WITHIN = timedelta(minutes=2)
# Redis must answer within this, or the broker counts as failing (a probe never hangs).
REDIS_TIMEOUT_SECONDS = 2.0

PROBE_METHODS = ("GET", "HEAD")


def _ask(
    part: str, question: Callable[[], object], *, alias: str | None = None
) -> tuple[bool, object]:
    """(True, the answer of `question()`), or (False, None) when it raises. A failure is logged
    by its type only (a driver's message may carry an address) and closes the database
    connection `alias`, so that the next probe connects afresh instead of reusing a broken one."""
    try:
        return True, question()
    except Exception as error:  # whatever the failure, the part does not answer; never a 500
        logger.warning("Readiness: the %s did not answer (%s).", part, type(error).__name__)
        if alias is not None:
            # Reported above; closing a broken connection is best effort.
            with contextlib.suppress(Exception):
                connections[alias].close()
        return False, None


def _select_one(alias: str) -> None:
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


@lru_cache(maxsize=4)
def _redis_client(url: str):
    """One client (and connection pool) per URL, with short timeouts and no retries, so that a
    dead or unreachable Redis fails the probe within REDIS_TIMEOUT_SECONDS."""
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    return redis.Redis.from_url(
        url,
        socket_timeout=REDIS_TIMEOUT_SECONDS,
        socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
        retry=Retry(NoBackoff(), 0),
    )


def _broker_answers(*, database_answers: bool) -> bool:
    """The Redis broker answers a PING (when REDIS_URL is set); the ORM broker is a table in
    a database, which answers a read of that table. With the ORM broker on the `default`
    database, a database that does not answer is a broker that does not answer either: no
    task can be queued, so both are named."""
    if settings.REDIS_URL:
        return _ask("broker", lambda: _redis_client(settings.REDIS_URL).ping())[0]
    from django_q.models import OrmQ

    alias = settings.Q_CLUSTER.get("orm", "default")
    if alias == "default" and not database_answers:
        return False
    return _ask("broker", OrmQ.objects.using(alias).exists, alias=alias)[0]


def _cluster_seen() -> bool:
    """A cluster serving this hub's queue (its Q_CLUSTER name, on any host) recorded a
    heartbeat within CLUSTER_SEEN_WITHIN, on the database's clock (the one it wrote with)."""
    from integration_hub.models import ClusterHeartbeat

    return ClusterHeartbeat.objects.filter(
        cluster_name=settings.Q_CLUSTER["name"], seen_at__gte=Now() - CLUSTER_SEEN_WITHIN
    ).exists()


def readiness() -> dict:
    """The body of /readyz: `{"status": "ok", "warnings": [...]}` or
    `{"status": "unavailable", "failing": [...]}`."""
    database_answers, _ = _ask("database", lambda: _select_one("default"), alias="default")
    failing = [] if database_answers else ["database"]
    if not _broker_answers(database_answers=database_answers):
        failing.append("broker")
    if failing:
        return {"status": "unavailable", "failing": failing}
    # A heartbeat that cannot be read (the database failed just now) is not a cluster seen.
    _, cluster_seen = _ask("cluster heartbeat", _cluster_seen, alias="default")
    return {"status": "ok", "warnings": [] if cluster_seen else ["cluster"]}


def _probe_response(body: dict, *, status: int, method: str) -> HttpResponse:
    response = JsonResponse(body, status=status)
    response["Cache-Control"] = "no-store"
    if method == "HEAD":
        response.content = b""
    return response


def healthz(request: HttpRequest) -> HttpResponse:
    return _probe_response({"status": "ok"}, status=200, method=request.method)


def readyz(request: HttpRequest) -> HttpResponse:
    body = readiness()
    status = 200 if body["status"] == "ok" else 503
    return _probe_response(body, status=status, method=request.method)


PROBES: dict[str, Callable[[HttpRequest], HttpResponse]] = {"/healthz": healthz, "/readyz": readyz}


class HealthProbeMiddleware:
    """Answers /healthz and /readyz (with or without a trailing slash) itself, whatever the
    Host header, for GET and HEAD (405 otherwise); every other request goes on."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info
        probe = PROBES.get(path[:-1] if path.endswith("/") else path)
        if probe is None:
            return self.get_response(request)
        if request.method not in PROBE_METHODS:
            response = JsonResponse(
                {"detail": f'Method "{request.method}" not allowed.'}, status=405
            )
            response["Allow"] = ", ".join(PROBE_METHODS)
            return response
        return probe(request)
