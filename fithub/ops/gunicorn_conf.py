"""gunicorn settings for FitHub: `gunicorn -c fithub/ops/gunicorn_conf.py fithub.wsgi`.

Every value can be overridden from the environment (GUNICORN_* below). Metrics: each
instance keeps its workers' Prometheus counters in PROMETHEUS_MULTIPROC_DIR (one directory
per instance, emptied when the instance starts; a dead worker's live gauges are dropped), so
one scrape of `/metrics` sums every worker of the instance.
"""

import json
import os
import shutil
import sys
import tempfile
import time
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
# nginx passes request lines up to its 8k header buffer and answers longer ones with its JSON
# 414; gunicorn's default (4094) answered the lines between with an HTML page of its own.
limit_request_line = 8190
# Recycle workers now and then (bounded memory growth). Each worker draws its limit in
# [max, max + jitter]: workers started together would otherwise all restart together and
# leave no one to accept. A restart costs the new worker its imports and warm-up in CPU.
max_requests = _int("GUNICORN_MAX_REQUESTS", 20000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", max_requests // 2)
# Warm each new worker before it accepts (post_worker_init); 0 leaves it lazy (bench/ compares).
warm_up = os.environ.get("GUNICORN_WARM_UP", "1") != "0"
# The master loads and warms the app before it binds the port (on_starting): a restarted
# instance opens its port only when it can serve, and its workers (the first ones, recycled
# ones, those replacing a killed one) fork warm, with the hot reads' statements compiled. The
# master closes the connections compiling opened (each needs its server's version) before it
# forks: each worker opens its own (post_worker_init). GUNICORN_PRELOAD=0: each worker loads
# the app itself.
preload_app = os.environ.get("GUNICORN_PRELOAD", "1") != "0"
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
# A preloaded master writes its own (zero) series while it loads the app, before on_starting
# empties the directory; its workers write to files of their own.
Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]).mkdir(parents=True, exist_ok=True)


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
    """Empty the metrics directory: counters left by a previous run must not be summed in.
    Warm the preloaded app before the port is bound (fithub/ops/warmup.py). Tell the workers
    how many they are (FITHUB_INSTANCE_WORKERS, inherited at the fork): with the shared cache
    down, each throttles at its share of the rate (fithub/api/throttling.py)."""
    os.environ["FITHUB_INSTANCE_WORKERS"] = str(server.cfg.workers)
    directory = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    if _django_app(server.app):  # preloaded: warm it here, before the port is bound
        from django.conf import settings

        from fithub.ops.warmup import close_connections, freeze_heap, warm_code, warm_statements

        settings.INSTANCE_WORKERS = server.cfg.workers  # read before this hook set it
        started = time.monotonic()
        try:
            done = warm_code()
            done["statements"] = warm_statements()
        except Exception:  # the workers serve anyway, lazily
            server.log.exception("master: warm-up failed")
            return
        finally:
            close_connections()
        done["frozen_objects"] = freeze_heap()  # before the fork (fithub/ops/warmup.py)
        elapsed_ms = 1000 * (time.monotonic() - started)
        server.log.info("master warmed in %.0f ms: %s", elapsed_ms, json.dumps(done))


def _django_app(app) -> bool:
    """Whether `app` (gunicorn's application) has loaded Django's WSGI handler: in the master
    when preloaded, in a worker otherwise. Not the bench's floor app."""
    handlers = sys.modules.get("django.core.handlers.wsgi")
    callable_ = getattr(app, "callable", None)
    return warm_up and handlers is not None and isinstance(callable_, handlers.WSGIHandler)


def post_worker_init(worker):
    """Warm a Django worker before it accepts its first request: after the fork, in the worker
    (its database connections are its own). Django left alone, its first client would wait
    for the URLconf's imports and the rest (fithub/ops/warmup.py)."""
    if not _django_app(worker.app):
        return  # not Django (the bench's floor app), or asked to stay lazy
    started = time.monotonic()
    try:
        from fithub.ops.warmup import freeze_heap, warm, warm_connections

        done = warm_connections() if worker.cfg.preload_app else warm()
        done["frozen_objects"] = freeze_heap()
    except Exception:  # a worker that could not warm still serves, lazily
        worker.log.exception("worker %s: warm-up failed", os.getpid())
        return
    elapsed_ms = 1000 * (time.monotonic() - started)
    worker.log.info("worker %s warmed in %.0f ms: %s", os.getpid(), elapsed_ms, json.dumps(done))


def child_exit(server, worker):
    """Drop the live gauges of a worker that exited; its counters stay in the sums."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
