"""Statistics of the runs: percentiles and per-endpoint tables from the access logs, ratios
and medians over interleaved rounds."""

from __future__ import annotations

import math
import re
import statistics
from collections import Counter, defaultdict

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)


def percentile(ordered: list[float], pct: float) -> float | None:
    if not ordered:
        return None
    return ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)]


def ratio(numerator: float | None, denominator: float | None, digits: int = 2) -> float | None:
    if numerator is None or not denominator:
        return None
    return round(numerator / denominator, digits)


def median(values) -> float | None:
    values = [value for value in values if value is not None]
    return round(statistics.median(values), 3) if values else None


def route(method: str, uri: str) -> str:
    """An endpoint: the method and the path without its query, ids as {id}."""
    path = UUID.sub("{id}", uri.split("?", 1)[0])
    return f"{method} {re.sub(r'/[0-9]+(?=/|$)', '/{id}', path)}"


def upstream_ms(row: dict) -> float | None:
    """$upstream_response_time: "0.012", "0.010, 0.004" (retried) or "-"; summed, in ms."""
    parts = [p.strip() for p in str(row.get("upstream_duration_s", "")).replace(":", ",").split(",")]
    values = [float(p) for p in parts if re.fullmatch(r"[0-9.]+", p)]
    return sum(values) * 1000 if values else None


def endpoint_stats(rows: list[dict], app_rows: list[dict]) -> dict:
    """Per endpoint: count, share, statuses and time percentiles (ms) from nginx's log: the whole
    request ($request_time, millisecond resolution) and the upstream's ($upstream_response_time:
    waiting for a free gunicorn worker included); from gunicorn's logs (`app_rows`), the time a
    worker spent on it. 499 (the client closed: wrk stopping with requests in flight) is counted
    apart from the non-2xx."""
    groups: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        groups[route(row.get("method", "?"), row.get("uri", "?"))].append(row)
    app_times: dict[str, list[float]] = defaultdict(list)
    for row in app_rows:
        if isinstance(row.get("duration_ms"), int | float):
            app_times[route(row.get("method", "?"), row.get("path") or "?")].append(row["duration_ms"])
    stats = {}
    for name, items in sorted(groups.items(), key=lambda item: -len(item[1])):
        times = sorted(float(row["duration_s"]) * 1000 for row in items)
        upstream = sorted(v for v in (upstream_ms(row) for row in items) if v is not None)
        app = sorted(app_times.get(name, []))
        statuses = Counter(str(row.get("status")) for row in items)
        stats[name] = {
            "count": len(items),
            "share_pct": round(100 * len(items) / len(rows), 1),
            **{f"p{p}_ms": percentile(times, p) for p in (50, 95, 99)},
            "max_ms": times[-1],
            "upstream_p50_ms": percentile(upstream, 50),
            "upstream_p99_ms": percentile(upstream, 99),
            "app_p50_ms": percentile(app, 50),
            "app_p99_ms": percentile(app, 99),
            "non_2xx": sum(n for status, n in statuses.items() if not status.startswith("2") and status != "499"),
            "client_closed_499": statuses.get("499", 0),
            "statuses": dict(sorted(statuses.items())),
        }
    return stats


def rounds_summary(runs: list[dict]) -> dict:
    """Interleaved short runs of one workload: the median over rounds of each figure."""
    keys = ("rps", "p50_ms", "p99_ms", "max_ms", "cpu_ms_per_request")
    return {
        "rounds": len(runs),
        **{key: median(run.get(key) for run in runs) for key in keys},
        "non_2xx": sum(run["non_2xx"] for run in runs),
        "socket_errors": sum(run["socket_errors"] for run in runs),
    }


def paired_ratios(tops: list[dict], bottoms: list[dict], key: str) -> dict:
    """top/bottom of `key` round by round (runs of the same round are neighbours in time, so
    the machine's drift cancels out), and their median."""
    per_round = [ratio(top.get(key), bottom.get(key)) for top, bottom in zip(tops, bottoms, strict=True)]
    return {"median": median(per_round), "rounds": per_round}


def by_query(rows: list[dict], *, top: int = 10) -> dict:
    """Which queries make the tail of a run: gunicorn's access-log rows (`query`, `duration_ms`:
    the server's time, from the request parsed to the response written), grouped by query
    string. Gives the run's p50/p95/p99 of that server time, the `top` queries by their
    slowest request (with their median), and how many of each query's requests were slower
    than the run's p95."""
    times: dict[str, list[float]] = defaultdict(list)
    for row in rows:
        times[row.get("query") or ""].append(float(row["duration_ms"]))
    everything = sorted(value for values in times.values() for value in values)
    if not everything:
        return {}
    p95 = percentile(everything, 95)
    slowest = sorted(times.items(), key=lambda item: -max(item[1]))[:top]
    above = Counter({query: sum(value > p95 for value in values) for query, values in times.items()})
    return {
        "requests": len(everything),
        **{f"p{pct}_ms": round(percentile(everything, pct), 2) for pct in (50, 95, 99)},
        "slowest": [
            {
                "query": query,
                "requests": len(values),
                "p50_ms": round(statistics.median(values), 2),
                "max_ms": round(max(values), 2),
            }
            for query, values in slowest
        ],
        "above_p95": dict(item for item in above.most_common(top) if item[1]),
    }
