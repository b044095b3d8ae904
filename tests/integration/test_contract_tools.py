"""The checkers of make contract (harness/contract.py) bite: each passes a good input and fails
a broken one. make contract itself runs them on the live schema, after this suite; these run
them on small inputs and on the schema built in process, with no server."""

import copy
import json
import re
from pathlib import Path

import pytest
import yaml

from harness import contract

pytestmark = pytest.mark.integration

TINY = {
    "openapi": "3.0.3",
    "info": {"title": "Tiny", "version": "1", "description": "A tiny API.", "contact": {"name": "FitHub"}},
    "servers": [{"url": "http://127.0.0.1:8000"}],
    "tags": [{"name": "things", "description": "Things."}],
    "paths": {
        "/things/{id}/": {
            "get": {
                "operationId": "things_retrieve",
                "summary": "A thing",
                "description": "A thing.",
                "tags": ["things"],
                "security": [{"jwtAuth": []}],
                "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}],
                "responses": {
                    "200": {
                        "description": "The thing",
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/Thing"},
                                "examples": {"One": {"value": {"id": 1}}},
                            }
                        },
                    },
                    "404": {
                        "description": "No such thing",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}},
                    },
                },
            }
        }
    },
    "components": {
        "securitySchemes": {"jwtAuth": {"type": "http", "scheme": "bearer"}},
        "schemas": {"Thing": {"type": "object", "required": ["id"], "properties": {"id": {"type": "integer"}}}},
    },
}

GOOD_PY = """\
import datetime

from fithub_client.models import DiaryEntryWriteRequest, MealSlotEnum

entry = DiaryEntryWriteRequest(
    meal=MealSlotEnum.BREAKFAST, consumed_at=datetime.datetime.now(tz=datetime.UTC), grams=GRAMS
)
"""

GOOD_TS = """\
import type { components } from "fithub-api";

export const entry: components["schemas"]["DiaryEntryWriteRequest"] = {
  meal: "breakfast",
  consumed_at: "2026-01-01T08:00:00Z",
  grams: GRAMS,
};
"""


@pytest.fixture(scope="module")
def node_tools():
    contract.npm_ci()


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """The schema as the server builds it, and the Python client and TypeScript types from it."""
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.renderers import OpenApiJsonRenderer

    build = tmp_path_factory.mktemp("contract")
    schema = SchemaGenerator().get_schema(request=None, public=True)
    (build / "schema.json").write_bytes(OpenApiJsonRenderer().render(schema))
    return build


@pytest.fixture(scope="module")
def python_client(built) -> Path:
    contract.generate_python_client(built / "schema.json", built)
    return built


@pytest.fixture(scope="module")
def typescript(built, node_tools) -> Path:
    contract.generate_typescript(built / "schema.json", built)
    return built


def _write_schema(path: Path, schema: dict) -> Path:
    path.write_text(json.dumps(schema))
    return path


def test_the_linters_pass_a_clean_schema_and_report_each_real_defect(tmp_path, node_tools, capsys):
    clean = _write_schema(tmp_path / "clean.json", TINY)
    assert contract.redocly_lint(clean, tmp_path).startswith("Redocly recommended: 0 errors, 0 warnings")
    assert contract.spectral_lint(clean, tmp_path).startswith("Spectral spectral:oas: 0 errors, 0 warnings")

    broken = copy.deepcopy(TINY)
    del broken["servers"]
    operation = broken["paths"]["/things/{id}/"]["get"]
    del operation["summary"]
    operation["responses"]["200"]["content"]["application/json"]["examples"]["One"]["value"] = {"id": "one"}
    path = _write_schema(tmp_path / "broken.json", broken)
    with pytest.raises(RuntimeError, match=r"Redocly recommended: 2 errors") as redocly:
        contract.redocly_lint(path, tmp_path)
    assert "no-empty-servers error x1" in str(redocly.value)
    assert "operation-summary error x1" in str(redocly.value)
    with pytest.raises(RuntimeError, match=r"Spectral spectral:oas: 1 errors, .*oas3-valid-media-example error x1"):
        contract.spectral_lint(path, tmp_path)
    printed = capsys.readouterr().out
    assert re.search(r"error  oas3-valid-media-example +paths\./things/\{id\}/\.get\.responses\.200", printed)


def test_a_trailing_slash_is_not_reported_but_an_undeclared_path_parameter_is(tmp_path, node_tools):
    schema = copy.deepcopy(TINY)
    del schema["paths"]["/things/{id}/"]["get"]["parameters"]
    path = _write_schema(tmp_path / "undeclared.json", schema)
    with pytest.raises(RuntimeError) as redocly:
        contract.redocly_lint(path, tmp_path)
    assert "no-path-trailing-slash" not in str(redocly.value)
    assert "path-parameters-defined error x1" in str(redocly.value)
    with pytest.raises(RuntimeError) as spectral:
        contract.spectral_lint(path, tmp_path)
    assert "path-keys-no-trailing-slash" not in str(spectral.value)
    assert "path-params error x1" in str(spectral.value)


def test_mypy_strict_accepts_good_use_of_the_generated_client_and_rejects_a_wrong_type(python_client, capsys):
    good = python_client / "good.py"
    good.write_text(GOOD_PY.replace("GRAMS", "120"))
    assert contract.mypy_strict(python_client, good) == "0 errors"

    bad = python_client / "bad.py"
    bad.write_text(GOOD_PY.replace("GRAMS", '"120"'))
    with pytest.raises(RuntimeError, match="mypy --strict: 1 errors"):
        contract.mypy_strict(python_client, bad)
    assert re.search(r"bad\.py:\d+: error: .*\"grams\"", capsys.readouterr().out)


def test_tsc_strict_accepts_good_use_of_the_generated_types_and_rejects_a_wrong_type(typescript, capsys):
    def tsconfig(name: str, grams: str) -> Path:
        (typescript / f"{name}.ts").write_text(GOOD_TS.replace("GRAMS", grams))
        committed = json.loads(
            "\n".join(
                line
                for line in (contract.CONTRACT / "tsconfig.json").read_text().splitlines()
                if not line.startswith("//")
            )
        )
        committed["compilerOptions"]["paths"] = {"fithub-api": [str(typescript / "typescript" / "fithub.d.ts")]}
        committed["files"] = [f"{name}.ts"]
        path = typescript / f"tsconfig-{name}.json"
        path.write_text(json.dumps(committed))
        return path

    assert contract.tsc_strict(tsconfig("good", "120")) == "0 errors"
    with pytest.raises(RuntimeError, match="tsc --strict: 1 errors"):
        contract.tsc_strict(tsconfig("bad", '"120"'))
    assert re.search(r"bad\.ts\(\d+,\d+\): error TS2322", capsys.readouterr().out)


@pytest.mark.parametrize("name", ["redocly.yaml", ".spectral.yaml"])
def test_every_rule_turned_off_says_why_on_the_line_above(name):
    path = contract.CONTRACT / name
    lines = path.read_text().splitlines()
    rules = yaml.safe_load(path.read_text())["rules"]
    assert rules, f"{name} turns nothing off"
    for rule, setting in rules.items():
        assert setting in ("off", False), f"{rule}: {setting}"  # YAML 1.1 reads `off` as false
        (index,) = [i for i, line in enumerate(lines) if line.strip().startswith(f"{rule}:")]
        reason = lines[index - 1].strip()
        assert reason.startswith("# "), f"{name}: {rule} has no reason above it"
        assert len(reason) > 20, f"{name}: {rule}: {reason}"


def test_the_node_tools_are_pinned_to_exact_versions_of_the_majors_required():
    package = json.loads((contract.CONTRACT / "package.json").read_text())
    lock = json.loads((contract.CONTRACT / "package-lock.json").read_text())
    majors = {"@redocly/cli": 2, "@stoplight/spectral-cli": 6, "openapi-typescript": 7, "typescript": 5}
    assert set(package["dependencies"]) == set(majors)
    for name, major in majors.items():
        version = package["dependencies"][name]
        assert re.fullmatch(rf"{major}\.\d+\.\d+", version), f"{name} {version}"
        assert lock["packages"][f"node_modules/{name}"]["version"] == version
