"""`GET /metrics` for Prometheus (DESIGN.md, "Operations"): open when DEBUG; otherwise only
with `Authorization: Bearer <METRICS_TOKEN>`, and not there at all (404) while no token is
set. A plain Django view: no session, no sign-in redirect, no API throttle, not in the API
schema."""

import hmac

from django.conf import settings
from django.http import Http404, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from .exposition import metrics_render


def _bearer_token(request) -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def is_allowed(request) -> bool:
    """DEBUG, or the right bearer token; Http404 when not DEBUG and no token is set."""
    if settings.DEBUG:
        return True
    expected = settings.METRICS_TOKEN
    if not expected:
        raise Http404
    given = _bearer_token(request)
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


@never_cache
@require_safe
def metrics(request):
    if not is_allowed(request):
        response = HttpResponse(
            "A valid bearer token (METRICS_TOKEN) is required.\n",
            status=401,
            content_type="text/plain; charset=utf-8",
        )
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    body, content_type = metrics_render(request.headers.get("Accept", ""))
    return HttpResponse(body, content_type=content_type)
