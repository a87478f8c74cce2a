"""The user's identities (DESIGN.md, "Connections and inbound sync"): what each is verified for,
and verifying an email with an identity provider through OpenID Connect. The flow's state,
nonce and code verifier stay in the user's session and are used once."""

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest
from django.shortcuts import redirect, render

from integration_hub.flow_states import flow_state_keep, flow_state_take
from integration_hub.views import safe_next

from ..models import IdentityProvider, IdentityVerification
from ..openid import OpenIdRefused, openid_finish, openid_redirect_uri, openid_start
from ..selectors import identities_with_validity
from ..services.identities import identity_verify

# A flow not finished within this long is forgotten.
FLOW_LIFETIME = timedelta(minutes=10)
SESSION_FLOWS = "openid_flows"


@login_required
def identities(request: HttpRequest):
    """Your verified identities, each with the organisations it counts for."""
    return render(
        request,
        "syncing/identities.html",
        {
            "identities": identities_with_validity(user=request.user),
            "has_providers": IdentityProvider.objects.exists(),
        },
    )


@login_required
def email_verify(request: HttpRequest):
    """A button per identity provider; pressing one (a POST) goes to that provider."""
    next_url = safe_next(request, fallback="identity-list")
    if request.method == "POST":
        provider_id = request.POST.get("provider", "")
        provider = (
            IdentityProvider.objects.select_related("credential").filter(pk=provider_id).first()
            if provider_id.isascii() and provider_id.isdigit() and len(provider_id) < 19
            else None
        )
        if provider is None:
            messages.error(request, "Choose one of the identity providers below.")
            return redirect(request.get_full_path())
        try:
            start = openid_start(provider=provider, redirect_uri=openid_redirect_uri())
        except OpenIdRefused as exc:
            messages.error(request, f"Email not verified: {exc}")
            return redirect(request.get_full_path())
        flow_state_keep(
            request,
            key=SESSION_FLOWS,
            state=start.state,
            entry={
                "provider": provider.pk,
                "nonce": start.nonce,
                "code_verifier": start.code_verifier,
                "next": next_url,
            },
            lifetime=FLOW_LIFETIME,
        )
        return redirect(start.url)
    providers = IdentityProvider.objects.prefetch_related("integrations").order_by("name")
    return render(
        request,
        "syncing/email_verify.html",
        {
            "providers": providers,
            "next": next_url,
        },
    )


@login_required
def email_verify_callback(request: HttpRequest):
    """Where the provider sends the user back: `state` recognised (and used up) first, then
    the code exchanged and the ID token checked; only then is the email verified."""
    flow = flow_state_take(
        request, key=SESSION_FLOWS, state=request.GET.get("state", ""), lifetime=FLOW_LIFETIME
    )
    if flow is None:
        messages.error(
            request,
            "Email not verified: this answer does not belong to a verification you started "
            "here (it was forged, used already, or is too old). Press the button again.",
        )
        return redirect("email-verify")
    next_url = flow["next"]
    provider = IdentityProvider.objects.select_related("credential").filter(pk=flow["provider"])
    provider = provider.first()
    error = request.GET.get("error", "")
    code = request.GET.get("code", "")
    if provider is None:
        messages.error(request, "Email not verified: that identity provider was removed.")
        return redirect(next_url)
    if error or not code:
        why = "you declined" if error == "access_denied" else "it sent no authorization code"
        messages.error(request, f"Email not verified: {provider.name} said no ({why}).")
        return redirect(next_url)
    try:
        verified = openid_finish(
            provider=provider,
            code=code,
            code_verifier=flow["code_verifier"],
            nonce=flow["nonce"],
            redirect_uri=openid_redirect_uri(),
        )
    except OpenIdRefused as exc:
        messages.error(request, f"Email not verified: {exc}")
        return redirect(next_url)
    identity_verify(
        user=request.user,
        email=verified.email,
        method=IdentityVerification.Method.OPENID,
        provider=provider,
        acting_user=request.user,
    )
    messages.success(request, f"{provider.name} verified your email {verified.email}.")
    return redirect(next_url)
