import os
import shutil
import tempfile
from pathlib import Path

import pytest

from harness import servers


@pytest.fixture(scope="session")
def tools():
    servers.ensure_tools()


@pytest.fixture(scope="session")
def work_dir():
    # Traversable by nginx workers (they run as nobody under a root master).
    directory = Path(tempfile.mkdtemp(prefix="fithub-ops-"))
    directory.chmod(0o755)
    yield directory
    if not os.environ.get("FITHUB_KEEP_OPS_DIR"):
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="session")
def app_env() -> dict:
    """What the live instances run with: production settings on the harness's `fithub` database."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "fithub.settings",
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "LOG_FORMAT": "json",
        # Django's own login throttles out of the way: the 429s under test are nginx's.
        "THROTTLE_LOGIN_IP": "10000/min",
        "THROTTLE_LOGIN_ACCOUNT": "10000/min",
        "THROTTLE_ANON": "10000/min",
        "THROTTLE_USER": "10000/min",
        "THROTTLE_IP": "10000/min",
        "CORS_ALLOWED_ORIGINS": "https://app.fithub.example",
    }
    env.pop("PYTEST_CURRENT_TEST", None)
    return env


@pytest.fixture(scope="session")
def stack(tools, work_dir, app_env):
    """Two gunicorn instances (3 workers each) on the harness's `fithub` database, the
    production nginx in front of them and Prometheus scraping each one."""
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        pytest.fail("the live stack needs PostgreSQL: run it under harness/with-postgres.sh (make test)")
    servers.manage(app_env, "migrate", "--no-input", "-v", "0")
    # As the Docker image does at build time: WhiteNoise serves what is collected.
    servers.manage(app_env, "collectstatic", "--no-input", "-v", "0")
    running = servers.start_stack(work_dir / "stack", app_env, workers=3)
    yield running
    running.stop()
