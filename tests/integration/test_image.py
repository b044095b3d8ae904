"""The Dockerfile's build and run steps, replayed without Docker (no engine runs here).

The build stage's `uv sync` and `COPY` lines and the runtime's CMD and HEALTHCHECK are read
from the Dockerfile itself and run against a scratch directory: the app must work with the
runtime dependencies only, collectstatic must pass, and the health check must succeed on a
gunicorn started with the image's command.
"""

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness.servers import ROOT, Process, free_port, request, start, wait_until

pytestmark = pytest.mark.integration

# Continuation lines joined: one instruction per line.
DOCKERFILE = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")


def _stage(name: str) -> str:
    match = re.search(rf"^FROM \S+ AS {name}\n(.*?)(?=^FROM |\Z)", DOCKERFILE, re.M | re.S)
    assert match, name
    return match.group(1)


def _exec_form(instruction: str) -> list[str]:
    """The JSON array of the last CMD, or of the HEALTHCHECK's CMD."""
    pattern = r"^HEALTHCHECK .*?\bCMD\s+(\[.*\])\s*$" if instruction == "HEALTHCHECK" else r"^CMD\s+(\[.*\])\s*$"
    matches = re.findall(pattern, DOCKERFILE, re.M)
    assert matches, instruction
    return json.loads(matches[-1])


@pytest.fixture(scope="module")
def image_dir(tmp_path_factory):
    uv = shutil.which("uv") or str(Path.home() / ".local" / "bin" / "uv")
    work = tmp_path_factory.mktemp("image")
    app = work / "app"
    app.mkdir()
    build = _stage("build")
    venv = work / "venv"
    # A docker build starts from a clean environment: nothing of the test run's (settings
    # module, database URLs, secrets) may leak into the replayed steps.
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", str(work)),
        "UV_PROJECT_ENVIRONMENT": str(venv),
        "UV_PYTHON": sys.executable,
        "UV_PYTHON_DOWNLOADS": "never",
    }
    env.pop("VIRTUAL_ENV", None)
    for line in build.splitlines():
        line = line.strip()
        if line.startswith("COPY ") and "--from" not in line:
            *sources, _ = shlex.split(line)[1:]
            for source in sources:
                path = ROOT / source
                if path.is_dir():
                    shutil.copytree(path, app / source, ignore=shutil.ignore_patterns("__pycache__"))
                else:
                    shutil.copy(path, app / source)
        elif line.startswith("RUN ") and "uv sync" in line:
            command = shlex.split(line[line.index("uv sync") :])
            subprocess.run([uv, *command[1:]], cwd=app, env=env, check=True, timeout=600, capture_output=True)
        elif line.startswith("RUN ") and "collectstatic" in line:
            words = shlex.split(line[4:])
            assignments = dict(word.split("=", 1) for word in words if re.match(r"^[A-Z_]+=", word))
            command = [word for word in words if not re.match(r"^[A-Z_]+=", word)]
            command[0] = str(venv / "bin" / "python")
            subprocess.run(command, cwd=app, env={**env, **assignments}, check=True, timeout=600, capture_output=True)
    return app, venv


def test_the_build_stage_installs_runtime_dependencies_only(image_dir):
    app, venv = image_dir
    assert (venv / "bin" / "gunicorn").exists()
    assert not (venv / "bin" / "pytest").exists()
    assert not (venv / "bin" / "ruff").exists()
    assert (app / "staticfiles" / "drf_spectacular_sidecar" / "swagger-ui-dist" / "swagger-ui.css.gz").exists()
    assert not (app / "tests").exists()


def test_the_image_command_serves_and_passes_its_health_check(image_dir, stack, tmp_path):
    app, venv = image_dir
    port = free_port(set(stack.app_ports))
    command = _exec_form("CMD")
    assert command[0] == "gunicorn"
    env = {
        **os.environ,
        "PATH": f"{venv / 'bin'}:{os.environ['PATH']}",
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": "2",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
    }
    env.pop("VIRTUAL_ENV", None)
    env.pop("DJANGO_SETTINGS_MODULE", None)  # the image has no tests/: manage.py's default applies
    server: Process = start(
        "image", [str(venv / "bin" / command[0]), *command[1:]], log=tmp_path / "out.log", env=env, cwd=app
    )
    try:
        wait_until(lambda: request(f"http://127.0.0.1:{port}/health/live/").status == 200, timeout=60, what="image")
        health = _exec_form("HEALTHCHECK")
        assert health[0] == "python"
        script = health[-1].replace("127.0.0.1:8000", f"127.0.0.1:{port}")
        assert "/health/live/" in script
        ok = subprocess.run([str(venv / "bin" / "python"), *health[1:-1], script], timeout=30, env=env)
        assert ok.returncode == 0
        swagger = request(f"http://127.0.0.1:{port}/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui.css")
        assert swagger.status == 200
    finally:
        server.stop()
    # The same health check fails when nothing answers.
    failed = subprocess.run([str(venv / "bin" / "python"), *health[1:-1], script], timeout=30, capture_output=True)
    assert failed.returncode != 0
