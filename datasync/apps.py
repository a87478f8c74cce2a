from django.apps import AppConfig


def _run_outcomes(user, since) -> dict:
    from integration_hub.dashboard import outcome_counts

    from .models import SyncRun

    runs = SyncRun.objects.filter(finished_at__gte=since)
    return outcome_counts(runs, succeeded=SyncRun.Status.SUCCEEDED, failed=SyncRun.Status.FAILED)


class DatasyncConfig(AppConfig):
    """Outbound Data Sync (reference 003): change capture, queues and the delivery job."""

    name = "datasync"
    verbose_name = "Data Sync"

    def ready(self) -> None:
        from integration_hub import dashboard, roles, schedules
        from integration_hub.system_settings import setting_on_change, settings_declare

        from .selectors import datasync_panel_context
        from .services.capture import capture_receivers_connect
        from .settings import DATASYNC_SETTINGS, SCHEDULE_NAME

        settings_declare(*DATASYNC_SETTINGS)
        capture_receivers_connect()
        # Every DataSyncIntervalMinutes; rewritten when that setting changes.
        schedules.schedule_declare(
            schedules.ScheduleSpec(
                name=SCHEDULE_NAME,
                func="datasync.tasks.datasync_scheduled_run",
                schedule_type=schedules.MINUTES,
                minutes_setting="DataSyncIntervalMinutes",
            )
        )
        setting_on_change("DataSyncIntervalMinutes", _schedule_rewrite)
        view = [
            f"datasync.view_{model}"
            for model in (
                "syncrun",
                "customerpendingrecord",
                "transactionpendingrecord",
                "progressrecord",
            )
        ]
        roles.role_permissions_declare(roles.JOB_ADMIN, *view, "datasync.run_datasync")
        roles.role_permissions_declare(roles.SYSTEM_CONFIG, *view)
        # Data Sync is global: its runs count for admin roles only.
        dashboard.outcome_source_register(
            dashboard.OutcomeSource(
                name="datasync", counts=_run_outcomes, visible=roles.user_has_admin_role
            )
        )
        dashboard.nav_link_register(
            dashboard.NavLink(
                title="Data Sync", url_name="datasync-page", visible=roles.user_has_admin_role
            )
        )
        dashboard.panel_register(
            dashboard.Panel(
                name="datasync",
                title="Data Sync",
                template="datasync/panels/datasync.html",
                context=datasync_panel_context,
                # Data Sync is global: only admin roles see it.
                visible=roles.user_has_admin_role,
                order=30,
            )
        )


def _schedule_rewrite(key: str) -> None:
    from integration_hub.schedules import schedules_ensure

    schedules_ensure()
