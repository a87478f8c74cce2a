from django.apps import AppConfig


class SyncingConfig(AppConfig):
    """Inbound sync: connections, sync jobs, event queues, mirrored partner data."""

    name = "syncing"
    verbose_name = "Connections and inbound sync"

    def ready(self) -> None:
        from integration_hub import dashboard, roles

        dashboard.panel_register(
            dashboard.Panel(
                name="connections",
                title="Connections",
                template="syncing/panels/connections.html",
                visible=lambda user: roles.user_has_role(user, roles.OWNER),
                order=10,
            )
        )
