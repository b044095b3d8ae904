"""The real servers on loopback, started and stopped for the tests and the benchmark alike.

PostgreSQL's primary and streaming replica come from harness/with-postgres.sh, which runs a
command against them (`PostgresServer` stops and starts them for fault tests); this module
starts the rest: gunicorn with fithub/ops/gunicorn_conf.py, Redis, nginx running the
production nginx/nginx.conf and Prometheus its monitoring/prometheus/prometheus.yml, both
mapped to loopback (`mapped_nginx_conf`, `mapped_prometheus_conf`: only host names, ports and
paths replaced, and every replacement must match, so a copy cannot silently drift from the
real file), and the two together behind nginx (`start_stack`).

Standard library only, so harness/with-postgres.sh can use it before any virtualenv exists
(`python3 harness/servers.py free-port`). Ports are below 32768: the ephemeral range is
shared with the rest of the machine and can run out.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import shlex
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NGINX_CONF = ROOT / "nginx" / "nginx.conf"
PROMETHEUS_DIR = ROOT / "monitoring" / "prometheus"
DASHBOARD = ROOT / "monitoring" / "grafana" / "dashboards" / "fithub.json"
ENSURE_TOOLS = ROOT / "harness" / "ensure-tools.sh"
GUNICORN_CONF = "fithub/ops/gunicorn_conf.py"


def production_env(base: dict | None = None, *, fallback_key: str, **overrides: str) -> dict:
    """The environment of an app server with production settings (fithub.settings, DEBUG off)
    over `base` (default: this process's): base's SECRET_KEY, else `fallback_key`; base's
    ALLOWED_HOSTS, else loopback; pytest's marker dropped (the app must not think it is under
    test); then `overrides`, which win."""
    env = dict(os.environ if base is None else base)
    env.update(DJANGO_SETTINGS_MODULE="fithub.settings", DEBUG="0", SECRET_KEY=env.get("SECRET_KEY") or fallback_key)
    env.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost")
    env.pop("PYTEST_CURRENT_TEST", None)
    env.update(overrides)
    return env


def free_port(taken: set[int] | None = None) -> int:
    """A free loopback port in 20000-32000, not one of `taken`, which it is added to."""
    taken = taken if taken is not None else set()
    for _ in range(500):
        port = random.randint(20000, 32000)  # noqa: S311 - not security
        if port in taken:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        taken.add(port)
        return port
    raise RuntimeError("no free port")


# --- processes -----------------------------------------------------------------------------


@dataclass
class Process:
    """A server in its own process group: stop() ends it and its children, nothing else."""

    name: str
    popen: subprocess.Popen
    log: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def stop(self) -> None:
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(timeout=10)

    def __enter__(self) -> Process:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def start(name: str, args: list[str], *, log: Path, env: dict | None = None, cwd: Path = ROOT) -> Process:
    handle = log.open("ab")
    popen = subprocess.Popen(  # noqa: S603 - our own commands
        args, cwd=cwd, env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
    )
    handle.close()
    return Process(name, popen, log)


def stop_all(processes: list[Process]) -> None:
    """Stop them in reverse order; one that fails to stop does not keep the others running."""
    errors = []
    for process in reversed(processes):
        try:
            process.stop()
        except Exception as exc:
            errors.append(f"{process.name}: {exc!r}")
    if errors:
        raise RuntimeError("; ".join(errors))


def wait_until(check: Callable, *, timeout: float, what: str, process: Process | None = None, interval: float = 0.2):
    """check()'s first true result, failing fast when `process` exits."""
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
        return json.loads(self.body) if self.body else {}


def request(
    url: str,
    *,
    method: str = "GET",
    body: dict | None = None,
    headers: dict | None = None,
    cafile: Path | None = None,
    timeout: float = 30,
) -> Response:
    """One request on a fresh connection, whatever its status; never follows redirects."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "https":
        context = ssl.create_default_context(cafile=str(cafile))
        conn = http.client.HTTPSConnection(parts.hostname, parts.port, context=context, timeout=timeout)
    else:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
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


def json_lines(path: Path, offset: int = 0) -> list[dict]:
    """The JSON lines of a log (gunicorn's and nginx's access logs) written after `offset` bytes."""
    if not path.exists():
        return []
    with path.open("rb") as handle:
        handle.seek(offset)
        text = handle.read().decode(errors="replace")
    rows = []
    for line in text.splitlines():
        if line.startswith("{"):
            with suppress(ValueError):
                rows.append(json.loads(line))
    return rows


def manage(env: dict, *args: str, timeout: float = 900) -> str:
    """`manage.py ARGS` in a child process; its output, or a RuntimeError with its end."""
    done = subprocess.run(  # noqa: S603 - our own command
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, timeout=timeout, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed: {(done.stdout + done.stderr)[-3000:]}")
    return done.stdout


# --- the machine's servers: Debian packages, installed when missing ---------------------------


def ensure_tools() -> None:
    """nginx, prometheus, promtool, openssl, shellcheck, ss and redis-server (harness/ensure-tools.sh)."""
    tools = ("nginx", "prometheus", "promtool", "openssl", "shellcheck", "ss", "redis-server")
    if all(shutil.which(tool) or Path("/usr/sbin", tool).exists() for tool in tools):
        return
    subprocess.run([str(ENSURE_TOOLS)], check=True, timeout=900)  # noqa: S603 - our own script


def binary(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        ensure_tools()
        found = shutil.which(name) or next(
            (str(path) for path in (Path("/usr/sbin", name), Path("/usr/bin", name)) if path.exists()), name
        )
    return found


# --- PostgreSQL: the pair harness/with-postgres.sh started ------------------------------------


def _pg_ctl(*args: str) -> None:
    run_as = shlex.split(os.environ.get("FITHUB_PG_RUN_AS", ""))
    pg_ctl = Path(os.environ["FITHUB_PG_BINDIR"]) / "pg_ctl"
    subprocess.run([*run_as, str(pg_ctl), *args], check=True, capture_output=True, timeout=120)  # noqa: S603


@dataclass(frozen=True)
class PostgresServer:
    """One server of the pair, from the FITHUB_PG_* variables with-postgres.sh exports."""

    data_dir: str
    port: int
    log: str

    @classmethod
    def primary(cls) -> PostgresServer:
        return cls._from_env("PRIMARY", "primary.log")

    @classmethod
    def replica(cls) -> PostgresServer:
        return cls._from_env("REPLICA", "replica.log")

    @classmethod
    def _from_env(cls, role: str, log: str) -> PostgresServer:
        work = os.environ["FITHUB_PG_WORKDIR"]
        return cls(os.environ[f"FITHUB_PG_{role}_DATA"], int(os.environ[f"FITHUB_PG_{role}_PORT"]), f"{work}/{log}")

    def stop(self, mode: str = "fast") -> None:
        _pg_ctl("-D", self.data_dir, "-m", mode, "-w", "stop")

    def start(self) -> None:
        _pg_ctl("-D", self.data_dir, "-l", self.log, "-o", f"-p {self.port}", "-w", "-t", "60", "start")


# --- gunicorn ----------------------------------------------------------------------------------


def start_gunicorn(
    name: str,
    port: int,
    work: Path,
    env: dict,
    *,
    app: str = "fithub.wsgi",
    workers: int = 2,
    ready: str | None = "/health/live/",
) -> Process:
    """gunicorn with the production config serving `app` on 127.0.0.1:port, once `ready`
    answers (any status; None: at once, while it starts). Its log is work/NAME.log, its JSON
    access log work/NAME-access.log, its workers' metrics in work/NAME-prometheus."""
    env = {
        **env,
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": str(workers),
        "GUNICORN_PROC_NAME": name,
        "GUNICORN_ACCESS_LOG": str(work / f"{name}-access.log"),
        "PROMETHEUS_MULTIPROC_DIR": str(work / f"{name}-prometheus"),
    }
    env.pop("PYTEST_CURRENT_TEST", None)
    process = start(
        name, [sys.executable, "-m", "gunicorn", "-c", GUNICORN_CONF, app], log=work / f"{name}.log", env=env
    )
    if ready is None:
        return process
    try:
        url = f"http://127.0.0.1:{port}{ready}"
        wait_until(lambda: request(url, timeout=5), timeout=90, what=f"{name} on {url}", process=process)
    except BaseException:
        process.stop()
        raise
    return process


def gunicorn_workers(master: int) -> set[int]:
    """The pids of a gunicorn master's live workers."""
    return {int(pid) for pid in Path(f"/proc/{master}/task/{master}/children").read_text().split()}


# --- Redis -------------------------------------------------------------------------------------


@dataclass
class RedisServer:
    """A throwaway redis-server on a loopback port, keeping nothing on disk, that fault tests
    stop, start again (same port, empty) and pause (SIGSTOP: it accepts connections at the
    kernel but answers nothing). The machine's own Redis on 6379 is never touched."""

    port: int
    popen: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        args = ["--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        process = subprocess.Popen(  # noqa: S603 - the packaged binary
            [binary("redis-server"), *args],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.popen = process

        def answers() -> bool:
            if process.poll() is not None:
                raise RuntimeError("redis-server exited")
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")

        wait_until(answers, timeout=10, what="redis-server", interval=0.05)

    def stop(self) -> None:
        if self.popen is not None and self.popen.poll() is None:
            self.popen.send_signal(signal.SIGCONT)  # a paused server would not act on SIGTERM
            self.popen.terminate()
            self.popen.wait(timeout=10)
        self.popen = None

    def pause(self) -> None:
        self.popen.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.popen.send_signal(signal.SIGCONT)


@contextmanager
def redis_process() -> Iterator[RedisServer]:
    """A running RedisServer on a free port, stopped at the end."""
    server = RedisServer(free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def redis_server() -> Iterator[str]:
    """A throwaway redis-server on a free loopback port, keeping nothing on disk: its URL.
    (The machine's own Redis on 6379 is never touched.)"""
    with redis_process() as server:
        yield server.url


@contextmanager
def silent_listener() -> Iterator[str]:
    """A loopback socket that listens but never accepts or answers: connecting succeeds (the
    kernel completes the handshake into the backlog) and every reply times out. Its URL."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", free_port()))
        sock.listen(64)
        yield f"redis://127.0.0.1:{sock.getsockname()[1]}/0"


# --- nginx -------------------------------------------------------------------------------------


def _replace_all(text: str, replacements) -> str:
    for old, new in replacements:
        if old not in text:
            raise AssertionError(f"the production config no longer contains {old!r}")
        text = text.replace(old, new)
    return text


def make_certificate(directory: Path) -> Path:
    """A self-signed certificate for 127.0.0.1 and localhost, as fullchain.pem and privkey.pem."""
    directory.mkdir(parents=True, exist_ok=True)
    subprocess.run(  # noqa: S603
        [
            binary("openssl"), "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-keyout", str(directory / "privkey.pem"), "-out", str(directory / "fullchain.pem"),
            "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return directory


def mapped_nginx_conf(work: Path, *, http_port: int, https_port: int, app_ports: tuple[int, int], changes=()) -> Path:
    """The production nginx.conf with loopback ports, test certificates and files in `work`;
    `changes`, more (old, new) replacements (the bench raises the rate limits), must match too."""
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
            *changes,
        ],
    )
    # nginx's temporary files in the work directory, so it also runs without root.
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
    return subprocess.run(  # noqa: S603
        [binary("nginx"), "-t", "-p", str(work), "-c", str(conf), "-e", str(work / "nginx-error.log")],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def start_nginx(work: Path, conf: Path, https_port: int) -> Process:
    """nginx running `conf` (checked with nginx -t first), once it answers on https_port."""
    checked = nginx_test(conf, work)
    if checked.returncode != 0:
        raise RuntimeError(f"nginx -t failed: {checked.stderr}")
    args = [binary("nginx"), "-p", str(work), "-c", str(conf), "-e", str(work / "nginx-error.log"), "-g", "daemon off;"]
    process = start("nginx", args, log=work / "nginx.log")
    try:
        url, cafile = f"https://127.0.0.1:{https_port}/health", work / "certs" / "fullchain.pem"
        wait_until(lambda: request(url, cafile=cafile).status == 200, timeout=30, what="nginx", process=process)
    except BaseException:
        process.stop()
        raise
    return process


# --- Prometheus --------------------------------------------------------------------------------


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


def prometheus_query(port: int, expr: str) -> list[dict]:
    url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    with urllib.request.urlopen(url, timeout=10) as response:
        payload = json.load(response)
    if payload["status"] != "success":
        raise AssertionError(f"{expr!r}: {payload}")
    return payload["data"]["result"]


def start_prometheus(work: Path, port: int, app_ports: tuple[int, int]) -> Process:
    """Prometheus with the production config, once it has scraped both instances."""
    conf = mapped_prometheus_conf(work / "prometheus", port=port, app_ports=app_ports)
    args = [
        binary("prometheus"),
        f"--config.file={conf}",
        f"--storage.tsdb.path={work / 'prometheus' / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--log.level=warn",
    ]
    process = start("prometheus", args, log=work / "prometheus.log")
    try:
        wait_until(
            lambda: len(prometheus_query(port, 'up{job="fithub"} == 1')) == 2,
            timeout=60, what="prometheus scraping both instances", process=process,
        )  # fmt: skip
    except BaseException:
        process.stop()
        raise
    return process


# --- the production shape: two instances behind nginx --------------------------------------------


@dataclass
class Stack:
    work: Path
    app_ports: tuple[int, int]
    http_port: int
    https_port: int
    prometheus_port: int | None
    processes: list[Process] = field(default_factory=list)

    @property
    def cafile(self) -> Path:
        return self.work / "certs" / "fullchain.pem"

    @property
    def instances(self) -> list[Process]:
        return self.processes[:2]

    def app_url(self, index: int, path: str) -> str:
        return f"http://127.0.0.1:{self.app_ports[index]}{path}"

    def https_url(self, path: str) -> str:
        return f"https://127.0.0.1:{self.https_port}{path}"

    def access_log_path(self, index: int) -> Path:
        return self.work / f"app{index + 1}-access.log"

    def access_log(self, index: int) -> list[dict]:
        return json_lines(self.access_log_path(index))

    def stop(self) -> None:
        stop_all(self.processes)


def start_stack(work: Path, env: dict, *, workers: int = 3, nginx_changes=(), prometheus: bool = True) -> Stack:
    """Two FitHub instances (app1, app2: `workers` each, `env` plus what being behind nginx
    needs) on the database in env's DATABASE_URL, nginx in front of them over HTTPS and, with
    `prometheus`, Prometheus scraping each one. Everything stops when one fails to start."""
    work.mkdir(parents=True, exist_ok=True)
    work.chmod(0o755)  # nginx's workers (nobody, under a root master) reach their files in it
    taken: set[int] = set()
    app_ports = (free_port(taken), free_port(taken))
    stack = Stack(work, app_ports, free_port(taken), free_port(taken), free_port(taken) if prometheus else None)
    instance_env = {**env, "NUM_PROXIES": "1", "BEHIND_TLS_PROXY": "1"}
    try:
        for index, port in enumerate(app_ports):
            stack.processes.append(start_gunicorn(f"app{index + 1}", port, work, instance_env, workers=workers))
        make_certificate(work / "certs")
        conf = mapped_nginx_conf(
            work, http_port=stack.http_port, https_port=stack.https_port, app_ports=app_ports, changes=nginx_changes
        )
        stack.processes.append(start_nginx(work, conf, stack.https_port))
        if prometheus:
            stack.processes.append(start_prometheus(work, stack.prometheus_port, app_ports))
    except BaseException:
        stack.stop()
        raise
    return stack


if __name__ == "__main__":
    # harness/with-postgres.sh: `python3 harness/servers.py free-port [TAKEN...]`
    if sys.argv[1:2] != ["free-port"]:
        sys.exit("usage: servers.py free-port [TAKEN_PORT...]")
    print(free_port({int(port) for port in sys.argv[2:]}))
