"""Verified identities: by a System Admin from the shell, or through the integration's
BankID flow (reference 001: personal number from a completed BankID collect)."""

from django.db import transaction
from django.utils import timezone

from integration_hub.models import Integration
from integration_hub.organisation_kit import OrganisationKitClient, PartnerError
from integration_hub.services.audit import audit_record

from ..models import VerifiedIdentity


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
    method: str = VerifiedIdentity.Method.ADMIN,
    acting_user=None,
) -> VerifiedIdentity:
    """Record that `user` holds this personal number or email (idempotent)."""
    if bool(personal_number) == bool(email):
        raise ValueError("Give exactly one of personal_number or email.")
    kind = VerifiedIdentity.Kind.PERSONAL_NUMBER if personal_number else VerifiedIdentity.Kind.EMAIL
    value = identity_normalise(kind=kind, value=personal_number or email)
    identity, created = VerifiedIdentity.objects.get_or_create(
        user=user,
        kind=kind,
        value=value,
        defaults={"method": method, "verified_at": timezone.now()},
    )
    if created:
        audit_record(
            actor=acting_user,
            action="identity.verified",
            target=str(user),
            details={"kind": kind, "method": method},
        )
    return identity


def identity_bankid_start(*, integration: Integration, personal_number: str) -> str:
    """Start BankID at the integration; returns the order reference to collect."""
    kit = OrganisationKitClient.for_integration(integration)
    return kit.bankid_start(
        personal_number=identity_normalise(
            kind=VerifiedIdentity.Kind.PERSONAL_NUMBER, value=personal_number
        )
    )


def identity_bankid_collect(
    *, user, integration: Integration, order_ref: str
) -> VerifiedIdentity | None:
    """Collect the order once: the verified identity when complete, None while pending;
    IdentityFlowFailed when the order failed. No database transaction is open during the
    call."""
    kit = OrganisationKitClient.for_integration(integration)
    answer = kit.bankid_collect(order_ref=order_ref)
    status = answer.get("status")
    if status == "pending":
        return None
    if status != "complete":
        raise IdentityFlowFailed(f"BankID order ended as {status!r}.")
    try:
        personal_number = answer["completionData"]["user"]["personalNumber"]
    except (KeyError, TypeError):
        raise PartnerError("BankID collect: complete without a personal number") from None
    return identity_verify(
        user=user, personal_number=str(personal_number), method=VerifiedIdentity.Method.BANKID
    )
