# ruff: noqa: S603 - benchmark tooling: our own commands
"""`make bench`: data, the servers on loopback, wrk against them, results files.

    harness/with-postgres.sh uv run python -m bench.run [--users N] [--scale 10] [--duration 15]
        [--phases direct,stack]

Runs against the PostgreSQL primary + replica in DATABASE_URL / DATABASE_REPLICA_URLS
(with-postgres.sh starts throwaway ones); the other servers are harness/servers.py's, as in
the tests. Steps: migrate, load the USDA foods, generate the data (bench/generate.py), then
the phases:

direct: FitHub (gunicorn, fithub/ops/gunicorn_conf.py, --workers sync workers, reads on the
    replica) against the floor (bench/floor.py, same gunicorn settings, reading the replica
    too), no nginx: log --login-users users in once over HTTP, run wrk (`-t2 -c16` by
    default, bench/load.lua) per endpoint on each server, with the workers' CPU time per
    request (bench/cpu.py); 1 vs --long-years of history in interleaved short rounds, FitHub
    and the floor; recycling workers every --recycle-max-requests requests, the warmed-up
    workers of the config against lazy ones, in interleaved rounds; then the diary list and
    the day summary on FitHub again at --rate-fraction (70%) of their peak rate.
stack: the production shape on loopback (harness.servers.start_stack): two FitHub instances
    (--stack-workers sync workers each, Redis as the shared cache) behind nginx running the
    production nginx/nginx.conf mapped to loopback (HTTPS with a self-signed certificate), its
    limit_req rates raised in the bench's copy only. wrk drives a "mobile day" mix through it
    (bench/mix.lua, weights in MIX), closed loop (the peak), then at --rate-fraction of that
    peak; per-endpoint latencies come from nginx's JSON access log.

A run at a fraction of the peak: the same wrk (same connections) paced by wrk's Lua
`delay()` (bench/wrk_common.lua); see bench.loadgen.at_fraction. Statistics are in
bench/stats.py, the Markdown in bench/report.py. Results: bench/results/<date>.json and .md.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

from bench import report, stats
from bench.cpu import worker_cpu_seconds
from bench.loadgen import PASSWORD, at_fraction, ensure_wrk, log, login_all, run_wrk, summary_line, warm_up
from harness.servers import (
    ROOT,
    Process,
    ensure_tools,
    free_port,
    json_lines,
    manage,
    redis_server,
    start_gunicorn,
    start_stack,
    stop_all,
)
from tests.nutrition.relevance import load_labels

BENCH = ROOT / "bench"
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
# The recycling scenario: the same FitHub under each gunicorn setting, in interleaved rounds.
# The config before the warm-up had lazy workers and a fixed jitter of 2,000; "lazy, the
# config's jitter" differs from the config by the warm-up alone.
RECYCLE_VARIANTS = {
    "no recycling": {"GUNICORN_MAX_REQUESTS": "0"},
    "lazy, no jitter": {"GUNICORN_WARM_UP": "0", "GUNICORN_PRELOAD": "0", "GUNICORN_MAX_REQUESTS_JITTER": "0"},
    "lazy, jitter 2000 (before)": {
        "GUNICORN_WARM_UP": "0",
        "GUNICORN_PRELOAD": "0",
        "GUNICORN_MAX_REQUESTS_JITTER": "2000",
    },
    "lazy, the config's jitter": {"GUNICORN_WARM_UP": "0", "GUNICORN_PRELOAD": "0"},
    "warmed (the config)": {},
}


def django_env() -> dict:
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


def compile_bytecode() -> None:
    """Compile the virtualenv's and the project's bytecode ahead, as the Docker image does
    (UV_COMPILE_BYTECODE): otherwise, with PYTHONDONTWRITEBYTECODE set, every worker that
    starts compiles every module it imports, which is not what production pays."""
    paths = [sysconfig.get_paths()["purelib"], *(str(ROOT / name) for name in ("fithub", "apps", "bench"))]
    for path in paths:
        compileall.compile_dir(path, quiet=1, workers=0)


class Runner:
    """wrk against one gunicorn instance (or several: their workers' CPU summed)."""

    def __init__(self, wrk_binary: str, args: argparse.Namespace) -> None:
        self.wrk_binary, self.args = wrk_binary, args

    def measure(self, base: str, masters: list[int], script: str, env: dict, *, duration: int, **wrk) -> dict:
        """One wrk run with the workers' CPU time per request served."""
        options = {"threads": self.args.threads, "connections": self.args.connections, **wrk}
        before = sum(worker_cpu_seconds(master) for master in masters)
        result = run_wrk(self.wrk_binary, base, script, env, duration=duration, **options)
        seconds = sum(worker_cpu_seconds(master) for master in masters) - before
        result["cpu_s"] = round(seconds, 3)
        result["cpu_ms_per_request"] = round(1000 * seconds / result["requests"], 3) if result["requests"] else None
        return result

    def load(self, base: str, master: int, paths: list[str], tokens: Path, *, rate=0.0, duration=None, **wrk) -> dict:
        env = {"BENCH_TOKENS": str(tokens), "BENCH_PATHS": "|".join(paths)}
        env["BENCH_THREADS"] = str(wrk.get("threads", self.args.threads))
        if rate:
            env["BENCH_RATE"] = f"{rate:.3f}"
        return self.measure(base, [master], "load.lua", env, duration=duration or self.args.duration, **wrk)


# --- direct: FitHub against the floor, one gunicorn each, no nginx ----------------------------


def direct_phase(args: argparse.Namespace, env: dict, work: Path, runner: Runner) -> dict:
    replica = (os.environ.get("DATABASE_REPLICA_URLS") or "").split(",")[0]
    floor_env = dict(env, FLOOR_DATABASE_URL=replica or env["DATABASE_URL"])
    taken: set[int] = set()
    fithub_port, floor_port = free_port(taken), free_port(taken)
    processes: list[Process] = []
    try:
        log(f"starting FitHub on :{fithub_port} and the floor on :{floor_port} ({args.workers} workers each)")
        processes.append(start_gunicorn("fithub", fithub_port, work, env, workers=args.workers))
        processes.append(
            start_gunicorn("floor", floor_port, work, floor_env, app="bench.floor:app", workers=args.workers, ready="/")
        )
        servers = {
            "fithub": (f"http://127.0.0.1:{fithub_port}", processes[0].pid),
            "floor": (f"http://127.0.0.1:{floor_port}", processes[1].pid),
        }
        fithub = servers["fithub"][0]

        count = min(args.login_users, args.users)
        log(f"logging {count} users in once (a password hash each)")
        tokens = {1: login_all(fithub, [f"bench{n}@bench.example" for n in range(1, count + 1)], work / "tokens.txt")}
        if args.long_users:
            log(f"logging the {args.long_users} users with {args.long_years} years of history in")
            emails = [f"long{n}@bench.example" for n in range(1, args.long_users + 1)]
            tokens[args.long_years] = login_all(fithub, emails, work / "long-tokens.txt")

        today = datetime.now(UTC).date()
        week = today - timedelta(days=6)
        scenarios = {
            "diary_list": (["/api/v1/diary/"], True),
            "day_summary": ([f"/api/v1/diary/summary/?start={today}&end={today}"], True),
            "week_summary": ([f"/api/v1/diary/summary/?start={week}&end={today}"], True),
            "food_search": ([f"/api/v1/foods/?search={q}" for q in ("chicken", "apple", "rice", "cheese")], False),
        }
        # The other lists, filtered, 50 rows a page: their CPU against the unfiltered diary list's.
        other_lists = {
            "diary_by_meal": ["/api/v1/diary/?meal=lunch"],
            "diary_by_dates": [f"/api/v1/diary/?date_after={today - timedelta(days=60)}&date_before={today}"],
            "weight_list": ["/api/v1/measurements/?type=weight"],
            "measurement_list": ["/api/v1/measurements/"],
            "goal_list": ["/api/v1/goals/?status=active"],
        }
        load = {}
        for name, (paths, with_floor) in scenarios.items():
            load[name] = {}
            for server in ("fithub", "floor") if with_floor else ("fithub",):
                base, master = servers[server]
                warm_up(runner.wrk_binary, base + paths[0])
                log(f"wrk {name} on {server}")
                load[name][server] = runner.load(base, master, paths, tokens[1])
                log("  " + summary_line(load[name][server]))

        # The search target is a latency one: one client typing, nothing queued in front of it.
        log("wrk food_search on fithub, one client")
        alone = runner.load(
            fithub, servers["fithub"][1], scenarios["food_search"][0], tokens[1], threads=1, connections=1
        )
        log("  " + summary_line(alone))
        log("wrk food_search on fithub, one client, the labelled queries (tests/nutrition/data)")
        labelled = [f"/api/v1/foods/?search={quote(label.query)}" for label in load_labels()]
        access = work / "fithub-access.log"
        offset = access.stat().st_size if access.exists() else 0
        alone["labelled"] = runner.load(fithub, servers["fithub"][1], labelled, tokens[1], threads=1, connections=1)
        log("  " + summary_line(alone["labelled"]))
        time.sleep(0.5)  # the last access line is written just after its response
        alone["labelled"]["by_query"] = stats.by_query(
            [row for row in json_lines(access, offset) if row["path"] == "/api/v1/foods/"]
        )
        logged = logged_foods_alone(args, runner, servers["fithub"], tokens)

        lists = None
        if args.list_rounds:
            lists = list_rounds(args, runner, servers["fithub"], scenarios["diary_list"][0], other_lists, tokens[1])
        history = None
        if args.long_users and args.history_rounds:
            history = history_rounds(
                args, runner, servers, tokens, {k: scenarios[k][0] for k in ("diary_list", "day_summary")}
            )
        recycle = None
        if args.recycle_rounds:
            recycle = recycle_rounds(args, env, work, runner, scenarios["diary_list"][0], tokens[1])

        rated = {}
        if args.rate_fraction:
            for name in ("diary_list", "day_summary"):
                paths, peak = scenarios[name][0], load[name]["fithub"]
                log(f"wrk {name} on fithub at {args.rate_fraction:.0%} of its peak ({peak['rps']} req/s)")

                def run(rate: float, duration: int, paths=paths) -> dict:
                    result = runner.load(fithub, servers["fithub"][1], paths, tokens[1], rate=rate, duration=duration)
                    log(f"  paced at {rate:.1f} req/s: " + summary_line(result))
                    return result

                rated[name] = at_fraction(run, peak, args.rate_fraction, args.duration)
                log("  " + summary_line(rated[name]))
    finally:
        stop_all(processes)
    return {
        "load": load, "rated": rated, "search_alone": alone, "lists": lists, "history": history, "recycle": recycle,
        "logged_foods": logged,
    }  # fmt: skip


LOGGED_FOODS = {"recent_foods": "/api/v1/foods/recent/", "frequent_foods": "/api/v1/foods/frequent/"}


def logged_foods_alone(args, runner: Runner, server: tuple, tokens: dict) -> dict:
    """Recent and frequent foods, one client each (a latency target, like food search: p95
    under 20 ms), for the users with 1 year of history and those with --long-years. The
    generator's users log a food picked across the whole USDA table, so a 10-year user has
    thousands of distinct foods: far more than anyone eats, the worst case of these lists."""
    base, master = server
    out = {}
    for name, path in LOGGED_FOODS.items():
        warm_up(runner.wrk_binary, base + path)
        out[name] = {}
        for years, token_file in tokens.items():
            log(f"wrk {name} on fithub, one client, {years}y of history")
            result = runner.load(base, master, [path], token_file, threads=1, connections=1)
            out[name][f"{years}y"] = result
            log("  " + summary_line(result))
    return out


def list_rounds(args, runner: Runner, server: tuple, diary: list[str], others: dict, tokens: Path) -> dict:
    """Each other list against the unfiltered diary list on FitHub, in rounds of short runs:
    the diary list and then every other list, their order turned every round, so that each
    ratio compares neighbours in time."""
    base, master = server
    names = ["diary_list", *others]
    paths = {"diary_list": diary, **others}
    for name in names:
        warm_up(runner.wrk_binary, base + paths[name][0])
    runs = {name: [] for name in names}
    log(f"lists against the diary list: {args.list_rounds} interleaved rounds of {args.history_duration} s runs")
    for round_ in range(args.list_rounds):
        shift = round_ % len(names)
        for name in names[shift:] + names[:shift]:
            result = runner.load(base, master, paths[name], tokens, duration=args.history_duration)
            runs[name].append(result)
            log(f"  round {round_ + 1} {name}: " + summary_line(result))
    return {
        "rounds": args.list_rounds,
        "duration": args.history_duration,
        "paths": paths,
        "lists": {
            name: {
                **stats.rounds_summary(runs[name]),
                "cpu_ratio": stats.paired_ratios(runs[name], runs["diary_list"], "cpu_ms_per_request"),
            }
            for name in names
        },
    }


def history_rounds(args, runner: Runner, servers: dict, tokens: dict, scenarios: dict) -> dict:
    """1 year against --long-years of history, alternating short runs of each (their order
    swapped every round) on FitHub and on the floor, so that both see the same machine."""
    years = (1, args.long_years)
    runs = {name: {server: {y: [] for y in years} for server in servers} for name in scenarios}
    log(f"1 vs {args.long_years} years: {args.history_rounds} interleaved rounds of {args.history_duration} s runs")
    for round_ in range(args.history_rounds):
        for name, paths in scenarios.items():
            for server, (base, master) in servers.items():
                for y in years if round_ % 2 == 0 else years[::-1]:
                    result = runner.load(base, master, paths, tokens[y], duration=args.history_duration)
                    runs[name][server][y].append(result)
                    log(f"  round {round_ + 1} {name} {server} {y}y: " + summary_line(result))
    out = {"rounds": args.history_rounds, "duration": args.history_duration, "years": list(years), "endpoints": {}}
    for name, by_server in runs.items():
        out["endpoints"][name] = {
            server: {
                "runs": {f"{y}y": by_years[y] for y in years},
                **{f"{y}y": stats.rounds_summary(by_years[y]) for y in years},
                **{
                    f"{key}_ratio": stats.paired_ratios(by_years[years[1]], by_years[years[0]], key)
                    for key in ("p50_ms", "p99_ms", "cpu_ms_per_request")
                },
            }
            for server, by_years in by_server.items()
        }
    return out


def recycle_rounds(args, env: dict, work: Path, runner: Runner, paths: list[str], tokens: Path) -> dict:
    """FitHub recycling a worker every --recycle-max-requests requests under each variant of
    RECYCLE_VARIANTS (one instance each, all up at once, only one loaded at a time), in rounds."""
    processes: list[Process] = []
    instances = {}
    taken: set[int] = set()
    try:
        for index, (variant, changes) in enumerate(RECYCLE_VARIANTS.items()):
            port = free_port(taken)
            variant_env = {**env, "GUNICORN_MAX_REQUESTS": str(args.recycle_max_requests), **changes}
            name = f"recycle{index + 1}"
            processes.append(start_gunicorn(name, port, work, variant_env, workers=args.workers))
            base = f"http://127.0.0.1:{port}"
            warm_up(runner.wrk_binary, base + paths[0])
            instances[variant] = (base, processes[-1].pid, work / f"{name}-access.log", variant_env)
        log(f"recycling every {args.recycle_max_requests} requests: {args.recycle_rounds} rounds")
        runs = {variant: [] for variant in instances}
        for round_ in range(args.recycle_rounds):
            order = list(instances) if round_ % 2 == 0 else list(instances)[::-1]
            for variant in order:
                base, master, access_log, _ = instances[variant]
                offset = access_log.stat().st_size if access_log.exists() else 0
                result = runner.load(base, master, paths, tokens, duration=args.recycle_duration)
                time.sleep(0.3)  # the last responses' log lines
                pids = {row.get("pid") for row in json_lines(access_log, offset)}
                result["workers_serving"] = len(pids)
                result["recycled"] = max(0, len(pids) - args.workers)
                runs[variant].append(result)
                log(f"  round {round_ + 1} {variant}: {summary_line(result)}, {result['recycled']} recycled")
    finally:
        stop_all(processes)
    return {
        "max_requests": args.recycle_max_requests,
        "rounds": args.recycle_rounds,
        "duration": args.recycle_duration,
        "variants": {
            variant: {
                "env": {key: value for key, value in instances[variant][3].items() if key.startswith("GUNICORN_")},
                "runs": variant_runs,
                **stats.rounds_summary(variant_runs),
                "recycled": sum(run["recycled"] for run in variant_runs),
            }
            for variant, variant_runs in runs.items()
        },
    }


# --- stack: nginx in front of two instances, the mobile-day mix ------------------------------


def stack_phase(args: argparse.Namespace, env: dict, work: Path, runner: Runner) -> dict:
    mix_users = min(args.mix_users or args.users, args.users)
    users_file = work / "mix-users.txt"
    log(f"minting tokens for {mix_users} users, their goals and dates (bench/mixdata.py)")
    made = subprocess.run(
        [sys.executable, str(BENCH / "mixdata.py"), str(users_file), f"--users={mix_users}",
         "--words=" + ",".join(SEARCH_WORDS)],
        cwd=ROOT, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    foods = json.loads(made.stdout.strip().splitlines()[-1])["foods"]
    stamp = int(time.time())
    runs = 0
    if not all(shutil.which(tool) or Path("/usr/sbin", tool).exists() for tool in ("nginx", "openssl", "redis-server")):
        log("installing the servers the stack needs (harness/ensure-tools.sh, apt-get)")
        ensure_tools()

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
        logs = (stack.work / "nginx-access.log", stack.access_log_path(0), stack.access_log_path(1))
        offsets = {path: path.stat().st_size if path.exists() else 0 for path in logs}
        masters = [process.pid for process in stack.instances]
        options = {"connections": connections} if connections else {}
        result = runner.measure(stack.https_url(""), masters, "mix.lua", mix_env, duration=duration, **options)
        time.sleep(0.5)  # the last responses' log lines
        app_rows = [row for path in logs[1:] for row in json_lines(path, offsets[path])]
        result["endpoints"] = stats.endpoint_stats(json_lines(logs[0], offsets[logs[0]]), app_rows)
        writes = {name: e for name, e in result["endpoints"].items() if not name.startswith("GET ")}
        bad = {name: e["statuses"] for name, e in result["endpoints"].items() if e["non_2xx"]}
        log(f"  {label}: " + summary_line(result) + (f"; non-2xx by endpoint {bad}" if bad else ""))
        if writes:
            log("  writes: " + ", ".join(f"{name} {e['count']} (p99 {e['p99_ms']} ms)" for name, e in writes.items()))
        return result

    with redis_server() as cache_url:
        # As in production: Redis is the shared cache (throttle counters, users' write positions).
        log(f"two FitHub instances ({args.stack_workers} workers each), Redis {cache_url}, nginx")
        stack = start_stack(
            work, dict(env, CACHE_URL=cache_url), workers=args.stack_workers, nginx_changes=NGINX_RATE_CHANGES,
            prometheus=False,
        )  # fmt: skip
        try:
            log(f"nginx on {stack.https_url('')} (production nginx.conf mapped to loopback, rate limits raised)")
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
            stack.stop()
    return {
        "instances": 2,
        "workers_per_instance": args.stack_workers,
        "cache": "redis",
        "nginx": {
            "config": "nginx/nginx.conf mapped to loopback (harness.servers.mapped_nginx_conf)",
            "scheme": "https",
            "changes_in_the_bench_copy": [f"limit_req_zone {old} -> {new}" for old, new in NGINX_RATE_CHANGES],
        },
        "mix": {"weights": args.mix, "users": mix_users, "foods": len(foods), "search_words": list(SEARCH_WORDS)},
        "wrk": {"threads": args.threads, "connections": args.connections, "duration": args.mix_duration},
        "peak": peak,
        "rated": rated,
    }


# --- the command -------------------------------------------------------------------------------


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


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add = parser.add_argument
    add("--users", type=int, default=2000)
    add("--scale", type=int, default=1, help="years of history per user")
    add("--long-users", type=int, default=16, help="extra users with --long-years of history")
    add("--long-years", type=int, default=10)
    add("--phases", type=parse_phases, default=list(PHASES), help="comma-separated: direct,stack")
    add("--duration", type=int, default=15, help="seconds per wrk run (direct)")
    add("--threads", type=int, default=2)
    add("--connections", type=int, default=16)
    add("--workers", type=int, default=4, help="gunicorn sync workers per server (direct)")
    add("--login-users", type=int, default=64, help="users logged in over HTTP (one hash each; direct)")
    add("--list-rounds", type=int, default=4, help="interleaved rounds of the other lists against the diary list")
    add("--history-rounds", type=int, default=4, help="interleaved rounds of 1y vs --long-years runs (0: skip)")
    add("--history-duration", type=int, default=5, help="seconds per run of those rounds")
    add("--recycle-rounds", type=int, default=3, help="interleaved rounds of the recycling variants (0: skip)")
    add("--recycle-duration", type=int, default=8, help="seconds per run of those rounds")
    add("--recycle-max-requests", type=int, default=500, help="GUNICORN_MAX_REQUESTS of the recycling runs")
    add("--rate-fraction", type=float, default=0.7, help="the fraction of the peak rate (0: skip)")
    add("--stack-workers", type=int, default=2, help="gunicorn sync workers per instance (stack)")
    add("--mix-duration", type=int, default=30, help="seconds per wrk run of the mix (stack)")
    add("--mix-users", type=int, default=0, help="users in the mix (default: all --users)")
    add("--mix", type=parse_mix, default=dict(MIX), help="weights: " + ",".join(f"{k}={v}" for k, v in MIX.items()))
    add("--search-rounds", type=int, default=3, help="bench/search.py: requests per query and caller (0 skips it)")
    add("--skip-generate", action="store_true", help="reuse the data already in the database")
    add("--keep-logs", action="store_true", help="keep the servers' logs (temporary directory)")
    return parser.parse_args()


def main() -> None:
    args = arguments()
    if "DATABASE_URL" not in os.environ:
        sys.exit("DATABASE_URL is not set: run me through harness/with-postgres.sh (or `make bench`)")
    # A TERM (with-postgres.sh stopping, a CI timeout) unwinds through the finally blocks that
    # stop the servers, which run in their own sessions.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="fithub-bench-"))
    log(f"servers' logs in {work}" + ("" if args.keep_logs else " (removed after a successful run)"))
    env = django_env()
    runner = Runner(ensure_wrk(), args)
    log("compiling bytecode ahead, as the image does")
    compile_bytecode()
    log("migrate and load the USDA foods")
    manage(env, "migrate", "--no-input", "-v0")
    manage(env, "load_foods")
    if not args.skip_generate:
        generate = [sys.executable, str(BENCH / "generate.py"), f"--users={args.users}", f"--scale={args.scale}"]
        generate += [f"--long-users={args.long_users}", f"--long-years={args.long_years}"]
        subprocess.run(generate, cwd=ROOT, env=env, check=True)

    direct = direct_phase(args, env, work, runner) if "direct" in args.phases else None
    stack = stack_phase(args, env, work, runner) if "stack" in args.phases else None

    log("counting SQL statements per request and EXPLAINing the diary queries")
    emails = ["bench1@bench.example"] + (["long1@bench.example"] if args.long_users else [])
    queries = subprocess.run(
        [sys.executable, str(BENCH / "queries.py"), *emails], cwd=ROOT, env=env, capture_output=True, text=True,
        check=True,
    )  # fmt: skip
    search = None
    if args.search_rounds:
        log("food search relevance (hit@3, MRR) and latency in process over the labelled queries")
        search = subprocess.run(
            [sys.executable, str(BENCH / "search.py"), f"--rounds={args.search_rounds}"], cwd=ROOT, env=env,
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        search = json.loads(search.stdout.strip().splitlines()[-1])
    stamp = datetime.now(UTC)
    results = {
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
        "logged_foods": direct["logged_foods"] if direct else None,
        "lists": direct["lists"] if direct else None,
        "history": direct["history"] if direct else None,
        "recycle": direct["recycle"] if direct else None,
        "stack": stack,
        "queries": json.loads(queries.stdout.strip().splitlines()[-1]),
        "search": search,
        "runtime_s": round(time.monotonic() - started, 1),
    }
    folder = BENCH / "results"
    folder.mkdir(exist_ok=True)
    name = stamp.strftime("%Y-%m-%dT%H%M%SZ") + (f"-x{args.scale}" if args.scale != 1 else "")
    text = report.markdown(results)
    (folder / f"{name}.json").write_text(json.dumps(results, indent=2) + "\n")
    (folder / f"{name}.md").write_text(text)
    log(f"wrote bench/results/{name}.json and .md in {results['runtime_s']} s")
    print(text)
    if not args.keep_logs:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
