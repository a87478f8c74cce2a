from django.apps import AppConfig


class AccountingConfig(AppConfig):
    """Accounting export: integrations per subscriber, maps, SyncRecords and packets."""

    name = "accounting"
    verbose_name = "Accounting export"

    def ready(self) -> None:
        from integration_hub.registry import declare

        from .declarations import DECLARATIONS

        declare(DECLARATIONS)
