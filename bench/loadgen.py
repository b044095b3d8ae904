# ruff: noqa: S603, S310 - benchmark tooling: our own commands, loopback URLs
"""wrk against the servers: closed-loop runs, runs paced at a fraction of the peak, logins."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

BENCH = Path(__file__).resolve().parent
PASSWORD = "bench-password-1"  # noqa: S105 - bench/generate.py's throwaway password


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


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


def login(base: str, email: str) -> str:
    login_request = urllib.request.Request(
        f"{base}/api/v1/auth/token/",
        data=json.dumps({"email": email, "password": PASSWORD}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(login_request, timeout=30) as response:
        return json.loads(response.read())["access"]


def login_all(base: str, emails: list[str], path: Path) -> Path:
    """Log each user in once (a password hash each) and write their tokens to `path`."""
    path.write_text("\n".join(login(base, email) for email in emails) + "\n")
    return path


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


def warm_up(binary: str, url: str) -> None:
    """A couple of seconds of requests, so a run does not measure a server's first requests."""
    subprocess.run([binary, "-t1", "-c2", "-d2s", url], capture_output=True, check=False)


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
    if "cpu_ms_per_request" in r:
        line += f", worker CPU {r['cpu_ms_per_request']:.2f} ms/req"
    if "pct_of_peak" in r:
        line += f", {r['pct_of_peak']}% of the peak (target {r['target_rps']} req/s, paced at {r['paced_rps']})"
    return line
