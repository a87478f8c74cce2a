"""OAuth 2.0 of the sandbox's QuickBooks Online, Xero and Sage: authorization code with PKCE
(S256 only), the consent page, the token endpoint in each system's style and revocation.

- Client authentication: QuickBooks and Xero take the client id and secret as HTTP Basic
  only; Sage takes them in the form body only. Another style is `invalid_client` (401).
- Codes are single use and live 60 s; a code presented once is spent even when the
  exchange fails (wrong verifier or redirect_uri).
- Every refresh rotates the refresh token and the old one is refused at once, in all three
  (Xero keeps a 30-minute grace in reality; the sandbox keeps none, so a client that loses
  a rotated token finds out).
- Xero issues a refresh token only when `offline_access` is in the scope, as it does.
- Revoking a token (access or refresh) ends the whole grant: every token of that consent.
"""

import base64
import hashlib
import json
import re
import secrets
from datetime import timedelta
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from django.contrib.auth.hashers import check_password
from django.db import transaction
from django.http import HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from . import accounting_data as data
from .accounting_api import token_hash
from .accounting_models import AccountingApp, AccountingGrant, AccountingToken

CODE_CHALLENGE = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")
REDIRECT_URI_LIMIT = 2000
BASIC_AUTH_SYSTEMS = frozenset({data.QUICKBOOKS, data.XERO})


class AuthorizeError(Exception):
    """A request the authorize endpoint cannot send back to the client (unknown client,
    unusable redirect_uri): shown on the page."""


class RedirectError(Exception):
    """A request error sent back to the client's redirect_uri (`error`, `description`)."""

    def __init__(self, error: str, description: str):
        super().__init__(description)
        self.error = error
        self.description = description


def _with_query(uri: str, params: dict) -> str:
    parts = urlsplit(uri)
    query = [*parse_qsl(parts.query, keep_blank_values=True), *params.items()]
    return urlunsplit(parts._replace(query=urlencode(query)))


def _authorize_request(system: str, params) -> dict:
    """The checked authorize parameters; raises AuthorizeError or RedirectError."""
    app = AccountingApp.objects.filter(system=system, client_id=params.get("client_id")).first()
    if app is None:
        raise AuthorizeError("Unknown client_id: no app with this id is registered here.")
    redirect_uri = params.get("redirect_uri", "")
    parts = urlsplit(redirect_uri)
    if (
        parts.scheme not in ("http", "https")
        or not parts.netloc
        or parts.fragment
        or len(redirect_uri) > REDIRECT_URI_LIMIT
    ):
        raise AuthorizeError("redirect_uri must be an absolute http(s) address without fragment.")
    request = {"app": app, "redirect_uri": redirect_uri, "state": params.get("state", "")}
    if params.get("response_type") != "code":
        raise RedirectError("unsupported_response_type", "response_type must be 'code'.")
    scopes = params.get("scope", "").split()
    unknown = sorted(set(scopes) - data.SCOPES[system])
    if not scopes or unknown:
        raise RedirectError("invalid_scope", f"Unknown or missing scope: {' '.join(unknown)}")
    if params.get("code_challenge_method") != "S256":
        raise RedirectError("invalid_request", "code_challenge_method must be S256 (PKCE).")
    if not CODE_CHALLENGE.match(params.get("code_challenge", "")):
        raise RedirectError("invalid_request", "code_challenge is required (PKCE, S256).")
    return {**request, "scope": " ".join(scopes), "code_challenge": params["code_challenge"]}


@require_http_methods(["GET", "POST"])
def authorize(request, system: str):
    """The consent page (GET) and the user's answer to it (POST: Allow or Deny)."""
    params = request.GET if request.method == "GET" else request.POST
    try:
        checked = _authorize_request(system, params)
    except AuthorizeError as error:
        return render(
            request,
            "sandbox/accounting_consent.html",
            {"system_name": data.SYSTEM_NAMES[system], "error": str(error)},
            status=400,
        )
    except RedirectError as error:
        return HttpResponseRedirect(
            _with_query(
                params.get("redirect_uri"),
                {
                    "error": error.error,
                    "error_description": error.description,
                    "state": params.get("state", ""),
                },
            )
        )
    companies = data.COMPANIES[system]
    if request.method == "GET":
        return _consent_page(request, system, checked, ticked=[companies[0].tenant_id])
    if request.POST.get("decision") != "allow":
        return HttpResponseRedirect(
            _with_query(checked["redirect_uri"], {"error": "access_denied", **_state(checked)})
        )
    known = [company.tenant_id for company in companies]
    tenant_ids = [t for t in request.POST.getlist("tenant") if t in known]
    if system != data.XERO:
        tenant_ids = known[:1]
    if not tenant_ids:
        return _consent_page(
            request,
            system,
            checked,
            ticked=[],
            error="Tick at least one organisation to connect.",
            status=400,
        )
    code = accounting_grant_create(checked=checked, tenant_ids=tenant_ids)
    params = {"code": code, **_state(checked)}
    if system == data.QUICKBOOKS:
        params["realmId"] = tenant_ids[0]
    elif system == data.XERO:
        params["scope"] = checked["scope"]
    else:
        params["country"] = "GB"
    return HttpResponseRedirect(_with_query(checked["redirect_uri"], params))


def _state(checked: dict) -> dict:
    return {"state": checked["state"]} if checked["state"] else {}


def _consent_page(request, system, checked, *, ticked, error="", status=200):
    hidden = {
        name: request.GET.get(name) or request.POST.get(name, "")
        for name in (
            "client_id",
            "redirect_uri",
            "response_type",
            "scope",
            "state",
            "code_challenge",
            "code_challenge_method",
        )
    }
    context = {
        "system": system,
        "system_name": data.SYSTEM_NAMES[system],
        "app_name": checked["app"].name,
        "scopes": checked["scope"].split(),
        "companies": data.COMPANIES[system],
        "can_choose": system == data.XERO,
        "ticked": ticked,
        "hidden": hidden,
        "error": error,
    }
    return render(request, "sandbox/accounting_consent.html", context, status=status)


def accounting_grant_create(*, checked: dict, tenant_ids: list[str]) -> str:
    """Record the consent; returns its authorization code (stored only as a hash)."""
    code = secrets.token_urlsafe(32)
    AccountingGrant.objects.create(
        app=checked["app"],
        tenant_ids=tenant_ids,
        scope=checked["scope"],
        redirect_uri=checked["redirect_uri"],
        code_hash=token_hash(code),
        code_challenge=checked["code_challenge"],
        code_expires_at=timezone.now() + timedelta(seconds=data.AUTHORIZATION_CODE_SECONDS),
    )
    return code


# --- Token endpoint --------------------------------------------------------------------------


def _oauth_error(error: str, description: str = "", status: int = 400) -> JsonResponse:
    body = {"error": error}
    if description:
        body["error_description"] = description
    response = JsonResponse(body, status=status)
    response["Cache-Control"] = "no-store"
    if status == 401:
        response["WWW-Authenticate"] = 'Basic realm="sandbox"'
    return response


def _basic_credentials(request) -> tuple[str, str] | None:
    scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except ValueError:
        return None
    client_id, sep, secret = decoded.partition(":")
    return (unquote(client_id), unquote(secret)) if sep else None


def _client(request, system: str, form) -> AccountingApp | None:
    """The app that authenticated in `system`'s style (HTTP Basic, or the form body for
    Sage), or None."""
    if system in BASIC_AUTH_SYSTEMS:
        credentials = _basic_credentials(request)
    elif "client_id" in form and "client_secret" in form:
        credentials = (form["client_id"], form["client_secret"])
    else:
        credentials = None
    if credentials is None:
        return None
    app = AccountingApp.objects.filter(system=system, client_id=credentials[0]).first()
    if app is None or not check_password(credentials[1], app.client_secret_hash):
        return None
    return app


def _client_error(system: str) -> JsonResponse:
    style = "HTTP Basic" if system in BASIC_AUTH_SYSTEMS else "client_id and client_secret"
    return _oauth_error("invalid_client", f"Client authentication failed ({style}).", 401)


def _token_response(system: str, grant: AccountingGrant) -> JsonResponse:
    now = timezone.now()
    access = secrets.token_urlsafe(48)
    AccountingToken.objects.create(
        grant=grant,
        kind=AccountingToken.Kind.ACCESS,
        token_hash=token_hash(access),
        expires_at=now + timedelta(seconds=data.ACCESS_TOKEN_SECONDS[system]),
    )
    body = {
        "access_token": access,
        "token_type": "Bearer" if system == data.XERO else "bearer",
        "expires_in": data.ACCESS_TOKEN_SECONDS[system],
    }
    if system != data.XERO or "offline_access" in grant.scope.split():
        refresh = secrets.token_urlsafe(48)
        AccountingToken.objects.create(
            grant=grant,
            kind=AccountingToken.Kind.REFRESH,
            token_hash=token_hash(refresh),
            expires_at=now + timedelta(seconds=data.REFRESH_TOKEN_SECONDS[system]),
        )
        body["refresh_token"] = refresh
    if system == data.QUICKBOOKS:
        body["x_refresh_token_expires_in"] = data.REFRESH_TOKEN_SECONDS[system]
    elif system == data.XERO:
        body["scope"] = grant.scope
    else:
        body["refresh_token_expires_in"] = data.REFRESH_TOKEN_SECONDS[system]
        body["scope"] = grant.scope
        body["requested_by_id"] = hashlib.md5(  # noqa: S324 (an id, not a secret)
            str(grant.pk).encode()
        ).hexdigest()
    response = JsonResponse(body)
    response["Cache-Control"] = "no-store"
    response["Pragma"] = "no-cache"
    return response


def _pkce_s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii", errors="replace")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@csrf_exempt  # OAuth token endpoint: client authentication, no cookie
@require_POST
def token(request, system: str):
    form = request.POST
    app = _client(request, system, form)
    if app is None:
        return _client_error(system)
    grant_type = form.get("grant_type")
    if grant_type == "authorization_code":
        return _exchange_code(system, app, form)
    if grant_type == "refresh_token":
        return _refresh(system, app, form)
    return _oauth_error("unsupported_grant_type", f"grant_type {grant_type!r} is not supported.")


@transaction.atomic
def _exchange_code(system: str, app: AccountingApp, form) -> JsonResponse:
    code = form.get("code", "")
    if not code:
        return _oauth_error("invalid_request", "code is required.")
    now = timezone.now()
    grant = AccountingGrant.objects.filter(app=app, code_hash=token_hash(code)).first()
    # Spend the code once, whatever follows (a conditional update: two exchanges at once
    # cannot both win).
    if grant is None or not AccountingGrant.objects.filter(
        pk=grant.pk, code_used_at__isnull=True, revoked_at__isnull=True, code_expires_at__gt=now
    ).update(code_used_at=now):
        return _oauth_error("invalid_grant", "The code is unknown, used or expired.")
    if form.get("redirect_uri") != grant.redirect_uri:
        return _oauth_error("invalid_grant", "redirect_uri differs from the authorize request.")
    verifier = form.get("code_verifier", "")
    if not secrets.compare_digest(_pkce_s256(verifier), grant.code_challenge):
        return _oauth_error("invalid_grant", "code_verifier does not match the code_challenge.")
    return _token_response(system, grant)


@transaction.atomic
def _refresh(system: str, app: AccountingApp, form) -> JsonResponse:
    presented = form.get("refresh_token", "")
    if not presented:
        return _oauth_error("invalid_request", "refresh_token is required.")
    now = timezone.now()
    refresh = (
        AccountingToken.objects.select_related("grant")
        .filter(token_hash=token_hash(presented), kind=AccountingToken.Kind.REFRESH)
        .first()
    )
    if (
        refresh is None
        or refresh.grant.app_id != app.pk
        or refresh.grant.revoked_at is not None
        or not AccountingToken.objects.filter(
            pk=refresh.pk, rotated_at__isnull=True, expires_at__gt=now
        ).update(rotated_at=now)
    ):
        return _oauth_error("invalid_grant", "The refresh token is unknown, used or expired.")
    return _token_response(system, refresh.grant)


# --- Revocation ------------------------------------------------------------------------------


@csrf_exempt  # OAuth revocation endpoint: client authentication, no cookie
@require_POST
def revoke(request, system: str):
    """RFC 7009: 200 whether or not the token was known; a known one ends its grant.
    QuickBooks sends `{"token": ...}` as JSON; Xero and Sage a form."""
    form = request.POST
    if request.content_type == "application/json":
        try:
            parsed = json.loads(request.body or b"{}")
        except ValueError:
            parsed = {}
        form = parsed if isinstance(parsed, dict) else {}
    app = _client(request, system, form)
    if app is None:
        return _client_error(system)
    presented = form.get("token", "")
    if not presented:
        return _oauth_error("invalid_request", "token is required.")
    found = AccountingToken.objects.filter(token_hash=token_hash(presented), grant__app=app).first()
    if found is not None:
        AccountingGrant.objects.filter(pk=found.grant_id, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
    return JsonResponse({}, status=200)
