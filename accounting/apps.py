from django.apps import AppConfig


def _record_outcomes(user, since) -> dict:
    from integration_hub.dashboard import outcome_counts
    from integration_hub.selectors import subscribers_owned_by

    from .models import SyncRecord

    records = SyncRecord.objects.filter(
        accounting_integration__subscriber__in=subscribers_owned_by(user), finished_at__gte=since
    )
    return outcome_counts(
        records, succeeded=SyncRecord.Status.SUCCESS, failed=SyncRecord.Status.FAILED
    )


class AccountingConfig(AppConfig):
    """Accounting export: integrations per subscriber, maps, SyncRecords and packets."""

    name = "accounting"
    verbose_name = "Accounting export"

    def ready(self) -> None:
        from integration_hub import dashboard, roles, schedules

        from .views import accounting_panel_context

        dashboard.panel_register(
            dashboard.Panel(
                name="accounting",
                title="Accounting",
                template="accounting/panels/accounting.html",
                context=accounting_panel_context,
                visible=lambda user: roles.user_has_role(user, roles.OWNER),
                order=20,
            )
        )
        dashboard.outcome_source_register(
            dashboard.OutcomeSource(
                name="accounting",
                counts=_record_outcomes,
                visible=lambda user: roles.user_has_role(user, roles.OWNER),
            )
        )
        records = ("syncrecord", "packet", "accountingintegration", "accountingmap")
        roles.role_permissions_declare(
            roles.JOB_ADMIN, *(f"accounting.view_{model}" for model in records)
        )
        roles.role_permissions_declare(
            roles.SYSTEM_CONFIG,
            *(
                f"accounting.{action}_{model}"
                for action in ("add", "change", "delete", "view")
                for model in ("accountingintegration", "accountingmap")
            ),
            "accounting.view_syncrecord",
            "accounting.view_packet",
        )
        # Every 5 minutes: marks Failed the Sync runs that died (worker killed, timed out).
        schedules.schedule_declare(
            schedules.ScheduleSpec(
                name="Accounting sync watchdog",
                func="accounting.tasks.sync_records_watchdog",
                schedule_type=schedules.MINUTES,
                minutes=5,
            )
        )

        def accounting_schedules() -> list[tuple[str, str]]:
            from .services.integrations import accounting_schedules_ensure

            return accounting_schedules_ensure()

        schedules.schedules_hook_register(accounting_schedules)
