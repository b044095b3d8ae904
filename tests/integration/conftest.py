import os
import shutil
import tempfile
from pathlib import Path

import pytest

from tests.integration import stack as live


@pytest.fixture(scope="session")
def tools():
    live.ensure_tools()


@pytest.fixture(scope="session")
def work_dir():
    # Traversable by nginx workers (they run as nobody under a root master).
    directory = Path(tempfile.mkdtemp(prefix="fithub-ops-"))
    directory.chmod(0o755)
    yield directory
    if not os.environ.get("FITHUB_KEEP_OPS_DIR"):
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="session")
def stack(tools, work_dir):
    """Two gunicorn instances (3 workers each) on the harness's `fithub` database, the
    production nginx in front of them and Prometheus scraping each one."""
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        pytest.fail("the live stack needs PostgreSQL: run it under tests/harness/with-postgres.sh (make test)")
    running = live.start_stack(work_dir / "stack")
    yield running
    running.stop()
