"""Settings for `make test`: fixed test keys, sandbox on, loopback and http:// allowed.

DATABASE_URL and REDIS_URL still come from the environment, so that `.ci/run` runs the same
suite on PostgreSQL and Redis.
"""

import os

from integration_hub.envfile import rsa_private_key_pem

os.environ.setdefault("ENV_FILE", os.devnull)
os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production")
os.environ.setdefault(
    "FIELD_ENCRYPTION_KEYS",
    # Two fixed keys: the first encrypts, both decrypt (credentials rotate is tested with them).
    "RM0Aj0BRa0yMqrD-hmU9Ux-YgJKz5yivFAb6qEgBUoI=,dVG6dNhnOqSnUuD1X0qxq2jqbcmOTypQcCrvQ9ZR3U0=",
)
os.environ.setdefault("OUTBOUND_ALLOW_PRIVATE_NETWORKS", "true")
os.environ.setdefault("OUTBOUND_REQUIRE_HTTPS", "false")
os.environ.setdefault("SANDBOX_ENABLED", "true")
# The sandbox OpenID provider's signing key: generated once per test run, here, and put in the
# environment, so that the processes a test starts (a cluster) inherit this same key.
if not os.environ.get("OIDC_RSA_PRIVATE_KEY"):
    os.environ["OIDC_RSA_PRIVATE_KEY"] = rsa_private_key_pem()

from integration_hub.settings import *  # noqa: F403
from integration_hub.settings import BASE_DIR, DATABASES

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast, tests only
SESSION_COOKIE_SECURE = False
# Sign-in throttling needs a request in authenticate(), which client.login() has not: it is
# off here and on in its own tests (tests/integration_hub/test_signin_lockout.py).
AXES_ENABLED = False
CSRF_COOKIE_SECURE = False
# No background metrics flush (a thread writing beside each test's transaction, and at exit
# into whatever database the settings then name): tests flush explicitly, and clusters they
# start still flush after each task. tests/integration_hub/test_metrics.py runs the thread.
METRICS_FLUSH_SECONDS = None
# The API throttle keeps the production rates (API_ANON_RATE, API_USER_RATE): the schema test
# raises them for its own run only (tests/integration_hub/test_api_schema.py).

# TEST_DB_SUFFIX keeps two suites run at once on one machine from sharing a test database.
_suffix = os.environ.get("TEST_DB_SUFFIX") or os.environ.get("PYTEST_XDIST_WORKER") or ""
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not memory: tests that start a cluster or a live server share it with another
    # process.
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / f".test-db-{_suffix or 'main'}.sqlite3")}
elif _suffix:
    DATABASES["default"]["TEST"] = {"NAME": f"test_{DATABASES['default']['NAME']}_{_suffix}"}
