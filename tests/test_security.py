"""The security baseline: password hashing, login throttling, session timeout, CSRF,
response headers, the production check and no external resources."""

from __future__ import annotations

import datetime
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.hashers import check_password, identify_hasher, make_password
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

import dwgk.settings as production
from tests.cast import make_platform_role, make_user

LOGIN = reverse("login")
ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "dwgk"


def sign_in(client: Client, username: str, password: str = "test-pass-123") -> Any:
    return client.post(LOGIN, {"username": username, "password": password})


def is_signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


# --- passwords ------------------------------------------------------------------------------


def test_argon2_is_the_first_password_hasher_of_the_real_settings():
    assert production.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    # Older hashes (PBKDF2) still verify and are upgraded on the next sign-in.
    assert "django.contrib.auth.hashers.PBKDF2PasswordHasher" in production.PASSWORD_HASHERS


@override_settings(PASSWORD_HASHERS=production.PASSWORD_HASHERS)
def test_passwords_are_stored_as_argon2_hashes(db):
    user = make_user("hashed")
    assert user.password.startswith("argon2$argon2id$")
    assert identify_hasher(user.password).algorithm == "argon2"
    assert user.check_password("test-pass-123") and not user.check_password("test-pass-124")
    encoded = make_password("另一个密码-123")
    assert encoded.startswith("argon2$") and check_password("另一个密码-123", encoded)


def test_passwords_are_validated_by_length_commonness_and_similarity():
    validators: list[Any] = production.AUTH_PASSWORD_VALIDATORS
    names = [v["NAME"].rsplit(".", 1)[1] for v in validators]
    assert names == [
        "UserAttributeSimilarityValidator",
        "ChineseMinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
    ]
    assert validators[1]["OPTIONS"]["min_length"] >= 10


def test_a_password_like_the_phone_number_is_refused(db):
    person = make_user("liuyang", name="刘洋", phone="13912345678")
    with pytest.raises(ValidationError, match="手机号码"):
        validate_password("13912345678ab", person)
    validate_password("Lan-Tian-Bai-Yun-9", person)


# --- login throttling -----------------------------------------------------------------------


def test_repeated_failures_lock_the_account_even_with_the_right_password(db):
    make_user("target")
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "target", "wrong-password")
    response = sign_in(client, "target")
    assert response.status_code == 429  # django-axes: Too Many Requests
    page = response.content.decode()
    assert "账号已暂时锁定" in page and "登录失败次数过多" in page
    assert not is_signed_in(client)


def test_failures_below_the_limit_do_not_lock(db):
    make_user("target")
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = sign_in(client, "target", "wrong-password")
        assert response.status_code == 200
        assert "用户名或密码不正确" in response.content.decode()
    assert sign_in(client, "target").status_code == 302
    assert is_signed_in(client)


def test_a_lockout_does_not_lock_a_different_username(db):
    make_user("target")
    make_user("neighbour")
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "target", "wrong-password")
    assert sign_in(client, "target").status_code == 429
    assert sign_in(client, "neighbour").status_code == 302
    assert is_signed_in(client)


def test_the_admin_login_is_throttled_too(db):
    admin = make_user("sysop")
    make_platform_role(admin, "sysadmin")
    client = Client()
    url = reverse("admin:login")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(url, {"username": "sysop", "password": "wrong-password"})
    response = client.post(url, {"username": "sysop", "password": "test-pass-123"})
    assert response.status_code == 429
    assert not is_signed_in(client)


# --- sessions -------------------------------------------------------------------------------


def test_sessions_end_after_a_period_of_inactivity_by_default():
    assert "dwgk.lib.middleware.SessionRefreshMiddleware" in production.MIDDLEWARE
    assert production.SESSION_REFRESH_SECONDS == 60
    assert production.SESSION_COOKIE_AGE == 30 * 60
    assert production.SESSION_COOKIE_HTTPONLY is True


def session_row(client: Client) -> Session:
    return Session.objects.get(session_key=client.session.session_key)


def test_a_request_a_minute_after_the_last_save_moves_the_session_expiry_forward(db, monkeypatch):
    from dwgk.lib import middleware

    make_user("active")
    client = Client()
    sign_in(client, "active")
    assert client.get(reverse("members:home")).status_code == 200  # saved: first request
    soon = timezone.now() + datetime.timedelta(minutes=1)
    Session.objects.filter(session_key=client.session.session_key).update(expire_date=soon)
    # within the minute: no write, the expiry stays where it is
    assert client.get(reverse("members:home")).status_code == 200
    assert session_row(client).expire_date == soon
    # a minute later the next request saves the session again
    later = int(time.time()) + settings.SESSION_REFRESH_SECONDS
    monkeypatch.setattr(middleware, "_now", lambda: later)
    assert client.get(reverse("members:home")).status_code == 200
    expected = timezone.now() + datetime.timedelta(seconds=settings.SESSION_COOKIE_AGE)
    assert abs((session_row(client).expire_date - expected).total_seconds()) < 60


def test_an_anonymous_visitor_gets_no_session(db):
    client = Client()
    assert client.get(reverse("public:home")).status_code == 200
    assert settings.SESSION_COOKIE_NAME not in client.cookies
    assert not Session.objects.exists()


def test_an_expired_session_is_signed_out(db):
    make_user("idle")
    client = Client()
    sign_in(client, "idle")
    assert client.get(reverse("members:home")).status_code == 200
    past = timezone.now() - datetime.timedelta(seconds=1)
    Session.objects.filter(session_key=client.session.session_key).update(expire_date=past)
    response = client.get(reverse("members:home"))
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)


# --- CSRF -----------------------------------------------------------------------------------


def test_the_login_form_requires_the_csrf_token(db):
    make_user("careful")
    client = Client(enforce_csrf_checks=True)
    response = client.post(LOGIN, {"username": "careful", "password": "test-pass-123"})
    assert response.status_code == 403
    assert not is_signed_in(client)

    page = client.get(LOGIN)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())
    assert token is not None
    response = client.post(
        LOGIN,
        {"username": "careful", "password": "test-pass-123", "csrfmiddlewaretoken": token[1]},
    )
    assert response.status_code == 302
    assert is_signed_in(client)


# --- response headers -----------------------------------------------------------------------

ALLOWED_SOURCES = {"'self'", "'none'"}


def assert_strict_headers(response: Any, where: str) -> None:
    headers = response.headers
    csp = headers.get("Content-Security-Policy", "")
    directives = {part.split()[0]: part.split()[1:] for part in csp.split(";") if part.strip()}
    assert directives.get("default-src") == ["'self'"], where
    assert directives.get("script-src") == ["'self'"], where
    assert directives.get("object-src") == ["'none'"], where
    assert directives.get("frame-ancestors") == ["'none'"], where
    for name, sources in directives.items():
        for source in sources:
            # 'self' / 'none' only (and data: images for the admin's icons): no inline
            # code, no eval, no external origin, no wildcard.
            assert source in ALLOWED_SOURCES or (name == "img-src" and source == "data:"), (
                where,
                name,
                source,
            )
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert headers.get("X-Frame-Options") == "DENY", where
    assert headers.get("X-Content-Type-Options") == "nosniff", where
    assert headers.get("Referrer-Policy") == "same-origin", where
    assert headers.get("Cross-Origin-Opener-Policy") == "same-origin", where


def test_every_kind_of_response_carries_the_strict_security_headers(cast):
    anonymous = Client()
    for url in ["/", LOGIN, reverse("admin:login"), "/no-such-page/", reverse("admin:index")]:
        assert_strict_headers(anonymous.get(url), url)

    olga = Client()
    olga.force_login(cast.olga)
    for url in [reverse("members:home"), reverse("admin:index"), "/admin/orgs/organization/"]:
        assert_strict_headers(olga.get(url), url)

    locked = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT + 1):
        response = sign_in(locked, "bob", "wrong-password")
    assert response.status_code == 429
    assert_strict_headers(response, "lockout page")


# --- production configuration ---------------------------------------------------------------


def test_the_production_settings_pass_the_deployment_check():
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SECURE_", "DEBUG", "SESSION_", "BEHIND_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="dwgk.settings",
        DEBUG="0",
        SECRET_KEY="prod-" + "x7Gq2#kLp9@vR4!mZ8$wT1^bN6&cY3*hJ5" * 2,
        ALLOWED_HOSTS="dwgk.example.gov.cn",
    )
    result = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_refuses_to_start_with_the_development_secret_key():
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    env.update(DJANGO_SETTINGS_MODULE="dwgk.settings", DEBUG="0")
    result = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "check"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


# --- nothing from outside the machine -------------------------------------------------------

HTML_COMMENTS = [
    re.compile(r"<!--.*?-->", re.S),
    re.compile(r"\{#.*?#\}", re.S),  # Django template comments
    re.compile(r"\{%\s*comment\s*%\}.*?\{%\s*endcomment\s*%\}", re.S),
]
BLOCK_COMMENT = re.compile(r"/\*.*?\*/", re.S)  # CSS and JS
LINE_COMMENT = re.compile(r"(?m)(?:^|\s)//[^\n]*")  # JS


def without_comments(path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    if path.suffix in {".html", ".svg", ".txt"}:
        for pattern in HTML_COMMENTS:
            text = pattern.sub("", text)
    if path.suffix in {".css", ".js"}:
        text = BLOCK_COMMENT.sub("", text)
    if path.suffix == ".js":
        text = LINE_COMMENT.sub("", text)
    return text


# XML namespaces name a vocabulary; the browser fetches nothing from them.
NAMESPACE = re.compile(r"""xmlns(:\w+)?=["']https?://www\.w3\.org/[^"']*["']""")
# Absolute URLs, and protocol-relative ones ("//cdn.example.com/x.js") in links and CSS.
EXTERNAL = re.compile(r"https?://|(?:src|href|action)\s*=\s*[\"']//|url\(\s*[\"']?//", re.I)


def front_end_files() -> list[Path]:
    roots = [p for p in PACKAGE.rglob("*") if p.is_dir() and p.name in {"templates", "static"}]
    files = {f for root in roots for f in root.rglob("*") if f.is_file()}
    return sorted(f for f in files if f.suffix in {".html", ".css", ".js", ".svg", ".txt"})


def test_templates_and_static_files_reference_no_external_url():
    files = front_end_files()
    assert any(f.name == "base.html" for f in files)
    offenders = []
    for path in files:
        text = NAMESPACE.sub("", without_comments(path))
        offenders += [f"{path.relative_to(ROOT)}: {m}" for m in EXTERNAL.findall(text)]
    assert offenders == []


def test_templates_hold_no_inline_script_or_style_the_policy_would_block():
    inline = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|\son[a-z]+\s*=|\sstyle\s*=|<style", re.I)
    offenders = []
    for path in front_end_files():
        if path.suffix != ".html":
            continue
        text = without_comments(path)
        offenders += [f"{path.relative_to(ROOT)}: {m}" for m in inline.findall(text)]
    assert offenders == []


def test_the_policy_setting_itself_names_no_external_origin():
    policy = production.CONTENT_SECURITY_POLICY
    assert "http" not in policy and "*" not in policy and "unsafe" not in policy


def test_the_scanner_finds_external_urls_outside_comments(tmp_path):
    page = tmp_path / "page.html"
    page.write_text(
        "<!-- see https://docs.example.org -->{# https://x.example #}\n"
        '<svg xmlns="http://www.w3.org/2000/svg"></svg>\n'
        '<script src="https://cdn.example.com/a.js"></script><img src="//cdn.example.com/i.png">',
        encoding="utf-8",
    )
    script = tmp_path / "a.js"
    script.write_text('// https://ok.example\nfetch("https://api.example.com");', "utf-8")
    found = [EXTERNAL.findall(NAMESPACE.sub("", without_comments(p))) for p in [page, script]]
    assert [len(f) for f in found] == [2, 1]


def test_password_rules_answer_in_chinese():
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError
    from django.utils import translation

    with translation.override("zh-hans"), pytest.raises(ValidationError) as caught:
        validate_password("abc12")
    assert "密码太短，至少需要 10 个字符。" in caught.value.messages
    assert all(not any("a" <= ch.lower() <= "z" for ch in m) for m in caught.value.messages)
