"""Identity providers (DESIGN.md, "Connections and inbound sync"): the OpenID Connect providers
a System Admin trusts to verify emails, for some Organisation Kit integrations or for all.
The hub's client id and secret at a provider live in the credential store. Every field here
decides where a secret goes, so only System Admin (or the shell) sets them."""

import secrets
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import slugify

from integration_hub.models import Integration
from integration_hub.services.audit import audit_record
from integration_hub.services.credentials import credential_set
from integration_hub.services.errors import secret_routing_guard

from ..models import IdentityProvider

PROVIDER_CREDENTIAL_MAP = "identity_providers"
URL_MAX_LENGTH = IdentityProvider._meta.get_field("discovery_url").max_length
NAME_MAX_LENGTH = IdentityProvider._meta.get_field("name").max_length


def _name_clean(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": ["This field is required."]})
    if len(name) > NAME_MAX_LENGTH:
        raise ValidationError(
            {"name": [f"Ensure this field has no more than {NAME_MAX_LENGTH} characters."]}
        )
    return name


def discovery_url_clean(url: str) -> str:
    """An absolute http(s) address without query or fragment; the network policy applies when
    it is fetched."""
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError({"discovery_url": ["Enter an absolute http(s) address."]})
    if parts.query or parts.fragment or len(url) > URL_MAX_LENGTH:
        raise ValidationError(
            {
                "discovery_url": [
                    f"Enter an address without query or fragment, at most {URL_MAX_LENGTH} "
                    "characters."
                ]
            }
        )
    return url


def _integrations_clean(integrations) -> list[Integration]:
    integrations = list(integrations or [])
    wrong = [i for i in integrations if i.kind != Integration.Kind.ORGANISATION_KIT]
    if wrong:
        raise ValidationError(
            {
                "integrations": [
                    f"Integration {wrong[0].pk} is not an Organisation Kit: identities are "
                    "used only to connect to organisations."
                ]
            }
        )
    return integrations


@transaction.atomic
def identity_provider_create(
    *,
    name: str,
    discovery_url: str,
    client_id: str,
    client_secret: str,
    integrations=None,
    is_trusted_for_all: bool | None = None,
    acting_user=None,
) -> IdentityProvider:
    """A provider trusted for `integrations`, or for every integration (`is_trusted_for_all`;
    None: when no integration is given)."""
    secret_routing_guard(
        acting_user=acting_user, fields=["discovery_url", "client_id", "integrations"]
    )
    name = _name_clean(name)
    if IdentityProvider.objects.filter(name__iexact=name).exists():
        raise ValidationError({"name": [f"An identity provider named {name!r} exists."]})
    discovery_url = discovery_url_clean(discovery_url)
    integrations = _integrations_clean(integrations)
    if not (client_id or "").strip() or not client_secret:
        raise ValidationError(
            {"client_secret": ["The client id and secret are saved together; give both."]}
        )
    credential = credential_set(
        map_name=PROVIDER_CREDENTIAL_MAP,
        key_name=f"{slugify(name)[:60] or 'provider'}-{secrets.token_hex(4)}",
        client_id=client_id,
        client_secret=client_secret,
        acting_user=acting_user,
    )
    provider = IdentityProvider.objects.create(
        name=name,
        discovery_url=discovery_url,
        credential=credential,
        is_trusted_for_all=not integrations if is_trusted_for_all is None else is_trusted_for_all,
    )
    provider.integrations.set(integrations)
    audit_record(
        actor=acting_user,
        action="identity_provider.created",
        target=name,
        details={
            "id": provider.pk,
            "trusted_for": "all" if provider.is_trusted_for_all else [i.pk for i in integrations],
        },
    )
    return provider


@transaction.atomic
def identity_provider_update(
    *,
    provider: IdentityProvider,
    name: str,
    discovery_url: str,
    client_id: str,
    client_secret: str | None,
    is_trusted_for_all: bool,
    integrations,
    acting_user=None,
) -> IdentityProvider:
    """Save the admin's changes. `client_secret` None keeps the stored secret (and then the
    client id may not change: they are saved together)."""
    secret_routing_guard(
        acting_user=acting_user, fields=["discovery_url", "client_id", "integrations"]
    )
    provider.name = _name_clean(name)
    provider.discovery_url = discovery_url_clean(discovery_url)
    integrations = _integrations_clean(integrations)
    credential = provider.credential
    client_id = (client_id or "").strip()
    if client_secret:
        credential_set(
            map_name=credential.map_name,
            key_name=credential.key_name,
            client_id=client_id,
            client_secret=client_secret,
            acting_user=acting_user,
        )
    elif client_id != credential.client_id:
        raise ValidationError(
            {"client_secret": ["A new client id is saved with its secret: give the secret."]}
        )
    provider.is_trusted_for_all = is_trusted_for_all
    provider.save()
    provider.integrations.set(integrations)
    audit_record(
        actor=acting_user,
        action="identity_provider.updated",
        target=provider.name,
        details={
            "id": provider.pk,
            "trusted_for": "all" if is_trusted_for_all else [i.pk for i in integrations],
        },
    )
    return provider


@transaction.atomic
def identity_provider_delete(*, provider: IdentityProvider, acting_user=None) -> None:
    """Forget the provider, its client secret and what it verified (its emails no longer
    count anywhere)."""
    secret_routing_guard(acting_user=acting_user, fields=["discovery_url"])
    credential = provider.credential
    audit_record(
        actor=acting_user,
        action="identity_provider.deleted",
        target=provider.name,
        details={"id": provider.pk},
    )
    provider.delete()
    credential.delete()
