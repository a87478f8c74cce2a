import sys

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from integration_hub.models import Integration
from syncing.models import IdentityProvider, IdentityVerification
from syncing.services.identities import identity_verify
from syncing.services.identity_providers import identity_provider_create


def _integration(integration_id: int) -> Integration:
    integration = Integration.objects.filter(pk=integration_id).first()
    if integration is None:
        raise CommandError(f"--integration: no integration {integration_id}.")
    if integration.kind != Integration.Kind.ORGANISATION_KIT:
        raise CommandError(
            f"--integration: integration {integration_id} is not an Organisation Kit."
        )
    return integration


class Command(BaseCommand):
    help = (
        "Verified identities and identity providers (System Admin, from the shell): "
        "identity verify USER --personal-number N | --email E [--integration ID]; "
        "identity providers add --name N --discovery-url URL --client-id ID "
        "[--integration ID ...] (client secret on standard input); identity providers list"
    )

    def add_arguments(self, parser):
        subcommands = parser.add_subparsers(dest="subcommand", required=True)
        verify = subcommands.add_parser("verify", help="Record a verified identity of USER.")
        verify.add_argument("username")
        which = verify.add_mutually_exclusive_group(required=True)
        which.add_argument("--personal-number", dest="personal_number")
        which.add_argument("--email")
        verify.add_argument(
            "--integration",
            type=int,
            help="The Organisation Kit integration it counts for (default: every integration).",
        )
        providers = subcommands.add_parser("providers", help="OpenID Connect identity providers.")
        actions = providers.add_subparsers(dest="action", required=True)
        add = actions.add_parser(
            "add", help="Trust a provider (client secret on standard input); prints its id."
        )
        add.add_argument("--name", required=True)
        add.add_argument("--discovery-url", dest="discovery_url", required=True)
        add.add_argument("--client-id", dest="client_id", required=True)
        add.add_argument(
            "--integration",
            dest="integrations",
            type=int,
            action="append",
            help="An integration its emails count for; repeat it. None: every integration.",
        )
        actions.add_parser("list", help="The providers and what they are trusted for.")

    def handle(self, *args, subcommand, **options):
        if subcommand == "verify":
            self._verify(**options)
        elif options["action"] == "add":
            self._provider_add(**options)
        else:
            self._providers_list()

    def _verify(self, *, username, personal_number=None, email=None, integration=None, **_):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user {username!r}.")
        if personal_number is not None and not personal_number.replace("-", "").isdigit():
            raise CommandError("--personal-number is digits (YYYYMMDDNNNN).")
        if email is not None and "@" not in email:
            raise CommandError("--email is an email address.")
        target = _integration(integration) if integration is not None else None
        identity = identity_verify(
            user=user,
            personal_number=personal_number,
            email=email,
            method=IdentityVerification.Method.ADMIN,
            integration=target,
        )
        where = f"for {target.name}" if target else "for every integration"
        self.stdout.write(
            f"{username}: {identity.get_kind_display()} verified ({identity.value}), {where}."
        )

    def _provider_add(self, *, name, discovery_url, client_id, integrations=None, **_):
        client_secret = sys.stdin.readline().strip() if not sys.stdin.isatty() else ""
        if not client_secret:
            raise CommandError("Give the client secret on standard input.")
        targets = [_integration(i) for i in integrations or []]
        try:
            provider = identity_provider_create(
                name=name,
                discovery_url=discovery_url,
                client_id=client_id,
                client_secret=client_secret,
                integrations=targets,
            )
        except ValidationError as exc:
            raise CommandError(
                "; ".join(
                    f"--{field.replace('_', '-')}: {' '.join(messages)}"
                    for field, messages in exc.message_dict.items()
                )
            ) from None
        trusted = ", ".join(i.name for i in targets) or "every integration"
        self.stdout.write(f"Identity provider {provider.name} trusted for {trusted}.")
        self.stdout.write(str(provider.pk))

    def _providers_list(self):
        providers = IdentityProvider.objects.select_related("credential").prefetch_related(
            "integrations"
        )
        if not providers:
            self.stdout.write("No identity provider.")
        for provider in providers:
            trusted = (
                "every integration"
                if provider.is_trusted_for_all
                else ", ".join(f"{i.name} ({i.pk})" for i in provider.integrations.all())
                or "no integration"
            )
            self.stdout.write(
                f"{provider.pk}\t{provider.name}\t{provider.discovery_url}\t"
                f"client {provider.credential.client_id}\ttrusted for {trusted}"
            )
