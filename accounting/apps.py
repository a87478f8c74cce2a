from django.apps import AppConfig


class AccountingConfig(AppConfig):
    """Accounting export: integrations per subscriber, maps, SyncRecords and packets."""

    name = "accounting"
    verbose_name = "Accounting export"

    def ready(self) -> None:
        from integration_hub import dashboard, roles

        dashboard.panel_register(
            dashboard.Panel(
                name="accounting",
                title="Accounting",
                template="accounting/panels/accounting.html",
                visible=lambda user: roles.user_has_role(user, roles.OWNER),
                order=20,
            )
        )
