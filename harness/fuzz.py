"""schemathesis against the real gunicorn, every phase including the stateful one.

Run inside harness/with-postgres.sh (`make fuzz`): migrates the throwaway database, starts
gunicorn with the production config, registers a user and runs `schemathesis run` on the
served schema with that user's token, throttles raised out of the way. Exits non-zero when
schemathesis finds a failure of the checks it runs. `--max-examples` per operation (100 by
default; the suite's smoke run uses few).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from harness.servers import ROOT, free_port, manage, request, start_gunicorn

# not_a_server_error is the point; the conformance checks hold the schema to what is answered.
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
PHASES = "examples,coverage,fuzzing,stateful"
RAISED_THROTTLES = {f"THROTTLE_{scope}": "1000000/min" for scope in ("USER", "ANON", "IP", "LOGIN_IP",
                    "LOGIN_ACCOUNT", "REGISTER")}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--max-examples", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--report", type=Path, help="write schemathesis' JUnit report here")
    args, passthrough = parser.parse_known_args(argv)
    secret = os.environ.get("SECRET_KEY", "fuzz-only-secret-key-of-32-bytes-or-more")
    env = {**os.environ, "DEBUG": "0", "SECRET_KEY": secret, "DJANGO_SETTINGS_MODULE": "fithub.settings"}
    env.update({key: value for key, value in RAISED_THROTTLES.items() if key not in os.environ})
    env.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost")
    manage(env, "migrate", "--no-input")
    with tempfile.TemporaryDirectory(prefix="fithub-fuzz-") as work:
        port = free_port()
        process = start_gunicorn("fuzz", port, Path(work), env, workers=args.workers)
        try:
            base = f"http://127.0.0.1:{port}"
            credentials = {"email": "fuzz@fuzz.example", "password": "fuzz-password-of-some-length"}
            request(f"{base}/api/v1/auth/register/", method="POST", body=credentials)
            token = request(f"{base}/api/v1/auth/token/", method="POST", body=credentials).json()["access"]
            command = [
                sys.executable, "-m", "schemathesis.cli", "run", f"{base}/api/schema/",
                "--header", f"Authorization: Bearer {token}",
                "--phases", PHASES, "--checks", CHECKS, "--max-examples", str(args.max_examples),
                "--continue-on-failure", "--suppress-health-check", "all", "--seed", "1",
                *(["--report", "junit", "--report-junit-path", str(args.report)] if args.report else []),
                *passthrough,
            ]  # fmt: skip
            return subprocess.run(command, cwd=ROOT, env=env, check=False).returncode  # noqa: S603 - our own command
        finally:
            process.stop()


if __name__ == "__main__":
    sys.exit(main())
