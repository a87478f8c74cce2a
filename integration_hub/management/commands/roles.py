from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from integration_hub.models import Subscriber
from integration_hub.roles import ROLES, user_roles
from integration_hub.services.roles import role_grant, role_revoke


class Command(BaseCommand):
    help = (
        "Grant or revoke a role: roles grant USER ROLE [--subscriber ID] | roles revoke USER ROLE "
        "[--subscriber ID] | roles list. Roles: " + ", ".join(ROLES) + "."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        for action in ("grant", "revoke"):
            p = sub.add_parser(action, help=f"{action} a role")
            p.add_argument("user", help="username")
            p.add_argument("role", help=" | ".join(ROLES))
            p.add_argument(
                "--subscriber",
                type=int,
                help="Owner only: the subscriber id (grant default: the default subscriber; "
                "revoke default: all of the user's subscribers)",
            )
        sub.add_parser("list", help="users holding each role")

    def handle(self, *args, action, **options):
        if action == "list":
            return self._list()
        User = get_user_model()
        try:
            user = User.objects.get(username=options["user"])
        except User.DoesNotExist:
            raise CommandError(f"No user named {options['user']!r}.") from None
        subscriber = None
        if options["subscriber"] is not None:
            try:
                subscriber = Subscriber.objects.get(pk=options["subscriber"])
            except Subscriber.DoesNotExist:
                raise CommandError(f"No subscriber with id {options['subscriber']}.") from None
        service = role_grant if action == "grant" else role_revoke
        try:
            service(user=user, role=options["role"], subscriber=subscriber)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        user.refresh_from_db()
        held = ", ".join(sorted(user_roles(user))) or "none"
        self.stdout.write(
            f"{user.username}: roles {held}; staff {'yes' if user.is_staff else 'no'}"
        )

    def _list(self):
        User = get_user_model()
        for role in ROLES:
            names = User.objects.filter(groups__name=role).order_by("username")
            listed = ", ".join(names.values_list("username", flat=True)) or "-"
            self.stdout.write(f"{role}: {listed}")
