import os
import sys

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from integration_hub.crypto import SecretUnreadable
from integration_hub.models import DEFAULT_CREDENTIAL_MAP, Credential
from integration_hub.services.credentials import (
    credential_delete,
    credential_rotate,
    credential_set,
)


def _read_stdin(what: str) -> str:
    if sys.stdin.isatty():
        sys.stderr.write(f"Enter the {what}, then Ctrl-D: ")
        sys.stderr.flush()
    value = sys.stdin.read().rstrip("\r\n")
    if not value:
        raise CommandError(f"No {what} was given on standard input.")
    return value


class Command(BaseCommand):
    help = (
        "The credential store. Secrets are read from standard input (or --secret-env VAR), "
        "never from the command line, and never printed."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        p = sub.add_parser("set", help="save secrets into an entry")
        p.add_argument("--map", default=DEFAULT_CREDENTIAL_MAP, dest="map_name")
        p.add_argument("--key", required=True, dest="key_name")
        p.add_argument("--client-id", help="the client ID; its secret is read from stdin")
        p.add_argument("--secret-env", help="read the client secret from this environment variable")
        p.add_argument("--api-key-stdin", action="store_true", help="read an API key from stdin")
        p.add_argument(
            "--refresh-token-stdin", action="store_true", help="read a refresh token from stdin"
        )
        sub.add_parser("list", help="maps, keys and which secrets are set (never values)")
        d = sub.add_parser("delete", help="delete an entry")
        d.add_argument("--map", default=DEFAULT_CREDENTIAL_MAP, dest="map_name")
        d.add_argument("--key", required=True, dest="key_name")
        sub.add_parser("rotate", help="re-encrypt every secret under the first key")

    def handle(self, *args, action, **options):
        try:
            return getattr(self, f"_{action}")(**options)
        except ValidationError as exc:
            raise CommandError(_messages(exc)) from None
        except SecretUnreadable as exc:
            raise CommandError(str(exc)) from None

    def _set(
        self, *, map_name, key_name, client_id, secret_env, api_key_stdin, refresh_token_stdin, **_
    ):
        stdin_uses = [client_id is not None and not secret_env, api_key_stdin, refresh_token_stdin]
        if sum(stdin_uses) > 1:
            raise CommandError(
                "Standard input carries one secret per call: use --secret-env for the client "
                "secret, or save the API key or refresh token in a second call."
            )
        if secret_env and client_id is None:
            raise CommandError("--secret-env goes with --client-id.")
        client_secret = None
        if client_id is not None:
            if secret_env:
                client_secret = os.environ.get(secret_env, "")
                if not client_secret:
                    raise CommandError(f"The environment variable {secret_env} is empty or unset.")
            else:
                client_secret = _read_stdin("client secret")
        credential = credential_set(
            map_name=map_name,
            key_name=key_name,
            client_id=client_id,
            client_secret=client_secret,
            api_key=_read_stdin("API key") if api_key_stdin else None,
            refresh_token=_read_stdin("refresh token") if refresh_token_stdin else None,
        )
        self.stdout.write(f"Saved {credential}: {_flags(credential)}")

    def _list(self, **_):
        rows = Credential.objects.order_by("map_name", "key_name")
        if not rows:
            self.stdout.write("No credentials are stored.")
        for credential in rows:
            self.stdout.write(f"{credential}: {_flags(credential)}")

    def _delete(self, *, map_name, key_name, **_):
        credential_delete(map_name=map_name, key_name=key_name)
        self.stdout.write(f"Deleted {map_name}/{key_name}.")

    def _rotate(self, **_):
        count = credential_rotate()
        self.stdout.write(f"Re-encrypted {count} secret values under the first key.")


def _flags(credential: Credential) -> str:
    return (
        f"client_id={credential.client_id or '-'} "
        f"client_secret={'set' if credential.has_client_secret else 'not set'} "
        f"api_key={'set' if credential.has_api_key else 'not set'} "
        f"refresh_token={'set' if credential.has_refresh_token else 'not set'}"
    )


def _messages(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items())
    return " ".join(exc.messages)
