# ruff: noqa: S311 - load generation picks operations at random, not for security
"""`make chaos`: the fault matrix on the production shape, on loopback.

    FITHUB_PG_DURABLE=1 harness/with-postgres.sh uv run python -m harness.chaos [--json out.json]
        [--faults replica_kill,primary_stop] [--users 5]

Builds what production runs from the project's own configs (harness.servers.start_stack: two
gunicorn instances, the production nginx.conf mapped to loopback, Prometheus with the
production prometheus.yml, Redis as the shared cache) on the PostgreSQL primary and replica
of harness/with-postgres.sh, which must run with fsync and synchronous_commit on
(FITHUB_PG_DURABLE=1): otherwise an immediate stop can lose an acknowledged commit and the
data check would blame the app for the harness's shortcut. It refuses to run otherwise.

A bounded mixed load runs through nginx the whole time: a few virtual users, each on one
keep-alive HTTPS connection. Writers list their diary and measurements and record
measurements with a client-chosen id and an Idempotency-Key, retrying a failed write with
the same key, id and body (after min(Retry-After, 1 s)) as a phone would; readers only read
(so their reads go to the replica: a writer's reads are pinned to the primary); both refresh
their tokens and log in now and then. Then, one at a time, each fault of FAULTS: a few
seconds of load, the fault for a few seconds, the repair, then the load until the system is
healthy again (bounded) and every write of the phase is acknowledged or given up.

Per fault it reports the requests and their statuses, the 5xx, the slowest request, the
time the repair took (a server's start), the recovery time (from the repair's end until
requests succeed again and the fault's own health condition holds: the replica serves reads
again on both instances, the restarted instance takes traffic, ...), the data
check (every acknowledged write present exactly once in the primary, queried directly) and
the metric that should move in Prometheus. It fails (exit 1) on any 5xx other than a fast
503 with Retry-After or nginx's 502 for a POST that was in flight on a process at the instant
it was SIGKILLed, or a response that kill cut short (nginx must not retry a POST, nor what it
has begun to relay; counted apart as "502 cut", and the client's
retry with the same Idempotency-Key must be stored once), a request with no answer, a 4xx
the load did not expect, a lost or doubled write, a recovery over RECOVERY_BOUND seconds,
or a metric that did not move. The recovery bound is a correctness bound, not a performance
figure: the figures are reported.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import signal
import ssl
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from harness import servers
from harness.servers import PostgresServer, Stack, gunicorn_workers, production_env, request, wait_until

RECOVERY_BOUND = 10.0  # seconds from the repair until requests succeed again
# How long a phase waits for recovery before it gives up: past the bound, so that a slow
# recovery is measured and reported, not only failed.
OBSERVE_AFTER = 35.0
FAST_503_SECONDS = 2.0  # a 503 with Retry-After answered within this is the allowed "fast 503"
BEFORE_SECONDS = 3.0  # load before each fault
AFTER_SECONDS = 2.0  # load after recovery, to see it holds
WRITE_GIVE_UP_SECONDS = 30.0  # a keyed write is retried this long
REQUEST_TIMEOUT = 10.0
THINK_SECONDS = 0.03
WORKERS = 2  # per instance: the machine has two cores
PASSWORD = "chaos-load-passphrase-1"  # noqa: S105 - throwaway users of a throwaway database
HIGH = "1000000000/min"
# The load comes from one address: nginx's per-IP limits raised in the chaos copy only (as the
# bench does); the limit_req lookups stay.
NGINX_RATE_CHANGES = (
    ("zone=api:10m rate=20r/s", "zone=api:10m rate=100000r/s"),
    ("zone=token:10m rate=10r/m", "zone=token:10m rate=100000r/s"),
)
# Per 100 operations. Logins cost a password hash (a large share of a core): rare.
WRITER_MIX = {"diary": 30, "measurements": 25, "write": 38, "refresh": 6, "login": 0.4}
READER_MIX = {"diary": 50, "measurements": 43, "refresh": 6, "login": 0.4}


def log(message: str) -> None:
    print(f"[chaos {time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- what the load saw ---------------------------------------------------------------------------


@dataclass
class Sample:
    """One request of the load: when, what, and what came back (status None: no answer)."""

    phase: str
    op: str
    start: float  # monotonic
    end: float
    status: int | None
    retry_after: bool = False
    expected: bool = False  # a 4xx the client expected (a refresh token spent by a lost answer)
    error: str = ""

    @property
    def seconds(self) -> float:
        return self.end - self.start


# Operations nginx must not retry on the other instance (a POST): one in flight on a process
# at the instant it is SIGKILLed can only be answered with nginx's 502 (its retry, with the same
# Idempotency-Key, is the client's). GETs are retried by nginx and must never see it. A response
# nginx had begun to relay when its process died is cut short whatever the method: once bytes
# reached the client nothing can be retried (http.client's IncompleteRead).
NOT_RETRIED_BY_NGINX = {"write", "login", "refresh"}


def classify(sample: Sample, kills: tuple[tuple[float, float], ...] = ()) -> str:
    """2xx; 4xx_expected; 4xx; 503_fast (with Retry-After, answered quickly: allowed); 502_cut (a
    POST in flight when its worker was SIGKILLed, or a response cut short by that kill: allowed,
    reported); 5xx; no_answer."""
    during_a_kill = any(sample.start <= gone and sample.end >= sent for sent, gone in kills)
    if sample.status is None:
        return "502_cut" if during_a_kill and sample.error.startswith("IncompleteRead") else "no_answer"
    if 200 <= sample.status < 300:
        return "2xx"
    if 400 <= sample.status < 500:
        return "4xx_expected" if sample.expected else "4xx"
    if sample.status == 503 and sample.retry_after and sample.seconds <= FAST_503_SECONDS:
        return "503_fast"
    if sample.status == 502 and sample.op in NOT_RETRIED_BY_NGINX and during_a_kill:
        return "502_cut"
    return "5xx" if sample.status >= 500 else "other"


SUCCEEDED = {"2xx", "4xx_expected"}
FAILING = {"4xx", "5xx", "no_answer", "other"}  # classes that fail the matrix wherever they appear


def recovery_seconds(samples: list[Sample], repaired: float, healthy: float | None) -> float | None:
    """From the repair until the last request that did not succeed ended and the fault's
    health condition held (None: it never held within the observation)."""
    if healthy is None:
        return None
    last_bad = max((s.end for s in samples if classify(s) not in SUCCEEDED and s.end > repaired), default=repaired)
    return round(max(healthy, last_bad) - repaired, 2)


@dataclass
class Write:
    """A keyed write: its client id, the phase it began in, and whether it was acknowledged."""

    id: str
    phase: str
    note: str
    acked: bool = False
    gave_up: bool = False
    attempts: int = 0


def data_check(writes: list[Write], rows: list[tuple[str, str]]) -> dict:
    """`rows` (id, note) of the run in the primary against the writes the load made. Lost: an
    acknowledged write whose row is missing (or has another id). Doubled: a write stored more
    than once, or a row no write made."""
    by_note = Counter(note for _, note in rows)
    stored = set(rows)
    known = {write.note for write in writes}
    lost = [w.id for w in writes if w.acked and (w.id, w.note) not in stored]
    doubled = [note for note, count in by_note.items() if count > 1] + [note for note in by_note if note not in known]
    return {
        "writes": len(writes),
        "acknowledged": sum(w.acked for w in writes),
        "unacknowledged_stored": sum(1 for w in writes if not w.acked and by_note[w.note]),
        "gave_up": sum(w.gave_up for w in writes),
        "lost": len(lost),
        "doubled": len(doubled),
        "lost_ids": lost[:20],
        "doubled_notes": doubled[:20],
    }


# --- the load ---------------------------------------------------------------------------------------


class Connection:
    """One keep-alive HTTPS connection to nginx, as a phone keeps one."""

    def __init__(self, port: int, cafile: Path) -> None:
        self.port, self.context = port, ssl.create_default_context(cafile=str(cafile))
        self.conn: http.client.HTTPSConnection | None = None

    def call(self, method: str, path: str, body=None, headers=None) -> tuple[int, http.client.HTTPMessage, bytes]:
        data = json.dumps(body).encode() if body is not None else None
        all_headers = {"Accept": "application/json", **(headers or {})}
        if data is not None:
            all_headers["Content-Type"] = "application/json"
        for attempt in (1, 2):
            reused = self.conn is not None
            if self.conn is None:
                self.conn = http.client.HTTPSConnection(
                    "127.0.0.1", self.port, context=self.context, timeout=REQUEST_TIMEOUT
                )
            try:
                self.conn.request(method, path, body=data, headers=all_headers)
                response = self.conn.getresponse()
                payload = response.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self.close()
                # nginx closed an idle keep-alive connection before reading this request: send
                # it again on a new one, as every HTTP client does. Not twice.
                if reused and attempt == 1:
                    continue
                raise
            except Exception:
                self.close()
                raise
            if response.getheader("Connection", "").lower() == "close":
                self.close()
            return response.status, response.headers, payload
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
        self.conn = None


class Load:
    """The virtual users' threads, and everything they saw."""

    def __init__(self, stack: Stack, users: list[dict]) -> None:
        self.stack, self.users = stack, users
        self.phase = "warm-up"
        self.samples: list[Sample] = []
        self.writes: list[Write] = []
        self.run_id = uuid.uuid4().hex[:8]
        self.stop = threading.Event()
        self.threads = [
            threading.Thread(target=self._user, args=(index, user), name=f"user-{index}", daemon=True)
            for index, user in enumerate(users)
        ]

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def finish(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=WRITE_GIVE_UP_SECONDS + REQUEST_TIMEOUT)

    def pending_writes(self, phase: str) -> int:
        return sum(1 for w in self.writes if w.phase == phase and not w.acked and not w.gave_up)

    # one request, recorded
    def _call(self, conn: Connection, op: str, method: str, path: str, body=None, headers=None, expect_401=False):
        phase, started = self.phase, time.monotonic()
        status, answer_headers, payload, error = None, None, b"", ""
        try:
            status, answer_headers, payload = conn.call(method, path, body, headers)
        except (OSError, http.client.HTTPException) as exc:
            error = f"{exc.__class__.__name__}: {exc}"[:200]
        if status is not None and status >= 400:
            error = payload[:200].decode(errors="replace")
        sample = Sample(
            phase, op, started, time.monotonic(), status,
            retry_after=bool(answer_headers and answer_headers.get("Retry-After")),
            expected=expect_401 and status == 401, error=error,
        )  # fmt: skip
        self.samples.append(sample)
        return sample, answer_headers, payload

    def _user(self, index: int, user: dict) -> None:
        rng = random.Random(index)
        conn = Connection(self.stack.https_port, self.stack.cafile)
        mix = WRITER_MIX if user["writer"] else READER_MIX
        ops, weights = list(mix), list(mix.values())
        refresh_uncertain = False  # a refresh got no answer: its token may be spent
        while not self.stop.is_set():
            op = rng.choices(ops, weights)[0]
            auth = {"Authorization": f"Bearer {user['access']}"}
            if op == "diary":
                self._call(conn, op, "GET", "/api/v1/diary/", headers=auth)
            elif op == "measurements":
                self._call(conn, op, "GET", "/api/v1/measurements/", headers=auth)
            elif op == "write":
                self._write(conn, rng, auth)
            elif op == "refresh":
                sample, _, payload = self._call(
                    conn, op, "POST", "/api/v1/auth/token/refresh/", body={"refresh": user["refresh"]},
                    expect_401=refresh_uncertain,
                )  # fmt: skip
                if sample.status == 200:
                    user.update(json.loads(payload))
                    refresh_uncertain = False
                elif sample.expected:
                    op = "login"  # the token was spent by the answer that was lost: log in again
                elif sample.status is None or sample.status >= 500:
                    refresh_uncertain = True
            if op == "login":
                sample, _, payload = self._call(
                    conn, "login", "POST", "/api/v1/auth/token/", body={"email": user["email"], "password": PASSWORD}
                )
                if sample.status == 200:
                    user.update(json.loads(payload))
                    refresh_uncertain = False
            self.stop.wait(THINK_SECONDS)
        conn.close()

    def _write(self, conn: Connection, rng: random.Random, auth: dict) -> None:
        write_id = str(uuid.uuid4())
        write = Write(write_id, self.phase, f"chaos {self.run_id} {write_id}")
        self.writes.append(write)
        measured_at = (datetime.now(UTC) - timedelta(minutes=rng.randint(1, 10_000))).isoformat(timespec="seconds")
        body = {"id": write_id, "type": "weight", "value": round(rng.uniform(55, 95), 1), "measured_at": measured_at}
        body["note"] = write.note
        headers = {**auth, "Idempotency-Key": write_id}
        first = time.monotonic()
        while True:
            write.attempts += 1
            sample, answer_headers, _ = self._call(conn, "write", "POST", "/api/v1/measurements/", body, headers)
            if sample.status in (200, 201):
                write.acked = True  # the data check finds it under its note, with this id
                return
            if sample.status is not None and sample.status < 500 and sample.status != 429:
                write.gave_up = True  # a 4xx is the client's fault: retrying would not help
                return
            if time.monotonic() - first > WRITE_GIVE_UP_SECONDS:
                write.gave_up = True
                return
            retry_after = answer_headers.get("Retry-After") if answer_headers else None
            self.stop.wait(min(float(retry_after), 1.0) if retry_after and retry_after.isdigit() else 0.2)


# --- the system under test ---------------------------------------------------------------------------


class System:
    """The stack, its Redis and the PostgreSQL pair, with what the faults and checks need."""

    def __init__(self, stack: Stack, cache: servers.RedisServer, instance_env: dict) -> None:
        self.stack, self.cache, self.instance_env = stack, cache, instance_env
        self.primary, self.replica = PostgresServer.primary(), PostgresServer.replica()
        self.killed: set[int] = set()  # the worker pids the worker fault killed
        # (SIGKILL sent, the processes gone), monotonic, for each kill of app processes: a
        # dying process's socket still takes connections that are then reset.
        self.kills: list[tuple[float, float]] = []

    def instance_url(self, index: int, path: str) -> str:
        return self.stack.app_url(index, path)

    def scrape(self, index: int) -> dict[tuple[str, tuple], float]:
        """The instance's /metrics: {(sample name, sorted labels): value}; {} when unreachable."""
        from prometheus_client.parser import text_string_to_metric_families

        try:
            text = request(self.instance_url(index, "/metrics"), timeout=5).body.decode()
        except OSError:
            return {}
        return {
            (sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
        }

    def total(self, index: int, name: str, **labels) -> float:
        want = set(labels.items())
        return sum(value for (key, got), value in self.scrape(index).items() if key == name and want <= set(got))

    def ready(self, index: int) -> dict | None:
        try:
            answer = request(self.instance_url(index, "/health/ready/"), timeout=5)
        except OSError:
            return None
        return answer.json() if answer.status == 200 else None

    def prometheus(self, expr: str, at: float) -> float | None:
        rows = prometheus_query_at(self.stack.prometheus_port, expr, at)
        return float(rows[0]["value"][1]) if rows else None

    def replica_sql(self, sql: str):
        import psycopg

        with psycopg.connect(replica_url(), autocommit=True, connect_timeout=5) as conn:
            return conn.execute(sql).fetchone()

    def restart_instance(self, index: int) -> None:
        name, port = f"app{index + 1}", self.stack.app_ports[index]
        self.stack.processes[index] = servers.start_gunicorn(
            name, port, self.stack.work, self.instance_env, workers=WORKERS
        )

    def kill_instance(self, index: int) -> None:
        process = self.stack.processes[index]
        workers = gunicorn_workers(process.pid)
        sent = time.monotonic()
        os.killpg(process.pid, signal.SIGKILL)
        process.popen.wait(timeout=10)
        _wait_gone(workers)
        self.kills.append((sent, time.monotonic()))


def replica_url() -> str:
    return os.environ["DATABASE_REPLICA_URLS"].split(",")[0]


def prometheus_query_at(port: int, expr: str, at: float) -> list[dict]:
    """An instant query evaluated at wall time `at`."""
    import urllib.parse
    import urllib.request

    url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": expr, "time": f"{at:.3f}"})
    with urllib.request.urlopen(url, timeout=10) as response:
        payload = json.load(response)
    if payload["status"] != "success":
        raise AssertionError(f"{expr!r}: {payload}")
    return payload["data"]["result"]


class Rising:
    """A poll's condition: true when a counter grew since the previous call (never on the first)."""

    def __init__(self, read: Callable[[], float]) -> None:
        self.read, self.last = read, None

    def __call__(self) -> bool:
        value, last = self.read(), self.last
        self.last = value
        return last is not None and self.compare(value, last)

    @staticmethod
    def compare(value: float, last: float) -> bool:
        return value > last


class Steady(Rising):
    """True when a counter did not change since the previous call (never on the first)."""

    @staticmethod
    def compare(value: float, last: float) -> bool:
        return value == last


class all_of:
    """Each check must hold; every check is called each time (a Rising keeps its last value)."""

    def __init__(self, *checks: Callable[[], bool]) -> None:
        self.checks = checks

    def __call__(self) -> bool:
        return all([check() for check in self.checks])  # noqa: C419 - call every one


# --- the faults ------------------------------------------------------------------------------------


@dataclass
class Fault:
    name: str
    what: str
    hold: float  # seconds the fault lasts before the repair
    inject: Callable[[System], None]
    repair: Callable[[System], None]
    healthy: Callable[[System], Callable[[], bool]]  # a fresh condition, polled after the repair
    metric: str  # what should move, for the report
    # PromQL ({w}: a window in seconds), each evaluated over the seconds before the fault and
    # over the fault's own: moved(before, during) must hold for each
    metric_exprs: tuple[str, ...] = ()
    moved: Callable[[float | None, float | None], bool] | None = None


def _serves_reads_from_replica(system: System) -> Callable[[], bool]:
    rising = [
        Rising(lambda index=index: system.total(index, "fithub_db_reads_total", target="replica")) for index in (0, 1)
    ]
    return all_of(*rising)


def _takes_traffic(system: System) -> Callable[[], bool]:
    rising = [Rising(lambda index=index: system.total(index, "fithub_db_reads_total")) for index in (0, 1)]
    return all_of(lambda: all(system.ready(index) is not None for index in (0, 1)), *rising)


def _replica_caught_up(system: System) -> bool:
    row = system.replica_sql("SELECT pg_last_wal_receive_lsn() <= pg_last_wal_replay_lsn()")
    return bool(row and row[0])


def _wait_gone(pids: set[int], timeout: float = 5) -> None:
    """Until none of `pids` is a live process (a killed child stays a zombie until reaped:
    that counts as gone, it holds no socket)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        alive = []
        for pid in pids:
            try:
                state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
            except (OSError, IndexError):  # gone (ENOENT, or ESRCH mid-read)
                continue
            if state != "Z":
                alive.append(pid)
        if not alive:
            return
        time.sleep(0.005)


def _kill_workers(system: System) -> None:
    """Every worker of instance 1 at once, then one of instance 2."""
    first = gunicorn_workers(system.stack.processes[0].pid)
    sent = time.monotonic()
    for pid in first:
        os.kill(pid, signal.SIGKILL)
    _wait_gone(first)
    system.kills.append((sent, time.monotonic()))
    time.sleep(1)
    second = sorted(gunicorn_workers(system.stack.processes[1].pid))[:1]
    sent = time.monotonic()
    for pid in second:
        os.kill(pid, signal.SIGKILL)
    _wait_gone(set(second))
    system.kills.append((sent, time.monotonic()))
    system.killed = first | set(second)


def _workers_back(system: System) -> Callable[[], bool]:
    def respawned() -> bool:
        for process in system.stack.instances:
            workers = gunicorn_workers(process.pid)
            if len(workers) != WORKERS or workers & system.killed:
                return False
        return True

    return all_of(respawned, _takes_traffic(system))


def _cache_back(system: System) -> Callable[[], bool]:
    steady = [Steady(lambda index=index: system.total(index, "fithub_cache_fail_open_total")) for index in (0, 1)]

    def ok() -> bool:
        return all((system.ready(index) or {}).get("cache", {}).get("ok") for index in (0, 1))

    # The instances report the cache up and have stopped deciding without it.
    return all_of(ok, *steady, *_takes_traffic(system).checks)


def _increased(before: float | None, during: float | None) -> bool:
    return (during or 0) > (before or 0)


def _dropped(before: float | None, during: float | None) -> bool:
    return before is not None and during is not None and during < before


FAULTS: dict[str, Fault] = {
    fault.name: fault
    for fault in (
        Fault(
            "replica_kill",
            "the replica's postmaster stopped (immediate), then started again",
            6,
            lambda s: s.replica.stop("immediate"),
            lambda s: s.replica.start(),
            _serves_reads_from_replica,
            "fithub_replica_up 1 -> 0",
            ('min(min_over_time(fithub_replica_up{{job="fithub"}}[{w}s]))',),
            _dropped,
        ),
        Fault(
            "instance_kill",
            "app2's gunicorn (master and workers) SIGKILLed, then started again",
            5,
            lambda s: s.kill_instance(1),
            lambda s: s.restart_instance(1),
            _takes_traffic,
            "up{instance=app2} 1 -> 0",
            ('min(min_over_time(up{{job="fithub",instance="127.0.0.1:{app2}"}}[{w}s]))',),
            _dropped,
        ),
        Fault(
            "worker_kills",
            "every worker of app1 SIGKILLed, then one of app2 (the masters respawn them)",
            2,
            _kill_workers,
            lambda s: None,
            _workers_back,
            "none expected (gunicorn respawns; no metric)",
        ),
        Fault(
            "redis_stop",
            "the shared cache's redis-server stopped, then started again (empty)",
            6,
            lambda s: s.cache.stop(),
            lambda s: s.cache.start(),
            _cache_back,
            "fithub_cache_failures_total and fithub_cache_fail_open_total rise",
            (
                'sum(increase(fithub_cache_failures_total{{job="fithub"}}[{w}s]))',
                'sum(increase(fithub_cache_fail_open_total{{job="fithub"}}[{w}s]))',
            ),
            _increased,
        ),
        Fault(
            "primary_stop",
            "the primary stopped (immediate: a crash), then started again",
            6,
            lambda s: s.primary.stop("immediate"),
            lambda s: s.primary.start(),
            _takes_traffic,
            "503 responses rise (django_http_responses_total_by_status_view_method_total{status=503})",
            (
                'sum(increase(django_http_responses_total_by_status_view_method_total{{job="fithub",status="503"}}[{w}s]))',
            ),
            _increased,
        ),
        Fault(
            "replica_pause",
            "the replica's WAL replay paused (pg_wal_replay_pause), then resumed",
            8,
            lambda s: s.replica_sql("SELECT pg_wal_replay_pause()"),
            lambda s: s.replica_sql("SELECT pg_wal_replay_resume()"),
            lambda s: all_of(lambda: _replica_caught_up(s), _serves_reads_from_replica(s)),
            "fithub_replica_lag_seconds rises",
            ('max(max_over_time(fithub_replica_lag_seconds{{job="fithub"}}[{w}s]))',),
            _increased,
        ),
    )
}


def run_fault(system: System, load: Load, fault: Fault) -> dict:
    log(f"{fault.name}: {fault.what}")
    load.phase = fault.name
    t0 = time.monotonic()
    time.sleep(BEFORE_SECONDS)
    wall_fault, t_fault = time.time(), time.monotonic()
    fault.inject(system)
    try:
        time.sleep(fault.hold)
    finally:
        wall_repair, t_repair_start = time.time(), time.monotonic()
        fault.repair(system)
    repaired = time.monotonic()
    condition = fault.healthy(system)
    healthy = None
    while time.monotonic() - repaired < OBSERVE_AFTER:
        try:
            if condition():
                healthy = time.monotonic()
                break
        except Exception as exc:  # a check against a server still starting
            log(f"  health check: {exc!r}")
        time.sleep(0.5)
    time.sleep(AFTER_SECONDS)
    # The phase's writes are all answered or given up before the next fault.
    wait_until(lambda: load.pending_writes(fault.name) == 0, timeout=WRITE_GIVE_UP_SECONDS + 15, what="writes")
    load.phase = f"after {fault.name}"
    samples = [s for s in load.samples if s.phase == fault.name]
    # From the repair's end (the server is back): how long the system takes to notice it and
    # use it again. The repair's own time (a server's start) is reported beside it.
    recovery = recovery_seconds(samples, repaired, healthy)
    metric: dict = {"what": fault.metric}
    if fault.metric_exprs:
        before_w, during_w = max(1, round(t_fault - t0)), max(1, round(wall_repair - wall_fault))
        values = []
        for template in fault.metric_exprs:
            expr = template.replace("{app2}", str(system.stack.app_ports[1]))
            before = system.prometheus(expr.format(w=before_w), wall_fault)
            during = system.prometheus(expr.format(w=during_w), wall_repair)
            values.append({"expr": expr.format(w=during_w), "before": before, "during": during})
        metric.update(values=values, moved=all(fault.moved(v["before"], v["during"]) for v in values))
    return {
        "fault": fault.name,
        "what": fault.what,
        "hold_seconds": fault.hold,
        "repair_seconds": round(repaired - t_repair_start, 2),
        "recovery_seconds": recovery,
        "samples": samples,
        "metric": metric,
        "injected_at": wall_fault,
        "t_fault": t_fault,
        "kills": [kill for kill in system.kills if kill[0] >= t_fault],
    }


def summarize(result: dict, writes: list[Write], rows: list[tuple[str, str]]) -> dict:
    samples: list[Sample] = result.pop("samples")
    t_fault = result.pop("t_fault")
    kills = tuple(result.pop("kills", ()))
    classes = Counter(classify(s, kills) for s in samples)
    statuses = Counter(str(s.status) if s.status is not None else "no answer" for s in samples)
    phase_writes = [w for w in writes if w.phase == result["fault"]]
    notes = {w.note for w in phase_writes}
    data = data_check(phase_writes, [row for row in rows if row[1] in notes])
    problems = []
    for kind in ("5xx", "other", "no_answer", "4xx"):
        if classes[kind]:
            examples = sorted({f"{s.op} {s.status} {s.error[:120]}" for s in samples if classify(s, kills) == kind})[:3]
            problems.append(f"{classes[kind]} {kind}: {'; '.join(examples)}")
    if data["lost"]:
        problems.append(f"{data['lost']} acknowledged writes lost")
    if data["doubled"]:
        problems.append(f"{data['doubled']} writes doubled")
    recovery = result["recovery_seconds"]
    if recovery is None:
        problems.append(f"not recovered within {OBSERVE_AFTER:.0f} s of the repair")
    elif recovery > RECOVERY_BOUND:
        problems.append(f"recovery {recovery} s > {RECOVERY_BOUND:.0f} s")
    if result["metric"].get("moved") is False:
        problems.append(f"metric did not move: {result['metric']['what']}")
    return {
        **result,
        "requests": len(samples),
        "statuses": dict(sorted(statuses.items())),
        "classes": dict(classes),
        "fast_503": classes["503_fast"],
        "cut_502": classes["502_cut"],
        "failing_5xx": classes["5xx"] + classes["other"],
        "no_answer": classes["no_answer"],
        "unexpected_4xx": classes["4xx"],
        # Logins hash a password (most of a second of CPU here): apart, so they hide no stall.
        "max_latency_ms": round(1000 * max((s.seconds for s in samples if s.op != "login"), default=0), 1),
        "max_login_ms": round(1000 * max((s.seconds for s in samples if s.op == "login"), default=0), 1),
        "max_ms_by_op": {
            op: round(1000 * max(s.seconds for s in samples if s.op == op), 1) for op in sorted({s.op for s in samples})
        },
        "data": data,
        # Each request that did not succeed, timed from the fault's injection.
        "failures": [
            {
                "op": s.op,
                "status": s.status,
                "at_s": round(s.start - t_fault, 3),
                "seconds": round(s.seconds, 3),
                "error": s.error[:160],
            }
            for s in samples
            if classify(s, kills) not in SUCCEEDED
        ][:40],
        "problems": problems,
        "passed": not problems,
    }


def table(results: list[dict]) -> str:
    head = ("fault", "requests", "2xx", "503 fast", "502 cut", "5xx", "no ans", "4xx", "max ms", "login ms", "repair s",
            "recovery s", "acked", "lost", "doubled", "metric", "result")  # fmt: skip
    rows = [head]
    for r in results:
        metric = r["metric"]
        moved = "n/a" if "moved" not in metric else ("moved" if metric["moved"] else "STILL")
        recovery = f"> {OBSERVE_AFTER:.0f}" if r["recovery_seconds"] is None else f"{r['recovery_seconds']:.2f}"
        rows.append((
            r["fault"], str(r["requests"]), str(r["classes"].get("2xx", 0)), str(r["fast_503"]), str(r["cut_502"]),
            str(r["failing_5xx"]), str(r["no_answer"]), str(r["unexpected_4xx"]),
            f"{r['max_latency_ms']:.0f}", f"{r['max_login_ms']:.0f}", f"{r['repair_seconds']:.2f}",
            recovery, str(r["data"]["acknowledged"]), str(r["data"]["lost"]), str(r["data"]["doubled"]), moved,
            "ok" if r["passed"] else "FAIL",
        ))  # fmt: skip
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]

    def line(row) -> str:
        cells = zip(row, widths, strict=True)
        return "  ".join(cell.rjust(w) if i else cell.ljust(w) for i, (cell, w) in enumerate(cells))

    lines = [line(row) for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    for r in results:
        for problem in r["problems"]:
            lines.append(f"{r['fault']}: {problem}")
    return "\n".join(lines)


# --- setup ---------------------------------------------------------------------------------------------


def check_durable() -> None:
    import psycopg

    wanted = ("fsync", "synchronous_commit", "full_page_writes")
    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn:
        settings = {name: conn.execute(f"SHOW {name}").fetchone()[0] for name in wanted}
    if any(value != "on" for value in settings.values()):
        sys.exit(
            f"chaos: the primary runs with {settings}: a crash may lose acknowledged commits there. "
            "Run it as `make chaos` (FITHUB_PG_DURABLE=1 harness/with-postgres.sh ...)."
        )


def app_env(cache_url: str) -> dict:
    secret = os.environ.get("CHAOS_SECRET_KEY") or "chaos-only-secret-key-of-at-least-32-bytes"
    return production_env(
        fallback_key=secret,
        SECRET_KEY=secret,  # the chaos key, whatever SECRET_KEY the caller has
        ALLOWED_HOSTS="127.0.0.1,localhost",
        LOG_FORMAT="json",
        LOG_LEVEL="WARNING",
        GUNICORN_LOG_LEVEL="warning",
        JWT_ACCESS_MINUTES="600",
        CACHE_URL=cache_url,
        **{f"THROTTLE_{name}": HIGH for name in ("ANON", "USER", "IP", "LOGIN_IP", "LOGIN_ACCOUNT", "REGISTER")},
    )


def make_users(stack: Stack, count: int) -> list[dict]:
    """`count` users (about half of them writers), registered and logged in directly on an instance."""
    users = []
    for index in range(count):
        email = f"chaos-{uuid.uuid4().hex[:10]}@example.com"
        created = request(
            stack.app_url(0, "/api/v1/auth/register/"), method="POST", body={"email": email, "password": PASSWORD}
        )
        if created.status != 201:
            raise RuntimeError(f"register: {created.status} {created.body[:300]!r}")
        login = request(
            stack.app_url(index % 2, "/api/v1/auth/token/"), method="POST", body={"email": email, "password": PASSWORD}
        )
        if login.status != 200:
            raise RuntimeError(f"login: {login.status} {login.body[:300]!r}")
        users.append({"email": email, "writer": index % 2 == 0, **login.json()})
    return users


def primary_rows(run_id: str) -> list[tuple[str, str]]:
    import psycopg

    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True, connect_timeout=10) as conn:
        rows = conn.execute(
            "SELECT id::text, note FROM measurements_measurement WHERE note LIKE %s", (f"chaos {run_id} %",)
        ).fetchall()
    return [(str(uuid.UUID(row_id)), note) for row_id, note in rows]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", type=Path, help="write the results here too")
    parser.add_argument("--faults", default=",".join(FAULTS), help=f"comma-separated, of: {', '.join(FAULTS)}")
    parser.add_argument("--users", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the servers' logs (the work directory)")
    args = parser.parse_args(argv)
    chosen = [name.strip() for name in args.faults.split(",") if name.strip()]
    unknown = set(chosen) - set(FAULTS)
    if unknown:
        parser.error(f"unknown faults: {', '.join(sorted(unknown))}")
    if not os.environ.get("DATABASE_URL", "").startswith("postgres") or "FITHUB_PG_WORKDIR" not in os.environ:
        sys.exit("chaos: run it under harness/with-postgres.sh (make chaos)")
    check_durable()
    started = time.monotonic()
    servers.ensure_tools()
    work = Path(tempfile.mkdtemp(prefix="fithub-chaos-"))
    work.chmod(0o755)
    cache = servers.RedisServer(servers.free_port())
    cache.start()
    stack = None
    load = None
    results = []
    try:
        env = app_env(cache.url)
        log("migrate")
        servers.manage(env, "migrate", "--no-input", "-v", "0")
        log(f"the stack: 2 instances x {WORKERS} workers, nginx, Prometheus, Redis ({work})")
        stack = servers.start_stack(work / "stack", env, workers=WORKERS, nginx_changes=NGINX_RATE_CHANGES)
        system = System(stack, cache, {**env, "NUM_PROXIES": "1", "BEHIND_TLS_PROXY": "1"})
        load = Load(stack, make_users(stack, args.users))
        load.start()
        time.sleep(2)
        for name in chosen:
            results.append(run_fault(system, load, FAULTS[name]))
            if not wait_healthy(system):
                log("the stack did not come back whole: the remaining faults are skipped")
                break
        load.finish()
        rows = primary_rows(load.run_id)
        summaries = [summarize(result, load.writes, rows) for result in results]
        overall = data_check(load.writes, rows)  # also rows no write of the load made
        between = [s for s in load.samples if s.phase.startswith(("after ", "warm-up"))]
        between_bad = Counter(classify(s) for s in between if classify(s) in FAILING)
    finally:
        if load is not None:
            load.stop.set()
        if stack is not None:
            stack.stop()
        cache.stop()
        if args.keep:
            log(f"logs kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    report = {
        "recovery_bound_seconds": RECOVERY_BOUND,
        "fast_503_seconds": FAST_503_SECONDS,
        "users": args.users,
        "instances": 2,
        "workers_per_instance": WORKERS,
        "seconds": round(time.monotonic() - started, 1),
        "between_faults_failures": dict(between_bad),
        "data": overall,
        "faults": summaries,
        "passed": all(s["passed"] for s in summaries)
        and not between_bad
        and not overall["lost"]
        and not overall["doubled"]
        and len(summaries) == len(chosen),
    }
    print(table(summaries))
    if between_bad:
        print(f"between faults: {dict(between_bad)}")
    print(
        f"data: {overall['acknowledged']} of {overall['writes']} keyed writes acknowledged, "
        f"{overall['lost']} lost, {overall['doubled']} doubled (primary, queried directly)"
    )
    print(f"chaos: {'passed' if report['passed'] else 'FAILED'} in {report['seconds']} s")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, default=str) + "\n")
    return 0 if report["passed"] else 1


def wait_healthy(system: System) -> bool:
    """Both instances ready with the replica and the cache up, before the next fault."""

    def whole() -> bool:
        states = [system.ready(index) for index in (0, 1)]
        return all(
            state and state["status"] == "ok" and all(replica["ok"] for replica in state["replicas"])
            for state in states
        )

    try:
        wait_until(whole, timeout=30, what="the stack whole", interval=0.5)
    except TimeoutError:
        return False
    return True


if __name__ == "__main__":
    sys.exit(main())
