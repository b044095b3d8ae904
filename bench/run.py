# ruff: noqa: S603, S310 - benchmark tooling: constant SQL identifiers, our own commands, loopback URLs
"""`make bench`: data, the servers on loopback, wrk against them, results files.

    harness/with-postgres.sh uv run python -m bench.run [--users N] [--scale 10] [--duration 15]
        [--phases direct,stack]

Runs against the PostgreSQL primary + replica in DATABASE_URL / DATABASE_REPLICA_URLS
(with-postgres.sh starts throwaway ones). Steps: migrate, load the USDA foods, generate the
data (bench/generate.py), then the phases:

direct: FitHub (gunicorn, fithub/ops/gunicorn_conf.py, --workers sync workers, reads on the
    replica) against the floor (bench/floor.py, same gunicorn settings, reading the replica
    too), no nginx: log --login-users users in once over HTTP, run wrk (`-t2 -c16` by
    default, bench/load.lua) per endpoint on each server; then the diary list and the day
    summary on FitHub again at --rate-fraction (70%) of their peak rate.
stack: the production shape on loopback: two FitHub instances (--stack-workers sync workers
    each, Redis as the shared cache) behind nginx running the production nginx/nginx.conf
    mapped to loopback (harness.servers.mapped_nginx_conf; HTTPS with a self-signed
    certificate), its limit_req rates raised in the bench's copy only. wrk drives a "mobile
    day" mix through it (bench/mix.lua, weights in MIX), closed loop (the peak), then at
    --rate-fraction of that peak; per-endpoint latencies come from nginx's JSON access log.

A run at a fraction of the peak: the same wrk (same connections) paced by wrk's Lua
`delay()` (bench/wrk_common.lua): each thread sends on a Poisson schedule at its share of the
target rate, a connection waiting for the next slot. One short calibration run at the target
measures the rate achieved; a shortfall is made up in the measured run's pace unless the
calibration run found the server slowed down (see at_fraction). The achieved rate is reported as a % of the
peak.

Results: bench/results/<date>.json and .md.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
sys.path.insert(0, str(ROOT))

from harness.servers import (  # noqa: E402
    Process,
    ensure_tools,
    free_port,
    make_certificate,
    mapped_nginx_conf,
    nginx_test,
    redis_server,
    request,
    start,
    wait_until,
)
from harness.servers import binary as _binary  # noqa: E402


def nginx_binary() -> str:
    return _binary("nginx")


PASSWORD = "bench-password-1"  # noqa: S105 - bench/generate.py's throwaway password
HIGH = "1000000000/min"
PHASES = ("direct", "stack")
# The mobile day, per 1,000 requests: the day's summary on every app open, the diary, food
# search (type-ahead) then logging a food, a weight now and then, the weight trend and the
# goal's progress, token refreshes (15-minute access tokens) and 1 login in 200 (Argon2, ~0.16 s
# of CPU each by design).
MIX = {
    "summary": 370,
    "diary": 150,
    "search": 150,
    "log_food": 120,
    "weight": 40,
    "trend": 60,
    "progress": 60,
    "refresh": 45,
    "login": 5,
}
SEARCH_WORDS = (
    "chicken", "apple", "rice", "cheese", "yogurt", "bread", "egg", "banana",
    "salmon", "oat", "milk", "pasta", "potato", "broccoli", "tomato", "beef",
)  # fmt: skip
# Refresh tokens per mix run to seed its refreshes (each works once; see bench/mix.lua): at
# most this many, and a quarter of the mix's users, so the four runs never reuse one.
REFRESH_SEED = 32
# nginx's per-IP limit_req would cap a load test coming from one address at 20 req/s (and
# logins at 10/min): the bench's mapped copy raises the rates; the limit_req lookups stay.
NGINX_RATE_CHANGES = (
    ("zone=api:10m rate=20r/s", "zone=api:10m rate=100000r/s"),
    ("zone=token:10m rate=10r/m", "zone=token:10m rate=100000r/s"),
)
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def django_env(work: Path) -> dict:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="fithub.settings",
        DEBUG="0",
        SECRET_KEY=env.get("SECRET_KEY") or "bench-only-secret-key-of-at-least-32-bytes",
        ALLOWED_HOSTS="127.0.0.1,localhost,testserver",
        JWT_ACCESS_MINUTES="600",
        LOG_LEVEL="WARNING",
        GUNICORN_LOG_LEVEL="warning",
        # Throttles would cap the load: out of the way.
        **{f"THROTTLE_{name}": HIGH for name in ("ANON", "USER", "IP", "LOGIN_IP", "LOGIN_ACCOUNT", "REGISTER")},
    )
    return env


def manage(env: dict, *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True)


def ensure_wrk() -> str:
    path = shutil.which("wrk")
    if path:
        return path
    log("installing wrk with apt-get")
    root = [] if os.geteuid() == 0 else ["sudo"]
    subprocess.run([*root, "apt-get", "update", "-qq"], check=True)
    subprocess.run(
        [*root, "env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "install", "-y", "-qq", "wrk"], check=True
    )
    return shutil.which("wrk") or "/usr/bin/wrk"


def start_gunicorn(name: str, app: str, port: int, env: dict, work: Path, workers: int) -> Process:
    env = dict(env, GUNICORN_BIND=f"127.0.0.1:{port}", GUNICORN_WORKERS=str(workers), GUNICORN_PROC_NAME=name)
    env["PROMETHEUS_MULTIPROC_DIR"] = str(work / f"prometheus-{port}")
    env["GUNICORN_ACCESS_LOG"] = str(work / f"{name}-access.log")
    command = [sys.executable, "-m", "gunicorn", "-c", "fithub/ops/gunicorn_conf.py", app]
    return start(name, command, log=work / f"{name}.log", env=env)


def wait_http(url: str, process: Process, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.popen.poll() is not None:
            raise RuntimeError(f"{process.name} for {url} exited: {process.log.read_text()[-3000:]}")
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except urllib.error.HTTPError:
            return  # answering (401/404 is fine)
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(url)


def stop_all(processes: list[Process]) -> None:
    for process in reversed(processes):
        try:
            process.stop()
        except Exception as exc:  # keep stopping the others
            log(f"stopping {process.name}: {exc!r}")


def login(base: str, email: str) -> str:
    login_request = urllib.request.Request(
        f"{base}/api/v1/auth/token/",
        data=json.dumps({"email": email, "password": PASSWORD}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(login_request, timeout=30) as response:
        return json.loads(response.read())["access"]


def run_wrk(binary: str, url: str, script: str, env: dict, *, threads: int, connections: int, duration: int) -> dict:
    command = [binary, f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency", "-s", str(BENCH / script)]
    output = subprocess.run(
        [*command, url], env=dict(os.environ, **env), capture_output=True, text=True, check=True, timeout=duration + 60
    )
    line = next(line for line in output.stdout.splitlines() if line.startswith("BENCH_JSON "))
    result = json.loads(line.removeprefix("BENCH_JSON "))
    result["rps"] = round(result["requests"] / (result["duration_us"] / 1e6), 1)
    # The machine is shared: a high load average means other work competed for the cores.
    result["loadavg_1m_after"] = round(os.getloadavg()[0], 2)
    return result


def wrk(
    binary: str, base: str, paths: list[str], tokens: Path, args: argparse.Namespace, *, rate: float = 0,
    duration: int | None = None,
) -> dict:  # fmt: skip
    env = {"BENCH_TOKENS": str(tokens), "BENCH_PATHS": "|".join(paths), "BENCH_THREADS": str(args.threads)}
    if rate:
        env["BENCH_RATE"] = f"{rate:.3f}"
    return run_wrk(
        binary, base, "load.lua", env, threads=args.threads, connections=args.connections,
        duration=duration or args.duration,
    )  # fmt: skip


def at_fraction(run: Callable[[float, int], dict], peak: dict, fraction: float, duration: int) -> dict:
    """`run(rate, duration)` again at `fraction` of the peak's rate: a short calibration run paced
    at the target, then the measured run. Pacing does not exceed the target on average; it falls
    short when every connection of a wrk thread is busy at once. A shortfall beyond the noise of
    a short run (5%) is made up (pace x target/achieved, at most x1.2) only if the calibration run
    was not slowed down (mean latency under 3/4 of the peak's): near the peak's latency at 70% of
    its rate, the server was slower than at the peak (other work on the machine), and pacing
    harder would overshoot once it is not. Returns the measured run's result with the target and the calibration."""
    target = peak["rps"] * fraction
    calibration = run(target, max(5, duration // 2))
    shortfall = target / max(calibration["rps"], 0.1)
    slowed = calibration["mean_ms"] >= peak["mean_ms"] * 0.75
    corrected = shortfall > 1.05 and not slowed
    pace = target * min(1.2, shortfall) if corrected else target
    result = run(pace, duration)
    result.update(
        fraction=fraction,
        peak_rps=peak["rps"],
        target_rps=round(target, 1),
        paced_rps=round(pace, 1),
        pct_of_peak=round(100 * result["rps"] / peak["rps"], 1),
        calibration={
            "paced_rps": round(target, 1),
            "rps": calibration["rps"],
            "pct_of_peak": round(100 * calibration["rps"] / peak["rps"], 1),
            "mean_ms": calibration["mean_ms"],
            "slowed": slowed,
            "corrected": corrected,
        },
    )
    return result


def summary_line(r: dict) -> str:
    line = f"{r['rps']} req/s, p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms, non-2xx {r['non_2xx']}"
    if "pct_of_peak" in r:
        line += f", {r['pct_of_peak']}% of the peak (target {r['target_rps']} req/s, paced at {r['paced_rps']})"
    return line


# --- direct: FitHub against the floor, one gunicorn each, no nginx ----------------------------


def direct_phase(args: argparse.Namespace, env: dict, work: Path, wrk_binary: str) -> dict:
    replica = (os.environ.get("DATABASE_REPLICA_URLS") or "").split(",")[0]
    floor_env = dict(env, FLOOR_DATABASE_URL=replica or env["DATABASE_URL"])
    taken: set[int] = set()
    fithub_port, floor_port = free_port(taken), free_port(taken)
    processes: list[Process] = []
    try:
        log(f"starting FitHub on :{fithub_port} and the floor on :{floor_port} ({args.workers} workers each)")
        processes.append(start_gunicorn("fithub", "fithub.wsgi", fithub_port, env, work, args.workers))
        processes.append(start_gunicorn("floor", "bench.floor:app", floor_port, floor_env, work, args.workers))
        fithub, floor = f"http://127.0.0.1:{fithub_port}", f"http://127.0.0.1:{floor_port}"
        wait_http(f"{fithub}/health/live/", processes[0])
        wait_http(f"{floor}/", processes[1])

        count = min(args.login_users, args.users)
        log(f"logging {count} users in once (a password hash each)")
        tokens = [login(fithub, f"bench{n}@bench.example") for n in range(1, count + 1)]
        token_file = work / "tokens.txt"
        token_file.write_text("\n".join(tokens) + "\n")
        long_tokens = work / "long-tokens.txt"
        if args.long_users:
            log(f"logging the {args.long_users} users with {args.long_years} years of history in")
            long = [login(fithub, f"long{n}@bench.example") for n in range(1, args.long_users + 1)]
            long_tokens.write_text("\n".join(long) + "\n")

        today = datetime.now(UTC).date()
        week = today - timedelta(days=6)
        scenarios = {
            "diary_list": (["/api/v1/diary/"], True),
            "day_summary": ([f"/api/v1/diary/summary/?start={today}&end={today}"], True),
            "week_summary": ([f"/api/v1/diary/summary/?start={week}&end={today}"], True),
            "food_search": ([f"/api/v1/foods/?search={q}" for q in ("chicken", "apple", "rice", "cheese")], False),
        }
        if args.long_users:
            scenarios[f"diary_list_{args.long_years}y"] = scenarios["diary_list"]
            scenarios[f"day_summary_{args.long_years}y"] = scenarios["day_summary"]
        load = {}
        for name, (paths, with_floor) in scenarios.items():
            tokens_for = long_tokens if name.endswith(f"_{args.long_years}y") else token_file
            load[name] = {}
            for server, base in (("fithub", fithub), ("floor", floor)) if with_floor else (("fithub", fithub),):
                # a short warm-up so first-request costs (imports, connections) are not measured
                subprocess.run([wrk_binary, "-t1", "-c2", "-d2s", base + paths[0]], capture_output=True, check=False)
                log(f"wrk {name} on {server}")
                load[name][server] = wrk(wrk_binary, base, paths, tokens_for, args)
                log("  " + summary_line(load[name][server]))

        # The search target is a latency one: one client typing, nothing queued in front of it.
        search_paths = scenarios["food_search"][0]
        log("wrk food_search on fithub, one client")
        alone = run_wrk(
            wrk_binary, fithub, "load.lua",
            {"BENCH_TOKENS": str(token_file), "BENCH_PATHS": "|".join(search_paths), "BENCH_THREADS": "1"},
            threads=1, connections=1, duration=args.duration,
        )  # fmt: skip
        log("  " + summary_line(alone))

        rated = {}
        if args.rate_fraction:
            for name in ("diary_list", "day_summary"):
                paths, peak = scenarios[name][0], load[name]["fithub"]
                log(f"wrk {name} on fithub at {args.rate_fraction:.0%} of its peak ({peak['rps']} req/s)")

                def run(rate: float, duration: int, paths=paths) -> dict:
                    result = wrk(wrk_binary, fithub, paths, token_file, args, rate=rate, duration=duration)
                    log(f"  paced at {rate:.1f} req/s: " + summary_line(result))
                    return result

                rated[name] = at_fraction(run, peak, args.rate_fraction, args.duration)
                log("  " + summary_line(rated[name]))
    finally:
        stop_all(processes)
    return {"load": load, "rated": rated, "search_alone": alone}


# --- stack: nginx in front of two instances, the mobile-day mix ------------------------------


def raise_rate_limits(conf: Path) -> list[str]:
    """Raise the limit_req rates in the bench's copy of nginx.conf; every one must be found."""
    text = conf.read_text()
    changes = []
    for old, new in NGINX_RATE_CHANGES:
        if old not in text:
            raise RuntimeError(f"nginx/nginx.conf no longer contains {old!r}: update NGINX_RATE_CHANGES")
        text = text.replace(old, new)
        changes.append(f"limit_req_zone {old} -> {new}")
    conf.write_text(text)
    return changes


def route(method: str, uri: str) -> str:
    """An endpoint: the method and the path without its query, ids as {id}."""
    path = UUID.sub("{id}", uri.split("?", 1)[0])
    return f"{method} {re.sub(r'/[0-9]+(?=/|$)', '/{id}', path)}"


def log_size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


def json_lines(path: Path, offset: int) -> list[dict]:
    """The JSON lines of an access log (nginx's, gunicorn's) written after `offset` bytes."""
    if not path.exists():
        return []
    with path.open("rb") as handle:
        handle.seek(offset)
        text = handle.read().decode(errors="replace")
    rows = []
    for line in text.splitlines():
        if line.startswith("{"):
            try:
                rows.append(json.loads(line))
            except ValueError:
                continue
    return rows


def percentile(ordered: list[float], pct: float) -> float | None:
    if not ordered:
        return None
    return ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)]


def upstream_ms(row: dict) -> float | None:
    """$upstream_response_time: "0.012", "0.010, 0.004" (retried) or "-"; summed, in ms."""
    parts = [p.strip() for p in str(row.get("upstream_duration_s", "")).replace(":", ",").split(",")]
    values = [float(p) for p in parts if re.fullmatch(r"[0-9.]+", p)]
    return sum(values) * 1000 if values else None


def endpoint_stats(rows: list[dict], app_rows: list[dict]) -> dict:
    """Per endpoint: count, share, statuses and time percentiles (ms) from nginx's log: the whole
    request ($request_time, millisecond resolution) and the upstream's ($upstream_response_time:
    waiting for a free gunicorn worker included); from gunicorn's logs (`app_rows`), the time a
    worker spent on it. 499 (the client closed: wrk stopping with requests in flight) is counted
    apart from the non-2xx."""
    groups: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        groups[route(row.get("method", "?"), row.get("uri", "?"))].append(row)
    app_times: dict[str, list[float]] = defaultdict(list)
    for row in app_rows:
        if isinstance(row.get("duration_ms"), int | float):
            app_times[route(row.get("method", "?"), row.get("path") or "?")].append(row["duration_ms"])
    stats = {}
    for name, items in sorted(groups.items(), key=lambda item: -len(item[1])):
        times = sorted(float(row["duration_s"]) * 1000 for row in items)
        upstream = sorted(v for v in (upstream_ms(row) for row in items) if v is not None)
        app = sorted(app_times.get(name, []))
        statuses = Counter(str(row.get("status")) for row in items)
        stats[name] = {
            "count": len(items),
            "share_pct": round(100 * len(items) / len(rows), 1),
            **{f"p{p}_ms": percentile(times, p) for p in (50, 95, 99)},
            "max_ms": times[-1],
            "upstream_p50_ms": percentile(upstream, 50),
            "upstream_p99_ms": percentile(upstream, 99),
            "app_p50_ms": percentile(app, 50),
            "app_p99_ms": percentile(app, 99),
            "non_2xx": sum(n for status, n in statuses.items() if not status.startswith("2") and status != "499"),
            "client_closed_499": statuses.get("499", 0),
            "statuses": dict(sorted(statuses.items())),
        }
    return stats


def start_stack(
    args: argparse.Namespace, env: dict, work: Path, processes: list[Process], cache_url: str
) -> tuple[str, dict]:
    """Two FitHub instances sharing the Redis at cache_url, and nginx, on loopback; the HTTPS
    base URL and what was set up."""
    if not all(shutil.which(tool) or Path("/usr/sbin", tool).exists() for tool in ("nginx", "openssl", "redis-server")):
        log("installing the servers the stack needs (harness/ensure-tools.sh, apt-get)")
        ensure_tools()
    work.chmod(0o755)  # nginx's workers (nobody, under a root master) reach their temp dir in it
    taken: set[int] = set()
    app_ports = (free_port(taken), free_port(taken))
    http_port, https_port = free_port(taken), free_port(taken)

    # As in production: Redis is the shared cache (throttle counters, read-your-writes pins).
    stack_env = dict(env, CACHE_URL=cache_url, NUM_PROXIES="1", BEHIND_TLS_PROXY="1")
    log(f"FitHub on :{app_ports[0]} and :{app_ports[1]} ({args.stack_workers} workers each), Redis {cache_url}")
    for index, port in enumerate(app_ports):
        processes.append(start_gunicorn(f"app{index + 1}", "fithub.wsgi", port, stack_env, work, args.stack_workers))
    for index, port in enumerate(app_ports):
        wait_http(f"http://127.0.0.1:{port}/health/live/", processes[-2 + index])

    make_certificate(work / "certs")
    conf = mapped_nginx_conf(work, http_port=http_port, https_port=https_port, app_ports=app_ports)
    changes = raise_rate_limits(conf)
    checked = nginx_test(conf, work)
    if checked.returncode != 0:
        raise RuntimeError(f"nginx -t failed: {checked.stderr}")
    nginx_args = ["-p", str(work), "-c", str(conf), "-e", str(work / "nginx-error.log"), "-g", "daemon off;"]
    processes.append(start("nginx", [nginx_binary(), *nginx_args], log=work / "nginx.log"))
    base = f"https://127.0.0.1:{https_port}"
    wait_until(
        lambda: request(f"{base}/health", cafile=work / "certs" / "fullchain.pem").status == 200,
        timeout=30, what="nginx", process=processes[-1],
    )  # fmt: skip
    log(f"nginx on {base} (production nginx.conf mapped to loopback; {'; '.join(changes)})")
    setup = {
        "instances": 2,
        "workers_per_instance": args.stack_workers,
        "cache": "redis",
        "nginx": {
            "config": "nginx/nginx.conf mapped to loopback (harness.servers.mapped_nginx_conf)",
            "scheme": "https",
            "changes_in_the_bench_copy": changes,
        },
    }
    return base, setup


def stack_phase(args: argparse.Namespace, env: dict, work: Path, wrk_binary: str) -> dict:
    mix_users = min(args.mix_users or args.users, args.users)
    users_file = work / "mix-users.txt"
    log(f"minting tokens for {mix_users} users, their goals and dates (bench/mixdata.py)")
    made = subprocess.run(
        [sys.executable, str(BENCH / "mixdata.py"), str(users_file), f"--users={mix_users}",
         "--words=" + ",".join(SEARCH_WORDS)],
        cwd=ROOT, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    foods = json.loads(made.stdout.strip().splitlines()[-1])["foods"]
    access_log = work / "nginx-access.log"
    app_logs = (work / "app1-access.log", work / "app2-access.log")  # start_gunicorn's names
    stamp = int(time.time())
    runs = 0

    def mix(label: str, weights: dict, duration: int, rate: float = 0, *, connections: int | None = None) -> dict:
        nonlocal runs
        seed = min(REFRESH_SEED, max(1, mix_users // 4)) if weights.get("refresh") else 0
        first = runs * seed % mix_users
        runs += 1
        mix_env = {
            "BENCH_USERS": str(users_file),
            "BENCH_MIX": ",".join(f"{kind}={weight}" for kind, weight in weights.items()),
            "BENCH_FOODS": ",".join(foods),
            "BENCH_WORDS": ",".join(SEARCH_WORDS),
            "BENCH_PASSWORD": PASSWORD,
            "BENCH_RUN": f"bench-{stamp}-{label}",
            "BENCH_REFRESH": f"{first},{seed}",
            "BENCH_THREADS": str(args.threads),
        }
        if rate:
            mix_env["BENCH_RATE"] = f"{rate:.3f}"
        offsets = {path: log_size(path) for path in (access_log, *app_logs)}
        result = run_wrk(
            wrk_binary, base, "mix.lua", mix_env, threads=args.threads,
            connections=connections or args.connections, duration=duration,
        )  # fmt: skip
        time.sleep(0.5)  # the last responses' log lines
        app_rows = [row for path in app_logs for row in json_lines(path, offsets[path])]
        result["endpoints"] = endpoint_stats(json_lines(access_log, offsets[access_log]), app_rows)
        writes = {name: e for name, e in result["endpoints"].items() if not name.startswith("GET ")}
        bad = {name: e["statuses"] for name, e in result["endpoints"].items() if e["non_2xx"]}
        log(f"  {label}: " + summary_line(result) + (f"; non-2xx by endpoint {bad}" if bad else ""))
        if writes:
            log("  writes: " + ", ".join(f"{name} {e['count']} (p99 {e['p99_ms']} ms)" for name, e in writes.items()))
        return result

    with redis_server() as cache_url:
        processes: list[Process] = []
        try:
            base, setup = start_stack(args, env, work, processes, cache_url)
            log("warming up through nginx (reads only)")
            mix("warm-up", {"summary": 1, "diary": 1, "search": 1}, 3, connections=4)
            log(f"mix, closed loop (-t{args.threads} -c{args.connections} -d{args.mix_duration}s): the peak")
            peak = mix("peak", args.mix, args.mix_duration)
            rated = None
            if args.rate_fraction:
                log(f"mix at {args.rate_fraction:.0%} of the peak")
                rated = at_fraction(
                    lambda rate, duration: mix(f"paced-{rate:.0f}-{duration}s", args.mix, duration, rate),
                    peak, args.rate_fraction, args.mix_duration,
                )  # fmt: skip
                log("  " + summary_line(rated))
        finally:
            stop_all(processes)
    return {
        **setup,
        "mix": {"weights": args.mix, "users": mix_users, "foods": len(foods), "search_words": list(SEARCH_WORDS)},
        "wrk": {"threads": args.threads, "connections": args.connections, "duration": args.mix_duration},
        "peak": peak,
        "rated": rated,
    }


# --- results ----------------------------------------------------------------------------------


def fmt(value: float | None, digits: int = 1) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def markdown_direct(report: dict) -> list[str]:
    lines = [
        "## Direct: FitHub against the floor, one gunicorn each",
        "",
        f"`wrk -t{report['wrk']['threads']} -c{report['wrk']['connections']} -d{report['wrk']['duration']}s`; "
        f"gunicorn {report['workers']} sync workers each, no nginx; reads on the replica.",
        "",
        "| endpoint | server | req/s | p50 ms | p95 ms | p99 ms | non-2xx | FitHub/floor req/s | load avg |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, servers in report["load"].items():
        floor = servers.get("floor")
        for server, r in servers.items():
            ratio = f"{servers['fithub']['rps'] / floor['rps']:.2f}" if server == "fithub" and floor else ""
            lines.append(
                f"| {name} | {server} | {r['rps']} | {r['p50_ms']:.1f} | {r['p95_ms']:.1f} | {r['p99_ms']:.1f} "
                f"| {r['non_2xx']} | {ratio} | {r.get('loadavg_1m_after', '')} |"
            )
    alone = report.get("search_alone")
    if alone:
        lines += [
            "",
            f"Food search, one client (`wrk -t1 -c1 -d{report['wrk']['duration']}s`, the same four words, full USDA "
            f"table): {alone['rps']} req/s, p50 {alone['p50_ms']:.1f} ms, p95 {alone['p95_ms']:.1f} ms, "
            f"p99 {alone['p99_ms']:.1f} ms (target: p95 under 20 ms).",
        ]
    years = report.get("long_years")
    if report.get("long_users") and f"diary_list_{years}y" in report["load"]:
        lines += ["", f"### 1 year vs {years} years of history per user (FitHub; 10y/1y)", ""]
        lines += ["| endpoint | p50 1y | p50 10y | p50 ratio | p99 1y | p99 10y | p99 ratio |", "|---|" + "---:|" * 6]
        for base in ("diary_list", "day_summary"):
            one, ten = report["load"][base]["fithub"], report["load"][f"{base}_{years}y"]["fithub"]
            lines.append(
                f"| {base} | {one['p50_ms']:.1f} | {ten['p50_ms']:.1f} | {ten['p50_ms'] / one['p50_ms']:.2f} "
                f"| {one['p99_ms']:.1f} | {ten['p99_ms']:.1f} | {ten['p99_ms'] / one['p99_ms']:.2f} |"
            )
    return [*lines, ""]


def markdown_mix_table(endpoints: dict) -> list[str]:
    lines = [
        "| endpoint | requests | share | p50 ms | p95 ms | p99 ms | upstream p50 ms | upstream p99 ms "
        "| gunicorn p50 ms | gunicorn p99 ms | non-2xx (statuses) |",
        "|---|" + "---:|" * 9 + "---|",
    ]
    for name, e in endpoints.items():
        bad = {status: n for status, n in e["statuses"].items() if not status.startswith("2") and status != "499"}
        cells = [name, str(e["count"]), f"{e['share_pct']}%"]
        cells += [fmt(e[key], 0) for key in ("p50_ms", "p95_ms", "p99_ms", "upstream_p50_ms", "upstream_p99_ms")]
        cells += [fmt(e["app_p50_ms"]), fmt(e["app_p99_ms"])]
        cells.append(f"{e['non_2xx']} {bad}" if bad else "0")
        lines.append("| " + " | ".join(cells) + " |")
    writes = {name: e for name, e in endpoints.items() if not name.startswith("GET ")}
    failed = {name: e["non_2xx"] for name, e in writes.items() if e["non_2xx"]}
    count = sum(e["count"] - e["client_closed_499"] for e in writes.values())
    lines += ["", f"Writes (POST): {count}, " + (f"**non-2xx: {failed}**." if failed else "all 2xx.")]
    closed = sum(e["client_closed_499"] for e in endpoints.values())
    if closed:
        lines[-1] += f" {closed} requests were still in flight when wrk stopped (nginx logs them as 499)."
    return lines


def markdown_stack(stack: dict) -> list[str]:
    mix, peak = stack["mix"], stack["peak"]
    total = sum(mix["weights"].values())
    weights = ", ".join(f"{kind} {100 * w / total:.1f}%" for kind, w in mix["weights"].items())
    wrk_args = f"-t{stack['wrk']['threads']} -c{stack['wrk']['connections']} -d{stack['wrk']['duration']}s"
    lines = [
        "## Production stack: a mobile day's mix through nginx",
        "",
        f"{stack['instances']} FitHub instances x {stack['workers_per_instance']} sync workers "
        "(fithub/ops/gunicorn_conf.py), "
        f"Redis as the shared cache, reads on the replica, behind nginx: {stack['nginx']['config']}, "
        f"{stack['nginx']['scheme'].upper()}. Changed in the bench's copy only, so one address can load it: "
        + "; ".join(f"`{change}`" for change in stack["nginx"]["changes_in_the_bench_copy"])
        + ".",
        "",
        f"`wrk {wrk_args}` with bench/mix.lua: {mix['users']} users' tokens rotated per request, "
        f"{mix['foods']} public foods logged; mix: {weights}. "
        "Per-endpoint times: nginx's $request_time from its JSON access log (millisecond resolution); upstream = "
        "$upstream_response_time (from nginx's connect to gunicorn: the wait for a free sync worker included); "
        "gunicorn = the worker's own time, from the instances' access logs.",
        "",
        f"### Closed loop (the peak): {peak['rps']} req/s, {peak['non_2xx']} non-2xx, "
        f"{peak['socket_errors']} socket errors (wrk: p50 {peak['p50_ms']:.1f} ms, p99 {peak['p99_ms']:.1f} ms; "
        f"load avg {peak['loadavg_1m_after']})",
        "",
        *markdown_mix_table(peak["endpoints"]),
        "",
    ]
    rated = stack.get("rated")
    if rated:
        lines += [
            f"### At {rated['fraction']:.0%} of the peak: {rated['rps']} req/s = {rated['pct_of_peak']}% of the peak "
            f"(target {rated['target_rps']}), {rated['non_2xx']} non-2xx (wrk: p50 {rated['p50_ms']:.1f} ms, "
            f"p99 {rated['p99_ms']:.1f} ms; load avg {rated['loadavg_1m_after']})",
            "",
            *markdown_mix_table(rated["endpoints"]),
            "",
        ]
    return lines


def calibration_note(calibration: dict) -> str:
    note = f"{calibration['pct_of_peak']}% of the peak"
    if calibration["corrected"]:
        return note + ", pace corrected"
    return note + (", server slowed: not corrected" if calibration["slowed"] else "")


def markdown_rated(report: dict) -> list[str]:
    rows = []
    for name, r in ((report.get("direct") or {}).get("rated") or {}).items():
        rows.append((f"{name} (direct, FitHub)", report["load"][name]["fithub"], r))
    stack = report.get("stack") or {}
    if stack.get("rated"):
        rows.append(("mobile-day mix (stack)", stack["peak"], stack["rated"]))
    if not rows:
        return []
    fraction = rows[0][2]["fraction"]
    lines = [
        f"## Latency at {fraction:.0%} of the peak rate",
        "",
        "Peak: closed loop, every connection sends its next request at once. Then the same connections paced "
        f"(wrk `delay()`, Poisson arrivals per thread) at {fraction:.0%} of the peak, after a short calibration run "
        "at that pace (a shortfall is made up once unless the server was slowed down); latency as wrk measures it "
        "(from sending the request).",
        "",
        "| workload | peak req/s | peak p50 ms | peak p99 ms | target req/s | achieved req/s | % of peak | "
        "p50 ms | p99 ms | non-2xx | calibration run |",
        "|---|" + "---:|" * 10,
    ]
    for name, peak, r in rows:
        lines.append(
            f"| {name} | {peak['rps']} | {peak['p50_ms']:.1f} | {peak['p99_ms']:.1f} | {r['target_rps']} | {r['rps']} "
            f"| {r['pct_of_peak']}% | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | {r['non_2xx']} "
            f"| {calibration_note(r['calibration'])} |"
        )
    return [*lines, ""]


def markdown(report: dict) -> str:
    lines = [
        f"# Benchmark {report['date']}",
        "",
        f"{report['users']} users x {report['days']} days (~{report['entries_per_user']} diary entries per user); "
        f"phases: {', '.join(report['phases'])}; {report['runtime_s']} s in all.",
        "",
    ]
    if report.get("load"):
        lines += markdown_direct(report)
    if report.get("stack"):
        lines += markdown_stack(report["stack"])
    lines += markdown_rated(report)
    lines += ["## SQL round trips per request (in process, every alias)", ""]
    lines += ["Each `execute` counts once: the day summary sends its two statements in one (fithub.db.statements).", ""]
    per_user = report["queries"]["per_user"]
    emails = list(per_user)
    lines.append("| endpoint | " + " | ".join(f"{per_user[e]['diary_entries']} entries" for e in emails) + " |")
    lines.append("|---|" + "---:|" * len(emails))
    for endpoint in per_user[emails[0]]["endpoints"]:
        cells = [
            f"{per_user[e]['endpoints'][endpoint]['queries']} ({per_user[e]['endpoints'][endpoint]['status']})"
            for e in emails
        ]
        lines.append(f"| {endpoint} | " + " | ".join(cells) + " |")
    lines += ["", "## EXPLAIN (ANALYZE, BUFFERS) of FitHub's diary and food search queries", ""]
    for name, statements in report["queries"]["explain"].items():
        for item in statements:
            lines += [f"### {name}", "", "```sql", item["sql"], "```", "", "```", item["plan"], "```", ""]
    return "\n".join(lines) + "\n"


def parse_mix(text: str) -> dict:
    weights = {}
    for pair in text.split(","):
        kind, _, weight = pair.partition("=")
        if kind not in MIX or not weight.isdigit():
            raise argparse.ArgumentTypeError(f"{pair!r}: use kind=weight with kinds {', '.join(MIX)}")
        weights[kind] = int(weight)
    return weights


def parse_phases(text: str) -> list[str]:
    phases = [phase.strip() for phase in text.split(",") if phase.strip()]
    unknown = set(phases) - set(PHASES)
    if unknown or not phases:
        raise argparse.ArgumentTypeError(f"phases are {', '.join(PHASES)}")
    return phases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--scale", type=int, default=1, help="years of history per user")
    parser.add_argument("--long-users", type=int, default=16, help="extra users with --long-years of history")
    parser.add_argument("--long-years", type=int, default=10)
    parser.add_argument("--phases", type=parse_phases, default=list(PHASES), help="comma-separated: direct,stack")
    parser.add_argument("--duration", type=int, default=15, help="seconds per wrk run (direct)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers per server (direct)")
    parser.add_argument("--login-users", type=int, default=64, help="users logged in over HTTP (one hash each; direct)")
    parser.add_argument("--rate-fraction", type=float, default=0.7, help="the fraction of the peak rate (0: skip)")
    parser.add_argument("--stack-workers", type=int, default=2, help="gunicorn sync workers per instance (stack)")
    parser.add_argument("--mix-duration", type=int, default=30, help="seconds per wrk run of the mix (stack)")
    parser.add_argument("--mix-users", type=int, default=0, help="users in the mix (default: all --users)")
    parser.add_argument(
        "--mix", type=parse_mix, default=dict(MIX), help="weights: " + ",".join(f"{k}={v}" for k, v in MIX.items())
    )
    parser.add_argument("--skip-generate", action="store_true", help="reuse the data already in the database")
    parser.add_argument("--keep-logs", action="store_true", help="keep the servers' logs (temporary directory)")
    args = parser.parse_args()
    if "DATABASE_URL" not in os.environ:
        sys.exit("DATABASE_URL is not set: run me through harness/with-postgres.sh (or `make bench`)")
    # A TERM (with-postgres.sh stopping, a CI timeout) unwinds through the finally blocks that
    # stop the servers, which run in their own sessions.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="fithub-bench-"))
    log(f"servers' logs in {work}" + ("" if args.keep_logs else " (removed after a successful run)"))
    env = django_env(work)
    wrk_binary = ensure_wrk()
    log("migrate and load the USDA foods")
    manage(env, "migrate", "--no-input", "-v0")
    manage(env, "load_foods")
    if not args.skip_generate:
        generate = [sys.executable, str(BENCH / "generate.py"), f"--users={args.users}", f"--scale={args.scale}"]
        generate += [f"--long-users={args.long_users}", f"--long-years={args.long_years}"]
        subprocess.run(generate, cwd=ROOT, env=env, check=True)

    direct = direct_phase(args, env, work, wrk_binary) if "direct" in args.phases else None
    stack = stack_phase(args, env, work, wrk_binary) if "stack" in args.phases else None

    log("counting SQL statements per request and EXPLAINing the diary queries")
    emails = ["bench1@bench.example"] + (["long1@bench.example"] if args.long_users else [])
    queries = subprocess.run(
        [sys.executable, str(BENCH / "queries.py"), *emails], cwd=ROOT, env=env, capture_output=True, text=True,
        check=True,
    )  # fmt: skip
    stamp = datetime.now(UTC)
    report = {
        "date": stamp.isoformat(timespec="seconds"),
        "phases": args.phases,
        "users": args.users,
        "days": 365 * args.scale,
        "entries_per_user": 5 * 365 * args.scale,
        "workers": args.workers,
        "long_users": args.long_users,
        "long_years": args.long_years,
        "wrk": {"threads": args.threads, "connections": args.connections, "duration": args.duration},
        "load": direct["load"] if direct else None,
        "direct": {"rated": direct["rated"]} if direct else None,
        "search_alone": direct["search_alone"] if direct else None,
        "stack": stack,
        "queries": json.loads(queries.stdout.strip().splitlines()[-1]),
        "runtime_s": round(time.monotonic() - started, 1),
    }
    results = BENCH / "results"
    results.mkdir(exist_ok=True)
    name = stamp.strftime("%Y-%m-%dT%H%M%SZ") + (f"-x{args.scale}" if args.scale != 1 else "")
    (results / f"{name}.json").write_text(json.dumps(report, indent=2) + "\n")
    (results / f"{name}.md").write_text(markdown(report))
    log(f"wrote bench/results/{name}.json and .md in {report['runtime_s']} s")
    print(markdown(report))
    if not args.keep_logs:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
