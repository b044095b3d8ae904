"""CPU time of a gunicorn instance's workers (user + system), from /proc, over a run.

A worker's times are in /proc/<pid>/stat while it lives; once the master has reaped it
(recycled by max_requests, killed, crashed) they are added to the master's cutime/cstime.
So the workers' total at any moment is the master's cutime + cstime plus every live
worker's utime + stime, and a run's share is the difference of two such readings: workers
that exit or start mid-run, their start-up included, are counted.
"""

from __future__ import annotations

import os
from pathlib import Path

from harness.servers import gunicorn_workers

TICKS = os.sysconf("SC_CLK_TCK")


def _times(pid: int) -> tuple[int, int]:
    """(utime + stime, cutime + cstime) of a process, in clock ticks."""
    text = Path(f"/proc/{pid}/stat").read_text()
    fields = text[text.rindex(")") + 2 :].split()  # after "pid (comm) "; the name may hold spaces
    utime, stime, cutime, cstime = (int(value) for value in fields[11:15])  # stat(5) fields 14-17
    return utime + stime, cutime + cstime


def worker_cpu_seconds(master: int) -> float:
    """The CPU seconds gunicorn's workers under `master` have used so far, live and reaped."""
    for _ in range(100):
        workers = gunicorn_workers(master)
        try:
            live = sum(_times(pid)[0] for pid in workers)
        except (FileNotFoundError, ProcessLookupError):
            continue  # a worker was reaped while being read: read again
        reaped = _times(master)[1]
        # A worker reaped between the two reads would count twice (or once too few): read again.
        if gunicorn_workers(master) == workers:
            return (live + reaped) / TICKS
    raise RuntimeError(f"gunicorn {master}'s workers kept changing while being read")
