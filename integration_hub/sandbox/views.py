"""The sandbox receiver: deliveries in over OAuth2, and a page for staff to watch them.

POST (or PUT/PATCH/DELETE) /sandbox/receiver/<slug>/ needs a Bearer token that the
sandbox's own provider (/sandbox/o/token/) issued with scope `receive`. GET on the same
address is the staff page listing what arrived.
"""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from oauth2_provider.oauth2_backends import get_oauthlib_core
from oauth2_provider.www_authenticate import build_bearer_challenge, challenge_status

from .models import ReceivedRequest
from .selectors import received_requests_recent, sandbox_receiver_find
from .services import received_request_record

RECEIVER_SCOPES = ["receive"]
DELIVERY_METHODS = ("POST", "PUT", "PATCH", "DELETE")
PAGE_SIZE = 100


@csrf_exempt  # a machine-to-machine endpoint authenticated by Bearer token, not a cookie
def receiver(request, slug: str):
    if request.method in ("GET", "HEAD"):
        return receiver_page(request, slug=slug)
    if request.method in DELIVERY_METHODS:
        return _receive(request, slug)
    return HttpResponseNotAllowed(["GET", "HEAD", *DELIVERY_METHODS])


def _receive(request, slug: str) -> JsonResponse:
    is_valid, oauth_request = get_oauthlib_core().verify_request(request, scopes=RECEIVER_SCOPES)
    if not is_valid:
        oauth2_error = getattr(oauth_request, "oauth2_error", None) or {"error": "invalid_token"}
        response = JsonResponse(
            {"detail": "A valid Bearer token with scope 'receive' is required."},
            status=challenge_status(oauth2_error),
        )
        response["WWW-Authenticate"] = build_bearer_challenge(
            request, oauth2_error=oauth2_error, realm="sandbox", resource_metadata_url=None
        )
        return response
    # Read at most one byte past the limit: enough to know the body was cut.
    body = request.read(ReceivedRequest.BODY_LIMIT + 1)
    received = received_request_record(
        slug=slug, method=request.method, headers=dict(request.headers), body=body
    )
    status = received.response_status
    if 200 <= status < 300:
        return JsonResponse({"received": received.pk}, status=status)
    response = JsonResponse(
        {
            "detail": f"The sandbox receiver {slug!r} is set to answer {status}.",
            "received": received.pk,
        },
        status=status,
    )
    if received.receiver.retry_after:
        response["Retry-After"] = received.receiver.retry_after
    return response


@login_required
def receiver_page(request, *, slug: str):
    if not request.user.is_staff:
        raise PermissionDenied("Only staff may watch the sandbox receiver.")
    context = {
        "slug": slug,
        "receiver": sandbox_receiver_find(slug=slug),
        "received_requests": received_requests_recent(slug=slug, limit=PAGE_SIZE),
        "page_size": PAGE_SIZE,
    }
    return render(request, "sandbox/receiver.html", context)
