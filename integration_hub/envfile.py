"""`python -m integration_hub.envfile [PATH]`: write a development `.env` on first run.

`make run` calls it before anything else. An existing file is left as it is: it may hold the
keys that encrypt secrets already in the database, and a new key would make them unreadable.
The one exception is a setting added since the file was written that encrypts nothing
(`APPENDED_WHEN_MISSING`): it is appended, every other line left untouched.
"""

import re
import secrets
import sys
from pathlib import Path

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

DEFAULT_PATH = Path(__file__).resolve().parent.parent / ".env"
# Settings an older `.env` may lack, generated and appended to it. A new signing key only
# makes the sandbox's earlier ID tokens unverifiable, which nothing keeps.
APPENDED_WHEN_MISSING = ("OIDC_RSA_PRIVATE_KEY",)
# A line that sets a variable, as django-environ reads it.
ASSIGNMENT = re.compile(r"\A(?:export )?([A-Za-z_0-9]+)=")


def rsa_private_key_pem() -> str:
    """A new 2048-bit RSA private key, PEM (PKCS #8)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def envfile_values() -> dict[str, str]:
    """Development settings with freshly generated secrets."""
    return {
        "DEBUG": "true",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "DEMO_ADMIN_PASSWORD": secrets.token_urlsafe(12),
        "DEMO_OWNER_PASSWORD": secrets.token_urlsafe(12),
        # One line, newlines escaped: settings reads it with env.str(..., multiline=True).
        "OIDC_RSA_PRIVATE_KEY": rsa_private_key_pem().replace("\n", "\\n"),
    }


def envfile_write(*, path: Path) -> bool:
    """Create `path` with development settings unless it exists; True if it was written."""
    lines = [
        "# Written by `make run` (integration_hub.envfile) for development. Keep it private:",
        "# FIELD_ENCRYPTION_KEYS decrypts the secrets stored in the database.",
        *(f"{key}={value}" for key, value in envfile_values().items()),
    ]
    try:
        with path.open("x", encoding="utf-8") as file:  # "x": never overwrite
            file.write("\n".join(lines) + "\n")
    except FileExistsError:
        return False
    path.chmod(0o600)
    return True


def envfile_complete(*, path: Path) -> list[str]:
    """Append to the existing `path` each of `APPENDED_WHEN_MISSING` it does not set, newly
    generated; nothing else in it changes. The names appended."""
    text = path.read_text(encoding="utf-8")
    present = {match.group(1) for match in map(ASSIGNMENT.match, text.splitlines()) if match}
    missing = [name for name in APPENDED_WHEN_MISSING if name not in present]
    if missing:
        values = envfile_values()
        separator = "" if not text or text.endswith("\n") else "\n"
        with path.open("a", encoding="utf-8") as file:
            file.write(separator + "".join(f"{name}={values[name]}\n" for name in missing))
    return missing


def main(argv: list[str]) -> int:
    path = Path(argv[0]) if argv else DEFAULT_PATH
    if envfile_write(path=path):
        print(f"Wrote {path} (DEBUG=true, generated secrets and demo passwords).")
    elif appended := envfile_complete(path=path):
        print(f"Using the existing {path}; added {', '.join(appended)}.")
    else:
        print(f"Using the existing {path}.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
