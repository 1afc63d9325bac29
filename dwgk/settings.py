"""dwgk settings: one file, read from the environment (see README "Configuration").

Defaults are for a local, offline machine: SQLite, console e-mail, DEBUG on.
Production sets DEBUG=0, SECRET_KEY, ALLOWED_HOSTS and usually DATABASE_URL.
"""

from __future__ import annotations

from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from dwgk.lib.env import envbool, envint, envlist, envstr

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = envbool("DEBUG", True)
_DEV_SECRET = "dev-only-insecure-key-do-not-use-in-production-0123456789abcdef"
SECRET_KEY = envstr("SECRET_KEY", _DEV_SECRET)
if not DEBUG and SECRET_KEY == _DEV_SECRET:
    raise ImproperlyConfigured("DEBUG is off: set SECRET_KEY to a long random value.")

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
SITE_NAME = envstr("SITE_NAME", "党务公开平台")

INSTALLED_APPS = [
    "dwgk.admin_site.DwgkAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "axes",
    "dwgk.audit",
    "dwgk.orgs",
    "dwgk.accounts",
    "dwgk.audience",
    "dwgk.catalog",
    "dwgk.inbox",
    "dwgk.disclosures",
    "dwgk.search",
    "dwgk.feedback",
    "dwgk.public",
    "dwgk.members",
    "dwgk.synthetic",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "dwgk.lib.middleware.SecurityHeadersMiddleware",
    # ETag on every GET answer and 304 for a matching If-None-Match / If-Modified-Since.
    "django.middleware.http.ConditionalGetMiddleware",
    # Cached anonymous public pages are answered here, before the rest runs; a successful
    # POST makes them stale here, after the rest has run.
    "dwgk.public.pagecache.PageCacheMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "dwgk.lib.middleware.SessionRefreshMiddleware",
    "dwgk.audience.keys.ViewerKeysPerRequest",
    "dwgk.lib.http.PrivateByDefaultMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "dwgk.urls"
WSGI_APPLICATION = "dwgk.wsgi.application"

# Rendered anonymous public pages, kept in each server process (dwgk.public.pagecache): about
# 40 KB a page, so 1,000 pages are ~40 MB of a worker's memory.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "pages": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "dwgk-pages",
        "OPTIONS": {"MAX_ENTRIES": envint("PAGE_CACHE_ENTRIES", 1000)},
    },
}
# How long a server process trusts the page stamp it read (milliseconds): a change committed
# by another process reaches this process's cached pages within this time (the committing
# process's own at once). 0 reads it on every cached answer.
PAGE_STAMP_MS = envint("PAGE_STAMP_MS", 1000)

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "dwgk" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "dwgk.lib.context_processors.site",
                "dwgk.inbox.context_processors.inbox",
            ],
        },
    },
]

# Database: SQLite by default (works offline, nothing to install); PostgreSQL via
# DATABASE_URL=postgres://user@host:5432/name.
DATABASES = {
    "default": dj_database_url.parse(
        envstr("DATABASE_URL", f"sqlite:///{BASE_DIR / 'dwgk.sqlite3'}"),
        conn_max_age=envint("CONN_MAX_AGE", 60),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets the worker and the web server write without "database is locked".
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # must be first: refuses locked-out logins
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {
        # Django's default attributes miss our Chinese name and the phone number, the
        # first things a person tries as a password.
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {"user_attributes": ["username", "name", "email", "phone"]},
    },
    {
        "NAME": "dwgk.accounts.validators.ChineseMinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "members:home"
LOGOUT_REDIRECT_URL = "public:home"

# Login throttling (django-axes): lock a username+address pair after repeated failures.
AXES_FAILURE_LIMIT = envint("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = envint("LOGIN_LOCKOUT_MINUTES", 15) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_HTTP_RESPONSE_CODE = 429  # Too Many Requests, with the Chinese lockout page
# The admin is for our roles only; lockouts are lifted with `manage.py axes_reset_username`.
AXES_ENABLE_ADMIN = False

# Sessions end after a period of inactivity: every request pushes the expiry forward.
SESSION_COOKIE_AGE = envint("SESSION_IDLE_MINUTES", 30) * 60
# Sliding expiry without a write per request: dwgk.lib.middleware.SessionRefreshMiddleware
# saves the session again when its last save is this old.
SESSION_SAVE_EVERY_REQUEST = False
SESSION_REFRESH_SECONDS = 60
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True

# Transport security: on by default whenever DEBUG is off; an intranet without TLS can
# switch each off explicitly (and `check --deploy` will then say so).
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = envbool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
# Preloading is a one-way promise for a public domain name; most deployments of this
# platform sit on government intranets where it cannot apply. Opt in explicitly.
SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", False)
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if envbool("BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Strict CSP: everything from this server, no inline script, no external origin at all.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "dwgk" / "locale"]
TIME_ZONE = envstr("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "static-collected"

# Uploaded attachments. Never served by the web server directly: every download goes
# through a view that checks visibility (see disclosures.views).
MEDIA_ROOT = Path(envstr("MEDIA_ROOT", str(BASE_DIR / "media")))
MEDIA_URL = "/media-not-served/"

# The deployment's own sensitive terms for the disclosure pre-screen, comma-separated,
# on top of the built-in secrecy markings (disclosures/data/sensitive_terms.toml).
SENSITIVE_TERMS = tuple(t for t in envlist("SENSITIVE_TERMS", "") if t)
# Notification e-mails are sent in digests: at most one mail per person per this many seconds.
NOTIFY_DIGEST_SECONDS = envint("NOTIFY_DIGEST_SECONDS", 600)
# Feedback (PROC-5): days an opinion may wait for its answer, and how fast a person can fill
# in the opinion form at the quickest (anything faster is taken for a bot).
FEEDBACK_REPLY_DAYS = envint("FEEDBACK_REPLY_DAYS", 15)
FEEDBACK_MIN_FILL_SECONDS = envint("FEEDBACK_MIN_FILL_SECONDS", 3)

EMAIL_BACKEND = envstr("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = envstr("DEFAULT_FROM_EMAIL", "dwgk@localhost")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": envstr("LOG_LEVEL", "WARNING")},
}

# Limits for roster uploads.
ROSTER_MAX_BYTES = envint("ROSTER_MAX_BYTES", 10 * 1024 * 1024)
ROSTER_MAX_ROWS = envint("ROSTER_MAX_ROWS", 50_000)
# Attachments of disclosures (checked by content, see dwgk/lib/files.py).
ATTACHMENT_MAX_BYTES = envint("ATTACHMENT_MAX_BYTES", 20 * 1024 * 1024)

# The implementing rules this deployment follows (catalog templates, CAT-2): a file name in
# dwgk/catalog/rulesets/ (bj, nm, cmu, sx, qj) or in one of CATALOG_RULESET_DIRS.
CATALOG_RULESET = envstr("CATALOG_RULESET", "bj")
CATALOG_RULESET_DIRS = envlist("CATALOG_RULESET_DIRS", "")
