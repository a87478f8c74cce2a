from django.apps import AppConfig


class IntegrationHubConfig(AppConfig):
    name = "integration_hub"
    verbose_name = "Integration Hub"

    def ready(self) -> None:
        from integration_hub.registry import declare

        from .declarations import DECLARATIONS

        declare(DECLARATIONS)
