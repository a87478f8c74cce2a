"""The steps of a sync (reference 000), each: call the partner outside any transaction, then
write its part of the mirror, its channels and its events in one transaction, the job locked
and still running (the watchdog may have failed it meanwhile)."""

from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from functools import partial

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_date

from integration_hub.services.jobs import task_enqueue

from ..models import (
    Account,
    AccountUser,
    Agreement,
    Channel,
    Connection,
    Location,
    Product,
    Service,
    SyncJob,
    VerifiedIdentity,
)
from ..organisation_kit import OrganisationKitClient, PartnerError
from ..selectors import account_resource
from .events import event_record
from .invoices import invoice_states_apply, invoices_recent
from .sync_jobs import job_lock


class StepFailed(Exception):
    """A step failed; its `<STEP>_ERROR` event is recorded."""


def _resource_error(error: Exception) -> dict:
    return {
        "kind": getattr(error, "kind", "error"),
        "status_code": getattr(error, "status_code", None),
        "retry_after": getattr(error, "retry_after", None),
        "message": str(error)[:500],
    }


def _channels_set(connection: Connection, definitions: list[str], *, is_success: bool) -> None:
    now = timezone.now()
    fields = {"status": Channel.Status.SUCCESS if is_success else Channel.Status.ERROR}
    fields["last_end_at"] = now
    if is_success:
        fields["last_success_at"] = now
    connection.channels.filter(definition__in=definitions).update(updated_at=now, **fields)


class StepRunner:
    """Runs the steps of one claimed job."""

    def __init__(self, job: SyncJob, kit: OrganisationKitClient):
        self.job = job
        self.connection = job.connection
        self.user = job.connection.user
        self.kit = kit

    def event(self, event_type: str, resource_type: str, resource: dict) -> None:
        event_record(
            user=self.user, event_type=event_type, resource_type=resource_type, resource=resource
        )

    def fetch(self, step: str, channels: list[str], call: Callable, resource: dict | None = None):
        """Call the partner; on failure record `<STEP>_ERROR` (and the channels) and stop."""
        try:
            return call()
        except PartnerError as exc:
            with transaction.atomic():
                job_lock(self.job.pk)
                _channels_set(self.connection, channels, is_success=False)
                self.event(
                    f"{step}_ERROR",
                    "ACCOUNT" if resource else "CONNECTION",
                    {
                        **(resource or {"id": str(self.connection.pk)}),
                        "error": _resource_error(exc),
                    },
                )
            raise StepFailed(f"{step}: {exc}") from exc

    def heartbeat(self, step: str) -> None:
        SyncJob.objects.filter(pk=self.job.pk, status=SyncJob.Status.RUNNING).update(
            step=step, heartbeat_at=timezone.now()
        )

    def present_accounts(self) -> list[Account]:
        return list(self.connection.accounts.filter(is_present=True).order_by("partner_id"))

    # Step 1

    def step_accounts(self) -> list[Account]:
        self.heartbeat("ACCOUNTS_SEARCH")
        identity = self.connection.identity
        is_email = identity.kind == VerifiedIdentity.Kind.EMAIL
        search = partial(
            self.kit.accounts_search,
            **({"email": identity.value} if is_email else {"ssn": identity.value}),
        )
        account_ids = self.fetch("ACCOUNTS_SEARCH", ["accounts"], search)
        with transaction.atomic():
            job_lock(self.job.pk)
            self.event(
                "ACCOUNTS_SEARCH_SUCCESS",
                "CONNECTION",
                {"id": str(self.connection.pk), "account_ids": account_ids},
            )
        self.heartbeat("ACCOUNT")
        fetched = [
            self.fetch(
                "ACCOUNT",
                ["accounts"],
                partial(self.kit.account_get, account_id),
                {"id": account_id},
            )
            for account_id in account_ids
        ]
        with transaction.atomic():
            job_lock(self.job.pk)
            for account_id, body in zip(account_ids, fetched, strict=True):
                Account.objects.update_or_create(
                    connection=self.connection,
                    partner_id=account_id,
                    defaults={
                        "customer_id": str(body.get("customerId") or "")[:100],
                        "name": str(body.get("name") or "")[:200],
                        "type": str(body.get("type") or "")[:50],
                        "is_present": True,
                    },
                )
            # Reference 002: an account that is gone is kept, and restored when it returns.
            self.connection.accounts.exclude(partner_id__in=account_ids).update(
                is_present=False, updated_at=timezone.now()
            )
            _channels_set(self.connection, ["accounts"], is_success=True)
            accounts = self.present_accounts()
            for account in accounts:
                self.event("ACCOUNT_SUCCESS", "ACCOUNT", account_resource(account))
        return accounts

    # Step 2

    def step_users(self, accounts: list[Account]) -> None:
        self.heartbeat("USERS")
        users_by_account = {
            account.pk: self.fetch(
                "USERS",
                ["users"],
                partial(self.kit.account_users, account.partner_id),
                account_resource(account),
            )
            for account in accounts
        }
        with transaction.atomic():
            job_lock(self.job.pk)
            for account in accounts:
                account_users_replace(
                    account=account, entries=users_by_account[account.pk], user=self.user
                )
                self.event("USERS_SUCCESS", "ACCOUNT", account_resource(account))
            _channels_set(self.connection, ["users"], is_success=True)

    # Step 3

    def step_locations(self, accounts: list[Account]) -> None:
        self.heartbeat("LOCATIONS")
        locations_by_account = {
            account.pk: self.fetch(
                "LOCATIONS",
                ["locations"],
                partial(self.kit.account_locations, account.partner_id),
                account_resource(account),
            )
            for account in accounts
        }
        with transaction.atomic():
            job_lock(self.job.pk)
            for account in accounts:
                _locations_write(account, locations_by_account[account.pk])
                self.event("LOCATIONS_SUCCESS", "ACCOUNT", account_resource(account))
            _channels_set(self.connection, ["locations"], is_success=True)

    # Step 4

    def step_agreements_and_products(self, accounts: list[Account]) -> None:
        services = list(
            Service.objects.filter(location__account__in=accounts)
            .select_related("location__account")
            .order_by("id")
        )
        for step, channel, call, model, write in (
            ("AGREEMENTS", "agreements", self.kit.service_agreements, Agreement, _agreement),
            ("PRODUCTS", "products", self.kit.service_products, Product, _product),
        ):
            self.heartbeat(step)
            fetched = {
                service.pk: self.fetch(
                    step,
                    [channel],
                    partial(call, service.partner_id),
                    account_resource(service.location.account),
                )
                for service in services
            }
            with transaction.atomic():
                job_lock(self.job.pk)
                for service in services:
                    model.objects.filter(service=service).delete()
                    model.objects.bulk_create(write(service, item) for item in fetched[service.pk])
                for account in accounts:
                    self.event(f"{step}_SUCCESS", "ACCOUNT", account_resource(account))
                _channels_set(self.connection, [channel], is_success=True)

    # Step 5 (reference 000, "Invoice synchronisation")

    def step_invoices(self, accounts: list[Account]) -> None:
        """Only the accounts this user owns: invoices, and so their notifications, are for
        account owners (DESIGN.md)."""
        self.heartbeat("INVOICES")
        owned = [account for account in accounts if account.role == Account.Role.OWNER]
        fetched = {
            account.pk: self.fetch(
                "INVOICES",
                ["invoices"],
                partial(invoices_recent, self.kit, account.partner_id),
                account_resource(account),
            )
            for account in owned
        }
        with transaction.atomic():
            job_lock(self.job.pk)
            created = 0
            for account in owned:
                notifications = invoice_states_apply(account=account, invoices=fetched[account.pk])
                created += len(notifications)
                # The event says what happened, never what the invoices hold (not stored).
                self.event(
                    "INVOICES_SUCCESS",
                    "ACCOUNT",
                    {
                        **account_resource(account),
                        "invoice_count": len(fetched[account.pk]),
                        "notification_count": len(notifications),
                    },
                )
            _channels_set(self.connection, ["invoices"], is_success=True)
            if created:
                task_enqueue(
                    "syncing.tasks.notifications_deliver_task",
                    self.connection.pk,
                    task_name=f"notifications of connection {self.connection.pk}",
                )


def account_users_replace(*, account: Account, entries: list[dict], user) -> Account:
    """Inside a transaction: the account's mirrored users as the partner lists them, and the
    hub user's role on it from the entries matching one of their identities verified for
    the account's integration (an email against `emailAddress`, a personal number against
    `personalNumber`)."""
    identities = list(
        VerifiedIdentity.objects.filter(user=user)
        .valid_for(account.connection.integration_id)
        .values_list("kind", "value")
    )
    emails = {v for k, v in identities if k == VerifiedIdentity.Kind.EMAIL}
    numbers = {v for k, v in identities if k == VerifiedIdentity.Kind.PERSONAL_NUMBER}
    account.users.all().delete()
    roles = set()
    for entry in entries:
        partner_user = entry.get("user") if isinstance(entry.get("user"), dict) else {}
        role = str(entry.get("role") or "")
        email = str(partner_user.get("emailAddress") or "")
        number = str(partner_user.get("personalNumber") or "").replace("-", "")
        is_hub_user = email.lower() in emails or bool(number and number in numbers)
        if is_hub_user:
            roles.add(role)
        AccountUser.objects.create(
            account=account,
            partner_id=str(partner_user.get("id") or "")[:100],
            role=role[:10],
            name=str(partner_user.get("name") or "")[:200],
            email_address=email[:254],
            phone_number=str(partner_user.get("phoneNumber") or "")[:50],
            is_hub_user=is_hub_user,
        )
    # DESIGN.md: the role comes from the partner's user roles; least privilege when the
    # partner does not list the user.
    account.role = Account.Role.OWNER if "OWNER" in roles else Account.Role.GUEST
    account.save(update_fields=["role", "updated_at"])
    return account


def _locations_write(account: Account, locations: list[dict]) -> None:
    """Upsert by partner id, so that a service's agreements and products survive until
    step 4 replaces them."""
    seen_locations = []
    for body in locations:
        location, _ = Location.objects.update_or_create(
            account=account,
            partner_id=str(body.get("id") or "")[:100],
            defaults={
                "name": str(body.get("name") or "")[:200],
                "address": str(body.get("address") or "")[:300],
            },
        )
        seen_locations.append(location.pk)
        seen_services = []
        for item in body.get("services") or []:
            service, _ = Service.objects.update_or_create(
                location=location,
                partner_id=str(item.get("id") or "")[:100],
                defaults={
                    "type": str(item.get("type") or "")[:50],
                    "name": str(item.get("name") or "")[:200],
                    "measurement_id": str(item.get("measurementId") or "")[:100],
                    "cost_id": str(item.get("costId") or "")[:100],
                },
            )
            seen_services.append(service.pk)
        location.services.exclude(pk__in=seen_services).delete()
    account.locations.exclude(pk__in=seen_locations).delete()


def _agreement(service: Service, item: dict) -> Agreement:
    return Agreement(
        service=service,
        partner_id=str(item.get("id") or "")[:100],
        name=str(item.get("name") or "")[:200],
        status=str(item.get("status") or "")[:50],
        start_date=parse_date(str(item.get("startDate") or "")),
        end_date=parse_date(str(item.get("endDate") or "")),
    )


def _product(service: Service, item: dict) -> Product:
    try:
        price = Decimal(str(item.get("price"))) if item.get("price") is not None else None
    except InvalidOperation:
        price = None
    return Product(
        service=service,
        partner_id=str(item.get("id") or "")[:100],
        name=str(item.get("name") or "")[:200],
        price=price,
        unit=str(item.get("unit") or "")[:50],
    )
