from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.defaults import page_not_found

from integration_hub.dashboard import panels_for
from integration_hub.selectors import subscribers_owned_by


@login_required
def dashboard(request):
    return render(
        request,
        "integration_hub/dashboard.html",
        {"panels": panels_for(request), "subscribers": subscribers_owned_by(request.user)},
    )


def wants_json(request) -> bool:
    """A page's script asked for JSON (a form sent in the background), not for a page."""
    return request.headers.get("Accept", "").startswith("application/json")


def safe_next(request, fallback: str = "dashboard") -> str:
    """The form's `next` when it is a path of this site, else `fallback` (a URL name): never
    a redirect to somewhere else."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse(fallback) if not fallback.startswith("/") else fallback


def not_found(request, exception=None):
    """404 for a path that matches no route: a page for a browser, JSON for everyone else
    (an API client that sent an id beyond the database's range, say), like the APIs' own."""
    if "text/html" in request.headers.get("Accept", ""):
        return page_not_found(request, exception)
    return JsonResponse({"detail": "Not found."}, status=404)
