from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from knox.settings import CONSTANTS

from integration_hub.selectors import api_token_list, api_tokens_with_prefix
from integration_hub.services.api_tokens import (
    DEFAULT_TOKEN_NAME,
    EXPIRY_DAYS_MAX,
    api_token_create,
    api_token_revoke,
)

PREFIX_SHOWN = CONSTANTS.TOKEN_KEY_LENGTH
COLUMNS = ("user", "name", "prefix", "created", "expires", "last used")


def _when(value, *, none: str) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else none


class Command(BaseCommand):
    help = (
        "API tokens: tokens create USERNAME [--name NAME] [--expires DAYS] (prints the token on "
        "its last line, once) | tokens list [USERNAME] | tokens revoke PREFIX."
    )

    def add_arguments(self, parser: CommandParser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="create a token for a user and print it once")
        create.add_argument("username")
        create.add_argument("--name", default=DEFAULT_TOKEN_NAME, help="what the token is for")
        create.add_argument(
            "--expires",
            metavar="DAYS",
            help=f"days until the token expires (1 to {EXPIRY_DAYS_MAX}); default: never",
        )
        listing = sub.add_parser("list", help="tokens (never their values)")
        listing.add_argument("username", nargs="?", help="only this user's tokens")
        revoke = sub.add_parser("revoke", help="revoke the one token whose prefix this is")
        revoke.add_argument("prefix", help="the prefix `tokens list` shows (or its beginning)")

    def handle(self, *args, action, **options):
        if action == "create":
            return self._create(options["username"], options["name"], options["expires"])
        if action == "list":
            return self._list(options["username"])
        return self._revoke(options["prefix"])

    def _user(self, username: str):
        User = get_user_model()
        try:
            return User.objects.get(username=username)
        except User.DoesNotExist:
            raise CommandError(f"No user named {username!r}.") from None

    def _create(self, username: str, name: str, expires: str | None):
        user = self._user(username)
        days = None
        if expires is not None:
            try:
                days = int(expires)
            except ValueError:
                raise CommandError(
                    f"--expires {expires!r}: give a whole number of days "
                    f"from 1 to {EXPIRY_DAYS_MAX}."
                ) from None
        try:
            created = api_token_create(user=user, name=name, expires_in_days=days)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        token = created.token
        expiry = f"expires {_when(token.expiry, none='')}" if token.expiry else "never expires"
        self.stdout.write(
            f"Created API token {token.name!r} for {username} (prefix {token.token_key}, "
            f"{expiry}). Copy it now: it is not shown again."
        )
        self.stdout.write(created.value)

    def _list(self, username: str | None):
        tokens = api_token_list(user=self._user(username) if username else None)
        rows = [
            (
                token.user.get_username(),
                token.name,
                token.token_key,
                _when(token.created, none="-"),
                _when(token.expiry, none="never"),
                _when(token.last_used, none="never"),
            )
            for token in tokens
        ]
        if not rows:
            self.stdout.write("No API tokens" + (f" for {username}." if username else "."))
            return
        widths = [max(len(row[i]) for row in [COLUMNS, *rows]) for i in range(len(COLUMNS))]
        for row in [COLUMNS, *rows]:
            self.stdout.write(
                "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
            )

    def _revoke(self, prefix: str):
        matches = list(api_tokens_with_prefix(prefix=prefix)[:2]) if prefix else []
        # A whole token pasted in is never echoed: only what `tokens list` shows.
        shown = prefix[:PREFIX_SHOWN] + ("…" if len(prefix) > PREFIX_SHOWN else "")
        if not matches:
            raise CommandError(f"No API token has the prefix {shown!r} (see `tokens list`).")
        if len(matches) > 1:
            raise CommandError(
                f"More than one API token has the prefix {shown!r}: give more of it "
                "(see `tokens list`)."
            )
        token = api_token_revoke(token=matches[0])
        self.stdout.write(
            f"Revoked API token {token.name!r} of {token.user.get_username()} "
            f"(prefix {token.token_key})."
        )
