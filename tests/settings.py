"""Test settings: the real settings plus a small app with an audience-bearing model."""

from __future__ import annotations

from dwgk.settings import *  # noqa: F403
from dwgk.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "tests.testapp"]
# Argon2 is the production hasher; tests hash thousands of passwords, so use a fast one
# except where a test asks for Argon2 explicitly.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
AXES_ENABLED = True

import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

# Uploaded attachments go to a throw-away folder, never into the working tree.
MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="dwgk-test-media-"))

# Every cached answer reads the page stamp, so that a test sees another process's change at
# once; tests/test_pagecache.py sets the production interval where it tests the interval.
PAGE_STAMP_MS = 0
