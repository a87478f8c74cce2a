import os
import secrets
from importlib import import_module

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from integration_hub import roles
from integration_hub.demo import demo_records_load
from integration_hub.selectors import default_subscriber
from integration_hub.services.roles import role_grant


class Command(BaseCommand):
    help = (
        "Load demo data (idempotent): a superuser 'admin', an Owner 'owner' of the default "
        "subscriber, demo customers and orders, and the sandbox receiver integration. Prints "
        "the URLs and sign-ins."
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
        customers, orders = demo_records_load(subscriber=default_subscriber())
        if customers:
            self.stdout.write(f"Loaded {customers} demo customers and {orders} demo orders.")
        sandbox_note = "off"
        if settings.SANDBOX_ENABLED:
            from integration_hub.sandbox.services import sandbox_demo_setup

            integration = sandbox_demo_setup(base_url=base_url)
            sandbox_note = f"{base_url}/sandbox/receiver/demo/ (integration {integration.name!r})"
            if apps.is_installed("datasync"):
                # The pipeline's own demo, by name: the core never imports a pipeline.
                demo = import_module("datasync.demo")
                receiver_url = demo.datasync_demo_setup(
                    base_url=base_url,
                    sandbox_map=integration.credential_map,
                    sandbox_key=integration.credential_key,
                )
                sandbox_note += f"\n  Data Sync    {receiver_url}"
            if apps.is_installed("accounting"):
                accounting = import_module("accounting.demo").accounting_demo_setup(
                    base_url=base_url
                )
                sandbox_note += (
                    f"\n  Accounting   {accounting.integration.base_url} (press Sync on the "
                    "dashboard as the Owner)"
                )
            if apps.is_installed("syncing"):
                connection = import_module("syncing.demo").syncing_demo_setup(base_url=base_url)
                sandbox_note += (
                    f"\n  Connections  {connection.integration.base_url} (the Owner's "
                    "connection; its sync runs on the cluster)"
                )
        self.stdout.write(
            "\n".join(
                [
                    "",
                    "Integration Hub is ready:",
                    f"  Web UI       {base_url}/",
                    f"  Admin        {base_url}/admin/",
                    f"  API docs     {base_url}/api/docs/",
                    f"  Sandbox      {sandbox_note}",
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
