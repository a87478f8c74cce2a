from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from syncing.services.identities import identity_verify


class Command(BaseCommand):
    help = (
        "Verified identities (System Admin, from the shell): "
        "identity verify USER --personal-number N | --email E"
    )

    def add_arguments(self, parser):
        subcommands = parser.add_subparsers(dest="subcommand", required=True)
        verify = subcommands.add_parser("verify", help="Record a verified identity of USER.")
        verify.add_argument("username")
        which = verify.add_mutually_exclusive_group(required=True)
        which.add_argument("--personal-number", dest="personal_number")
        which.add_argument("--email")

    def handle(self, *args, subcommand, username, personal_number=None, email=None, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user {username!r}.")
        if personal_number is not None and not personal_number.replace("-", "").isdigit():
            raise CommandError("--personal-number is digits (YYYYMMDDNNNN).")
        if email is not None and "@" not in email:
            raise CommandError("--email is an email address.")
        identity = identity_verify(user=user, personal_number=personal_number, email=email)
        self.stdout.write(f"{username}: {identity.get_kind_display()} verified ({identity.value}).")
