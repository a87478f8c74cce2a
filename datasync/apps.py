from django.apps import AppConfig


class DatasyncConfig(AppConfig):
    """Outbound Data Sync (reference 003): change capture, queues and the delivery job."""

    name = "datasync"
    verbose_name = "Data Sync"

    def ready(self) -> None:
        from integration_hub import dashboard, roles
        from integration_hub.system_settings import settings_declare

        from .settings import DATASYNC_SETTINGS

        settings_declare(*DATASYNC_SETTINGS)
        dashboard.panel_register(
            dashboard.Panel(
                name="datasync",
                title="Data Sync",
                template="datasync/panels/datasync.html",
                # Data Sync is global: only admin roles see it.
                visible=roles.user_has_admin_role,
                order=30,
            )
        )
