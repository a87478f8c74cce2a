"""Writes of the sandbox (partner simulator): deliveries received, the demo setup, and the
apps registered with its accounting systems."""

import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from django.contrib.auth.hashers import check_password, make_password
from django.db import transaction
from oauth2_provider.generators import generate_client_secret
from oauth2_provider.models import get_application_model

from integration_hub.models import Credential, Integration
from integration_hub.services.credentials import credential_set
from integration_hub.services.integrations import integration_create, integration_update

from . import accounting_data
from .models import AccountingApp, ReceivedRequest, SandboxReceiver
from .oidc import DISCOVERY_PATH

# Headers that carry credentials are never stored.
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "x-api-key"})
# Older deliveries of a receiver are pruned (checked on every 100th delivery).
KEEP_PER_RECEIVER = 1000

DEMO_APPLICATION_NAME = "Sandbox receiver"
DEMO_INTEGRATION_NAME = "Sandbox receiver"
DEMO_CREDENTIAL_MAP = "ce_credentials"
DEMO_CREDENTIAL_KEY = "sandbox-receiver"
DEMO_RECEIVER_SLUG = "demo"
OIDC_APPLICATION_NAME = "Integration Hub (Sandbox ID)"


@transaction.atomic
def received_request_record(
    *,
    slug: str,
    method: str,
    headers: Mapping[str, str],
    body: bytes,
) -> ReceivedRequest:
    """Store one delivery to receiver `slug` (created with defaults if new), answered with
    the receiver's configured status. `body` may be one byte longer than the limit, to
    tell that it was cut."""
    receiver, _ = SandboxReceiver.objects.get_or_create(slug=slug)
    received = ReceivedRequest.objects.create(
        receiver=receiver,
        method=method,
        headers={
            name: value for name, value in headers.items() if name.lower() not in SECRET_HEADERS
        },
        body=body[: ReceivedRequest.BODY_LIMIT].decode("utf-8", errors="replace"),
        body_truncated=len(body) > ReceivedRequest.BODY_LIMIT,
        response_status=receiver.respond_status,
    )
    if received.pk % 100 == 0:
        boundary = (
            receiver.received_requests.order_by("-id")
            .values_list("id", flat=True)[KEEP_PER_RECEIVER : KEEP_PER_RECEIVER + 1]
            .first()
        )
        if boundary is not None:
            receiver.received_requests.filter(id__lte=boundary).delete()
    return received


def _demo_application_ensure(
    *, application_name: str = DEMO_APPLICATION_NAME, credential_key: str = DEMO_CREDENTIAL_KEY
) -> tuple[object, str | None]:
    """The DOT application, and its new plaintext secret when one was (re)generated."""
    Application = get_application_model()
    fields = {
        "client_type": Application.CLIENT_CONFIDENTIAL,
        "authorization_grant_type": Application.GRANT_CLIENT_CREDENTIALS,
        "hash_client_secret": True,
    }
    application = Application.objects.filter(name=application_name).order_by("pk").first()
    if application is None:
        secret = generate_client_secret()
        # DOT stores only a hash of the secret: keep the plaintext for the credential store.
        application = Application.objects.create(
            name=application_name, client_secret=secret, **fields
        )
        return application, secret
    changed = [name for name, value in fields.items() if getattr(application, name) != value]
    for name in changed:
        setattr(application, name, fields[name])
    credential = Credential.objects.filter(
        map_name=DEMO_CREDENTIAL_MAP, key_name=credential_key
    ).first()
    is_stored = (
        credential is not None
        and credential.client_id == application.client_id
        and credential.has_client_secret
        and check_password(credential.client_secret, application.client_secret)
    )
    if is_stored:
        if changed:
            application.save(update_fields=changed)
        return application, None
    secret = generate_client_secret()
    application.client_secret = secret
    application.save()
    return application, secret


@transaction.atomic
def sandbox_demo_setup(*, base_url: str = "http://127.0.0.1:8000") -> Integration:
    """Idempotent: the sandbox's OAuth2 client, its credentials in the credential store, and
    an Integration that delivers to the demo receiver through them."""
    return sandbox_integration_ensure(
        name=DEMO_INTEGRATION_NAME,
        kind=Integration.Kind.WEBHOOK,
        slug=DEMO_RECEIVER_SLUG,
        application_name=DEMO_APPLICATION_NAME,
        credential_key=DEMO_CREDENTIAL_KEY,
        base_url=base_url,
    )


@transaction.atomic
def sandbox_integration_ensure(
    *,
    name: str,
    kind: str,
    slug: str,
    application_name: str,
    credential_key: str,
    base_url: str = "http://127.0.0.1:8000",
) -> Integration:
    """Idempotent: an OAuth2 client of the sandbox (its own), its credentials in the
    credential store under `credential_key`, and an Integration `name` of `kind` that
    delivers to the sandbox receiver `slug` through them."""
    base_url = base_url.rstrip("/")
    application, secret = _demo_application_ensure(
        application_name=application_name, credential_key=credential_key
    )
    if secret is not None:
        credential_set(
            map_name=DEMO_CREDENTIAL_MAP,
            key_name=credential_key,
            client_id=application.client_id,
            client_secret=secret,
        )
    fields = {
        "kind": kind,
        "base_url": f"{base_url}/sandbox/receiver/{slug}/",
        "auth_type": Integration.AuthType.OAUTH2_CLIENT_CREDENTIALS,
        "token_url": f"{base_url}/sandbox/o/token/",
        "credential_map": DEMO_CREDENTIAL_MAP,
        "credential_key": credential_key,
    }
    integration = Integration.objects.filter(name=name).first()
    if integration is None:
        return integration_create(name=name, enabled=True, **fields)
    changed = {
        field: value for field, value in fields.items() if getattr(integration, field) != value
    }
    if changed:
        integration = integration_update(integration=integration, **changed)
    return integration


@transaction.atomic
def sandbox_accounting_app_ensure(
    *,
    system: str,
    name: str = "Integration Hub",
    credential_key: str | None = None,
    credential_map: str = DEMO_CREDENTIAL_MAP,
) -> tuple[str, str | None]:
    """Idempotent: the app `name` registered with the sandbox's accounting `system`
    (QUICKBOOKS_ONLINE, XERO or SAGE). Returns (client_id, client_secret); the secret is
    the plaintext only when it was made now (the sandbox keeps only its hash), else None.

    With `credential_key`, the client id and secret are also kept in the hub's credential
    store at (credential_map, credential_key): a secret is made again whenever the entry
    there no longer holds a working one, so calling this at every demo setup is enough."""
    if system not in accounting_data.SYSTEMS:
        raise ValueError(f"Unknown accounting system {system!r}.")
    app = AccountingApp.objects.select_for_update().filter(system=system, name=name).first()
    if app is not None and credential_key is None:
        return app.client_id, None
    if app is not None:
        credential = Credential.objects.filter(
            map_name=credential_map, key_name=credential_key
        ).first()
        if (
            credential is not None
            and credential.client_id == app.client_id
            and credential.has_client_secret
            and check_password(credential.client_secret, app.client_secret_hash)
        ):
            return app.client_id, None
    secret = secrets.token_urlsafe(40)
    if app is None:
        prefix = {"QUICKBOOKS_ONLINE": "AB", "XERO": "", "SAGE": ""}[system]
        app = AccountingApp(system=system, name=name, client_id=prefix + secrets.token_hex(16))
    app.client_secret_hash = make_password(secret)
    app.save()
    if credential_key is not None:
        credential_set(
            map_name=credential_map,
            key_name=credential_key,
            client_id=app.client_id,
            client_secret=secret,
        )
    return app.client_id, secret


@transaction.atomic
def sandbox_accounting_integration_ensure(*, system: str, site: str) -> Integration:
    """Idempotent: an ACCOUNTING integration that reaches the sandbox's `system` (QuickBooks,
    Xero or Sage) served at `site` by OAuth authorization code, the app registered there and
    its client id and secret in the credential store, as a System Admin would set up the
    real system. Its accounting integrations still need their Owner to press Connect."""
    urls = accounting_data.sandbox_accounting_urls(system=system, site=site)
    credential_key = f"sandbox-{accounting_data.SYSTEM_SLUGS[system]}"
    sandbox_accounting_app_ensure(system=system, credential_key=credential_key)
    fields = {
        "kind": Integration.Kind.ACCOUNTING,
        "base_url": urls["base_url"],
        "auth_type": Integration.AuthType.OAUTH2_AUTHORIZATION_CODE,
        "authorize_url": urls["authorize_url"],
        "token_url": urls["token_url"],
        "revoke_url": urls["revoke_url"],
        "scope": urls["scope"],
        "credential_map": DEMO_CREDENTIAL_MAP,
        "credential_key": credential_key,
    }
    name = f"Sandbox {accounting_data.SYSTEM_NAMES[system]}"
    integration = Integration.objects.filter(name=name).first()
    if integration is None:
        return integration_create(name=name, enabled=True, **fields)
    changed = {
        field: value for field, value in fields.items() if getattr(integration, field) != value
    }
    if changed:
        integration = integration_update(integration=integration, **changed)
    return integration


@dataclass(frozen=True)
class SandboxOidcClient:
    """The hub's client of the sandbox's OpenID provider. `client_secret` is the plaintext of a
    secret just generated: the provider keeps only its hash."""

    client_id: str
    client_secret: str
    discovery_path: str = DISCOVERY_PATH


@transaction.atomic
def sandbox_oidc_client_ensure(*, redirect_uri: str) -> SandboxOidcClient:
    """Idempotent: the one application "Integration Hub (Sandbox ID)" of the sandbox's OpenID
    provider (confidential, authorization code, ID tokens signed with RS256, consent asked),
    with `redirect_uri` added to the ones it has. Its secret is new on every call: the caller
    stores it."""
    Application = get_application_model()
    application = (
        Application.objects.select_for_update()
        .filter(name=OIDC_APPLICATION_NAME)
        .order_by("pk")
        .first()
    )
    if application is None:
        application = Application(name=OIDC_APPLICATION_NAME)
    application.client_type = Application.CLIENT_CONFIDENTIAL
    application.authorization_grant_type = Application.GRANT_AUTHORIZATION_CODE
    application.algorithm = Application.RS256_ALGORITHM
    application.skip_authorization = False
    application.hash_client_secret = True
    redirect_uris = application.redirect_uris.split()
    if redirect_uri not in redirect_uris:
        redirect_uris.append(redirect_uri)
    application.redirect_uris = " ".join(redirect_uris)
    secret = generate_client_secret()
    application.client_secret = secret  # hashed by save()
    application.save()
    return SandboxOidcClient(client_id=application.client_id, client_secret=secret)
