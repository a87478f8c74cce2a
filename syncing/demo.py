"""The inbound-sync demo (DESIGN.md, "Running": make run loads it): an ORGANISATION_KIT
integration pointing at the sandbox's Organisation Kit simulator, the demo Owner with a
verified identity (Anna Lind of the simulator's data) and a connection, its sync queued for
the cluster that `make run` starts beside the web server."""

from django.contrib.auth import get_user_model
from django.db import transaction

from integration_hub.models import Integration
from integration_hub.services.integrations import integration_update

from .models import Connection, IdentityProvider, SyncJob
from .openid import openid_redirect_uri
from .services.connections import connection_create
from .services.identities import identity_verify
from .services.identity_providers import identity_provider_create, identity_provider_update
from .services.sync_jobs import sync_request

INTEGRATION_NAME = "Sandbox Organisation Kit"
DEMO_PERSONAL_NUMBER = "198001011234"
# Anna Lind's email at the simulator: the demo Owner's, verified with "Sandbox ID".
DEMO_EMAIL = "anna.lind@example.com"
SANDBOX_ID_NAME = "Sandbox ID"
# `make run` starts the web server (the simulator) and the cluster together: the sync waits
# until the server answers.
SYNC_DELAY_SECONDS = 15


def demo_integration_ensure(*, base_url: str = "http://127.0.0.1:8000") -> Integration:
    """The ORGANISATION_KIT integration of the sandbox's simulator (idempotent)."""
    from integration_hub.sandbox.services import sandbox_integration_ensure

    base_url = base_url.rstrip("/")
    integration = sandbox_integration_ensure(
        name=INTEGRATION_NAME,
        kind=Integration.Kind.ORGANISATION_KIT,
        slug="organisation-kit",
        application_name=INTEGRATION_NAME,
        credential_key="sandbox-organisation-kit",
        base_url=base_url,
    )
    kit_url = f"{base_url}/sandbox/organisation-kit/"
    if integration.base_url != kit_url:
        integration = integration_update(integration=integration, base_url=kit_url)
    return integration


def sandbox_id_provider_ensure(
    *, base_url: str, integration: Integration
) -> IdentityProvider | None:
    """The identity provider "Sandbox ID": the sandbox's OpenID provider, trusted for the
    simulator's organisation (idempotent; None when the sandbox has no signing key)."""
    from integration_hub.sandbox.oidc import sandbox_oidc_is_enabled
    from integration_hub.sandbox.services import sandbox_oidc_client_ensure

    if not sandbox_oidc_is_enabled():
        return None
    client = sandbox_oidc_client_ensure(redirect_uri=openid_redirect_uri())
    fields = {
        "name": SANDBOX_ID_NAME,
        "discovery_url": base_url.rstrip("/") + client.discovery_path,
        "client_id": client.client_id,
        "client_secret": client.client_secret,
        "integrations": [integration],
        "is_trusted_for_all": False,
    }
    provider = IdentityProvider.objects.filter(name=SANDBOX_ID_NAME).first()
    if provider is None:
        return identity_provider_create(**fields)
    return identity_provider_update(provider=provider, **fields)


@transaction.atomic
def syncing_demo_setup(*, base_url: str = "http://127.0.0.1:8000", username: str = "owner"):
    """Idempotent; needs the sandbox (SANDBOX_ENABLED). Returns the demo connection."""
    integration = demo_integration_ensure(base_url=base_url)
    sandbox_id_provider_ensure(base_url=base_url, integration=integration)
    user = get_user_model().objects.get(username=username)
    if user.email in ("", f"{username}@example.com"):
        # The demo Owner is Anna Lind of the simulator: the email Sandbox ID verifies is hers.
        user.email = DEMO_EMAIL
        user.save(update_fields=["email"])
    # Anna Lind's number, verified (as BankID would) for the simulator's organisation only.
    identity_verify(user=user, personal_number=DEMO_PERSONAL_NUMBER, integration=integration)
    connection = Connection.objects.filter(user=user, integration=integration).first()
    if connection is None:
        return connection_create(
            user=user,
            integration_id=integration.pk,
            initial_sync_delay_seconds=SYNC_DELAY_SECONDS,
        )
    if connection.status != Connection.Status.SUCCESS:
        sync_request(connection=connection, kind=SyncJob.Kind.ALL, delay_seconds=SYNC_DELAY_SECONDS)
    return connection
