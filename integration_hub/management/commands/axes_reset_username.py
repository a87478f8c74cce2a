"""axes' own `axes_reset_username USERNAME...`, taking precedence over it (integration_hub
comes before axes in INSTALLED_APPS) so that each lockout it lifts goes into the audit trail."""

from axes.models import AccessAttempt
from django.core.management.base import BaseCommand

from integration_hub.services.signin import signin_lockouts_lift


class Command(BaseCommand):
    help = "Reset all access attempts and lockouts for given usernames (audited)."

    def add_arguments(self, parser):
        parser.add_argument("username", nargs="+", type=str)

    def handle(self, *args, **options):
        count = signin_lockouts_lift(
            attempts=AccessAttempt.objects.filter(username__in=options["username"])
        )
        self.stdout.write(f"{count} attempts removed." if count else "No attempts found.")
