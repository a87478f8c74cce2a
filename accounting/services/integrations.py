"""Accounting integrations and their maps, and the daily schedule of each enabled one."""

from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from integration_hub.models import Credential, Integration, OAuthGrant, Subscriber
from integration_hub.services.audit import audit_record
from integration_hub.services.errors import AlreadyExists, secret_routing_guard

from ..connect import is_connectable
from ..models import AccountingIntegration, AccountingMap
from ..packets import tax_rate_text

SYNC_TASK = "accounting.tasks.scheduled_sync"
SCHEDULE_NAME = "Accounting sync {pk}"
# Daily at 02:00 (server time): after the business day has closed everywhere we serve.
SCHEDULE_CRON = "0 2 * * *"
KINDS = AccountingMap.Kind.values


def maps_validate(maps: list[dict]) -> list[dict]:
    """The maps as they will be stored (TAX_RATE sources spelled "0.0800"), or a 400 whose
    messages name each bad row (rows count from 1)."""
    errors = []
    seen: dict[tuple[str, str], int] = {}
    rows = []
    for row_number, row in enumerate(maps, start=1):
        kind = str(row.get("kind") or "")
        source = str(row.get("source") or "").strip()
        target = str(row.get("target") or "").strip()
        if kind not in KINDS:
            errors.append(f"Row {row_number}: kind {kind!r} is not one of {', '.join(KINDS)}.")
            continue
        if not source:
            errors.append(f"Row {row_number}: the source is empty.")
            continue
        if not target:
            errors.append(f"Row {row_number}: the target for {kind} {source!r} is empty.")
            continue
        if kind == AccountingMap.Kind.TAX_RATE:
            try:
                rate = Decimal(source)
            except InvalidOperation:
                rate = None
            if rate is None or not rate.is_finite() or not Decimal(0) <= rate < 1:
                errors.append(
                    f"Row {row_number}: tax rate {source!r} is not a number from 0 to below 1."
                )
                continue
            source = tax_rate_text(rate)
        first = seen.setdefault((kind, source), row_number)
        if first != row_number:
            errors.append(
                f"Row {row_number}: {kind} source {source!r} is mapped already in row {first}."
            )
            continue
        rows.append({"kind": kind, "source": source, "target": target})
    if errors:
        raise ValidationError({"maps": errors})
    return rows


class AccountingIntegrationExists(AlreadyExists):
    """The subscriber already has an accounting integration of that type (a conflict: 409 in
    the API; a plain validation error to every other caller)."""

    def __init__(self, accounting_integration: AccountingIntegration):
        super().__init__(
            {
                "integrationType": [
                    f"Subscriber {accounting_integration.subscriber_id} already has a "
                    f"{accounting_integration.integration_type} accounting integration."
                ]
            }
        )


def accounting_integration_validate(accounting_integration: AccountingIntegration) -> None:
    """An ACCOUNTING integration, and no other of its type for the subscriber."""
    if accounting_integration.integration.kind != Integration.Kind.ACCOUNTING:
        raise ValidationError(
            {
                "integration": [
                    f"Integration {accounting_integration.integration} is not an ACCOUNTING "
                    "integration."
                ]
            }
        )
    clash = AccountingIntegration.objects.filter(
        subscriber=accounting_integration.subscriber,
        integration_type=accounting_integration.integration_type,
    ).exclude(pk=accounting_integration.pk)
    if clash.exists():
        raise AccountingIntegrationExists(accounting_integration)


def _save(accounting_integration: AccountingIntegration) -> None:
    """Save; a concurrent save of the same subscriber and type loses on the unique
    constraint and is the same conflict as one found by `_validate`."""
    try:
        with transaction.atomic():
            accounting_integration.save()
    except IntegrityError:
        raise AccountingIntegrationExists(accounting_integration) from None


def _maps_replace(accounting_integration: AccountingIntegration, maps: list[dict]) -> None:
    accounting_integration.maps.all().delete()
    AccountingMap.objects.bulk_create(
        AccountingMap(accounting_integration=accounting_integration, **row) for row in maps
    )


@transaction.atomic
def accounting_integration_create(
    *,
    subscriber: Subscriber,
    integration_type: str,
    integration: Integration,
    summarize_data: bool = False,
    enabled: bool = True,
    tenant_id: str = "",
    maps: list[dict] | None = None,
    acting_user=None,
) -> AccountingIntegration:
    # The integration decides where the accounting system's credential goes, the tenant
    # whose books receive the sales.
    secret_routing_guard(
        acting_user=acting_user, fields=["integration", *(["tenantId"] if tenant_id else [])]
    )
    rows = maps_validate(maps or [])
    accounting_integration = AccountingIntegration(
        subscriber=subscriber,
        integration_type=integration_type,
        integration=integration,
        summarize_data=summarize_data,
        enabled=enabled,
        tenant_id=tenant_id,
    )
    accounting_integration_validate(accounting_integration)
    _save(accounting_integration)
    _maps_replace(accounting_integration, rows)
    audit_record(
        actor=acting_user,
        action="accounting_integration.created",
        target=str(accounting_integration),
        details={"id": accounting_integration.pk, "maps": len(rows)},
    )
    transaction.on_commit(accounting_schedules_ensure)
    return accounting_integration


@transaction.atomic
def accounting_integration_update(
    *,
    accounting_integration: AccountingIntegration,
    maps: list[dict] | None = None,
    acting_user=None,
    **fields,
) -> AccountingIntegration:
    """Change fields; `maps`, when given, replaces every map. Another `integration` (another
    app) forgets the grant the Owner gave the old one."""
    # Which endpoint (with its credential) and whose books: both decide where a secret goes
    # and whose sales it carries there.
    secret_routing_guard(
        acting_user=acting_user,
        fields=[
            api_name
            for name, api_name in (
                ("integration", "integration"),
                ("subscriber", "subscriberId"),
                ("tenant_id", "tenantId"),
            )
            if name in fields and fields[name] != getattr(accounting_integration, name)
        ],
    )
    rows = maps_validate(maps) if maps is not None else None
    changed = sorted(
        name for name, value in fields.items() if getattr(accounting_integration, name) != value
    )
    for name, value in fields.items():
        setattr(accounting_integration, name, value)
    accounting_integration_validate(accounting_integration)
    forgotten = None
    grant = accounting_integration.grant
    if grant is not None and grant.integration_id != accounting_integration.integration_id:
        forgotten, accounting_integration.grant = grant.pk, None
        changed.append("grant")
    _save(accounting_integration)
    if forgotten is not None:
        OAuthGrant.objects.filter(pk=forgotten).delete()
    if rows is not None:
        _maps_replace(accounting_integration, rows)
        changed.append("maps")
    audit_record(
        actor=acting_user,
        action="accounting_integration.updated",
        target=str(accounting_integration),
        details={"id": accounting_integration.pk, "changed": changed},
    )
    transaction.on_commit(accounting_schedules_ensure)
    return accounting_integration


@transaction.atomic
def accounting_integration_delete(
    *, accounting_integration: AccountingIntegration, acting_user=None
) -> None:
    audit_record(
        actor=acting_user,
        action="accounting_integration.deleted",
        target=str(accounting_integration),
        details={"id": accounting_integration.pk},
    )
    grant_id = accounting_integration.grant_id
    accounting_integration.delete()
    if grant_id is not None:
        OAuthGrant.objects.filter(pk=grant_id).delete()
    transaction.on_commit(accounting_schedules_ensure)


def accounting_integration_problems(accounting_integration: AccountingIntegration) -> dict:
    """Why a Sync cannot run now ({} when it can): disabled, no credentials, not connected,
    bad maps."""
    errors: dict[str, list[str]] = {}
    integration = accounting_integration.integration
    if not accounting_integration.enabled:
        errors["enabled"] = ["This accounting integration is disabled."]
    if not integration.enabled:
        errors.setdefault("integration", []).append(f"Integration {integration} is disabled.")
    if integration.kind != Integration.Kind.ACCOUNTING:
        errors.setdefault("integration", []).append(
            f"Integration {integration} is not an ACCOUNTING integration."
        )
    if integration.auth_type != Integration.AuthType.NONE and not _has_credentials(integration):
        errors.setdefault("integration", []).append(
            f"No credentials are stored under {integration.credential_map}/"
            f"{integration.credential_key} for integration {integration}."
        )
    if is_connectable(accounting_integration) and accounting_integration.grant_id is None:
        # Never posted to as generic JSON: the books are reached through the Owner's grant.
        errors.setdefault("integration", []).append(
            f"{accounting_integration.get_integration_type_display()} is not connected: its "
            f"Owner presses Connect on /accounting/{accounting_integration.pk}/."
        )
    try:
        maps_validate(list(accounting_integration.maps.values("kind", "source", "target")))
    except ValidationError as exc:
        errors["maps"] = exc.message_dict["maps"]
    return errors


def _has_credentials(integration: Integration) -> bool:
    credential = Credential.objects.filter(
        map_name=integration.credential_map, key_name=integration.credential_key
    ).first()
    if credential is None:
        return False
    if integration.auth_type == Integration.AuthType.API_KEY:
        return credential.has_api_key
    if integration.auth_type == Integration.AuthType.OAUTH2_REFRESH_TOKEN:
        return credential.has_refresh_token
    return bool(credential.client_id) and credential.has_client_secret


@transaction.atomic
def accounting_schedules_ensure() -> list[tuple[str, str]]:
    """One daily Sync schedule per enabled accounting integration, none for the others.
    Idempotent: found by name, brought up to date, never duplicated."""
    from django_q.models import Schedule

    wanted = {
        SCHEDULE_NAME.format(pk=pk): pk
        for pk in AccountingIntegration.objects.filter(
            enabled=True, integration__enabled=True
        ).values_list("pk", flat=True)
    }
    outcome = []
    for schedule in Schedule.objects.filter(func=SYNC_TASK).exclude(name__in=wanted):
        outcome.append((schedule.name, "deleted"))
        schedule.delete()
    for name, pk in sorted(wanted.items()):
        fields = {
            "func": SYNC_TASK,
            "args": repr((pk,)),
            "schedule_type": Schedule.CRON,
            "cron": SCHEDULE_CRON,
            "repeats": -1,
        }
        existing = Schedule.objects.filter(name=name).order_by("id")
        schedule = existing.first()
        if schedule is None:
            Schedule.objects.create(name=name, next_run=_next_run(), **fields)
            outcome.append((name, "created"))
            continue
        existing.exclude(pk=schedule.pk).delete()
        if any(getattr(schedule, field) != value for field, value in fields.items()):
            for field, value in fields.items():
                setattr(schedule, field, value)
            schedule.next_run = _next_run()
            schedule.save()
            outcome.append((name, "updated"))
        else:
            outcome.append((name, "unchanged"))
    return outcome


def _next_run():
    from croniter import croniter

    return croniter(SCHEDULE_CRON, timezone.localtime()).get_next(type(timezone.localtime()))
