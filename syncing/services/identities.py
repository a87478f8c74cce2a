"""Verified identities: by a System Admin from the shell, or through the integration's
BankID flow (reference 001: personal number from a completed BankID collect)."""

from django.db import transaction
from django.utils import timezone

from integration_hub.models import Integration
from integration_hub.services.audit import audit_record

from ..models import BankIdOrder, VerifiedIdentity
from ..organisation_kit import OrganisationKitClient, PartnerError


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
    return identity_verify(user=user, personal_number=signed, method=VerifiedIdentity.Method.BANKID)
