from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django.views.defaults import page_not_found

from integration_hub.dashboard import panels_for
from integration_hub.models import API_TOKEN_NAME_MAX_LENGTH
from integration_hub.selectors import api_token_list, api_token_of, subscribers_owned_by
from integration_hub.services.api_tokens import (
    EXPIRY_DAYS_MAX,
    api_token_create,
    api_token_revoke,
)


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


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        max_length=API_TOKEN_NAME_MAX_LENGTH,
        help_text="What will use it, so that you know which token to revoke later.",
    )
    expires_in_days = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=EXPIRY_DAYS_MAX,
        label="Expires after (days)",
        help_text="Leave empty for a token that never expires.",
    )


@never_cache
@login_required
def api_tokens(request):
    """The user's own API tokens: create one (its value shown on this answer only), list them,
    revoke one. DESIGN.md "REST API": this is how an external app gets its token."""
    created = None
    form = ApiTokenForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            created = api_token_create(
                user=request.user,
                name=form.cleaned_data["name"],
                expires_in_days=form.cleaned_data["expires_in_days"],
                acting_user=request.user,
            )
        except ValidationError as exc:
            for key, errors in exc.message_dict.items():
                form.add_error({"expires": "expires_in_days"}.get(key, key), errors)
        else:
            form = ApiTokenForm()
    return render(
        request,
        "integration_hub/api_tokens.html",
        {
            "form": form,
            "created": created,
            "tokens": api_token_list(user=request.user),
            "now": timezone.now(),
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def api_token_revoke_view(request, token_id: int):
    token = api_token_revoke(
        token=api_token_of(user=request.user, token_id=token_id), acting_user=request.user
    )
    messages.success(request, f"Revoked the API token {token.name} ({token.token_key}…).")
    return redirect("api-tokens")
