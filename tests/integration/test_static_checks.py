"""Static checks of the operations artifacts, each with a broken copy to prove the checker bites."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from harness import servers as live

pytestmark = pytest.mark.integration

ROOT = live.ROOT
BIN = Path(sys.executable).parent
COMPOSE_FILES = ["docker-compose.yml", "docker-compose.prod.yml"]


def run(*args, cwd=ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([str(arg) for arg in args], cwd=cwd, capture_output=True, text=True, timeout=180)


def test_hadolint_passes_the_dockerfile(tmp_path):
    result = run(BIN / "hadolint", "Dockerfile")
    assert result.returncode == 0, result.stdout + result.stderr

    broken = tmp_path / "Dockerfile"
    broken.write_text("FROM python:latest\nRUN cd /app && pip install django\n")
    assert run(BIN / "hadolint", broken).returncode != 0


def test_dockerfile_is_multi_stage_slim_non_root_with_healthcheck():
    text = (ROOT / "Dockerfile").read_text()
    stages = [line for line in text.splitlines() if line.startswith("FROM ")]
    assert len(stages) >= 3
    assert stages[-1].startswith("FROM python:3.13-slim ")
    assert "uv sync --locked --no-dev" in text
    assert "collectstatic" in text
    assert "\nUSER 10001:10001\n" in text
    assert "HEALTHCHECK" in text
    assert "/health/live/" in text
    assert 'CMD ["gunicorn", "--config", "fithub/ops/gunicorn_conf.py", "fithub.wsgi"]' in text


@pytest.mark.parametrize("name", COMPOSE_FILES)
def test_compose_files_match_the_compose_spec(name):
    result = run(BIN / "check-jsonschema", "--builtin-schema", "vendor.compose-spec", name)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_compose_schema_check_rejects_a_broken_file(tmp_path):
    broken = tmp_path / "compose.yml"
    broken.write_text("services:\n  web:\n    image: x\n    ports: 8000\n    restart: sometimes-maybe\n")
    assert run(BIN / "check-jsonschema", "--builtin-schema", "vendor.compose-spec", broken).returncode != 0


def test_production_compose_wires_every_service():
    services = yaml.safe_load((ROOT / "docker-compose.prod.yml").read_text())["services"]
    assert {"nginx", "app1", "app2", "db-primary", "db-replica", "redis", "prometheus", "grafana", "migrate"} <= set(
        services
    )
    assert services["db-primary"]["image"] == services["db-replica"]["image"] == "postgres:16"
    for app in ("app1", "app2"):
        env = services[app]["environment"]
        assert env["CACHE_URL"].startswith("redis://redis:")
        assert "@db-replica:" in env["DATABASE_REPLICA_URLS"]
        assert env["NUM_PROXIES"] == "1"
    dev = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    assert dev["db"]["image"] == "postgres:16"
    assert "runserver" in " ".join(dev["web"]["command"])


def test_actionlint_passes_the_workflows(tools, tmp_path):
    workflows = sorted(path.name for path in (ROOT / ".github" / "workflows").glob("*.yml"))
    assert workflows == ["deploy.yml", "docker.yml", "lint.yml", "rollback.yml", "security.yml", "tests.yml"]
    result = run(BIN / "actionlint")
    assert result.returncode == 0, result.stdout + result.stderr

    repo = tmp_path / "repo"
    (repo / ".github" / "workflows").mkdir(parents=True)
    (repo / ".github" / "workflows" / "bad.yml").write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n"
        "      - run: echo ${{ github.event.pull_request.title }}\n"
        "      - run: cd $HOME/some dir\n"
    )
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    broken = run(BIN / "actionlint", cwd=repo)
    assert broken.returncode != 0
    assert "potentially untrusted" in broken.stdout
    assert "SC2086" in broken.stdout  # the run: scripts go through shellcheck too


def test_docker_workflow_builds_both_platforms_and_pushes_only_on_main():
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "docker.yml").read_text())
    build = next(step for step in workflow["jobs"]["image"]["steps"] if "build-push-action" in step.get("uses", ""))
    assert build["with"]["platforms"] == "linux/amd64,linux/arm64"
    assert "refs/heads/main" in build["with"]["push"]
    tests = (ROOT / ".github" / "workflows" / "tests.yml").read_text()
    assert "run: make test" in tests
    rollback = yaml.safe_load((ROOT / ".github" / "workflows" / "rollback.yml").read_text())
    assert list(rollback[True]) == ["workflow_dispatch"]  # PyYAML reads the `on` key as True


def test_promtool_checks_the_rules_and_the_config(tools, tmp_path):
    rules = run("promtool", "check", "rules", live.PROMETHEUS_DIR / "alerts.yml")
    assert rules.returncode == 0, rules.stdout + rules.stderr
    assert "6 rules found" in rules.stdout
    config = run("promtool", "check", "config", live.PROMETHEUS_DIR / "prometheus.yml")
    assert config.returncode == 0, config.stdout + config.stderr

    broken = tmp_path / "alerts.yml"
    broken.write_text("groups:\n  - name: x\n    rules:\n      - alert: Broken\n        expr: sum(rate(x[5m]\n")
    assert run("promtool", "check", "rules", broken).returncode != 0


def test_alerts_fire_on_the_data_they_are_written_for(tools):
    """promtool's rule unit tests: each alert fires (labels and rendered annotations) on bad data
    and stays quiet on healthy data."""
    result = run("promtool", "test", "rules", live.PROMETHEUS_DIR / "tests" / "alerts_test.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_nginx_accepts_the_production_config_with_hostnames_mapped(tools, tmp_path):
    live.make_certificate(tmp_path / "certs")
    conf = live.mapped_nginx_conf(tmp_path, http_port=20080, https_port=20443, app_ports=(20001, 20002))
    result = live.nginx_test(conf, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr

    conf.write_text(conf.read_text().replace("least_conn;", "least_conn\n"))
    assert live.nginx_test(conf, tmp_path).returncode != 0


def test_nginx_config_keeps_the_production_essentials():
    text = live.NGINX_CONF.read_text()
    for needle in (
        "least_conn;",
        "keepalive 32;",
        'proxy_set_header Connection "";',
        "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
        "proxy_set_header X-Forwarded-Proto $scheme;",
        "proxy_set_header X-Request-ID $request_id;",
        "limit_req_status 429;",
        "gzip_types application/json",
        "client_max_body_size",
        "return 301 https://$host$request_uri;",
    ):
        assert needle in text, needle


def test_dashboard_uses_the_provisioned_datasource_and_covers_the_brief():
    datasource = yaml.safe_load(
        (ROOT / "monitoring" / "grafana" / "provisioning" / "datasources" / "prometheus.yml").read_text()
    )["datasources"][0]
    provider = yaml.safe_load(
        (ROOT / "monitoring" / "grafana" / "provisioning" / "dashboards" / "fithub.yml").read_text()
    )["providers"][0]
    assert provider["options"]["path"] == "/var/lib/grafana/dashboards"
    dashboard = json.loads(live.DASHBOARD.read_text())
    titles = {panel["title"] for panel in dashboard["panels"]}
    assert {"Request rate by view", "Error rate (5xx share of responses)", "Latency percentiles by view"} <= titles
    assert {"Reads: replica vs primary", "Replica lag"} <= titles
    assert "Shared cache: failures and fail-open decisions" in titles
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for panel in dashboard["panels"]:
        assert panel["datasource"]["uid"] == datasource["uid"]
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == datasource["uid"]
            assert target["expr"].strip()


def test_nginx_prometheus_grafana_and_compose_agree_on_the_instances():
    """Scaling out means touching three files (docs/OPERATIONS.md): they must name the same apps."""
    services = yaml.safe_load((ROOT / "docker-compose.prod.yml").read_text())["services"]
    apps = {name for name in services if re.fullmatch(r"app\d+", name)}
    assert apps == {"app1", "app2"}
    instances = {f"{name}:8000" for name in apps}
    upstream = re.search(r"upstream fithub \{(.*?)\}", live.NGINX_CONF.read_text(), re.S).group(1)
    assert set(re.findall(r"server (\S+)", upstream)) == instances
    prometheus = yaml.safe_load((live.PROMETHEUS_DIR / "prometheus.yml").read_text())
    (job,) = [job for job in prometheus["scrape_configs"] if job["job_name"] == "fithub"]
    assert set(job["static_configs"][0]["targets"]) == instances
    assert prometheus["rule_files"] == ["alerts.yml"]
    datasource = yaml.safe_load(
        (ROOT / "monitoring" / "grafana" / "provisioning" / "datasources" / "prometheus.yml").read_text()
    )["datasources"][0]
    assert datasource["url"] == "http://prometheus:9090"
    mounts = {name: services[name].get("volumes", []) for name in ("nginx", "prometheus", "grafana")}
    assert "./nginx/nginx.conf:/etc/nginx/nginx.conf:ro" in mounts["nginx"]
    assert "./monitoring/prometheus:/etc/prometheus:ro" in mounts["prometheus"]
    assert "./monitoring/grafana/dashboards:/var/lib/grafana/dashboards:ro" in mounts["grafana"]
    assert "./monitoring/grafana/provisioning:/etc/grafana/provisioning:ro" in mounts["grafana"]
