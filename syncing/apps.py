from django.apps import AppConfig


class SyncingConfig(AppConfig):
    """Inbound sync: connections, sync jobs, event queues, mirrored partner data."""

    name = "syncing"
    verbose_name = "Connections and inbound sync"

    def ready(self) -> None:
        from integration_hub.registry import declare

        from .declarations import DECLARATIONS

        declare(DECLARATIONS)
