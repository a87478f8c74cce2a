"""Verified identities, each bound to whom it was verified for (DESIGN.md, "Connections and
inbound sync"): by a System Admin from the shell, through an integration's BankID flow
(reference 001: personal number from a completed BankID collect), or through an identity
provider's OpenID Connect flow (syncing/openid.py)."""

from django.db import transaction
from django.utils import timezone

from integration_hub.models import Integration
from integration_hub.services.audit import audit_record

from ..models import BankIdOrder, IdentityProvider, IdentityVerification, VerifiedIdentity
from ..organisation_kit import OrganisationKitClient, PartnerError

Method = IdentityVerification.Method


class IdentityFlowFailed(Exception):
    """The person did not complete BankID (failed or expired order)."""


def identity_normalise(*, kind: str, value: str) -> str:
    value = value.strip()
    if kind == VerifiedIdentity.Kind.EMAIL:
        return value.lower()
    return value.replace("-", "")


@transaction.atomic
def identity_verify(
    *,
    user,
    personal_number: str | None = None,
    email: str | None = None,
    method: str = Method.ADMIN,
    integration: Integration | None = None,
    provider: IdentityProvider | None = None,
    acting_user=None,
) -> VerifiedIdentity:
    """Record that `user` holds this personal number or email, verified by `method`: BankID
    at `integration`, the identity `provider`, or a System Admin for `integration` (None: for
    every integration). Idempotent; a repeat only refreshes the time."""
    if bool(personal_number) == bool(email):
        raise ValueError("Give exactly one of personal_number or email.")
    if method == Method.BANKID and integration is None:
        raise ValueError("BankID verifies for the integration it ran at.")
    if (method == Method.OPENID) != (provider is not None) or (
        method == Method.OPENID and integration is not None
    ):
        raise ValueError("An OpenID verification names its provider, and only it does.")
    kind = VerifiedIdentity.Kind.PERSONAL_NUMBER if personal_number else VerifiedIdentity.Kind.EMAIL
    value = identity_normalise(kind=kind, value=personal_number or email)
    now = timezone.now()
    identity, _ = VerifiedIdentity.objects.get_or_create(
        user=user, kind=kind, value=value, defaults={"verified_at": now}
    )
    verification, created = IdentityVerification.objects.get_or_create(
        identity=identity,
        method=method,
        integration=integration,
        provider=provider,
        defaults={"verified_at": now},
    )
    if not created:
        verification.verified_at = now
        verification.save(update_fields=["verified_at", "updated_at"])
    identity.verified_at = now
    identity.save(update_fields=["verified_at", "updated_at"])
    if created:
        audit_record(
            actor=acting_user,
            action="identity.verified",
            target=str(user),
            details={
                "kind": kind,
                "method": method,
                "integration": integration.pk if integration else None,
                "provider": provider.pk if provider else None,
            },
        )
    return identity


def identity_bankid_start(*, user, integration: Integration, personal_number: str) -> str:
    """Start BankID at the integration for `user`; returns the order reference to collect."""
    personal_number = identity_normalise(
        kind=VerifiedIdentity.Kind.PERSONAL_NUMBER, value=personal_number
    )
    kit = OrganisationKitClient.for_integration(integration)
    order_ref = kit.bankid_start(personal_number=personal_number)
    BankIdOrder.objects.update_or_create(
        integration=integration,
        order_ref=order_ref[:100],
        defaults={"user": user, "personal_number": personal_number},
    )
    return order_ref


def identity_bankid_collect(
    *, user, integration: Integration, order_ref: str
) -> VerifiedIdentity | None:
    """Collect the user's own order once: the verified identity when complete, None while
    pending; IdentityFlowFailed when the order failed, is not theirs, or was completed for
    another personal number than they started it with. No database transaction is open
    during the call."""
    order = BankIdOrder.objects.filter(
        user=user, integration=integration, order_ref=order_ref
    ).first()
    if order is None:
        raise IdentityFlowFailed("No BankID order of yours with that reference.")
    kit = OrganisationKitClient.for_integration(integration)
    answer = kit.bankid_collect(order_ref=order_ref)
    status = answer.get("status")
    if status == "pending":
        return None
    if status != "complete":
        order.delete()
        raise IdentityFlowFailed(f"BankID order ended as {status!r}.")
    try:
        personal_number = answer["completionData"]["user"]["personalNumber"]
    except (KeyError, TypeError):
        raise PartnerError("BankID collect: complete without a personal number") from None
    order.delete()
    signed = identity_normalise(kind=VerifiedIdentity.Kind.PERSONAL_NUMBER, value=personal_number)
    if signed != order.personal_number:
        raise IdentityFlowFailed("BankID was signed for another personal number.")
    return identity_verify(
        user=user, personal_number=signed, method=Method.BANKID, integration=integration
    )
