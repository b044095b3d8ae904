"""The project's settings, with test defaults for what the environment leaves unset.

pytest-django configures Django before any conftest runs, so the defaults live here.
Subprocesses the tests start (gunicorn) inherit them through the environment.
"""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-of-at-least-32-bytes")
# PBKDF2 at a million rounds costs 0.3 s a login.
os.environ.setdefault("PASSWORD_HASHERS", "django.contrib.auth.hashers.MD5PasswordHasher")
os.environ.setdefault("ALLOWED_HOSTS", "localhost,127.0.0.1,testserver")

from fithub.settings import *  # noqa: F403
