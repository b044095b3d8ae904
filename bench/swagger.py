"""`make bench-docs`: how fast Swagger UI (/api/docs/) and ReDoc (/api/redoc/) render the
whole API in headless Chromium, served by the real gunicorn.

    python -m bench.swagger [--loads 7] [--app-dir DIR] [--json FILE]

Serves the app (DIR: another checkout, e.g. `git archive main | tar -x -C DIR`, to compare;
this repository by default) with gunicorn and fithub/ops/gunicorn_conf.py after
collectstatic, then drives Debian's /usr/bin/chromium through Playwright (no browser of
Playwright's own). Per page: a first load in a fresh browser profile (empty HTTP cache),
then --loads reloads in the same profile (warm: the browser revalidates what it cached, and
from the third load on V8 runs Swagger UI's bundle from its code cache).
A load's time runs from the navigation's start (performance.timeOrigin) to the first frame
where every operation of the schema is on the page: Swagger UI's `.opblock`s, with their
method and path checked against the schema; ReDoc's operation sections. Every request to a
host other than the server is recorded (there must be none); Chromium resolves no other
host, so nothing leaves the machine. Results: bench/results/docs-<date>.json and printed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from harness.servers import ROOT, free_port, production_env, request, start, wait_until

CHROMIUM = os.environ.get("CHROMIUM") or "/usr/bin/chromium"  # Debian's package (harness/ensure-tools.sh)
RESULTS = ROOT / "bench" / "results"
METHODS = ("get", "put", "post", "delete", "patch")

# Resolves by name what a page asks for only for the loopback server: any other host fails
# at once, whether or not the machine could reach it.
CHROMIUM_ARGS = ["--no-sandbox", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"]

# Both return performance.now() (ms since the navigation started) once every operation is
# rendered, else false; polled every animation frame.
SWAGGER_DONE = """expected => {
  const seen = new Set();
  for (const block of document.querySelectorAll('.opblock')) {
    const method = block.querySelector('.opblock-summary-method');
    const path = block.querySelector('.opblock-summary-path');
    if (method && path) seen.add(method.textContent.trim().toLowerCase() + ' ' + path.getAttribute('data-path'));
  }
  return expected.every(op => seen.has(op)) ? performance.now() : false;
}"""
REDOC_DONE = """expected => {
  const seen = new Set();
  for (const node of document.querySelectorAll('[data-section-id*="/operation/"]')) {
    seen.add(node.getAttribute('data-section-id').split('/operation/')[1]);
  }
  return expected.every(op => seen.has(op)) ? performance.now() : false;
}"""


def operations(base: str) -> tuple[list[str], list[str]]:
    """The schema's operations: ['get /api/v1/diary/', ...] and their operationIds."""
    schema = request(f"{base}/api/schema/?format=json", timeout=60).json()
    keys, ids = [], []
    for path, item in schema["paths"].items():
        for method in METHODS:
            if method in item:
                keys.append(f"{method} {path}")
                ids.append(item[method]["operationId"])
    return keys, ids


def django_env(app_dir: Path) -> dict:
    return production_env(
        fallback_key="bench-only-secret-key-of-at-least-32-bytes",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        LOG_LEVEL="WARNING",
        GUNICORN_LOG_LEVEL="warning",
        PYTHONPATH=str(app_dir),
        **{f"THROTTLE_{name}": "100000/min" for name in ("ANON", "USER", "IP")},
    )


@contextmanager
def served(app_dir: Path, work: Path, *, workers: int = 2):
    """gunicorn serving app_dir's FitHub (its static files collected) on a loopback port."""
    env = django_env(app_dir)
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "-v", "0"],
        cwd=app_dir,
        env=env,
        check=True,
        timeout=300,
    )
    port = free_port()
    env.update(
        GUNICORN_BIND=f"127.0.0.1:{port}",
        GUNICORN_WORKERS=str(workers),
        GUNICORN_PROC_NAME="docs",
        GUNICORN_ACCESS_LOG=str(work / "docs-access.log"),
        PROMETHEUS_MULTIPROC_DIR=str(work / "docs-prometheus"),
    )
    process = start(
        "docs",
        [sys.executable, "-m", "gunicorn", "-c", "fithub/ops/gunicorn_conf.py", "fithub.wsgi"],
        log=work / "docs.log",
        env=env,
        cwd=app_dir,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until(lambda: request(f"{base}/health/live/", timeout=5), timeout=90, what="gunicorn", process=process)
        yield base
    finally:
        process.stop()


class Browser:
    """Headless Chromium (Debian's). Each `profile()` is a browser of its own with a fresh
    on-disk profile, as a user's is: an HTTP cache, and V8's code cache, which Chromium fills
    on a script's second load and uses from the third (an in-memory profile has none)."""

    def __init__(self) -> None:
        from playwright.sync_api import sync_playwright

        if not shutil.which(CHROMIUM):
            raise SystemExit(f"{CHROMIUM} is missing: bash harness/ensure-tools.sh installs it")
        self._playwright = sync_playwright().start()

    def close(self) -> None:
        self._playwright.stop()

    @contextmanager
    def profile(self):
        with tempfile.TemporaryDirectory(prefix="fithub-chromium-") as directory:
            context = self._playwright.chromium.launch_persistent_context(
                directory,
                executable_path=CHROMIUM,
                args=CHROMIUM_ARGS,
                headless=True,
                viewport={"width": 1280, "height": 900},
            )
            try:
                yield context
            finally:
                context.close()


def load(context, url: str, done: str, expected: list[str], *, timeout_s: float = 60) -> dict:
    """Open url in a new page of `context` and wait for every expected operation: the time
    (ms from the navigation's start), the requests it made and those to another host."""
    origin = urllib.parse.urlsplit(url).netloc
    requests, external, failed = [], [], []
    page = context.new_page()

    def seen(req):
        parts = urllib.parse.urlsplit(req.url)
        requests.append(req.url)
        if parts.scheme not in ("data", "blob") and parts.netloc != origin:
            external.append(req.url)

    page.on("request", seen)
    page.on("requestfailed", lambda req: failed.append(req.url))
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto(url, wait_until="commit", timeout=timeout_s * 1000)
        handle = page.wait_for_function(done, arg=expected, polling="raf", timeout=timeout_s * 1000)
        rendered_ms = handle.json_value()
    finally:
        page.close()
    return {
        "ms": round(rendered_ms, 1),
        "requests": len(requests),
        "external": external,
        "failed": failed,
        "errors": errors,
    }


def measure(browser: Browser, url: str, done: str, expected: list[str], loads: int) -> dict:
    with browser.profile() as context:
        first = load(context, url, done, expected)
        warm = [load(context, url, done, expected) for _ in range(loads)]
    return {
        "first_ms": first["ms"],
        "warm_ms": [run["ms"] for run in warm],
        "warm_median_ms": round(statistics.median(run["ms"] for run in warm), 1) if warm else None,
        "requests_first": first["requests"],
        "external": sorted({u for run in [first, *warm] for u in run["external"]}),
        "failed": sorted({u for run in [first, *warm] for u in run["failed"]}),
        "errors": sorted({e for run in [first, *warm] for e in run["errors"]}),
    }


def schema_figures(base: str) -> dict:
    raw = request(f"{base}/api/schema/?format=json", timeout=60)
    schema = raw.json()
    timings = []
    for _ in range(3):
        started = time.perf_counter()
        request(f"{base}/api/schema/?format=json", timeout=60)
        timings.append((time.perf_counter() - started) * 1000)
    return {
        "bytes": len(raw.body),
        "component_schemas": len(schema.get("components", {}).get("schemas", {})),
        "shared_responses": len(schema.get("components", {}).get("responses", {})),
        "get_ms_median": round(statistics.median(timings), 1),
    }


def run(app_dir: Path, loads: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="fithub-docs-") as tmp, served(app_dir, Path(tmp)) as base:
        keys, ids = operations(base)
        result = {
            "app_dir": str(app_dir),
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
            "load_average": os.getloadavg(),
            "operations": len(keys),
            "schema": schema_figures(base),
        }
        browser = Browser()
        try:
            result["swagger_ui"] = measure(browser, f"{base}/api/docs/", SWAGGER_DONE, keys, loads)
            result["redoc"] = measure(browser, f"{base}/api/redoc/", REDOC_DONE, ids, loads)
        finally:
            browser.close()
        return result


def report(result: dict) -> str:
    schema = result["schema"]
    lines = [
        f"{result['app_dir']}: {result['operations']} operations; schema {schema['bytes']:,} bytes (JSON), "
        f"{schema['component_schemas']} component schemas, {schema['shared_responses']} shared responses; "
        f"GET /api/schema/ {schema['get_ms_median']} ms (median of 3); load average {result['load_average'][0]:.2f}",
        "",
        "| page | first load (ms) | warm loads, median (ms) | warm loads (ms) | requests | to other hosts |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name in ("swagger_ui", "redoc"):
        page = result[name]
        warm = ", ".join(f"{ms:.0f}" for ms in page["warm_ms"])
        lines.append(
            f"| {name} | {page['first_ms']:.0f} | {page['warm_median_ms']:.0f} | {warm} | {page['requests_first']} "
            f"| {len(page['external'])} {' '.join(page['external'])} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loads", type=int, default=7, help="warm loads per page after the first (default 7)")
    parser.add_argument("--app-dir", type=Path, default=ROOT, help="the checkout to serve (default: this one)")
    parser.add_argument("--json", type=Path, help="where to write the results (default bench/results/docs-DATE.json)")
    args = parser.parse_args(argv)
    result = run(args.app_dir.resolve(), args.loads)
    print(report(result))
    out = args.json or RESULTS / f"docs-{datetime.now(UTC).strftime('%Y-%m-%dT%H%M%SZ')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"results: {out}")
    external = result["swagger_ui"]["external"] + result["redoc"]["external"]
    return 1 if external else 0


if __name__ == "__main__":
    sys.exit(main())
