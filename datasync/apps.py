from django.apps import AppConfig


class DatasyncConfig(AppConfig):
    """Outbound Data Sync (reference 003): change capture, queues and the delivery job."""

    name = "datasync"
    verbose_name = "Data Sync"

    def ready(self) -> None:
        from integration_hub.registry import declare

        from .declarations import DECLARATIONS

        declare(DECLARATIONS)
