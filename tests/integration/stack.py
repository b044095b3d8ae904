"""Run the production configs for real on loopback: helpers for the integration tests.

The nginx and Prometheus configs under test are the repository's own files with only host
names, ports and paths replaced (`mapped_nginx_conf`, `mapped_prometheus_conf`). Every
replacement must match, so the copy cannot silently drift from the real file.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from tests.servers import free_port

ROOT = Path(__file__).resolve().parents[2]
NGINX_CONF = ROOT / "nginx" / "nginx.conf"
PROMETHEUS_DIR = ROOT / "monitoring" / "prometheus"
DASHBOARD = ROOT / "monitoring" / "grafana" / "dashboards" / "fithub.json"
ENSURE_TOOLS = ROOT / "tests" / "harness" / "ensure-tools.sh"


def ensure_tools() -> None:
    """nginx, prometheus, promtool, openssl, shellcheck and redis-server from Debian packages,
    installed when missing."""
    tools = ("nginx", "prometheus", "promtool", "openssl", "shellcheck", "ss", "redis-server")
    if all(shutil.which(tool) or Path("/usr/sbin", tool).exists() for tool in tools):
        return
    subprocess.run([str(ENSURE_TOOLS)], check=True, timeout=900)


def nginx_binary() -> str:
    return shutil.which("nginx") or "/usr/sbin/nginx"


def _replace_all(text: str, replacements: list[tuple[str, str]]) -> str:
    for old, new in replacements:
        if old not in text:
            raise AssertionError(f"the production config no longer contains {old!r}")
        text = text.replace(old, new)
    return text


def make_certificate(directory: Path) -> Path:
    """A self-signed certificate for 127.0.0.1 and localhost, as fullchain.pem and privkey.pem."""
    directory.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-keyout", str(directory / "privkey.pem"), "-out", str(directory / "fullchain.pem"),
            "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return directory


def mapped_nginx_conf(work: Path, *, http_port: int, https_port: int, app_ports: tuple[int, int]) -> Path:
    """The production nginx.conf with loopback ports, test certificates and files in `work`."""
    text = _replace_all(
        NGINX_CONF.read_text(),
        [
            ("pid /var/run/nginx.pid;", f"pid {work}/nginx.pid;"),
            ("error_log /dev/stderr warn;", f"error_log {work}/nginx-error.log warn;"),
            ("access_log /dev/stdout json;", f"access_log {work}/nginx-access.log json;"),
            ("server app1:8000", f"server 127.0.0.1:{app_ports[0]}"),
            ("server app2:8000", f"server 127.0.0.1:{app_ports[1]}"),
            ("listen 80 default_server;", f"listen 127.0.0.1:{http_port} default_server;"),
            ("listen [::]:80 default_server;", ""),
            ("listen 443 ssl http2 default_server;", f"listen 127.0.0.1:{https_port} ssl http2 default_server;"),
            ("listen [::]:443 ssl http2 default_server;", ""),
            ("/etc/nginx/certs/", f"{work}/certs/"),
        ],
    )
    # nginx's temporary files in the test directory, so it also runs without root.
    temp = work / "nginx-temp"
    temp.mkdir(parents=True, exist_ok=True)
    temp.chmod(0o777)  # workers of a root master run as nobody
    paths = "".join(
        f"    {kind}_temp_path {temp}/{kind};\n" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    text = text.replace("http {\n", "http {\n" + paths, 1)
    path = work / "nginx.conf"
    path.write_text(text)
    return path


def nginx_test(conf: Path, work: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [nginx_binary(), "-t", "-p", str(work), "-c", str(conf), "-e", str(work / "nginx-error.log")],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def mapped_prometheus_conf(work: Path, *, port: int, app_ports: tuple[int, int]) -> Path:
    """The production prometheus.yml scraping the loopback instances every second."""
    text = _replace_all(
        (PROMETHEUS_DIR / "prometheus.yml").read_text(),
        [
            ("scrape_interval: 15s", "scrape_interval: 1s"),
            ("evaluation_interval: 15s", "evaluation_interval: 1s"),
            ("- app1:8000", f"- 127.0.0.1:{app_ports[0]}"),
            ("- app2:8000", f"- 127.0.0.1:{app_ports[1]}"),
            ("- localhost:9090", f"- 127.0.0.1:{port}"),
        ],
    )
    work.mkdir(parents=True, exist_ok=True)
    shutil.copy(PROMETHEUS_DIR / "alerts.yml", work / "alerts.yml")
    path = work / "prometheus.yml"
    path.write_text(text)
    return path


@dataclass
class Process:
    name: str
    popen: subprocess.Popen
    log: Path

    def stop(self) -> None:
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(timeout=10)


def start(name: str, args: list[str], *, log: Path, env: dict | None = None, cwd: Path = ROOT) -> Process:
    handle = log.open("ab")
    popen = subprocess.Popen(  # its own process group: stop() ends it and its children only
        args, cwd=cwd, env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
    )
    handle.close()
    return Process(name, popen, log)


def wait_until(check, *, timeout: float, what: str, process: Process | None = None, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        if process is not None and process.popen.poll() is not None:
            raise RuntimeError(f"{process.name} exited: {process.log.read_text()[-3000:]}")
        try:
            result = check()
        except Exception as exc:
            last_error = exc
        else:
            if result:
                return result
        time.sleep(interval)
    raise TimeoutError(f"timed out waiting for {what} (last error: {last_error!r})")


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self):
        return json.loads(self.body)


def request(
    url: str, *, method: str = "GET", body: dict | None = None, headers: dict | None = None, cafile: Path | None = None
) -> Response:
    """One request on a fresh connection; never follows redirects."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "https":
        context = ssl.create_default_context(cafile=str(cafile))
        conn = http.client.HTTPSConnection(parts.hostname, parts.port, context=context, timeout=30)
    else:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    data = json.dumps(body).encode() if body is not None else None
    all_headers = {"Accept": "application/json", **(headers or {})}
    if data is not None:
        all_headers["Content-Type"] = "application/json"
    try:
        conn.request(method, parts.path + (f"?{parts.query}" if parts.query else ""), body=data, headers=all_headers)
        response = conn.getresponse()
        return Response(response.status, response.headers, response.read())
    finally:
        conn.close()


def prometheus_query(port: int, expr: str) -> list[dict]:
    url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    with urllib.request.urlopen(url, timeout=10) as response:
        payload = json.load(response)
    if payload["status"] != "success":
        raise AssertionError(f"{expr!r}: {payload}")
    return payload["data"]["result"]


def access_log(path: Path) -> list[dict]:
    """gunicorn's JSON access log: one object per line."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.startswith("{")]


@dataclass
class Stack:
    work: Path
    app_ports: tuple[int, int]
    http_port: int
    https_port: int
    prometheus_port: int
    processes: list[Process] = field(default_factory=list)

    @property
    def cafile(self) -> Path:
        return self.work / "certs" / "fullchain.pem"

    def app_url(self, index: int, path: str) -> str:
        return f"http://127.0.0.1:{self.app_ports[index]}{path}"

    def https_url(self, path: str) -> str:
        return f"https://127.0.0.1:{self.https_port}{path}"

    def access_log(self, index: int) -> list[dict]:
        return access_log(self.work / f"app{index + 1}-access.log")

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.stop()


def app_env(work: Path, index: int, port: int) -> dict:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "fithub.settings",
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "NUM_PROXIES": "1",
        "BEHIND_TLS_PROXY": "1",
        "LOG_FORMAT": "json",
        # Django's own login throttles out of the way: the 429s under test are nginx's.
        "THROTTLE_LOGIN_IP": "10000/min",
        "THROTTLE_LOGIN_ACCOUNT": "10000/min",
        "THROTTLE_ANON": "10000/min",
        "THROTTLE_USER": "10000/min",
        "THROTTLE_IP": "10000/min",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": "3",
        "GUNICORN_ACCESS_LOG": str(work / f"app{index + 1}-access.log"),
        "PROMETHEUS_MULTIPROC_DIR": str(work / f"prometheus-multiproc-{index + 1}"),
    }
    env.pop("PYTEST_CURRENT_TEST", None)
    return env


def start_stack(work: Path) -> Stack:
    work.mkdir(parents=True, exist_ok=True)
    work.chmod(0o755)
    taken: set[int] = set()
    app_ports = (free_port(taken), free_port(taken))
    stack = Stack(work, app_ports, free_port(taken), free_port(taken), free_port(taken))
    try:
        _start(stack)
    except BaseException:
        stack.stop()
        raise
    return stack


def _start(stack: Stack) -> None:
    work = stack.work
    env = app_env(work, 0, stack.app_ports[0])
    del env["PROMETHEUS_MULTIPROC_DIR"]  # gunicorn creates it; migrate needs none
    migrated = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
        cwd=ROOT, env=env, timeout=600, capture_output=True, text=True,
    )  # fmt: skip
    if migrated.returncode != 0:
        raise RuntimeError(f"migrate failed: {migrated.stderr[-3000:]}")
    # As the Docker image does at build time: WhiteNoise serves what is collected.
    collected = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "-v", "0"],
        cwd=ROOT, env=env, timeout=600, capture_output=True, text=True,
    )  # fmt: skip
    if collected.returncode != 0:
        raise RuntimeError(f"collectstatic failed: {collected.stderr[-3000:]}")
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    for index, port in enumerate(stack.app_ports):
        process = start(
            f"app{index + 1}",
            [gunicorn, "-c", "fithub/ops/gunicorn_conf.py", "fithub.wsgi"],
            log=work / f"app{index + 1}.log",
            env=app_env(work, index, port),
        )
        stack.processes.append(process)
    for index, process in enumerate(stack.processes):
        url = stack.app_url(index, "/health/live/")
        wait_until(lambda url=url: request(url).status == 200, timeout=60, what=url, process=process)

    make_certificate(work / "certs")
    conf = mapped_nginx_conf(work, http_port=stack.http_port, https_port=stack.https_port, app_ports=stack.app_ports)
    checked = nginx_test(conf, work)
    if checked.returncode != 0:
        raise RuntimeError(f"nginx -t failed: {checked.stderr}")
    nginx = start(
        "nginx",
        [nginx_binary(), "-p", str(work), "-c", str(conf), "-e", str(work / "nginx-error.log"), "-g", "daemon off;"],
        log=work / "nginx.log",
    )
    stack.processes.append(nginx)
    wait_until(
        lambda: request(stack.https_url("/health"), cafile=stack.cafile).status == 200,
        timeout=30, what="nginx", process=nginx,
    )  # fmt: skip

    prometheus_conf = mapped_prometheus_conf(work / "prometheus", port=stack.prometheus_port, app_ports=stack.app_ports)
    prometheus = start(
        "prometheus",
        [
            shutil.which("prometheus") or "/usr/bin/prometheus",
            f"--config.file={prometheus_conf}",
            f"--storage.tsdb.path={work / 'prometheus' / 'data'}",
            f"--web.listen-address=127.0.0.1:{stack.prometheus_port}",
            "--log.level=warn",
        ],
        log=work / "prometheus.log",
    )
    stack.processes.append(prometheus)
    wait_until(
        lambda: len(prometheus_query(stack.prometheus_port, 'up{job="fithub"} == 1')) == 2,
        timeout=60, what="prometheus scraping both instances", process=prometheus,
    )  # fmt: skip
