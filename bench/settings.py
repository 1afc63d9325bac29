"""Settings of the benchmark server: the platform's own settings, unchanged, plus one URL.

    DJANGO_SETTINGS_MODULE=bench.settings DEBUG=0 SECRET_KEY=… ALLOWED_HOSTS=127.0.0.1 \\
        SECURE_SSL_REDIRECT=0 SECURE_COOKIES=0 gunicorn dwgk.wsgi:application

bench/run.py sets that environment. Production settings come from the environment exactly
as in a deployment (DEBUG off, argon2, sessions saved on every request, the whole
middleware stack); only the transport security is switched off, because the load runs over
plain HTTP on loopback (the SSL redirect would answer every request with a 301 and secure
cookies would never come back). CONN_MAX_AGE is the platform's default (60 s, persistent
connections on PostgreSQL; SQLite opens per request by design).
"""

from __future__ import annotations

from dwgk.settings import *  # noqa: F403 — the production settings, as they are

# The platform's URLs and the baseline view, served by the same middleware.
ROOT_URLCONF = "bench.urls"
