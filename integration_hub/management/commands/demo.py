import os
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from integration_hub import roles
from integration_hub.demo_steps import DemoContext, demo_steps
from integration_hub.selectors import default_subscriber
from integration_hub.services.roles import role_grant


class Command(BaseCommand):
    help = (
        "Load demo data (idempotent): a superuser 'admin', an Owner 'owner' of the default "
        "subscriber, and each app's demo (customers and orders; with the sandbox on, the "
        "pipelines wired to the partner simulator). Prints the URLs and sign-ins."
    )

    def add_arguments(self, parser):
        parser.add_argument("--base-url", default="http://127.0.0.1:8000")
        parser.add_argument("--force", action="store_true", help="run even with DEBUG off")

    def handle(self, *args, base_url, force, **options):
        if not settings.DEBUG and not force:
            raise CommandError("Demo data is for development: DEBUG is off (use --force).")
        with transaction.atomic():
            admin_password = self._user("admin", "DEMO_ADMIN_PASSWORD", superuser=True)
            owner_password = self._user("owner", "DEMO_OWNER_PASSWORD", superuser=False)
            owner = get_user_model().objects.get(username="owner")
            role_grant(user=owner, role=roles.OWNER, subscriber=default_subscriber())
        context = DemoContext(base_url=base_url.rstrip("/"))
        lines = [
            f"  Web UI       {base_url}/",
            f"  Admin        {base_url}/admin/",
            f"  API docs     {base_url}/api/docs/",
        ]
        if not settings.SANDBOX_ENABLED:
            lines.append("  Sandbox      off")
        for step in demo_steps(sandbox_enabled=settings.SANDBOX_ENABLED):
            lines.extend(step.run(context))
        self.stdout.write(
            "\n".join(
                [
                    "",
                    "Integration Hub is ready:",
                    *lines,
                    "Demo sign-ins:",
                    f"  superuser    admin / {admin_password}",
                    f"  Owner        owner / {owner_password}",
                    "",
                ]
            )
        )

    def _user(self, username: str, env_var: str, *, superuser: bool) -> str:
        """Create the user if missing; its password comes from .env (written by make run)."""
        User = get_user_model()
        password = os.environ.get(env_var, "")
        user = User.objects.filter(username=username).first()
        if user is None:
            password = password or secrets.token_urlsafe(12)
            if superuser:
                User.objects.create_superuser(username, f"{username}@example.com", password)
            else:
                User.objects.create_user(username, f"{username}@example.com", password)
            return password
        if password and not user.check_password(password):
            user.set_password(password)
            user.save(update_fields=["password"])
        return password or "(unchanged; set it with: manage.py changepassword " + username + ")"
