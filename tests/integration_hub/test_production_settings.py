"""With DEBUG off the settings refuse to start without their secrets, and default to the safe
side (DESIGN.md, "Running"). Each case starts a fresh Python process with no .env."""

import json
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
FERNET_KEY = "RM0Aj0BRa0yMqrD-hmU9Ux-YgJKz5yivFAb6qEgBUoI="
PRINT_DEFAULTS = """
import json
import django
django.setup()
from django.conf import settings
print(json.dumps({
    "OUTBOUND_REQUIRE_HTTPS": settings.OUTBOUND_REQUIRE_HTTPS,
    "OUTBOUND_ALLOW_PRIVATE_NETWORKS": settings.OUTBOUND_ALLOW_PRIVATE_NETWORKS,
    "SANDBOX_ENABLED": settings.SANDBOX_ENABLED,
}))
"""


def _start(**variables: str) -> subprocess.CompletedProcess:
    # A clean environment: this test process has the test settings' variables set.
    env = {
        "PATH": "/usr/bin:/bin",
        "ENV_FILE": "/dev/null",
        "DJANGO_SETTINGS_MODULE": "integration_hub.settings",
        "DEBUG": "false",
        **variables,
    }
    return subprocess.run(  # noqa: S603 (this interpreter, a fixed script)
        [sys.executable, "-c", PRINT_DEFAULTS],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_without_a_secret_key_the_process_refuses_to_start_and_names_it():
    result = _start(FIELD_ENCRYPTION_KEYS=FERNET_KEY)
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_without_encryption_keys_the_process_refuses_to_start_and_names_them():
    result = _start(SECRET_KEY="a-production-secret-key")
    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEYS is not set" in result.stderr
    assert "SECRET_KEY is not set" not in result.stderr


def test_with_both_set_it_starts_with_https_only_no_private_networks_and_no_sandbox():
    result = _start(SECRET_KEY="a-production-secret-key", FIELD_ENCRYPTION_KEYS=FERNET_KEY)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "OUTBOUND_REQUIRE_HTTPS": True,
        "OUTBOUND_ALLOW_PRIVATE_NETWORKS": False,
        "SANDBOX_ENABLED": False,
    }


def test_a_malformed_encryption_key_is_refused_at_start_naming_which_one():
    result = _start(
        SECRET_KEY="a-production-secret-key", FIELD_ENCRYPTION_KEYS=f"{FERNET_KEY},not-a-key"
    )
    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEYS: key 2 is not a Fernet key" in result.stderr
