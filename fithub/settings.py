"""FitHub settings: one module, configured from the environment.

Every value a deployment changes comes from an environment variable (see `.env.example`).
Defaults are safe for production: DEBUG is off unless asked for, and there is no default
SECRET_KEY outside DEBUG.
"""

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from corsheaders.defaults import default_headers as cors_default_headers
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


DEBUG = env_bool("DEBUG")

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "insecure-development-key-do-not-use-in-production"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "corsheaders",
    "django_filters",
    "django_prometheus",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "drf_standardized_errors",
    "fithub",
    "apps.users",
    "apps.nutrition",
    "apps.measurements",
    "apps.goals",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "fithub.ops.request_id.RequestIdMiddleware",
    "fithub.ops.shared_cache.RequestScopeMiddleware",
    "fithub.api.middleware.RateLimitHeadersMiddleware",
    "fithub.api.middleware.JsonErrorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "fithub.db.middleware.PrimaryForUnsafeMethodsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "fithub.api.middleware.TrailingSlashMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "fithub.urls"
WSGI_APPLICATION = "fithub.wsgi.application"
AUTH_USER_MODEL = "users.User"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Databases -------------------------------------------------------------------------
# DATABASE_URL is the primary (all writes and migrations). DATABASE_REPLICA_URLS is a
# comma-separated list of streaming replicas; fithub.db.router sends reads there.
# The django-prometheus backends are the stock ones plus query metrics; PostgreSQL's
# (fithub/db/backends/postgresql) also loads times with psycopg's C loader.
_ENGINES = {
    "postgres": "fithub.db.backends.postgresql",
    "postgresql": "fithub.db.backends.postgresql",
    "pgsql": "fithub.db.backends.postgresql",
    "sqlite": "fithub.db.backends.sqlite3",
}
DB_CONNECT_TIMEOUT = env_int("DB_CONNECT_TIMEOUT", 2)
# A food search word matches a name with a typo when pg_trgm's word_similarity reaches this:
# "chiken" matches "chicken" and "brest" matches "breast" at 0.5 (pg_trgm's default is 0.6).
FOOD_SEARCH_TYPO_SIMILARITY = float(os.environ.get("FOOD_SEARCH_TYPO_SIMILARITY", "0.45"))


def _database(url: str) -> dict:
    scheme = urlsplit(url).scheme.split("+")[0]
    if scheme not in _ENGINES:
        raise ImproperlyConfigured(f"Unsupported database URL scheme {scheme!r}.")
    config = dj_database_url.parse(url, engine=_ENGINES[scheme], conn_max_age=env_int("CONN_MAX_AGE", 60))
    if scheme != "sqlite":
        config["CONN_HEALTH_CHECKS"] = env_bool("DB_CONN_HEALTH_CHECKS", False)
        options = config.setdefault("OPTIONS", {})
        options["connect_timeout"] = DB_CONNECT_TIMEOUT
        # Food search's typo fallback (`search_name %> word`, answered by the trigram index)
        # matches at this word similarity: a session setting, given to every connection.
        typo_setting = f"-c pg_trgm.word_similarity_threshold={FOOD_SEARCH_TYPO_SIMILARITY}"
        options["options"] = f"{options['options']} {typo_setting}" if options.get("options") else typo_setting
        # The server's zone is UTC, so Django skips a SET TimeZone on every connection.
        config["TIME_ZONE"] = None
    return config


DATABASES = {"default": _database(os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASE_REPLICAS: list[str] = []
for _index, _url in enumerate(env_list("DATABASE_REPLICA_URLS")):
    _alias = f"replica_{_index}"
    DATABASES[_alias] = _database(_url)
    # Answers from the primary when the replica fails (fithub/db/backends/replica).
    DATABASES[_alias]["ENGINE"] = "fithub.db.backends.replica"
    # In tests the replica alias reads the primary's test database through replication.
    DATABASES[_alias]["TEST"] = {"MIRROR": "default"}
    DATABASE_REPLICAS.append(_alias)
DATABASE_ROUTERS = ["fithub.db.router.PrimaryReplicaRouter"]
# Replica health (fithub/db/replicas.py): lag is measured at most every CHECK seconds per
# process; a replica lagging more than MAX_LAG is skipped; a failed one is retried after a
# back-off from RETRY to RETRY_MAX seconds, reset once it answers again. After a user
# writes, the primary's WAL position is remembered in the shared cache for
# READ_YOUR_WRITES_SECONDS: their reads use a replica only once it has replayed it
# (fithub/db/read_your_writes.py).
REPLICA_MAX_LAG_SECONDS = float(os.environ.get("REPLICA_MAX_LAG_SECONDS", "5"))
REPLICA_CHECK_SECONDS = float(os.environ.get("REPLICA_CHECK_SECONDS", "2"))
REPLICA_RETRY_SECONDS = float(os.environ.get("REPLICA_RETRY_SECONDS", "1"))
REPLICA_RETRY_MAX_SECONDS = float(os.environ.get("REPLICA_RETRY_MAX_SECONDS", "4"))
READ_YOUR_WRITES_SECONDS = float(os.environ.get("READ_YOUR_WRITES_SECONDS", "60"))
# How long an Idempotency-Key is remembered (fithub/api/idempotency.py).
IDEMPOTENCY_KEY_TTL_HOURS = env_int("IDEMPOTENCY_KEY_TTL_HOURS", 24)
# Retry-After, in seconds, when the primary is unavailable and a write answers 503.
DATABASE_UNAVAILABLE_RETRY_AFTER = env_int("DATABASE_UNAVAILABLE_RETRY_AFTER", 5)
# The sync feed's tombstones (deletions) are kept this many days, never fewer than 90
# (`manage.py prune_tombstones`); an older cursor answers 410 (fithub/sync/feed.py).
SYNC_TOMBSTONE_DAYS = max(90, env_int("SYNC_TOMBSTONE_DAYS", 90))

# --- Cache -----------------------------------------------------------------------------
# CACHE_URL: redis://host:port/db in production (shared by all processes, needed for
# throttling); local memory by default. The cache is an accelerator, not a dependency
# (fithub/ops/shared_cache.py): every call gives up after CACHE_TIMEOUT_SECONDS (connect
# and each reply), and after a failure a process skips the cache for CACHE_RETRY_SECONDS
# before it tries again. Meanwhile each throttle allows this process its share of the rate:
# the rate divided by INSTANCE_WORKERS (gunicorn_conf.py sets it to its worker count).
CACHE_TIMEOUT_SECONDS = float(os.environ.get("CACHE_TIMEOUT_SECONDS", "0.1"))
CACHE_RETRY_SECONDS = float(os.environ.get("CACHE_RETRY_SECONDS", "2"))
INSTANCE_WORKERS = max(1, env_int("FITHUB_INSTANCE_WORKERS", 1))
_cache_url = os.environ.get("CACHE_URL", "locmem://")


def redis_caches(url: str) -> dict:
    """CACHES on the Redis at `url` (the tests' throwaway servers use it too)."""
    return {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            # redis-py's connection options; no retries (a Connection's default).
            "OPTIONS": {"socket_connect_timeout": CACHE_TIMEOUT_SECONDS, "socket_timeout": CACHE_TIMEOUT_SECONDS},
        }
    }


if _cache_url.startswith(("redis://", "rediss://")):
    CACHES = redis_caches(_cache_url)
elif _cache_url.startswith("locmem://"):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "fithub"}}
elif _cache_url.startswith("dummy://"):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
else:
    raise ImproperlyConfigured(f"Unsupported CACHE_URL {_cache_url!r}.")

# --- Auth ------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Argon2id (argon2-cffi, Django's defaults: 100 MiB, 2 passes), the hasher Django's docs
# recommend: memory-hard, and less CPU a login than PBKDF2's 1,000,000 rounds, so a login
# holds a sync worker for less time. Hashes made with the others still verify, and are
# rehashed with Argon2 at the next login.
# A comma-separated override, used by the test suite for a fast hasher.
PREFERRED_HASHERS = (
    "django.contrib.auth.hashers.Argon2PasswordHasher,django.contrib.auth.hashers.PBKDF2PasswordHasher,"
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher,django.contrib.auth.hashers.BCryptSHA256PasswordHasher,"
    "django.contrib.auth.hashers.ScryptPasswordHasher"
)
PASSWORD_HASHERS = env_list("PASSWORD_HASHERS", PREFERRED_HASHERS)

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env_int("JWT_ACCESS_MINUTES", 15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env_int("JWT_REFRESH_DAYS", 14)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    "ALGORITHM": "HS256",
    "SIGNING_KEY": os.environ.get("JWT_SIGNING_KEY") or SECRET_KEY,
    "AUTH_HEADER_TYPES": ("Bearer",),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
}
# Sessions (fithub.models.Session): one per refresh-token family, named by the `sid` claim of
# its tokens. A rotated refresh token sent again within the grace window gets the same new
# pair (a client that lost the response retries); later, it ends the session (reuse).
REFRESH_REUSE_GRACE_SECONDS = env_int("REFRESH_REUSE_GRACE_SECONDS", 30)
# `manage.py flush_sessions` deletes the rows of sessions ended or expired longer ago than this:
# until then an account's past sessions (device, address, why each ended) can be looked into.
SESSION_RETENTION_DAYS = env_int("SESSION_RETENTION_DAYS", 30)
# How long the shared cache remembers a session alive; an ended one is remembered as long as
# its access tokens can live. The database answers when the cache does not know.
SESSION_ALIVE_CACHE_SECONDS = env_int("SESSION_ALIVE_CACHE_SECONDS", 60)

# --- REST framework and the OpenAPI schema -------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["fithub.api.authentication.JWTAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # orjson: the same JSON as DRF's renderer (compact, UTF-8), for less CPU a response.
    "DEFAULT_RENDERER_CLASSES": ["drf_orjson_renderer.renderers.ORJSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["fithub.api.parsers.JSONParser"],
    "DEFAULT_FILTER_BACKENDS": ["fithub.api.filters.FilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "fithub.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "fithub.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "drf_standardized_errors.handler.exception_handler",
    # Counters in the shared cache (CACHE_URL): per-process ones would multiply the limits.
    "DEFAULT_THROTTLE_CLASSES": [
        "fithub.api.throttling.AnonRateThrottle",
        "fithub.api.throttling.UserRateThrottle",
        "apps.users.api.throttles.ClientIPThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": os.environ.get("THROTTLE_ANON", "120/min"),
        "user": os.environ.get("THROTTLE_USER", "1200/min"),
        "ip": os.environ.get("THROTTLE_IP", "6000/min"),
        "login_ip": os.environ.get("THROTTLE_LOGIN_IP", "30/min"),
        "login_account": os.environ.get("THROTTLE_LOGIN_ACCOUNT", "10/min"),
        "register": os.environ.get("THROTTLE_REGISTER", "20/hour"),
    },
    "NUM_PROXIES": env_int("NUM_PROXIES", 0),
    "COERCE_DECIMAL_TO_STRING": False,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

DRF_STANDARDIZED_ERRORS = {
    "EXCEPTION_HANDLER_CLASS": "fithub.api.handlers.ExceptionHandler",
    "EXCEPTION_FORMATTER_CLASS": "fithub.api.handlers.ExceptionFormatter",
    "ALLOWED_ERROR_STATUS_CODES": [
        "400",
        "401",
        "403",
        "404",
        "405",
        "406",
        "409",
        "410",
        "413",
        "414",
        "415",
        "422",
        "429",
        "500",
        "503",
    ],
}

_ERROR_ENUMS = [
    "ValidationErrorEnum",
    "ClientErrorEnum",
    "ServerErrorEnum",
    "ErrorCode401Enum",
    "ErrorCode403Enum",
    "ErrorCode404Enum",
    "ErrorCode405Enum",
    "ErrorCode406Enum",
    "ErrorCode415Enum",
    "ErrorCode429Enum",
    "ErrorCode500Enum",
]
# Every operation's tag, described once: Swagger UI and ReDoc group the operations by them, in this order.
_SCHEMA_TAGS = {
    "auth": "Accounts, tokens and sessions: register, log in, refresh, log out.",
    "users": "Your profile, password, data export and account deletion.",
    "foods": "Food search over the public foods and your own, your custom foods, and the foods you rate.",
    "diary": "What you ate: diary entries, quick-adds, copies of a day and daily summaries.",
    "water": "What you drank: water entries, counted in the daily summaries and targets.",
    "meals": "Saved meals and recipes, logged in one go, and the days they are planned on.",
    "measurements": "Weights and body measurements, their types, the latest values and trends.",
    "goals": "Goals for a measurement and their progress; daily nutrition targets and adherence.",
    "sync": "Offline sync: every change of your rows since a cursor, deletions included.",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "FitHub API",
    "DESCRIPTION": (
        "Track what you eat, what you weigh and measure, and the goals you set.\n\n"
        "Authenticate with `POST /api/v1/auth/token/`, then press **Authorize** and paste the `access` "
        "token. Quantities are metric (grams, kg, cm, kcal); times are ISO 8601 with an offset; a diary "
        "day is the local day in the time zone of the user's profile.\n\n"
        "Every error has one shape: `type`, and `errors`, a list of `code`, `detail` and `attr` "
        "(the offending field, or null)."
    ),
    "VERSION": "1.0.0",
    "TAGS": [{"name": name, "description": description} for name, description in _SCHEMA_TAGS.items()],
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {
        "persistAuthorization": True,
        "displayRequestDuration": True,
        "defaultModelsExpandDepth": -1,
    },
    "ENUM_NAME_OVERRIDES": {
        **{name: f"drf_standardized_errors.openapi_serializers.{name}.choices" for name in _ERROR_ENUMS},
        **{
            f"ErrorCode{status}Enum": f"fithub.api.schema.ErrorCode{status}Enum.choices"
            for status in (401, 409, 410, 413, 414, 422, 503)
        },
    },
    "POSTPROCESSING_HOOKS": ["drf_standardized_errors.openapi_hooks.postprocess_schema_enums"],
}


# Where clients reach the API. First the host serving the schema (a relative URL: Swagger
# UI's "Try it out" calls the host it was loaded from, whichever that is), then the public
# URL of the deployment when PUBLIC_URL gives it (https://api.fithub.example).
def api_servers(public_url: str) -> list[dict[str, str]]:
    public_url = public_url.rstrip("/")
    public = [{"url": public_url, "description": "The public API"}] if public_url else []
    return [{"url": "/", "description": "The host serving this schema"}, *public]


PUBLIC_URL = os.environ.get("PUBLIC_URL", "")
SPECTACULAR_SETTINGS["SERVERS"] = api_servers(PUBLIC_URL)
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"].update(
    {
        "MealSlotEnum": "apps.nutrition.models.MealSlot",
        "WeekdayEnum": "apps.nutrition.models.WEEKDAYS",
        "GoalDirectionEnum": "apps.goals.api.serializers.Direction",
        "WaterUnitEnum": "apps.nutrition.models.WATER_UNIT_NAMES",
        "SyncOpEnum": "fithub.models.Change.Op",
    }
)
SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"] += [
    "fithub.api.schema_hooks.create_replays_are_200",
    "fithub.api.schema_hooks.response_headers",
    "fithub.api.schema_hooks.create_links",
    "fithub.api.schema_hooks.anonymous_security",
    "fithub.api.schema_hooks.nullable_refs_as_one_of",
    # Last: the error responses that operations share, as they are once every hook has run.
    "fithub.api.schema_hooks.shared_error_responses",
]

# --- HTTP, CORS, proxies ---------------------------------------------------------------
CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS")
CORS_URLS_REGEX = r"^/api/.*$"
# What a browser may send beyond django-cors-headers' defaults (Authorization and
# Content-Type among them), and which response headers its scripts may read: a header not
# listed here is hidden from a web client even when the response carries it.
CORS_ALLOW_HEADERS = (
    *cors_default_headers,
    "idempotency-key",
    "if-match",
    "if-none-match",
    "x-request-id",
)
CORS_EXPOSE_HEADERS = (
    "ETag",
    "Idempotent-Replayed",
    "RateLimit",
    "RateLimit-Policy",
    "Retry-After",
    "X-Request-ID",
)
# Behind nginx, which sets X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_TLS_PROXY") else None
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
# Request bodies larger than this answer 413 (fithub.api.handlers).
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("MAX_REQUEST_BODY_BYTES", 1024 * 1024)

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# One JSON object per line with the request id (fithub/ops/logs.py); LOG_FORMAT=plain for humans.
LOG_FORMAT = os.environ.get("LOG_FORMAT") or ("plain" if DEBUG else "json")
if LOG_FORMAT not in {"json", "plain"}:
    raise ImproperlyConfigured("LOG_FORMAT must be json or plain.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "fithub.ops.logs.RequestIdFilter"}},
    "formatters": {
        "json": {"()": "fithub.ops.logs.JsonFormatter"},
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["request_id"], "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
