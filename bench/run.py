# ruff: noqa: S603, S310 - benchmark tooling: constant SQL identifiers, our own commands, loopback URLs
"""`make bench`: data, the stack on loopback, wrk against FitHub and the floor, results files.

    tests/harness/with-postgres.sh uv run python bench/run.py [--users N] [--scale 10] [--duration 15]

Runs against the PostgreSQL primary + replica in DATABASE_URL / DATABASE_REPLICA_URLS
(with-postgres.sh starts throwaway ones). Steps: migrate, load the USDA foods, generate the
data (bench/generate.py), start FitHub (gunicorn, fithub/gunicorn_conf.py, GUNICORN_WORKERS
sync workers, reads on the replica) and the floor (bench/floor.py, same gunicorn settings,
reading the replica too), log LOGIN_USERS users in once over HTTP, then run wrk
(`-t2 -c16` by default) per endpoint and write bench/results/<date>.json and .md.
No nginx in front: wrk talks to gunicorn directly.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
sys.path.insert(0, str(ROOT))

from tests.integration.stack import free_port  # noqa: E402

PASSWORD = "bench-password-1"  # noqa: S105 - bench/generate.py's throwaway password
HIGH = "1000000000/min"


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
        GUNICORN_ACCESS_LOG=str(work / "access.log"),
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


def start_gunicorn(name: str, app: str, port: int, env: dict, work: Path, workers: int) -> subprocess.Popen:
    env = dict(env, GUNICORN_BIND=f"127.0.0.1:{port}", GUNICORN_WORKERS=str(workers), GUNICORN_PROC_NAME=name)
    env["PROMETHEUS_MULTIPROC_DIR"] = str(work / f"prometheus-{port}")
    handle = (work / f"{name}.log").open("ab")
    return subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "fithub/gunicorn_conf.py", app],
        cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip


def wait_http(url: str, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server for {url} exited")
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except urllib.error.HTTPError:
            return  # answering (401/404 is fine)
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(url)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def login(base: str, email: str) -> str:
    request = urllib.request.Request(
        f"{base}/api/v1/auth/token/",
        data=json.dumps({"email": email, "password": PASSWORD}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())["access"]


def wrk(binary: str, base: str, paths: list[str], tokens: Path, args: argparse.Namespace) -> dict:
    env = dict(os.environ, BENCH_TOKENS=str(tokens), BENCH_PATHS="|".join(paths))
    command = [binary, f"-t{args.threads}", f"-c{args.connections}", f"-d{args.duration}s", "--latency"]
    command += ["-s", str(BENCH / "load.lua"), base]
    output = subprocess.run(command, env=env, capture_output=True, text=True, check=True, timeout=args.duration + 60)
    line = next(line for line in output.stdout.splitlines() if line.startswith("BENCH_JSON "))
    result = json.loads(line.removeprefix("BENCH_JSON "))
    result["rps"] = round(result["requests"] / (result["duration_us"] / 1e6), 1)
    # The machine is shared: a high load average means other work competed for the cores.
    result["loadavg_1m_after"] = round(os.getloadavg()[0], 2)
    return result


def markdown(report: dict) -> str:
    lines = [
        f"# Benchmark {report['date']}",
        "",
        f"{report['users']} users x {report['days']} days (~{report['entries_per_user']} diary entries per user); "
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
    years = report.get("long_years")
    if report.get("long_users") and f"diary_list_{years}y" in report["load"]:
        lines += ["", f"## 1 year vs {years} years of history per user (FitHub; 10y/1y)", ""]
        lines += ["| endpoint | p50 1y | p50 10y | p50 ratio | p99 1y | p99 10y | p99 ratio |", "|---|" + "---:|" * 6]
        for base in ("diary_list", "day_summary"):
            one, ten = report["load"][base]["fithub"], report["load"][f"{base}_{years}y"]["fithub"]
            lines.append(
                f"| {base} | {one['p50_ms']:.1f} | {ten['p50_ms']:.1f} | {ten['p50_ms'] / one['p50_ms']:.2f} "
                f"| {one['p99_ms']:.1f} | {ten['p99_ms']:.1f} | {ten['p99_ms'] / one['p99_ms']:.2f} |"
            )
    lines += ["", "## SQL statements per request (in process, every alias)", ""]
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--scale", type=int, default=1, help="years of history per user")
    parser.add_argument("--long-users", type=int, default=16, help="extra users with --long-years of history")
    parser.add_argument("--long-years", type=int, default=10)
    parser.add_argument("--duration", type=int, default=15, help="seconds per wrk run")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers per server")
    parser.add_argument("--login-users", type=int, default=64, help="users logged in over HTTP (PBKDF2)")
    parser.add_argument("--skip-generate", action="store_true", help="reuse the data already in the database")
    args = parser.parse_args()
    if "DATABASE_URL" not in os.environ:
        sys.exit("DATABASE_URL is not set: run me through tests/harness/with-postgres.sh (or `make bench`)")

    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="fithub-bench-"))
    env = django_env(work)
    wrk_binary = ensure_wrk()
    log("migrate and load the USDA foods")
    manage(env, "migrate", "--no-input", "-v0")
    manage(env, "load_foods")
    if not args.skip_generate:
        generate = [sys.executable, str(BENCH / "generate.py"), f"--users={args.users}", f"--scale={args.scale}"]
        generate += [f"--long-users={args.long_users}", f"--long-years={args.long_years}"]
        subprocess.run(generate, cwd=ROOT, env=env, check=True)

    replica = (os.environ.get("DATABASE_REPLICA_URLS") or "").split(",")[0]
    floor_env = dict(env, FLOOR_DATABASE_URL=replica or env["DATABASE_URL"])
    taken: set[int] = set()
    fithub_port, floor_port = free_port(taken), free_port(taken)
    processes = []
    try:
        log(f"starting FitHub on :{fithub_port} and the floor on :{floor_port} ({args.workers} workers each)")
        processes.append(start_gunicorn("fithub", "fithub.wsgi", fithub_port, env, work, args.workers))
        processes.append(start_gunicorn("floor", "bench.floor:app", floor_port, floor_env, work, args.workers))
        fithub, floor = f"http://127.0.0.1:{fithub_port}", f"http://127.0.0.1:{floor_port}"
        wait_http(f"{fithub}/health/live/", processes[0])
        wait_http(f"{floor}/", processes[1])

        count = min(args.login_users, args.users)
        log(f"logging {count} users in once (PBKDF2 each)")
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
                r = load[name][server]
                log(f"  {r['rps']} req/s, p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms, non-2xx {r['non_2xx']}")
    finally:
        for process in processes:
            stop(process)

    log("counting SQL statements per request and EXPLAINing the diary queries")
    emails = ["bench1@bench.example"] + (["long1@bench.example"] if args.long_users else [])
    queries = subprocess.run(
        [sys.executable, str(BENCH / "queries.py"), *emails], cwd=ROOT, env=env, capture_output=True, text=True,
        check=True,
    )  # fmt: skip
    stamp = datetime.now(UTC)
    report = {
        "date": stamp.isoformat(timespec="seconds"),
        "users": args.users,
        "days": 365 * args.scale,
        "entries_per_user": 5 * 365 * args.scale,
        "workers": args.workers,
        "long_users": args.long_users,
        "long_years": args.long_years,
        "wrk": {"threads": args.threads, "connections": args.connections, "duration": args.duration},
        "load": load,
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
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
