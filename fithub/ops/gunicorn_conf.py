"""gunicorn settings for FitHub: `gunicorn -c fithub/ops/gunicorn_conf.py fithub.wsgi`.

Every value can be overridden from the environment (GUNICORN_* below). Metrics: each
instance keeps its workers' Prometheus counters in PROMETHEUS_MULTIPROC_DIR (one directory
per instance, emptied when the instance starts; a dead worker's live gauges are dropped), so
one scrape of `/metrics` sums every worker of the instance.
"""

import json
import os
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from gunicorn.glogging import Logger


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def _cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))  # honours CPU pinning (containers, taskset)
    except AttributeError:
        return os.cpu_count() or 1


bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
# Sync workers: requests are short database round trips (see docs/ARCHITECTURE.md).
workers = _int("GUNICORN_WORKERS", 2 * _cpu_count() + 1)
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "sync")
threads = _int("GUNICORN_THREADS", 1)
# A worker silent for this long is killed and replaced; nginx gives up a little later.
timeout = _int("GUNICORN_TIMEOUT", 30)
# On SIGTERM (docker stop, deploys) workers finish their requests for up to this long.
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 25)
keepalive = _int("GUNICORN_KEEPALIVE", 5)
# Recycle workers now and then (bounded memory growth); jitter avoids all restarting at once.
# A restart imports Django again, CPU that requests wait for: at 2,000 a loaded instance
# restarted workers often (bench/ has the runs), hence 20,000.
max_requests = _int("GUNICORN_MAX_REQUESTS", 20000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 2000)
# Never --preload: a query in the master would hand one connection pool to every worker.
preload_app = False
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = os.environ.get("GUNICORN_ERROR_LOG", "-")
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
proc_name = os.environ.get("GUNICORN_PROC_NAME", "fithub")
# nginx on the same host network may set X-Forwarded-*; Django decides what it trusts.
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")

# Before any worker imports prometheus_client: its value class is chosen at import time.
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    _port = bind.rsplit(":", 1)[-1]
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(Path(tempfile.gettempdir()) / f"fithub-prometheus-{_port}")


class JsonLogger(Logger):
    """gunicorn's logger writing JSON: access lines with the request id, and its own messages
    (booting, worker exits, timeouts) in the same shape as Django's (fithub/ops/logs.py)."""

    def setup(self, cfg):
        super().setup(cfg)
        from fithub.ops.logs import JsonFormatter

        for handler in self.error_log.handlers:
            handler.setFormatter(JsonFormatter())

    def access(self, resp, req, environ, request_time):
        if not self.access_log_enabled:
            return
        atoms = self.atoms(resp, req, environ, request_time)
        record = {
            "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "logger": "gunicorn.access",
            "request_id": atoms.get("{x-request-id}o") or atoms.get("{x-request-id}i"),
            "remote_addr": atoms["h"],
            "forwarded_for": atoms.get("{x-forwarded-for}i"),
            "method": atoms["m"],
            "path": atoms["U"],
            "query": atoms["q"] or None,
            "status": int(atoms["s"]) if str(atoms["s"]).isdigit() else atoms["s"],
            "bytes": atoms["B"],
            "duration_ms": round(atoms["D"] / 1000, 3),
            "user_agent": atoms["a"],
            "pid": os.getpid(),
        }
        try:
            self.access_log.info(json.dumps(record))
        except Exception:
            self.exception("could not write the access log")


logger_class = JsonLogger


def on_starting(server):
    """Empty the metrics directory: counters left by a previous run must not be summed in."""
    directory = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)


def child_exit(server, worker):
    """Drop the live gauges of a worker that exited; its counters stay in the sums."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
