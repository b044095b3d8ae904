"""bench/stats.py: what the bench reports about which queries make a run's tail."""

from bench.stats import by_query


def _rows(query: str, *durations: float) -> list[dict]:
    return [{"query": query, "duration_ms": duration} for duration in durations]


def test_by_query_names_the_queries_of_the_tail():
    rows = _rows("search=apple", *[5.0] * 50) + _rows("search=chiken+brest", 9.0, 40.0) + _rows("search=oats", 6.0, 7.0)
    found = by_query(rows, top=2)
    assert found["requests"] == 54
    assert (found["p50_ms"], found["p95_ms"], found["p99_ms"]) == (5.0, 7.0, 40.0)
    assert found["slowest"] == [
        {"query": "search=chiken+brest", "requests": 2, "p50_ms": 24.5, "max_ms": 40.0},
        {"query": "search=oats", "requests": 2, "p50_ms": 6.5, "max_ms": 7.0},
    ]
    assert found["above_p95"] == {"search=chiken+brest": 2}


def test_by_query_of_no_requests_is_empty():
    assert by_query([]) == {}
