"""deploy/kubernetes offline: every object valid against the Kubernetes schema, every reference resolves.

No kustomize binary is installable from our registries, so the kustomization is read here: its
resources exist, names are unique, and what one object names (ConfigMap, Secret, Service, port,
selector) is defined by another.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

BASE = Path(__file__).resolve().parents[3] / "deploy" / "kubernetes"
# The oldest Kubernetes minor we promise to run on, and the newest the schemas know.
VERSIONS = ["1.30.0", kubernetes_validate.latest_version()]


def kustomization() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((BASE / "kustomization.yaml").read_text())
    return data


def load_objects(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def base_objects() -> list[dict[str, Any]]:
    return [obj for name in kustomization()["resources"] for obj in load_objects(BASE / name)]


def every_file() -> list[Path]:
    return sorted(p for p in BASE.glob("*.yaml") if p.name != "kustomization.yaml")


def by_kind(kind: str) -> dict[str, dict[str, Any]]:
    return {o["metadata"]["name"]: o for o in base_objects() if o["kind"] == kind}


def pod_specs() -> list[tuple[str, dict[str, Any]]]:
    out = []
    for obj in base_objects():
        if obj["kind"] in ("Deployment", "Job"):
            out.append((obj["metadata"]["name"], obj["spec"]["template"]["spec"]))
    return out


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("path", every_file(), ids=lambda p: p.name)
def test_every_object_matches_its_schema(path: Path, version: str) -> None:
    objects = load_objects(path)
    assert objects
    for obj in objects:
        kubernetes_validate.validate(obj, version, strict=True)


def test_the_validator_is_not_a_rubber_stamp() -> None:
    bad = load_objects(BASE / "web-deployment.yaml")[0]
    bad["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGet"]["port"] = [8000]
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(bad, VERSIONS[-1], strict=True)
    typo = load_objects(BASE / "service.yaml")[0]
    typo["spec"]["selectr"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(typo, VERSIONS[-1], strict=True)


def test_kustomization_lists_existing_files_and_unique_names() -> None:
    resources = kustomization()["resources"]
    assert all((BASE / name).is_file() for name in resources), resources
    names = [(o["kind"], o["metadata"]["name"]) for o in base_objects()]
    assert len(names) == len(set(names))
    # The example Secret is documentation: applying the base must never create placeholder credentials.
    assert "secret.example.yaml" not in resources
    assert {"Deployment", "Job", "Service", "Ingress", "ConfigMap", "PodDisruptionBudget"} <= {
        kind for kind, _ in names
    }
    images = {i["name"] for i in kustomization().get("images", [])}
    used = {c["image"] for _, spec in pod_specs() for c in spec["containers"]}
    assert used <= images


def test_env_sources_resolve() -> None:
    config_maps = set(by_kind("ConfigMap"))
    secrets = {o["metadata"]["name"] for o in load_objects(BASE / "secret.example.yaml")}
    for name, spec in pod_specs():
        for container in spec["containers"]:
            for source in container.get("envFrom", []):
                if "configMapRef" in source:
                    assert source["configMapRef"]["name"] in config_maps, name
                if "secretRef" in source:
                    assert source["secretRef"]["name"] in secrets, name


def test_web_probes_service_and_ingress_line_up() -> None:
    web = by_kind("Deployment")["mini-review-web"]
    container = web["spec"]["template"]["spec"]["containers"][0]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert "http" in ports and container["args"][-1] == str(ports["http"])
    assert {"name": "MINI_WORKER", "value": "off"} in container["env"]

    service = by_kind("Service")["mini-review-web"]
    labels = web["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()
    assert web["spec"]["selector"]["matchLabels"].items() <= labels.items()
    service_ports = {p["name"] for p in service["spec"]["ports"]}
    assert all(p["targetPort"] in ports for p in service["spec"]["ports"])

    for rule in by_kind("Ingress")["mini-review"]["spec"]["rules"]:
        for path in rule["http"]["paths"]:
            backend = path["backend"]["service"]
            assert backend["name"] in by_kind("Service")
            assert backend["port"]["name"] in service_ports


def test_disruption_budgets_select_running_pods() -> None:
    deployments = by_kind("Deployment").values()
    for pdb in by_kind("PodDisruptionBudget").values():
        wanted = pdb["spec"]["selector"]["matchLabels"].items()
        matches = [d for d in deployments if wanted <= d["spec"]["template"]["metadata"]["labels"].items()]
        assert len(matches) == 1, pdb["metadata"]["name"]
        if "minAvailable" in pdb["spec"]:
            assert matches[0]["spec"]["replicas"] > pdb["spec"]["minAvailable"]


def test_pods_are_locked_down_and_sized() -> None:
    grace = float(by_kind("ConfigMap")["mini-review-config"]["data"]["MINI_SHUTDOWN_GRACE_SECONDS"])
    for name, spec in pod_specs():
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["securityContext"]["runAsUser"] != 0, name
        assert spec.get("automountServiceAccountToken") is False, name
        for container in spec["containers"]:
            ctx = container["securityContext"]
            assert ctx["readOnlyRootFilesystem"] is True, name
            assert ctx["allowPrivilegeEscalation"] is False, name
            assert ctx["capabilities"]["drop"] == ["ALL"], name
            assert {"cpu", "memory"} <= set(container["resources"]["requests"]), name
            assert "memory" in container["resources"]["limits"], name
            # A read-only root needs a writable /tmp for Python and the HTTP clients.
            assert any(m["mountPath"] == "/tmp" for m in container["volumeMounts"]), name
        if name != "mini-review-migrate":
            assert spec["terminationGracePeriodSeconds"] > grace, name


def test_example_secret_holds_no_real_values() -> None:
    (secret,) = load_objects(BASE / "secret.example.yaml")
    for key, value in secret["stringData"].items():
        assert "REPLACE-ME" in value or set(value) <= {"0"}, key
