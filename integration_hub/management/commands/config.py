import sys

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError

from integration_hub.services.system_settings import setting_reset, setting_set
from integration_hub.system_settings import (
    setting_definition,
    setting_definitions,
    setting_get,
    setting_is_set,
)

from .credentials import _messages


class Command(BaseCommand):
    help = (
        "System settings, with the same validation as the admin: config list | config get KEY | "
        "config set KEY VALUE (VALUE '-' reads it from stdin, for secrets) | config reset KEY."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("list", help="every declared setting with its value")
        g = sub.add_parser("get", help="one setting's value")
        g.add_argument("key")
        s = sub.add_parser("set", help="set a value")
        s.add_argument("key")
        s.add_argument("value")
        r = sub.add_parser("reset", help="back to the default")
        r.add_argument("key")

    def handle(self, *args, action, **options):
        try:
            return getattr(self, f"_{action}")(**options)
        except ValidationError as exc:
            raise CommandError(_messages(exc)) from None
        except PermissionDenied as exc:
            raise CommandError(str(exc)) from None

    def _show(self, definition) -> str:
        if definition.is_secret:
            return "(secret set)" if setting_is_set(definition.key) else "(secret not set)"
        return definition.to_text(setting_get(definition.key)) or "(empty)"

    def _list(self, **_):
        category = None
        for definition in setting_definitions():
            if definition.category != category:
                category = definition.category
                self.stdout.write(f"[{category}]")
            default = "" if setting_is_set(definition.key) else "  (default)"
            self.stdout.write(f"{definition.key} = {self._show(definition)}{default}")

    def _get(self, *, key, **_):
        self.stdout.write(self._show(setting_definition(key)))

    def _set(self, *, key, value, **_):
        definition = setting_definition(key)
        if value == "-":
            value = sys.stdin.read().rstrip("\r\n")
        elif definition.is_secret:
            self.stderr.write(
                f"Warning: {key} is a secret; pass '-' and give it on stdin to keep it out of "
                "your shell history."
            )
        setting_set(key=key, value=value)
        self.stdout.write(f"{key} = {self._show(definition)}")

    def _reset(self, *, key, **_):
        definition = setting_definition(key)
        setting_reset(key=key)
        self.stdout.write(f"{key} = {self._show(definition)}  (default)")
