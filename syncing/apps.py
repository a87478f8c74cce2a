from django.apps import AppConfig


def connections_panel_context(request) -> dict:
    from .selectors import connection_list

    return {"connections": list(connection_list(user=request.user))}


class SyncingConfig(AppConfig):
    """Inbound sync: connections, sync jobs, event queues, mirrored partner data."""

    name = "syncing"
    verbose_name = "Connections and inbound sync"

    def ready(self) -> None:
        from integration_hub import dashboard, roles
        from integration_hub.schedules import MINUTES, ScheduleSpec, schedule_declare

        dashboard.panel_register(
            dashboard.Panel(
                name="connections",
                title="Connections",
                template="syncing/panels/connections.html",
                context=connections_panel_context,
                visible=lambda user: roles.user_has_role(user, roles.OWNER),
                order=10,
            )
        )
        # Every 5 minutes: fail syncs stuck running or never picked up (SYNC_ALL_ERROR).
        schedule_declare(
            ScheduleSpec(
                name="syncing.watchdog",
                func="syncing.tasks.sync_watchdog_task",
                schedule_type=MINUTES,
                minutes=5,
            )
        )
