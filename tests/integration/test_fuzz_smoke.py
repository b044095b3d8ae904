"""A bounded `make fuzz`: schemathesis, every phase (stateful too), against the real gunicorn.

Few examples per operation, a fixed seed and deterministic generation, so it fits in the
suite; `make fuzz FUZZ_ARGS="--max-examples 100"` is the deep run. It cannot pass by testing
nothing: every operation of the schema must be reported on, and the instance's access log
must show enough requests, enough of them answered 2xx (the token held) and none 5xx.
"""

import json
import re
import xml.etree.ElementTree as ET

import pytest

from harness import fuzz, servers

pytestmark = pytest.mark.integration

EXAMPLES = 3
MIN_REQUESTS = 1500  # ~3,000 are sent with 3 examples per operation
MIN_SUCCESSES = 250  # ~360 of them 2xx


def _schema() -> dict:
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)


def _links_in_schema() -> int:
    operations = [operation for item in _schema()["paths"].values() for operation in item.values()]
    return sum(
        len(response.get("links", {}))
        for operation in operations
        if isinstance(operation, dict)
        for response in operation.get("responses", {}).values()
    )


def _operations_in_schema() -> set[str]:
    schema = _schema()
    methods = {"get", "post", "put", "patch", "delete"}
    paths = schema["paths"].items()
    return {f"{method.upper()} {path}" for path, item in paths for method in item if method in methods}


@pytest.fixture
def fuzzed(tools, work_dir, app_env, capfd):
    work = work_dir / "fuzz"
    work.mkdir()
    report = work / "fuzz.xml"
    code = fuzz.fuzz(
        work, fuzz.fuzz_env(app_env), max_examples=EXAMPLES, report=report, passthrough=["--generation-deterministic"]
    )
    output = capfd.readouterr().out
    reports = sorted(work.glob("fuzz*.xml"))
    return code, output, reports, servers.json_lines(work / "fuzz-access.log")


def test_the_fuzzer_finds_nothing(fuzzed):
    code, output, reports, requests = fuzzed
    assert code == 0, output[-20000:]

    cases = [case for path in reports for case in ET.parse(path).getroot().iter("testcase")]  # noqa: S314
    operations = _operations_in_schema()
    assert len(operations) >= 60
    reported = {case.get("name") for case in cases}
    assert operations | {"Stateful tests"} <= reported, sorted(reported)
    assert not [
        case.get("name") for case in cases if case.find("failure") is not None or case.find("error") is not None
    ]

    # The stateful phase follows the schema's OpenAPI links (creates to the created row), on top
    # of the ones schemathesis infers.
    links = re.search(r"API Links: +(\d+) covered / (\d+) selected / (\d+) total(?: \((\d+) inferred\))?", output)
    assert links, output[-5000:]
    # How many it covers depends on the scenarios run: 0 or 1 with 3 examples, more in a deep run.
    _covered, selected, total, inferred = (int(group or 0) for group in links.groups())
    declared = _links_in_schema()
    assert declared >= 20
    assert total - inferred == declared
    assert selected == total

    statuses = [row["status"] for row in requests]
    assert len(statuses) >= MIN_REQUESTS, output[-5000:]
    assert sum(200 <= status < 300 for status in statuses) >= MIN_SUCCESSES
    errors = [row for row in requests if row["status"] >= 500]
    assert not errors, json.dumps(errors[:5])
