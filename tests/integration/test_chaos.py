"""How `make chaos` (harness/chaos.py) judges what its load saw. The matrix itself runs in
`make test` as its own step, on a durable PostgreSQL (see the Makefile): here, the rules."""

import os
import re
import uuid
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness import chaos
from harness.chaos import Sample, Write, classify, data_check, recovery_seconds

ROOT = Path(__file__).resolve().parents[2]


def _sample(status, *, seconds=0.05, retry_after=False, expected=False, start=100.0, op="diary"):
    return Sample("f", op, start, start + seconds, status, retry_after=retry_after, expected=expected)


@pytest.mark.parametrize(
    ("sample", "kind"),
    [
        (_sample(200), "2xx"),
        (_sample(201), "2xx"),
        (_sample(401, expected=True), "4xx_expected"),
        (_sample(401), "4xx"),
        (_sample(409), "4xx"),
        (_sample(503, retry_after=True), "503_fast"),
        (_sample(503, retry_after=True, seconds=chaos.FAST_503_SECONDS + 0.1), "5xx"),
        (_sample(503), "5xx"),
        (_sample(502, retry_after=True), "5xx"),
        (_sample(500), "5xx"),
        (_sample(None), "no_answer"),
        (_sample(302), "other"),
    ],
)
def test_only_fast_503s_with_retry_after_are_allowed_failures(sample, kind):
    assert classify(sample) == kind
    assert (kind in chaos.FAILING) == (kind not in {"2xx", "4xx_expected", "503_fast"})


def test_a_502_is_allowed_only_for_a_post_in_flight_at_a_kill():
    kills = ((10.5, 10.52),)  # the SIGKILL sent, the processes gone
    cut = _sample(502, start=10.0, seconds=1.0)
    assert classify(replace(cut, op="write"), kills) == "502_cut"
    assert classify(replace(cut, op="login"), kills) == "502_cut"
    assert classify(replace(cut, op="diary"), kills) == "5xx"  # a GET: nginx retries it elsewhere
    assert classify(replace(cut, op="write", start=10.51, end=10.53), kills) == "502_cut"  # while it died
    assert classify(replace(cut, op="write", start=10.6, end=11.0), kills) == "5xx"  # sent once it was gone
    assert classify(replace(cut, op="write", start=9.0, end=10.4), kills) == "5xx"  # over before it
    assert classify(replace(cut, op="write", status=500), kills) == "5xx"
    assert classify(replace(cut, op="write")) == "5xx"  # no kill in this fault
    # A response nginx had begun to relay when the instance died: cut short, any method.
    incomplete = replace(cut, op="diary", status=None, error="IncompleteRead: IncompleteRead(0 bytes read)")
    assert classify(incomplete, kills) == "502_cut"
    assert classify(incomplete) == "no_answer"
    assert classify(replace(incomplete, error="TimeoutError: timed out"), kills) == "no_answer"
    assert "502_cut" not in chaos.FAILING


def test_recovery_runs_to_the_later_of_health_and_the_last_failure_after_the_repair():
    repaired = 100.0
    samples = [
        _sample(503, retry_after=True, start=95.0, seconds=0.1),  # during the fault: not recovery
        _sample(200, start=101.0),
        _sample(503, retry_after=True, start=103.0, seconds=0.5),  # still failing after the repair
        _sample(200, start=104.0),
    ]
    assert recovery_seconds(samples, repaired, healthy=102.0) == 3.5
    assert recovery_seconds(samples, repaired, healthy=106.0) == 6.0
    assert recovery_seconds(samples[:2], repaired, healthy=100.2) == 0.2
    # A request that began before the repair and failed after it counts too.
    assert recovery_seconds([_sample(None, start=99.0, seconds=4.0)], repaired, healthy=100.5) == 3.0
    assert recovery_seconds(samples, repaired, healthy=None) is None


def _writes(count: int, acked: bool = True) -> list[Write]:
    return [Write(str(uuid.uuid4()), "f", f"chaos run {index}", acked=acked) for index in range(count)]


def test_data_check_finds_lost_doubled_and_stray_rows():
    writes = _writes(4)
    unacked = Write(str(uuid.uuid4()), "f", "chaos run unacked")
    rows = [(w.id, w.note) for w in writes[:3]]
    rows.append((str(uuid.uuid4()), writes[0].note))  # the first write stored twice
    rows.append((str(uuid.uuid4()), writes[3].note.replace("3", "x")))  # a row no write made
    rows.append((unacked.id, unacked.note))  # not acknowledged, stored: fine
    result = data_check([*writes, unacked], rows)
    assert result["lost"] == 1
    assert result["lost_ids"] == [writes[3].id]
    assert result["doubled"] == 2
    assert result["unacknowledged_stored"] == 1
    assert (result["writes"], result["acknowledged"]) == (5, 4)


def test_an_acknowledged_write_stored_under_another_id_is_lost():
    (write,) = _writes(1)
    assert data_check([write], [(str(uuid.uuid4()), write.note)])["lost"] == 1


@given(st.lists(st.tuples(st.booleans(), st.integers(min_value=0, max_value=2)), max_size=30))
def test_data_check_counts_every_class_of_outcome(outcomes):
    """Each write acknowledged or not, stored 0, 1 or 2 times: lost are the acknowledged ones
    stored 0 times, doubled those stored twice, whatever the mix."""
    writes, rows = [], []
    for index, (acked, stored) in enumerate(outcomes):
        write = Write(str(uuid.UUID(int=index)), "f", f"chaos run {index}", acked=acked)
        writes.append(write)
        rows += [(write.id, write.note)] * stored
    result = data_check(writes, rows)
    assert result["lost"] == sum(1 for acked, stored in outcomes if acked and stored == 0)
    assert result["doubled"] == sum(1 for _, stored in outcomes if stored == 2)
    assert result["acknowledged"] == sum(acked for acked, _ in outcomes)


def test_rising_and_steady_need_two_readings():
    values = iter([1, 1, 2, 2])
    rising = chaos.Rising(lambda: next(values))
    assert [rising(), rising(), rising(), rising()] == [False, False, True, False]
    values = iter([5, 5, 6])
    steady = chaos.Steady(lambda: next(values))
    assert [steady(), steady(), steady()] == [False, True, False]


def test_every_fault_of_the_issue_is_in_the_matrix_with_a_metric_or_a_reason():
    assert set(chaos.FAULTS) == {
        "replica_kill", "instance_kill", "worker_kills", "redis_stop", "primary_stop", "replica_pause",
    }  # fmt: skip
    for fault in chaos.FAULTS.values():
        assert fault.metric
        assert bool(fault.metric_exprs) == (fault.moved is not None)


def test_the_matrix_refuses_a_primary_that_may_lose_acknowledged_commits():
    import psycopg

    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        pytest.fail("needs PostgreSQL: run it under harness/with-postgres.sh (make test)")
    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn:
        fsync = conn.execute("SHOW fsync").fetchone()[0]
    if fsync == "off":  # the ordinary test servers (without FITHUB_PG_DURABLE=1)
        with pytest.raises(SystemExit, match="may lose acknowledged commits"):
            chaos.check_durable()
    else:
        chaos.check_durable()


def test_make_test_runs_the_matrix_on_a_durable_primary_within_the_ci_job():
    makefile = (ROOT / "Makefile").read_text()
    test_recipe = re.search(r"^test:.*\n((?:\t.*\n)+)", makefile, re.MULTILINE)[1]
    assert "$(MAKE) --no-print-directory chaos" in test_recipe
    chaos_recipe = re.search(r"^chaos:.*\n((?:\t.*\n)+)", makefile, re.MULTILINE)[1]
    assert "FITHUB_PG_DURABLE=1" in chaos_recipe
    assert "harness/with-postgres.sh" in chaos_recipe
    assert "python -m harness.chaos" in chaos_recipe
    workflow = (ROOT / ".github" / "workflows" / "tests.yml").read_text()
    assert int(re.search(r"timeout-minutes: (\d+)", workflow)[1]) >= 45
