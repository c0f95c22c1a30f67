"""The deploy files: parse them and check them against the code they run.

No container engine runs here, so this is what can be validated: syntax,
names (commands, environment variables, ports) and references between files.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import yaml

from services.common.config import (
    DEFAULT_GATEWAY_ADDR,
    DEFAULT_JOB_API_ADDR,
    ENVIRONMENT_VARIABLES,
)
from services.common.healthcheck import is_serving
from services.job_api.server import RunningJobApi

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s" / "base"
JOB_API_PORT = int(DEFAULT_JOB_API_ADDR.rsplit(":", 1)[1])
GATEWAY_PORT = int(DEFAULT_GATEWAY_ADDR.rsplit(":", 1)[1])


def console_scripts() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return set(project["project"]["scripts"])


def compose() -> dict[str, Any]:
    document = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    assert isinstance(document, dict)
    return document


def k8s_documents() -> list[dict[str, Any]]:
    documents = []
    for path in sorted(K8S.glob("*.yaml")):
        documents += [d for d in yaml.safe_load_all(path.read_text()) if d]
    return documents


def containers() -> list[dict[str, Any]]:
    found = []
    for document in k8s_documents():
        if document["kind"] == "Deployment":
            found += document["spec"]["template"]["spec"]["containers"]
    return found


def test_every_manifest_parses() -> None:
    assert compose()["services"]
    kinds = {d["kind"] for d in k8s_documents()}
    assert {"Deployment", "Service", "Secret", "PersistentVolumeClaim", "Namespace"} <= kinds


def test_kustomization_lists_exactly_the_manifests_present() -> None:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    listed = set(kustomization["resources"])
    present = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert listed == present


def test_every_command_is_an_installed_console_script() -> None:
    scripts = console_scripts()
    commands = [c["command"] for c in containers()]
    commands += [s["command"] for s in compose()["services"].values() if "command" in s]
    assert commands
    for command in commands:
        assert command[0] in scripts, command
    dockerfile_cmd = re.search(r'^CMD \["([^"]+)"', (DEPLOY / "Dockerfile").read_text(), re.M)
    assert dockerfile_cmd is not None
    assert dockerfile_cmd.group(1) in scripts


def test_every_variable_set_is_one_the_services_read() -> None:
    names = {e["name"] for c in containers() for e in c.get("env", [])}
    for service in compose()["services"].values():
        names |= set(service.get("environment", {}))
    names |= set(re.findall(r"\b(FORGESYTE_[A-Z_]+)=", (DEPLOY / "Dockerfile").read_text()))
    forgesyte_names = {n for n in names if n.startswith("FORGESYTE_")}
    assert forgesyte_names
    assert forgesyte_names <= set(ENVIRONMENT_VARIABLES)


def test_ports_and_probes_match_the_services() -> None:
    by_name = {c["name"]: c for c in containers()}
    job_api, gateway = by_name["job-api"], by_name["gateway"]
    assert job_api["ports"][0]["containerPort"] == JOB_API_PORT
    assert job_api["readinessProbe"]["grpc"]["port"] == JOB_API_PORT
    assert job_api["livenessProbe"]["grpc"]["port"] == JOB_API_PORT
    assert gateway["ports"][0]["containerPort"] == GATEWAY_PORT
    assert gateway["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert gateway["livenessProbe"]["httpGet"]["path"] == "/healthz"
    exposed = re.search(r"^EXPOSE (.+)$", (DEPLOY / "Dockerfile").read_text(), re.M)
    assert exposed is not None
    assert {int(p) for p in exposed.group(1).split()} == {JOB_API_PORT, GATEWAY_PORT}
    assert compose()["services"]["gateway"]["ports"] == [f"{GATEWAY_PORT}:{GATEWAY_PORT}"]


def test_services_select_their_pods_and_secrets_exist() -> None:
    documents = k8s_documents()
    pod_labels = [
        d["spec"]["template"]["metadata"]["labels"] for d in documents if d["kind"] == "Deployment"
    ]
    for service in (d for d in documents if d["kind"] == "Service"):
        selector = service["spec"]["selector"]
        assert any(selector.items() <= labels.items() for labels in pod_labels), service
    secret = next(d for d in documents if d["kind"] == "Secret")
    for container in containers():
        for variable in container.get("env", []):
            reference = variable.get("valueFrom", {}).get("secretKeyRef")
            if reference:
                assert reference["name"] == secret["metadata"]["name"]
                assert reference["key"] in secret["stringData"]


def test_the_job_api_replicas_share_one_read_write_many_volume() -> None:
    documents = k8s_documents()
    claim = next(d for d in documents if d["kind"] == "PersistentVolumeClaim")
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]
    job_api = next(d for d in documents if d["metadata"]["name"] == "job-api")
    volumes = job_api["spec"]["template"]["spec"]["volumes"]
    assert volumes[0]["persistentVolumeClaim"]["claimName"] == claim["metadata"]["name"]
    assert job_api["spec"]["replicas"] >= 2
    assert compose()["services"]["job-api"]["deploy"]["replicas"] == 2


def test_everything_the_dockerfile_copies_exists() -> None:
    copied = []
    for line in (DEPLOY / "Dockerfile").read_text().splitlines():
        if line.startswith("COPY "):
            copied += line.split()[1:-1]  # the last word is the destination
    assert set(copied) == {"pyproject.toml", "README.md", "gen", "services"}
    for source in copied:
        assert (ROOT / source).exists(), source


def test_the_health_check_module_fails_without_a_server() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "services.common.healthcheck", "127.0.0.1:1"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 1
    assert "NOT_SERVING" in result.stderr


async def test_the_health_check_module_passes_against_a_serving_job_api(
    job_api: RunningJobApi,
) -> None:
    assert await is_serving(f"127.0.0.1:{job_api.port}")
    assert await is_serving(f"127.0.0.1:{job_api.port}", "forgesyte.jobs.v1.JobService")
    assert not await is_serving(f"127.0.0.1:{job_api.port}", "no.such.Service")
