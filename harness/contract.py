"""make contract: the schema as client teams use it, against the real server.

Run inside harness/with-postgres.sh with the `contract` dependency group installed
(`make contract`). It migrates the throwaway database, loads the public foods, starts gunicorn
with the production settings (Redis as the shared cache) on a free port and fetches the live /api/schema/ (JSON). Then,
from that schema, into build/contract/ (ignored by git):

1. openapi-python-client (pinned in the uv group `contract`) generates `fithub_client`, and
   tests/contract/journey.py runs a mobile day through it against the server;
2. `mypy --strict` type-checks the journey against the generated client;
3. openapi-typescript generates the TypeScript types, and `tsc --strict --noEmit` checks
   tests/contract/usage.ts, the same journey written against them;
4. Redocly CLI (`recommended`, tests/contract/redocly.yaml) and Spectral (`spectral:oas`,
   tests/contract/.spectral.yaml) lint the schema; each must report 0 errors.

The Node tools are pinned by tests/contract/package-lock.json and installed with `npm ci`
(skipped when node_modules already holds that lockfile). Every step runs even when an earlier
one failed, so one run reports everything; the exit code is 1 when any step failed. Nothing
here needs the network beyond the package registries: the linters' telemetry and update checks
are turned off.
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from harness.servers import ROOT, free_port, manage, production_env, redis_server, request, start_gunicorn

CONTRACT = ROOT / "tests" / "contract"
BUILD = ROOT / "build" / "contract"
NODE_BIN = CONTRACT / "node_modules" / ".bin"
LOCK_STAMP = CONTRACT / "node_modules" / ".fithub-lock-sha256"
# No telemetry, update notices or other calls home from the Node tools.
NODE_ENV = {
    "REDOCLY_TELEMETRY": "off",
    "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true",
    "NO_UPDATE_NOTIFIER": "1",
    "SCARF_ANALYTICS": "false",
    "DO_NOT_TRACK": "1",
}
SCHEMA_MEDIA_TYPE = "application/vnd.oai.openapi+json"


@dataclass
class Step:
    name: str
    ok: bool
    seconds: float
    summary: str


def run(args: list[str], *, env: dict | None = None, cwd: Path = ROOT, timeout: float = 600) -> tuple[int, str]:
    """A tool's exit code and output (stdout and stderr together), printed as it was."""
    done = subprocess.run(  # noqa: S603 - our own tools
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    output = done.stdout + done.stderr
    if output.strip():
        print(output.rstrip(), flush=True)
    return done.returncode, output


def tool_env() -> dict:
    return {**os.environ, **NODE_ENV}


def venv_tool(name: str) -> str:
    return str(Path(sys.executable).parent / name)


# --- the Node tools --------------------------------------------------------------------------


def npm_ci() -> str:
    """`npm ci` in tests/contract unless node_modules already holds the locked tools."""
    lock = hashlib.sha256((CONTRACT / "package-lock.json").read_bytes()).hexdigest()
    if LOCK_STAMP.exists() and LOCK_STAMP.read_text().strip() == lock:
        return "node_modules up to date"
    if shutil.which("npm") is None:
        raise RuntimeError("npm is missing: install Node.js 20.19 or later (Redocly CLI 2 needs it)")
    code, _ = run(["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund"], cwd=CONTRACT, env=tool_env())
    if code != 0:
        raise RuntimeError(f"npm ci failed ({code})")
    LOCK_STAMP.write_text(lock + "\n")
    return "npm ci"


# --- the server and its schema -----------------------------------------------------------------


def contract_env(base_env: dict) -> dict:
    """Production settings (DEBUG off, the real throttles) on the harness's database."""
    return production_env(base_env, fallback_key="contract-only-secret-key-of-32-bytes-or-more")


def fetch_schema(base: str, path: Path) -> str:
    response = request(f"{base}/api/schema/", headers={"Accept": SCHEMA_MEDIA_TYPE})
    if response.status != 200:
        raise RuntimeError(f"GET /api/schema/ answered {response.status}: {response.body[:300]!r}")
    schema = json.loads(response.body)
    path.write_bytes(response.body)
    operations = sum(
        method in {"get", "post", "put", "patch", "delete"} for item in schema["paths"].values() for method in item
    )
    return f"{len(response.body):,} bytes, {operations} operations, {len(schema['components']['schemas'])} schemas"


# --- the steps ---------------------------------------------------------------------------------


def generate_python_client(schema: Path, build: Path = BUILD) -> str:
    target = build / "python" / "fithub_client"
    code, output = run(
        [
            venv_tool("openapi-python-client"), "generate", "--path", str(schema), "--output-path", str(target),
            "--meta", "none", "--overwrite", "--config", str(CONTRACT / "openapi-python-client.yaml"),
        ]
    )  # fmt: skip
    # Its warnings are operations or models it could not generate: the client would lack them.
    if code != 0 or "warning" in output.lower():
        raise RuntimeError("openapi-python-client failed or warned")
    modules, models = len(list((target / "api").rglob("*.py"))), len(list((target / "models").glob("*.py")))
    return f"{modules} API modules, {models} models"


def python_env(build: Path) -> dict:
    path = os.pathsep.join(filter(None, [str(build / "python"), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": path, "MYPYPATH": str(build / "python")}


def run_journey(base: str, build: Path = BUILD) -> str:
    code, output = run([sys.executable, str(CONTRACT / "journey.py"), base], env=python_env(build))
    if code != 0:
        raise RuntimeError(f"the journey failed ({code})")
    return f"{output.count('journey: ') - 1} steps passed"


def mypy_strict(build: Path = BUILD, journey: Path = CONTRACT / "journey.py") -> str:
    code, output = run(
        [
            sys.executable, "-m", "mypy", "--strict", "--no-error-summary", "--cache-dir", str(build / "mypy-cache"),
            "--python-executable", sys.executable, str(journey),
        ],
        env=python_env(build),
    )  # fmt: skip
    errors = output.count(": error:")
    if code != 0:
        raise RuntimeError(f"mypy --strict: {errors} errors")
    return "0 errors"


def generate_typescript(schema: Path, build: Path = BUILD) -> str:
    target = build / "typescript" / "fithub.d.ts"
    target.parent.mkdir(parents=True, exist_ok=True)
    code, _ = run([str(NODE_BIN / "openapi-typescript"), str(schema), "--output", str(target)], env=tool_env())
    if code != 0:
        raise RuntimeError(f"openapi-typescript failed ({code})")
    return f"{target.stat().st_size:,} bytes of types"


def tsc_strict(tsconfig: Path = CONTRACT / "tsconfig.json") -> str:
    code, output = run([str(NODE_BIN / "tsc"), "--project", str(tsconfig)], env=tool_env())
    errors = output.count("error TS")
    if code != 0:
        raise RuntimeError(f"tsc --strict: {errors} errors")
    return "0 errors"


def lint_summary(tool: str, problems: list[tuple[str, str, str, str]]) -> tuple[int, str]:
    """Print each error (severity, rule, where, message), then the counts per rule; the error
    count and a one-line summary. Warnings are counted, not listed: the JSON reports in
    build/contract/ have them all."""
    for severity, rule, where, message in problems:
        if severity == "error":
            print(f"  error  {rule:<32} {where}  {message}", flush=True)
    counts = collections.Counter((severity, rule) for severity, rule, _, _ in problems)
    errors = sum(n for (severity, _), n in counts.items() if severity == "error")
    warnings = sum(n for (severity, _), n in counts.items() if severity == "warning")
    by_rule = ", ".join(f"{rule} {severity} x{n}" for (severity, rule), n in sorted(counts.items()))
    return errors, f"{tool}: {errors} errors, {warnings} warnings" + (f" ({by_rule})" if by_rule else "")


def redocly_lint(schema: Path, build: Path = BUILD) -> str:
    report = build / "redocly.json"
    args = [str(NODE_BIN / "redocly"), "lint", "--config", str(CONTRACT / "redocly.yaml"), "--format", "json"]
    done = subprocess.run(  # noqa: S603 - our own tool
        [*args, str(schema)], cwd=ROOT, env=tool_env(), capture_output=True, text=True, check=False
    )
    report.write_text(done.stdout)
    try:
        problems = json.loads(done.stdout)["problems"]
    except ValueError as error:
        raise RuntimeError(f"redocly lint gave no report ({done.returncode}): {done.stderr[-2000:]}") from error
    severity = {"error": "error", "warn": "warning"}
    rows = [
        (
            severity.get(problem["severity"], problem["severity"]),
            problem["ruleId"],
            ", ".join(location.get("pointer", "") for location in problem.get("location", [])),
            problem["message"],
        )
        for problem in problems
    ]
    errors, summary = lint_summary("Redocly recommended", rows)
    if errors or done.returncode != 0:
        raise RuntimeError(summary)
    return summary


def spectral_lint(schema: Path, build: Path = BUILD) -> str:
    report = build / "spectral.json"
    report.unlink(missing_ok=True)
    code, _ = run(
        [
            str(NODE_BIN / "spectral"), "lint", "--ruleset", str(CONTRACT / ".spectral.yaml"), "--format", "json",
            "--output", str(report), "--quiet", str(schema),
        ],
        env=tool_env(),
    )  # fmt: skip
    if not report.exists():
        raise RuntimeError(f"spectral lint gave no report ({code})")
    names = {0: "error", 1: "warning", 2: "info", 3: "hint"}
    rows = [
        (names[problem["severity"]], problem["code"], ".".join(map(str, problem["path"])), problem["message"])
        for problem in json.loads(report.read_text() or "[]")
    ]
    errors, summary = lint_summary("Spectral spectral:oas", rows)
    if errors:
        raise RuntimeError(summary)
    return summary


# --- the whole ---------------------------------------------------------------------------------


def attempt(steps: list[Step], name: str, action: Callable[[], str]) -> bool:
    print(f"== contract: {name}", flush=True)
    started = time.monotonic()
    try:
        summary, ok = action(), True
    except Exception as error:
        summary, ok = str(error), False
    steps.append(Step(name, ok, time.monotonic() - started, summary))
    print(f"== contract: {name}: {'ok' if ok else 'FAILED'}: {summary}", flush=True)
    return ok


def report(steps: list[Step]) -> None:
    print("\n== make contract", flush=True)
    for step in steps:
        print(f"  {'ok    ' if step.ok else 'FAILED'} {step.name:<28} {step.seconds:6.1f} s  {step.summary}")


def contract(work: Path, env: dict, *, workers: int = 2) -> int:
    BUILD.mkdir(parents=True, exist_ok=True)
    schema = BUILD / "schema.json"
    steps: list[Step] = []
    if not attempt(steps, "npm ci (pinned Node tools)", npm_ci):
        report(steps)
        return 1
    manage(env, "migrate", "--no-input", "-v", "0")
    manage(env, "load_foods", "-v", "0")
    with redis_server() as cache_url:
        return _against_server(steps, schema, work, {**env, "CACHE_URL": cache_url}, workers=workers)


def _against_server(steps: list[Step], schema: Path, work: Path, env: dict, *, workers: int) -> int:
    """Redis is the shared cache, as in production: a worker reading after another one wrote
    must know the write (read-your-writes from the replica) and the throttles are counted once."""
    port = free_port()
    process = start_gunicorn("contract", port, work, env, workers=workers)
    try:
        base = f"http://127.0.0.1:{port}"
        if attempt(steps, "fetch /api/schema/", lambda: fetch_schema(base, schema)):
            if attempt(steps, "openapi-python-client", lambda: generate_python_client(schema)):
                attempt(steps, "journey (generated client)", lambda: run_journey(base))
                attempt(steps, "mypy --strict journey.py", mypy_strict)
            if attempt(steps, "openapi-typescript", lambda: generate_typescript(schema)):
                attempt(steps, "tsc --strict usage.ts", tsc_strict)
            attempt(steps, "Redocly lint", lambda: redocly_lint(schema))
            attempt(steps, "Spectral lint", lambda: spectral_lint(schema))
    finally:
        process.stop()
    report(steps)
    return 0 if all(step.ok for step in steps) else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--keep", action="store_true", help="keep the server's logs (their directory is printed)")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="fithub-contract-"))
    try:
        return contract(work, contract_env(dict(os.environ)), workers=args.workers)
    finally:
        if args.keep:
            print(f"contract: the server's logs are in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
