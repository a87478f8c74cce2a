from django.core.management.base import BaseCommand

from integration_hub.schedules import schedules_ensure


class Command(BaseCommand):
    help = "Create or update the django-q2 schedules every app declares (idempotent)."

    def handle(self, *args, **options):
        for name, outcome in schedules_ensure():
            self.stdout.write(f"{name}: {outcome}")
