from django.apps import AppConfig


class SandboxConfig(AppConfig):
    """Partner simulator, mounted under /sandbox/ when SANDBOX_ENABLED (off in production)."""

    name = "integration_hub.sandbox"
    label = "sandbox"
    verbose_name = "Sandbox (partner simulator)"

    def ready(self) -> None:
        from integration_hub.registry import declare

        from .declarations import DECLARATIONS

        declare(DECLARATIONS)
