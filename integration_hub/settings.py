"""Settings, read from the environment (and `.env`) through django-environ.

The variables are the ones of DESIGN.md's "Running" table; nothing else needs setting.
"""

from datetime import timedelta
from pathlib import Path

import environ
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# ENV_FILE lets a test or an operator point at another file (or /dev/null for none).
environ.Env.read_env(env.str("ENV_FILE", default=str(BASE_DIR / ".env")))

DEBUG = env.bool("DEBUG", default=False)


def _required_unless_debug(name: str) -> str:
    value = env.str(name, default="")
    if not value and not DEBUG:
        raise ImproperlyConfigured(
            f"{name} is not set. It is required when DEBUG is off: set it in the environment "
            f"or in .env (see README, 'Configuration')."
        )
    return value


SECRET_KEY = _required_unless_debug("SECRET_KEY") or "insecure-development-only-key"
# Comma-separated Fernet keys: the first encrypts, all decrypt (see integration_hub.crypto).
FIELD_ENCRYPTION_KEYS = [
    key.strip() for key in _required_unless_debug("FIELD_ENCRYPTION_KEYS").split(",") if key.strip()
]
for _number, _key in enumerate(FIELD_ENCRYPTION_KEYS, start=1):
    try:
        Fernet(_key)
    except ValueError:
        raise ImproperlyConfigured(
            f"FIELD_ENCRYPTION_KEYS: key {_number} is not a Fernet key (32 url-safe base64 "
            "bytes; generate one with Fernet.generate_key())."
        ) from None

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1"])
OUTBOUND_ALLOW_PRIVATE_NETWORKS = env.bool("OUTBOUND_ALLOW_PRIVATE_NETWORKS", default=DEBUG)
OUTBOUND_REQUIRE_HTTPS = env.bool("OUTBOUND_REQUIRE_HTTPS", default=not DEBUG)
OUTBOUND_TIMEOUT_SECONDS = 15
# A Data Sync lane's lease lives this long after its holder's last heartbeat (DESIGN.md: 15 s,
# so a killed run's lanes are taken over within 20 s). Tests shorten it.
DATASYNC_LEASE_SECONDS = env.float("DATASYNC_LEASE_SECONDS", default=15.0)
SANDBOX_ENABLED = env.bool("SANDBOX_ENABLED", default=DEBUG)
# GET /metrics needs `Authorization: Bearer <METRICS_TOKEN>` unless DEBUG; unset: 404.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
# How often each process writes what it counted to the database (integration_hub/metrics):
# DESIGN.md "Operations" asks for at least every 10 s.
METRICS_FLUSH_SECONDS = 10.0
# The public base URL: OpenID redirect URIs are built on it (registered with each provider).
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_q",
    "oauth2_provider",
    "integration_hub",
    "integration_hub.sandbox",
    "syncing",
    "accounting",
    "datasync",
    # After integration_hub, whose own axes_reset_username (it audits the lift) takes precedence.
    "axes",
]

MIDDLEWARE = [
    # First: every response gets its X-Request-ID, also those that middleware below answers
    # by itself, and every line logged during the request carries the id.
    "integration_hub.logs.RequestIdMiddleware",
    # Next: answers /healthz and /readyz before anything checks the Host header (probes come
    # by IP), redirects to HTTPS or to sign-in, or throttles (integration_hub/health.py).
    "integration_hub.health.HealthProbeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "integration_hub.middleware.RequestBodyLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last: turns a sign-in refused for a lockout into the 429 page (AXES_LOCKOUT_CALLABLE).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "integration_hub.urls"
WSGI_APPLICATION = "integration_hub.wsgi.application"
AUTH_USER_MODEL = "integration_hub.User"
# axes first: it refuses a locked-out sign-in before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "integration_hub.dashboard.navigation",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server and a cluster write at once: WAL lets readers run beside the writer,
    # IMMEDIATE takes the write lock at BEGIN (no upgrade deadlocks), and the busy timeout
    # waits for the lock instead of failing with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
    }
else:
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A database host that does not answer fails a connection (a request, a /readyz probe)
    # within seconds, not after the system's TCP timeout of minutes. DATABASE_URL's own
    # ?connect_timeout= wins.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 5)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"

# 2.5 MB: a larger body gets 413 (integration_hub.middleware).
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

REST_FRAMEWORK = {
    # Token first, so that an anonymous caller gets 401 with WWW-Authenticate, not 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "integration_hub.api.authentication.TokenOrBearerAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Default deny: every view states the permission it needs.
    "DEFAULT_PERMISSION_CLASSES": ["integration_hub.api.permissions.DenyAll"],
    "DEFAULT_RENDERER_CLASSES": ["djangorestframework_camel_case.render.CamelCaseJSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["integration_hub.api.parsers.CamelCaseJSONBoundedParser"],
    "DEFAULT_PAGINATION_CLASS": "integration_hub.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "integration_hub.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "integration_hub.api.exceptions.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("API_ANON_RATE", default="120/minute"),
        "user": env.str("API_USER_RATE", default="1200/minute"),
    },
    "JSON_UNDERSCOREIZE": {"no_underscore_before_number": True},
}

# API tokens: knox's hashing and digests, in integration_hub's own token model (named, last
# use kept). DESIGN.md "REST API": a token never expires unless created with an expiry.
KNOX_TOKEN_MODEL = "integration_hub.ApiToken"  # noqa: S105 (a model name, not a secret)
REST_KNOX = {"TOKEN_MODEL": KNOX_TOKEN_MODEL, "TOKEN_TTL": None, "AUTO_REFRESH": False}
# knox's migrations would create its own token table even though ApiToken replaces it: an empty
# table whose key to the user table makes PostgreSQL refuse to truncate users (test flushes).
MIGRATION_MODULES = {"knox": None}

SPECTACULAR_SETTINGS = {
    "TITLE": "Integration Hub API",
    "DESCRIPTION": "Core records, integrations and sync pipelines. JSON field names are camelCase.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.contrib.djangorestframework_camel_case.camelize_serializer_fields",
        "drf_spectacular.hooks.postprocess_schema_enums",
        "integration_hub.api.schema.request_strings_declared",
    ],
    "SCHEMA_PATH_PREFIX": r"/api/v[0-9]+|/v2\.1",
    # Several models have a "kind" or "status": name each enum after its model.
    "ENUM_NAME_OVERRIDES": {
        "IntegrationKindEnum": "integration_hub.models.integrations.Integration.Kind",
        "AccountingMapKindEnum": "accounting.models.AccountingMap.Kind",
        "SyncRecordStatusEnum": "accounting.models.SyncRecord.Status",
        "DataSyncRunStatusEnum": "datasync.models.SyncRun.Status",
    },
}

REDIS_URL = env.str("REDIS_URL", default="")
Q_CLUSTER = {
    "name": env.str("Q_CLUSTER_NAME", default="integration_hub"),
    "workers": env.int("Q_WORKERS", default=2),
    # A task is killed after `timeout`; a task not acknowledged within `retry` is handed to
    # another worker, so retry stays above timeout and long jobs work in slices well inside it.
    "timeout": 240,
    "retry": 300,
    "max_attempts": 3,
    "ack_failures": True,
    # Periodic jobs never replay the runs they missed while no cluster was up.
    "catch_up": False,
    "save_limit": 1000,
    "label": "Task queue",
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"
    Q_CLUSTER["poll"] = 0.5

# The sandbox's OpenID provider signs its ID tokens (RS256) with this key. `make run` writes one
# into .env on one line with \n escapes (integration_hub.envfile). Unset, OpenID Connect stays
# off: /sandbox/oidc/ answers 404 and the demo offers no "Verify with Sandbox ID". Every process
# (web server, cluster) must read the same key, so none is ever generated at start-up.
OIDC_RSA_PRIVATE_KEY = env.str("OIDC_RSA_PRIVATE_KEY", default="", multiline=True)

OAUTH2_PROVIDER = {
    "ACCESS_TOKEN_EXPIRE_SECONDS": 3600,
    "SCOPES": {
        "receive": "Deliver messages to the sandbox receiver",
        "openid": "Sign you in with your Integration Hub account",
        "email": "Your email address",
    },
    # The receiver's client credentials grant asks for no scope and gets this one.
    "DEFAULT_SCOPES": ["receive"],
    "PKCE_REQUIRED": True,
    # PKCE with S256 only: a "plain" challenge is refused. No implicit or password grant
    # either: the sandbox's clients use the code and client credentials grants.
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "OIDC_ENABLED": SANDBOX_ENABLED and bool(OIDC_RSA_PRIVATE_KEY),
    "OIDC_RSA_PRIVATE_KEY": OIDC_RSA_PRIVATE_KEY,
    # The issuer is the site the request came to plus /sandbox/oidc, so the discovery document
    # and the ID tokens agree on whichever address the hub is reached by.
    "OAUTH2_VALIDATOR_CLASS": "integration_hub.sandbox.oidc.SandboxOidcValidator",
}

# LOG_FORMAT: "text" (readable lines) or "json" (one JSON object per line); see
# integration_hub/logs.py and README, "Logs".
LOG_FORMAT = env.str("LOG_FORMAT", default="text")
if LOG_FORMAT not in ("text", "json"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be 'text' or 'json', not {LOG_FORMAT!r}.")
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO").upper()
if LOG_LEVEL not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
    raise ImproperlyConfigured(
        f"LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL, not {LOG_LEVEL!r}."
    )

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "text": {"()": "integration_hub.logs.TextFormatter"},
        "json": {"()": "integration_hub.logs.JsonFormatter"},
    },
    "filters": {"query_strings": {"()": "integration_hub.logs.QueryStringFilter"}},
    # The handler's level too: the loggers below are held at a level of their own, which
    # must not let their lines under LOG_LEVEL through.
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "level": LOG_LEVEL}
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Django's default handlers are dropped (a second, plain copy of each line in DEBUG,
        # and runserver's own access-line handler): everything goes through "console". Its
        # DEBUG lines (templates, autoreload) are noise.
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        # runserver's access lines: the request line holds the query string (OAuth codes,
        # personal numbers in the sandbox's account search).
        "django.server": {
            "handlers": [],
            "level": "INFO",
            "propagate": True,
            "filters": ["query_strings"],
        },
        # Never SQL with its parameters, whatever LOG_LEVEL says: they hold personal numbers.
        "django.db.backends": {"level": "INFO"},
        # The OAuth libraries write tokens, codes and request bodies at DEBUG (oauthlib the
        # tokens the sandbox's provider issues, authlib PKCE verifiers): never below INFO.
        "oauthlib": {"level": "INFO"},
        "requests_oauthlib": {"level": "INFO"},
        "authlib": {"level": "INFO"},
        # axes logs each failed sign-in as a warning; its INFO lines are bookkeeping.
        "axes": {"level": "WARNING"},
    },
}

# Sign-in throttling (DESIGN.md "REST API"; integration_hub/signin.py): after 10 failures
# within 15 minutes, that username from that client address is refused with 429 for 15 minutes.
# axes' defaults (lock by address alone, forever) would not do.
AXES_FAILURE_LIMIT = 10
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# Counts only the failures of the last AXES_COOLOFF_TIME, kept one by one in AccessFailureLog
# (pruned after 90 days; the per-username cap only bounds a flood).
AXES_HANDLER = "integration_hub.signin.SigninAttemptHandler"
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_ACCESS_FAILURE_LOG_PER_USER_LIMIT = 100_000
# Attempts refused during a lockout neither count nor extend it: the page's time holds.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# The right password after a few typos starts the count again, for that username from that
# address only (an attacker who knows the password needs no more guesses).
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "integration_hub.signin.signin_lockout_response"
AXES_HTTP_RESPONSE_CODE = 429
# Registered by integration_hub.admin.signin, for System Admin only.
AXES_ENABLE_ADMIN = False
# The client address is REMOTE_ADDR, never a header that a client can forge. Behind a reverse
# proxy REMOTE_ADDR is the proxy's, so all users share one address (a lockout then holds the
# username from everywhere): install django-ipware and set AXES_IPWARE_PROXY_COUNT = 1 and
# AXES_IPWARE_META_PRECEDENCE_ORDER = ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"), and only where
# the proxy overwrites that header (README, "Sign-in lockout").
AXES_IPWARE_META_PRECEDENCE_ORDER = ("REMOTE_ADDR",)

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
if not DEBUG:
    SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
