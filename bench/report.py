"""The Markdown of a run's results (bench/results/<date>.md), from the results dict bench/run.py
writes as JSON beside it. Every figure comes from the run: nothing here is a measurement."""

from __future__ import annotations

from urllib.parse import unquote_plus

from bench.stats import ratio

CPU_NOTE = (
    "Worker CPU: user + system time of the instance's gunicorn workers over the run, from /proc (live workers, "
    "and the master's cutime/cstime for those it reaped), divided by the requests served; PostgreSQL's and wrk's "
    "CPU are not in it."
)


def fmt(value: float | None, digits: int = 1) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def row(*cells) -> str:
    """A Markdown table row."""
    return "| " + " | ".join(str(cell) for cell in cells) + " |"


def cpu_ratios(load: dict) -> dict[str, float | None]:
    """FitHub's worker CPU per request over the floor's, per endpoint served by both."""
    return {
        name: ratio(servers["fithub"].get("cpu_ms_per_request"), servers["floor"].get("cpu_ms_per_request"))
        for name, servers in load.items()
        if "floor" in servers
    }


def markdown_headline(results: dict) -> list[str]:
    load = results.get("load")
    if not load:
        return []
    ratios = cpu_ratios(load)
    cells = ", ".join(f"{name} **{fmt(value, 2)}x**" for name, value in ratios.items())
    lines = [f"Worker CPU per request, FitHub / floor (same run): {cells}.", ""]
    lists = (results.get("lists") or {}).get("lists", {})
    if lists:
        cells = ", ".join(
            f"{name} **{fmt(row['cpu_ratio']['median'], 2)}x**" for name, row in lists.items() if name != "diary_list"
        )
        lines += [
            f"Worker CPU per request of the other lists / the unfiltered diary list's (interleaved): {cells}.",
            "",
        ]
    return lines


def markdown_lists(results: dict) -> list[str]:
    lists = results.get("lists")
    if not lists:
        return []
    lines = [
        "## Every list against the unfiltered diary list",
        "",
        f"FitHub, the direct phase's instance; {lists['rounds']} rounds of {lists['duration']} s runs, the diary list "
        "and each other list (filtered, 50 rows a page) in an order turned every round; medians over the rounds; "
        f"the CPU ratio is taken round by round, then its median. {CPU_NOTE}",
        "",
        "| list | path | req/s | p50 ms | p99 ms | worker CPU ms/req | CPU / diary list | per round |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for name, row in lists["lists"].items():
        per_round = ", ".join(fmt(value, 2) for value in row["cpu_ratio"]["rounds"])
        lines.append(
            f"| {name} | `{lists['paths'][name][0]}` | {row['rps']} "
            f"| {fmt(row['p50_ms'], 1)} | {fmt(row['p99_ms'], 1)} "
            f"| {fmt(row['cpu_ms_per_request'], 2)} | **{fmt(row['cpu_ratio']['median'], 2)}** | {per_round} |"
        )
    return [*lines, ""]


def markdown_direct(results: dict) -> list[str]:
    wrk = results["wrk"]
    lines = [
        "## Direct: FitHub against the floor, one gunicorn each",
        "",
        f"`wrk -t{wrk['threads']} -c{wrk['connections']} -d{wrk['duration']}s`; gunicorn {results['workers']} sync "
        f"workers each, no nginx; reads on the replica. {CPU_NOTE}",
        "",
        "| endpoint | server | req/s | p50 ms | p95 ms | p99 ms | worker CPU ms/req | non-2xx "
        "| FitHub/floor req/s | FitHub/floor CPU | load avg |",
        "|---|---|" + "---:|" * 9,
    ]
    cpu = cpu_ratios(results["load"])
    for name, servers in results["load"].items():
        floor = servers.get("floor")
        for server, r in servers.items():
            fithub = server == "fithub" and floor
            lines.append(
                f"| {name} | {server} | {r['rps']} | {r['p50_ms']:.1f} | {r['p95_ms']:.1f} | {r['p99_ms']:.1f} "
                f"| {fmt(r.get('cpu_ms_per_request'), 2)} | {r['non_2xx']} "
                f"| {fmt(ratio(r['rps'], floor['rps']), 2) if fithub else ''} "
                f"| {fmt(cpu.get(name), 2) if fithub else ''} | {r.get('loadavg_1m_after', '')} |"
            )
    alone = results.get("search_alone")
    if alone:
        lines += [
            "",
            f"Food search, one client (`wrk -t1 -c1 -d{wrk['duration']}s`, the same four words, full USDA "
            f"table): {alone['rps']} req/s, p50 {alone['p50_ms']:.1f} ms, p95 {alone['p95_ms']:.1f} ms, "
            f"p99 {alone['p99_ms']:.1f} ms, worker CPU {fmt(alone.get('cpu_ms_per_request'), 2)} ms/req "
            "(target: p95 under 20 ms).",
        ]
        labelled = alone.get("labelled")
        if labelled:
            lines += [
                "",
                "The same over the labelled queries of tests/nutrition/data/search_relevance.json in turn: "
                f"{labelled['rps']} req/s, "
                f"p50 {labelled['p50_ms']:.1f} ms, p95 {labelled['p95_ms']:.1f} ms, p99 {labelled['p99_ms']:.1f} ms, "
                f"worker CPU {fmt(labelled.get('cpu_ms_per_request'), 2)} ms/req.",
                *markdown_by_query(labelled.get("by_query")),
            ]
    logged = results.get("logged_foods")
    if logged:
        lines += [
            "",
            f"Recent and frequent foods, one client (`wrk -t1 -c1 -d{wrk['duration']}s`; the generated users log "
            "foods across the whole USDA table, so the long users have thousands of distinct foods: the worst "
            "case; target: p95 under 20 ms):",
            "",
            "| endpoint | history | req/s | p50 ms | p95 ms | p99 ms | worker CPU ms/req | non-2xx | load avg |",
            "|---|---|" + "---:|" * 7,
        ]
        for name, by_years in logged.items():
            for years, r in by_years.items():
                lines.append(
                    f"| {name} | {years} | {r['rps']} | {r['p50_ms']:.1f} | {r['p95_ms']:.1f} | {r['p99_ms']:.1f} "
                    f"| {fmt(r.get('cpu_ms_per_request'), 2)} | {r['non_2xx']} | {r.get('loadavg_1m_after', '')} |"
                )
        plans = [(name, plan) for name in logged for plan in _plans(results, name)]
        if plans:
            lines += ["", "Their statement alone (EXPLAIN ANALYZE, the median of 5 runs on the primary):", ""]
            lines += [
                f"- {name}, {plan['diary_entries']} diary entries: {plan['execution_ms']} ms, "
                f"{plan['shared_hit_blocks'] + plan['shared_read_blocks']} buffers"
                for name, plan in plans
            ]
    return [*lines, ""]


def _plans(results: dict, name: str) -> list[dict]:
    return (results.get("queries") or {}).get("explain", {}).get(name, [])


def markdown_by_query(by_query: dict | None) -> list[str]:
    """Which labelled queries make the tail, by gunicorn's own time for each request."""
    if not by_query:
        return []
    slowest = ", ".join(
        f"{unquote_plus(row['query'].removeprefix('search='))} {fmt(row['p50_ms'])}/{fmt(row['max_ms'])}"
        for row in by_query["slowest"]
    )
    above = ", ".join(
        f"{unquote_plus(query.removeprefix('search='))} x{count}" for query, count in by_query["above_p95"].items()
    )
    return [
        "",
        f"Server time of those requests (gunicorn's access log, {by_query['requests']} requests): "
        f"p50 {fmt(by_query['p50_ms'])} ms, p95 {fmt(by_query['p95_ms'])} ms, p99 {fmt(by_query['p99_ms'])} ms. "
        f"Slowest queries (median/max ms): {slowest}. Requests slower than that p95, by query: {above or 'none'}.",
    ]


def markdown_history(results: dict) -> list[str]:
    history = results.get("history")
    if not history:
        return []
    one, many = (f"{y}y" for y in history["years"])
    lines = [
        f"## 1 year vs {history['years'][1]} years of history per user, interleaved",
        "",
        f"{history['rounds']} rounds; in each, a {history['duration']} s run per endpoint, server and history, "
        "1y and 10y back to back (their order swapped every round). Medians over the rounds; ratios "
        f"{many}/{one} taken round by round (neighbouring runs share the machine's state), then their median. "
        "The floor runs the same two reads with hand-written SQL: what it shows is the machine or the data, "
        "not Django.",
        "",
        f"| endpoint | server | p50 {one} | p50 {many} | p50 ratio | p99 {one} | p99 {many} | p99 ratio "
        f"| CPU ms/req {one} | CPU ms/req {many} | p50 ratios per round | p99 ratios per round |",
        "|---|---|" + "---:|" * 8 + "---|---|",
    ]
    for name, servers in history["endpoints"].items():
        for server, h in servers.items():
            a, b = h[one], h[many]
            lines.append(
                f"| {name} | {server} | {fmt(a['p50_ms'])} | {fmt(b['p50_ms'])} "
                f"| **{fmt(h['p50_ms_ratio']['median'], 2)}** "
                f"| {fmt(a['p99_ms'])} | {fmt(b['p99_ms'])} | **{fmt(h['p99_ms_ratio']['median'], 2)}** "
                f"| {fmt(a['cpu_ms_per_request'], 2)} | {fmt(b['cpu_ms_per_request'], 2)} "
                f"| {', '.join(fmt(v, 2) for v in h['p50_ms_ratio']['rounds'])} "
                f"| {', '.join(fmt(v, 2) for v in h['p99_ms_ratio']['rounds'])} |"
            )
    lines += ["", "### Is it the query? EXPLAIN (ANALYZE, BUFFERS) on the primary, per user", ""]
    lines += [
        "The statements FitHub sent for each user (bench/queries.py); execution time is the median of 5 runs "
        "after one that warms the cache.",
        "",
        "| statement | user's diary entries | plan nodes | rows | shared buffers hit | read | execution ms |",
        "|---|---:|---|---:|---:|---:|---:|",
    ]
    for name in ("day_summary", "diary_list"):
        for item in _plans(results, name):
            label = f"{name}: " + ("grouped totals" if "GROUP BY" in item["sql"] else "targets in force")
            label = name if name == "diary_list" else label
            lines.append(
                f"| {label} | {item['diary_entries']} | {' > '.join(item['nodes'])} | {item['rows']} "
                f"| {item['shared_hit_blocks']} | {item['shared_read_blocks']} | {item['execution_ms']} |"
            )
    lines += ["", *_history_verdict(history, results), ""]
    return lines


def _history_verdict(history: dict, results: dict) -> list[str]:
    """What the figures say, in words computed from them (within 20%, the query's own time)."""
    out = []
    for name, servers in history["endpoints"].items():
        fithub, floor = servers["fithub"], servers.get("floor")
        p50, p99 = fithub["p50_ms_ratio"]["median"], fithub["p99_ms_ratio"]["median"]
        flat = all(value is not None and 0.8 <= value <= 1.2 for value in (p50, p99))
        line = f"- {name}: FitHub {fmt(p50, 2)}x at p50, {fmt(p99, 2)}x at p99: " + (
            "within 20%." if flat else "**not within 20%**."
        )
        line += f" Worker CPU per request: {fmt(fithub['cpu_ms_per_request_ratio']['median'], 2)}x."
        if floor:
            line += (
                f" The floor: {fmt(floor['p50_ms_ratio']['median'], 2)}x, {fmt(floor['p99_ms_ratio']['median'], 2)}x."
            )
        plans = _plans(results, name)
        by_entries: dict[int, float] = {}
        for item in plans:
            by_entries[item["diary_entries"]] = by_entries.get(item["diary_entries"], 0) + item["execution_ms"]
        if len(by_entries) == 2:
            (few, t_few), (more, t_more) = sorted(by_entries.items())
            p50_gap = fithub[f"{history['years'][1]}y"]["p50_ms"] - fithub[f"{history['years'][0]}y"]["p50_ms"]
            line += (
                f" PostgreSQL executes its statements in {t_few:.3f} ms ({few} entries) and {t_more:.3f} ms "
                f"({more} entries): {t_more - t_few:+.3f} ms, against {p50_gap:+.1f} ms between the p50s."
            )
        out.append(line)
    return out


def markdown_recycle(results: dict) -> list[str]:
    recycle = results.get("recycle")
    if not recycle:
        return []
    lines = [
        f"## Recycling workers every {recycle['max_requests']} requests (GUNICORN_MAX_REQUESTS)",
        "",
        f"FitHub on the diary list, {results['workers']} workers per instance, one instance per variant (all up at "
        f"once, one loaded at a time), {recycle['rounds']} interleaved rounds of {recycle['duration']} s "
        f"(`wrk -t{results['wrk']['threads']} -c{results['wrk']['connections']}`); medians over the rounds. "
        "Lazy: GUNICORN_WARM_UP=0 GUNICORN_PRELOAD=0, a new worker imports and builds Django's URLconf, DRF's "
        "settings and the serializers on its first request, as before the warm-up; warmed: the config as it is, "
        "where the master does that before it binds and forks (fithub/ops/warmup.py). Jitter: a worker's limit is "
        "max_requests plus a random share of it; the config's is half of max_requests, the one before was 2,000. "
        "Recycled: workers that served beyond the first ones, from the access log's pids (per run, summed). "
        "Max: the slowest request of a run (wrk). Worker CPU includes the new workers' start-up.",
        "",
        "| variant | recycled | req/s | p50 ms | p99 ms | max ms | worker CPU ms/req | p99 per round "
        "| max per round | non-2xx | socket errors |",
        "|---|---:|---:|---:|---:|---:|---:|---|---|---:|---:|",
    ]
    for variant, v in recycle["variants"].items():
        per_round = [", ".join(fmt(run[key]) for run in v["runs"]) for key in ("p99_ms", "max_ms")]
        figures = (fmt(v["rps"]), fmt(v["p50_ms"]), fmt(v["p99_ms"]), fmt(v.get("max_ms")))
        cells = (*figures, fmt(v["cpu_ms_per_request"], 2), *per_round, v["non_2xx"], v["socket_errors"])
        lines.append(row(variant, v["recycled"], *cells))
    return [*lines, ""]


def markdown_mix_table(endpoints: dict) -> list[str]:
    lines = [
        "| endpoint | requests | share | p50 ms | p95 ms | p99 ms | upstream p50 ms | upstream p99 ms "
        "| gunicorn p50 ms | gunicorn p99 ms | non-2xx (statuses) |",
        "|---|" + "---:|" * 9 + "---|",
    ]
    for name, e in endpoints.items():
        bad = {status: n for status, n in e["statuses"].items() if not status.startswith("2") and status != "499"}
        cells = [name, str(e["count"]), f"{e['share_pct']}%"]
        cells += [fmt(e[key], 0) for key in ("p50_ms", "p95_ms", "p99_ms", "upstream_p50_ms", "upstream_p99_ms")]
        cells += [fmt(e["app_p50_ms"]), fmt(e["app_p99_ms"])]
        cells.append(f"{e['non_2xx']} {bad}" if bad else "0")
        lines.append(row(*cells))
    writes = {name: e for name, e in endpoints.items() if not name.startswith("GET ")}
    failed = {name: e["non_2xx"] for name, e in writes.items() if e["non_2xx"]}
    count = sum(e["count"] - e["client_closed_499"] for e in writes.values())
    lines += ["", f"Writes (POST): {count}, " + (f"**non-2xx: {failed}**." if failed else "all 2xx.")]
    closed = sum(e["client_closed_499"] for e in endpoints.values())
    if closed:
        lines[-1] += f" {closed} requests were still in flight when wrk stopped (nginx logs them as 499)."
    return lines


def _run_heading(r: dict) -> str:
    return (
        f"{r['non_2xx']} non-2xx, {r['socket_errors']} socket errors (wrk: p50 {r['p50_ms']:.1f} ms, "
        f"p99 {r['p99_ms']:.1f} ms; worker CPU {fmt(r.get('cpu_ms_per_request'), 2)} ms/req over both instances; "
        f"load avg {r['loadavg_1m_after']})"
    )


def markdown_stack(stack: dict) -> list[str]:
    mix, peak = stack["mix"], stack["peak"]
    total = sum(mix["weights"].values())
    weights = ", ".join(f"{kind} {100 * w / total:.1f}%" for kind, w in mix["weights"].items())
    wrk_args = f"-t{stack['wrk']['threads']} -c{stack['wrk']['connections']} -d{stack['wrk']['duration']}s"
    lines = [
        "## Production stack: a mobile day's mix through nginx",
        "",
        f"{stack['instances']} FitHub instances x {stack['workers_per_instance']} sync workers "
        "(fithub/ops/gunicorn_conf.py), "
        f"Redis as the shared cache, reads on the replica, behind nginx: {stack['nginx']['config']}, "
        f"{stack['nginx']['scheme'].upper()}. Changed in the bench's copy only, so one address can load it: "
        + "; ".join(f"`{change}`" for change in stack["nginx"]["changes_in_the_bench_copy"])
        + ".",
        "",
        f"`wrk {wrk_args}` with bench/mix.lua: {mix['users']} users' tokens rotated per request, "
        f"{mix['foods']} public foods logged; mix: {weights}. "
        "Per-endpoint times: nginx's $request_time from its JSON access log (millisecond resolution); upstream = "
        "$upstream_response_time (from nginx's connect to gunicorn: the wait for a free sync worker included); "
        "gunicorn = the worker's own time, from the instances' access logs.",
        "",
        f"### Closed loop (the peak): {peak['rps']} req/s, {_run_heading(peak)}",
        "",
        *markdown_mix_table(peak["endpoints"]),
        "",
    ]
    rated = stack.get("rated")
    if rated:
        lines += [
            f"### At {rated['fraction']:.0%} of the peak: {rated['rps']} req/s = {rated['pct_of_peak']}% of the peak "
            f"(target {rated['target_rps']}), {_run_heading(rated)}",
            "",
            *markdown_mix_table(rated["endpoints"]),
            "",
        ]
    return lines


def calibration_note(calibration: dict) -> str:
    note = f"{calibration['pct_of_peak']}% of the peak"
    if calibration["corrected"]:
        return note + ", pace corrected"
    return note + (", server slowed: not corrected" if calibration["slowed"] else "")


def markdown_rated(results: dict) -> list[str]:
    rows = []
    for name, r in ((results.get("direct") or {}).get("rated") or {}).items():
        rows.append((f"{name} (direct, FitHub)", results["load"][name]["fithub"], r))
    stack = results.get("stack") or {}
    if stack.get("rated"):
        rows.append(("mobile-day mix (stack)", stack["peak"], stack["rated"]))
    if not rows:
        return []
    fraction = rows[0][2]["fraction"]
    lines = [
        f"## Latency at {fraction:.0%} of the peak rate",
        "",
        "Peak: closed loop, every connection sends its next request at once. Then the same connections paced "
        f"(wrk `delay()`, Poisson arrivals per thread) at {fraction:.0%} of the peak, after a short calibration run "
        "at that pace (a shortfall is made up once unless the server was slowed down); latency as wrk measures it "
        "(from sending the request).",
        "",
        "| workload | peak req/s | peak p50 ms | peak p99 ms | target req/s | achieved req/s | % of peak | "
        "p50 ms | p99 ms | worker CPU ms/req | non-2xx | calibration run |",
        "|---|" + "---:|" * 11,
    ]
    for name, peak, r in rows:
        peak_cells = (peak["rps"], fmt(peak["p50_ms"]), fmt(peak["p99_ms"]), r["target_rps"], r["rps"])
        cells = (f"{r['pct_of_peak']}%", fmt(r["p50_ms"]), fmt(r["p99_ms"]), fmt(r.get("cpu_ms_per_request"), 2))
        lines.append(row(name, *peak_cells, *cells, r["non_2xx"], calibration_note(r["calibration"])))
    return [*lines, ""]


def markdown_queries(queries: dict) -> list[str]:
    lines = ["## SQL round trips per request (in process, every alias)", ""]
    lines += ["Each `execute` counts once: the day summary sends its two statements in one (fithub.db.statements).", ""]
    per_user = queries["per_user"]
    emails = list(per_user)
    lines.append("| endpoint | " + " | ".join(f"{per_user[e]['diary_entries']} entries" for e in emails) + " |")
    lines.append("|---|" + "---:|" * len(emails))
    for endpoint in per_user[emails[0]]["endpoints"]:
        cells = [
            f"{per_user[e]['endpoints'][endpoint]['queries']} ({per_user[e]['endpoints'][endpoint]['status']})"
            for e in emails
        ]
        lines.append(f"| {endpoint} | " + " | ".join(cells) + " |")
    lines += ["", "## EXPLAIN (ANALYZE, BUFFERS) of FitHub's diary and food search queries", ""]
    for name, statements in queries["explain"].items():
        for item in statements:
            heading = f"### {name} ({item['diary_entries']} diary entries)"
            lines += [heading, "", "```sql", item["sql"], "```", "", "```", item["plan"], "```", ""]
    return lines


def markdown_search(search: dict) -> list[str]:
    relevance, latency = search["relevance"], search["latency"]
    floors = relevance.get("floors") or {"hit_at_3": 0.9, "mrr": 0.8}  # the floors of runs before they were recorded
    lines = ["## Food search: relevance and latency in process (bench/search.py)", ""]
    lines += [
        f"{relevance['queries']} labelled queries over {search['foods']} foods: hit@3 {relevance['hit_at_3']}, "
        f"MRR {relevance['mrr']} (the relevance test holds hit@3 >= {floors['hit_at_3']}, MRR >= {floors['mrr']}). "
        "Below the top 3: "
        + (", ".join(f"{query} ({rank or 'none'})" for query, rank in relevance["below_top_3"].items()) or "none")
        + ".",
        "",
        f"Each query {latency['rounds']} times per caller through Django's test client (the whole view, no HTTP); "
        f"typed: the labelled queries and their prefixes of 3 letters or more ({latency['queries']} in all); "
        f"load average {search['loadavg_1m']}. Target: p95 under 20 ms.",
        "",
        "| queries | caller | requests | p50 ms | p95 ms | p99 ms | max ms | statements |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for kind in ("labelled", "typed"):
        run = latency[kind]
        statements = f"{run['statements_per_request']['min']}-{run['statements_per_request']['max']}"
        for caller in ("anonymous", "signed_in", "all", "sql"):
            r = run[caller]
            name = "database (statements' time)" if caller == "sql" else caller
            lines.append(
                f"| {kind} | {name} | {r['requests']} | {fmt(r['p50_ms'])} | {fmt(r['p95_ms'])} "
                f"| {fmt(r['p99_ms'])} | {fmt(r['max_ms'])} | {statements} |"
            )
    for kind, r in (search.get("execution") or {}).items():
        lines.append(
            f"| {kind} | PostgreSQL execution (EXPLAIN ANALYZE) | {r['statements']} | {fmt(r['p50_ms'])} "
            f"| {fmt(r['p95_ms'])} | {fmt(r['p99_ms'])} | {fmt(r['max_ms'])} | |"
        )
    return [*lines, ""]


def markdown(results: dict) -> str:
    lines = [
        f"# Benchmark {results['date']}",
        "",
        f"{results['users']} users x {results['days']} days (~{results['entries_per_user']} diary entries per user); "
        f"phases: {', '.join(results['phases'])}; {results['runtime_s']} s in all.",
        "",
        *markdown_headline(results),
    ]
    if results.get("load"):
        lines += markdown_direct(results)
    lines += markdown_lists(results)
    lines += markdown_history(results)
    lines += markdown_recycle(results)
    if results.get("stack"):
        lines += markdown_stack(results["stack"])
    lines += markdown_rated(results)
    if results.get("search"):
        lines += markdown_search(results["search"])
    lines += markdown_queries(results["queries"])
    return "\n".join(lines) + "\n"
