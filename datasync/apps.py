from django.apps import AppConfig


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
