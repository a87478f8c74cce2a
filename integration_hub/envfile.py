"""`python -m integration_hub.envfile [PATH]`: write a development `.env` on first run.

`make run` calls it before anything else. An existing file is left as it is: it may hold the
keys that encrypt secrets already in the database, and a new key would make them unreadable.
"""

import secrets
import sys
from pathlib import Path

from cryptography.fernet import Fernet

DEFAULT_PATH = Path(__file__).resolve().parent.parent / ".env"


def envfile_values() -> dict[str, str]:
    """Development settings with freshly generated secrets."""
    return {
        "DEBUG": "true",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "DEMO_ADMIN_PASSWORD": secrets.token_urlsafe(12),
        "DEMO_OWNER_PASSWORD": secrets.token_urlsafe(12),
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


def main(argv: list[str]) -> int:
    path = Path(argv[0]) if argv else DEFAULT_PATH
    if envfile_write(path=path):
        print(f"Wrote {path} (DEBUG=true, generated secrets and demo passwords).")
    else:
        print(f"Using the existing {path}.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
