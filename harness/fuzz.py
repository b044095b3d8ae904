"""schemathesis against the real gunicorn, every phase including the stateful one.

Run inside harness/with-postgres.sh (`make fuzz`): migrates the throwaway database, starts
gunicorn with the production config, registers a user and runs `schemathesis run` on the
served schema with that user's token, throttles raised out of the way. Exits non-zero when
schemathesis finds a failure of the checks it runs. `--max-examples` per operation (100 by
default; the suite's smoke run uses few).

The operations that end the caller's session (logout, ending a session by id) would leave
the token dead for every operation after them, each then answering only 401: they run apart,
each in its own run with a token of its own (no stateful phase: one operation has no links to
follow), after the main run, which must end with its token still accepted (else its results
say nothing and the run fails).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from harness.servers import ROOT, free_port, manage, production_env, request, start_gunicorn

# not_a_server_error is the point; the conformance checks hold the schema to what is answered,
# negative_data_rejection makes the server refuse what the schema forbids, and the stateful
# checks (use_after_free, ensure_resource_availability) follow rows across operations.
CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
        "negative_data_rejection",
        "use_after_free",
        "ensure_resource_availability",
    ]
)
PHASES = "examples,coverage,fuzzing,stateful"
# A run of one operation alone has no links to follow (schemathesis calls that an error).
SINGLE_PHASES = "examples,coverage,fuzzing"
RAISED_THROTTLES = {f"THROTTLE_{scope}": "1000000/min" for scope in ("USER", "ANON", "IP", "LOGIN_IP",
                    "LOGIN_ACCOUNT", "REGISTER")}  # fmt: skip
# Operations after which the token that called them is refused (by operationId).
SESSION_ENDERS = ("auth_logout_create", "auth_sessions_destroy")
CREDENTIALS = {"email": "fuzz@fuzz.example", "password": "fuzz-password-of-some-length"}


def login(base: str) -> str:
    """An access token of a new session of the fuzz user's."""
    response = request(f"{base}/api/v1/auth/token/", method="POST", body=CREDENTIALS)
    if response.status != 200:
        raise RuntimeError(f"login failed: {response.status} {response.body[:300]!r}")
    return response.json()["access"]


def token_accepted(base: str, token: str) -> bool:
    return request(f"{base}/api/v1/users/me/", headers={"Authorization": f"Bearer {token}"}).status == 200


def schemathesis_command(base: str, token: str, *, max_examples: int, extra: list[str],
                         phases: str = PHASES) -> list[str]:  # fmt: skip
    return [
        sys.executable, "-m", "schemathesis.cli", "run", f"{base}/api/schema/",
        "--header", f"Authorization: Bearer {token}",
        "--phases", phases, "--checks", CHECKS, "--max-examples", str(max_examples),
        "--continue-on-failure", "--suppress-health-check", "all", "--seed", "1", "--no-color",
        *extra,
    ]  # fmt: skip


def run_all(base: str, *, max_examples: int, report: Path | None, passthrough: list[str], env: dict) -> int:
    """The main run (every operation but the session enders), then one run per session
    ender; the first non-zero exit code, or 1 when the main run's token died during it."""
    request(f"{base}/api/v1/auth/register/", method="POST", body=CREDENTIALS)
    runs = [("main", [arg for name in SESSION_ENDERS for arg in ("--exclude-operation-id", name)])]
    runs += [(name, ["--include-operation-id", name]) for name in SESSION_ENDERS]
    codes = []
    for name, selection in runs:
        token = login(base)
        reporting = []
        if report is not None:
            path = report if name == "main" else report.with_name(f"{report.stem}-{name}{report.suffix}")
            reporting = ["--report", "junit", "--report-junit-path", str(path)]
        command = schemathesis_command(base, token, max_examples=max_examples, extra=[*selection, *reporting,
                                       *passthrough], phases=PHASES if name == "main" else SINGLE_PHASES)  # fmt: skip
        print(f"== fuzz run {name!r}", flush=True)
        codes.append(subprocess.run(command, cwd=ROOT, env=env, check=False).returncode)  # noqa: S603 - our own
        if name == "main" and not token_accepted(base, token):
            print("== the main run's token was refused at its end: its results are vacuous", flush=True)
            codes[-1] = codes[-1] or 1
    return next((code for code in codes if code), 0)


def fuzz_env(base_env: dict) -> dict:
    """What the fuzzed instance runs with: production settings, throttles out of the way."""
    raised = {key: value for key, value in RAISED_THROTTLES.items() if key not in base_env}
    return production_env(base_env, fallback_key="fuzz-only-secret-key-of-32-bytes-or-more", **raised)


def fuzz(work: Path, env: dict, *, max_examples: int, workers: int = 2, report: Path | None = None,
         passthrough: list[str] = ()) -> int:  # fmt: skip
    """Migrate, start gunicorn (its access log: work/fuzz-access.log) and run_all against it."""
    manage(env, "migrate", "--no-input")
    port = free_port()
    process = start_gunicorn("fuzz", port, work, env, workers=workers)
    try:
        base = f"http://127.0.0.1:{port}"
        return run_all(base, max_examples=max_examples, report=report, passthrough=list(passthrough), env=env)
    finally:
        process.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--max-examples", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--report", type=Path, help="write schemathesis' JUnit report here")
    args, passthrough = parser.parse_known_args(argv)
    with tempfile.TemporaryDirectory(prefix="fithub-fuzz-") as work:
        return fuzz(Path(work), fuzz_env(dict(os.environ)), max_examples=args.max_examples, workers=args.workers,
                    report=args.report, passthrough=passthrough)  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
