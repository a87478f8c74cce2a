"""Live reads and writes at the partner, at request time (DESIGN.md, the table under
"Reads and writes for the web UI and external apps"). Invoices, measurements and cost are
fetched when asked for and never stored (reference 000). The writes (update a user, add a
guest) then refresh the mirror of the accounts concerned and record an event in the user's
queue. What a role may see is decided here: GUESTs of an account get its locations,
services and measurements, not its invoices, cost or user management.
"""

import logging
from datetime import date

from django.core.exceptions import PermissionDenied
from django.db import transaction

from ..models import Account, AccountUser, Connection, Service
from ..organisation_kit import OrganisationKitClient, PartnerError
from ..selectors import connection_identity_counts
from .events import event_record
from .sync_steps import account_users_replace

logger = logging.getLogger("syncing")

# How far back a live read looks by default, and the widest period it takes (days); the API
# and the pages both apply them.
INVOICE_DAYS_DEFAULT, INVOICE_DAYS_MAX = 365, 366 * 3
SERIES_DAYS_DEFAULT, SERIES_DAYS_MAX = 7, 93
PHONE_NUMBER = r"^\+?[0-9][0-9 ()-]{3,30}$"


class NotFoundHere(Exception):
    """No such account, service or user in this connection's mirror."""


def _kit(connection: Connection) -> OrganisationKitClient:
    """The partner's client, once the connection's identity still counts for its integration
    (DESIGN.md: an identity counts only for the integrations it was verified for): a provider
    no longer trusted there, or a verification taken back, reads and writes nothing."""
    if not connection_identity_counts(connection):
        raise PermissionDenied(
            f"The identity of this connection is no longer verified for "
            f"{connection.integration.name}: connect again with one that is."
        )
    return OrganisationKitClient.for_integration(connection.integration)


def connection_account(*, connection: Connection, account_id: str) -> Account:
    account = connection.accounts.filter(is_present=True, partner_id=account_id).first()
    if account is None:
        raise NotFoundHere(f"No account {account_id} in this connection.")
    return account


def _owned_account(*, connection: Connection, account_id: str, what: str) -> Account:
    account = connection_account(connection=connection, account_id=account_id)
    if account.role != Account.Role.OWNER:
        raise PermissionDenied(f"Only the owners of account {account_id} see its {what}.")
    return account


def connection_service(*, connection: Connection, service_id: str) -> Service:
    service = (
        Service.objects.filter(
            location__account__connection=connection,
            location__account__is_present=True,
            partner_id=service_id,
        )
        .select_related("location__account")
        .first()
    )
    if service is None:
        raise NotFoundHere(f"No service {service_id} in this connection.")
    return service


def invoices_live(
    *, connection: Connection, account_id: str, from_date: date, to_date: date
) -> list[dict]:
    account = _owned_account(connection=connection, account_id=account_id, what="invoices")
    return _kit(connection).account_invoices(
        account.partner_id, from_date=from_date, to_date=to_date
    )


def invoice_pdf_live(*, connection: Connection, account_id: str, invoice_id: str):
    """("stream", the open partner response) or ("url", the partner's URL for the PDF), when
    the partner offers no stream."""
    account = _owned_account(connection=connection, account_id=account_id, what="invoices")
    kit = _kit(connection)
    try:
        return "stream", kit.invoice_stream(account.partner_id, invoice_id)
    except PartnerError as exc:
        if exc.status_code not in (404, 405, 501):
            raise
        stream_error = exc
    try:
        return "url", kit.invoice_url(account.partner_id, invoice_id)
    except PartnerError:
        raise stream_error from None


def measurements_live(
    *, connection: Connection, service_id: str, from_date: date, to_date: date
) -> dict:
    service = connection_service(connection=connection, service_id=service_id)
    if not service.measurement_id:
        raise NotFoundHere(f"Service {service_id} has no measurements.")
    return _kit(connection).measurements(
        service.measurement_id, from_date=from_date, to_date=to_date
    )


def cost_live(*, connection: Connection, service_id: str, from_date: date, to_date: date) -> dict:
    service = connection_service(connection=connection, service_id=service_id)
    if service.location.account.role != Account.Role.OWNER:
        raise PermissionDenied(
            f"Only the owners of account {service.location.account.partner_id} see its cost."
        )
    if not service.cost_id:
        raise NotFoundHere(f"Service {service_id} has no cost.")
    return _kit(connection).cost(service.cost_id, from_date=from_date, to_date=to_date)


def _users_refresh(*, connection: Connection, kit: OrganisationKitClient, accounts) -> None:
    """Bring the mirrored users of `accounts` up to date after a write. The write happened at
    the partner already: a refresh that fails is logged and left to the next sync."""
    try:
        fetched = [(account, kit.account_users(account.partner_id)) for account in accounts]
    except PartnerError as exc:
        logger.warning("connection %s: users not refreshed after a write: %s", connection.pk, exc)
        return
    with transaction.atomic():
        for account, entries in fetched:
            account_users_replace(account=account, entries=entries, user=connection.user)


def account_user_update(
    *,
    connection: Connection,
    user_id: str,
    phone_number: str | None = None,
    email_address: str | None = None,
) -> dict:
    """Reference 001, Update user: a hub user updates their own phone number and email
    (DESIGN.md: "update own phone/email"), never someone else's: a changed email could make
    its new holder match another account's roles. Returns the user as the partner answered."""
    mirrored = list(
        AccountUser.objects.filter(
            account__connection=connection, account__is_present=True, partner_id=user_id
        ).select_related("account")
    )
    if not mirrored:
        raise NotFoundHere(f"No user {user_id} in this connection.")
    if not any(row.is_hub_user for row in mirrored):
        raise PermissionDenied("You may update only your own phone number and email.")
    kit = _kit(connection)
    answer = kit.user_update(user_id, phone_number=phone_number, email_address=email_address)
    accounts = list({row.account_id: row.account for row in mirrored}.values())
    _users_refresh(connection=connection, kit=kit, accounts=accounts)
    event_record(
        user=connection.user,
        event_type="UPDATE_USER_SUCCESS",
        resource_type="USER",
        resource={
            "id": user_id,
            "connection_id": str(connection.pk),
            "account_ids": [account.partner_id for account in accounts],
        },
    )
    return answer


def account_guest_add(
    *,
    connection: Connection,
    account_id: str,
    name: str,
    email_address: str = "",
    phone_number: str = "",
) -> dict:
    """Reference 001, Add User to account: account owners add guests. Returns the partner's
    {"role", "user"} (or what was sent, when the partner answers with no body)."""
    account = _owned_account(connection=connection, account_id=account_id, what="guests")
    kit = _kit(connection)
    user = {"name": name, "emailAddress": email_address, "phoneNumber": phone_number}
    answer = kit.user_add(account.partner_id, user=user, role="GUEST")
    _users_refresh(connection=connection, kit=kit, accounts=[account])
    event_record(
        user=connection.user,
        event_type="ADD_USER_SUCCESS",
        resource_type="ACCOUNT",
        resource={"id": account.partner_id, "connection_id": str(connection.pk), "role": "GUEST"},
    )
    if isinstance(answer.get("user"), dict):
        return {"role": answer.get("role") or "GUEST", "user": answer["user"]}
    return {"role": "GUEST", "user": {"id": None, **user}}
