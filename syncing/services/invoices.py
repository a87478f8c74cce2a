"""Invoice sync (reference 000, "Invoice synchronisation"): fetch each owned account's recent
invoices, widening fromDate/toDate until the two most recent are in, and compare them with
the last seen state of each. An invoice that appears as new, or becomes paid or overdue,
gives one notification. Invoices themselves are never stored: only their last seen status.
"""

from datetime import date, timedelta

from django.utils import timezone

from ..models import Account, InvoiceState, Notification
from ..organisation_kit import OrganisationKitClient

# Reference 000: "Bright requires at minimum the two most recent invoices."
INVOICES_WANTED = 2
FIRST_WINDOW_DAYS = 31
# Widening doubles the window; past this the account simply has fewer invoices.
WIDEST_WINDOW_DAYS = 31 * 2**5  # about 2.7 years

STATUS_NEW, STATUS_PAID, STATUS_OVERDUE = "new", "paid", "overdue"


def invoices_recent(
    kit: OrganisationKitClient, account_id: str, *, today: date | None = None
) -> list[dict]:
    """The account's invoices from a window ending today, widened (doubling from a month)
    until it holds at least the two most recent, or reaches WIDEST_WINDOW_DAYS."""
    today = today or timezone.localdate()
    days = FIRST_WINDOW_DAYS
    while True:
        invoices = kit.account_invoices(
            account_id, from_date=today - timedelta(days=days), to_date=today
        )
        if len(invoices) >= INVOICES_WANTED or days >= WIDEST_WINDOW_DAYS:
            return invoices
        days *= 2


def _notification_kind(previous: str | None, current: str) -> str | None:
    """What the owner is told: an invoice first seen as new (or already overdue), or one that
    became paid or overdue since it was last seen. Nothing for an invoice first seen paid."""
    if previous == current:
        return None
    if current == STATUS_NEW and previous is None:
        return Notification.Kind.INVOICE_NEW
    if current == STATUS_OVERDUE:
        return Notification.Kind.INVOICE_OVERDUE
    if current == STATUS_PAID and previous is not None:
        return Notification.Kind.INVOICE_PAID
    return None


MESSAGES = {
    Notification.Kind.INVOICE_NEW: "New invoice {invoice} for {account}.",
    Notification.Kind.INVOICE_PAID: "Invoice {invoice} for {account} is paid.",
    Notification.Kind.INVOICE_OVERDUE: "Invoice {invoice} for {account} is overdue.",
}


def invoice_states_apply(*, account: Account, invoices: list[dict]) -> list[Notification]:
    """Inside the step's transaction: bring the account's invoice states up to date and
    create the notifications they call for (at most one per invoice and kind, ever: a repeated
    run finds the state already seen, and the database refuses a second). Returns the new
    notifications."""
    now = timezone.now()
    states = {state.invoice_id: state for state in account.invoice_states.all()}
    created = []
    for invoice in invoices:
        invoice_id = str(invoice.get("id") or "")[:100]
        status = str(invoice.get("status") or "").lower()[:20]
        if not invoice_id or not status:
            continue
        state = states.get(invoice_id)
        kind = _notification_kind(state.status if state else None, status)
        if state is None:
            states[invoice_id] = InvoiceState.objects.create(
                account=account,
                invoice_id=invoice_id,
                status=status,
                first_seen_at=now,
                last_seen_at=now,
            )
        else:
            state.status = status
            state.last_seen_at = now
            state.save(update_fields=["status", "last_seen_at"])
        if kind is None:
            continue
        notification, is_new = Notification.objects.get_or_create(
            account=account,
            invoice_id=invoice_id,
            kind=kind,
            defaults={
                "user_id": account.connection.user_id,
                "connection_id": account.connection_id,
                "message": MESSAGES[kind].format(
                    invoice=invoice_id, account=account.name or account.partner_id
                )[:300],
                "next_attempt_at": now,
            },
        )
        if is_new:
            created.append(notification)
    return created
