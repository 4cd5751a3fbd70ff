"""deploy/k8s: every manifest is valid YAML of its kind with the fields Kubernetes requires, the
manifests match the code (services, topics, settings, probes, databases, gateway paths), and the
kustomize overlays render (with kustomize or `kubectl kustomize`, where it can be installed)."""

from __future__ import annotations

import re
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml
from deploy_support import DEPLOY, TOOLS_HINT, setting_field, tool, unknown_env

from salesflow.contracts.catalog import topics_consumed_by
from salesflow.settings import ServiceSettings

DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
DNS_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")
CLUSTER_SCOPED = {"Namespace"}
API_VERSIONS = {
    "ConfigMap": "v1",
    "Secret": "v1",
    "Service": "v1",
    "Namespace": "v1",
    "Deployment": "apps/v1",
    "Job": "batch/v1",
    "HorizontalPodAutoscaler": "autoscaling/v2",
    "Ingress": "networking.k8s.io/v1",
    "PodDisruptionBudget": "policy/v1",
    "Kafka": "kafka.strimzi.io/v1",
    "KafkaNodePool": "kafka.strimzi.io/v1",
    "KafkaTopic": "kafka.strimzi.io/v1",
    "Kustomization": "kustomize.config.k8s.io/v1beta1",
}


# -- validation of one object ------------------------------------------------------------------


def _containers(pod: dict[str, Any], where: str) -> list[dict[str, Any]]:
    containers = pod.get("containers")
    assert containers, f"{where}: pod without containers"
    names = [c["name"] for c in containers + pod.get("initContainers", [])]
    assert len(names) == len(set(names)), f"{where}: duplicate container names"
    for c in containers + pod.get("initContainers", []):
        assert DNS_LABEL.match(c["name"]), f"{where}: container name {c['name']}"
        assert c.get("image"), f"{where}: container {c['name']} without image"
        env_names = [e["name"] for e in c.get("env", [])]
        assert len(env_names) == len(set(env_names)), f"{where}: duplicate env"
        for e in c.get("env", []):
            assert ENV_NAME.match(e["name"]), e
            assert ("value" in e) != ("valueFrom" in e), f"{where}: env {e['name']}"
        ports = {p.get("name") for p in c.get("ports", [])}
        for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
            if probe in c and "httpGet" in c[probe]:
                http = c[probe]["httpGet"]
                assert http["path"].startswith("/"), f"{where}: {probe}"
                assert isinstance(http["port"], int) or http["port"] in ports, f"{where}: {probe}"
    for volume in (m["name"] for c in containers for m in c.get("volumeMounts", [])):
        assert volume in {v["name"] for v in pod.get("volumes", [])}, f"{where}: volume {volume}"
    return containers


def validate(doc: dict[str, Any], where: str) -> None:
    """What the API server would reject (the parts that matter here): required fields per kind,
    names, selectors that select."""
    kind = doc.get("kind")
    assert kind in API_VERSIONS, f"{where}: unexpected kind {kind}"
    assert doc.get("apiVersion") == API_VERSIONS[kind], f"{where}: apiVersion of {kind}"
    if kind == "Kustomization":
        return
    meta = doc.get("metadata") or {}
    name = meta.get("name")
    assert name and len(name) <= 253 and DNS_SUBDOMAIN.match(name), f"{where}: name {name!r}"
    where = f"{where}: {kind}/{name}"
    for key, value in {**meta.get("labels", {}), **meta.get("annotations", {})}.items():
        assert isinstance(value, str), f"{where}: label/annotation {key} must be a string"
    spec = doc.get("spec")
    if kind == "ConfigMap":
        assert all(isinstance(v, str) for v in doc.get("data", {}).values()), where
        assert all(ENV_NAME.match(k) for k in doc.get("data", {})), where
        return
    if kind in ("Namespace", "Secret"):
        return
    assert isinstance(spec, dict), f"{where}: no spec"
    if kind == "Deployment":
        selector = spec["selector"]["matchLabels"]
        template_labels = spec["template"]["metadata"]["labels"]
        assert selector.items() <= template_labels.items(), f"{where}: selector selects nothing"
        _containers(spec["template"]["spec"], where)
    elif kind == "Job":
        pod = spec["template"]["spec"]
        assert pod.get("restartPolicy") in ("Never", "OnFailure"), where
        _containers(pod, where)
    elif kind == "Service":
        assert DNS_LABEL.match(name) and len(name) <= 63, f"{where}: Service names are DNS labels"
        assert spec["ports"] and all("port" in p for p in spec["ports"]), where
        assert spec.get("selector"), where
    elif kind == "HorizontalPodAutoscaler":
        ref = spec["scaleTargetRef"]
        assert ref["kind"] and ref["name"] and ref["apiVersion"], where
        assert 1 <= spec.get("minReplicas", 1) <= spec["maxReplicas"], where
        assert spec.get("metrics"), where
    elif kind == "Ingress":
        for rule in spec["rules"]:
            for path in rule["http"]["paths"]:
                assert path["pathType"] in ("Exact", "Prefix", "ImplementationSpecific"), where
                backend = path["backend"]["service"]
                assert backend["name"] and (
                    "name" in backend["port"] or "number" in backend["port"]
                )
    elif kind == "PodDisruptionBudget":
        assert spec.get("selector") and ("minAvailable" in spec or "maxUnavailable" in spec)
    elif kind == "KafkaTopic":
        assert meta["labels"].get("strimzi.io/cluster"), where
        assert spec["partitions"] >= 1 and spec["replicas"] >= 1, where
    elif kind == "KafkaNodePool":
        assert meta["labels"].get("strimzi.io/cluster"), where
        assert spec["replicas"] >= 1 and spec["roles"] and spec["storage"], where
        assert set(spec["roles"]) <= {"controller", "broker"}, where
    elif kind == "Kafka":
        assert spec["kafka"]["listeners"], where


def test_every_manifest_is_valid_yaml_of_an_expected_kind(manifests) -> None:
    assert manifests
    for path, doc in manifests:
        validate(doc, str(path.relative_to(DEPLOY)))


def test_every_kustomization_lists_files_that_exist() -> None:
    for kustomization in (DEPLOY / "k8s").rglob("kustomization.yaml"):
        data = yaml.safe_load(kustomization.read_text())
        for resource in data.get("resources", []):
            assert (kustomization.parent / resource).exists(), f"{kustomization}: {resource}"
        listed = {(kustomization.parent / r).resolve() for r in data.get("resources", [])}
        for sibling in kustomization.parent.glob("*.yaml"):
            if sibling.name != "kustomization.yaml":
                assert sibling.resolve() in listed, f"{sibling} not listed in {kustomization}"


# -- the base against the code ---------------------------------------------------------------


def _base(manifests) -> dict[tuple[str, str], dict[str, Any]]:
    out = {}
    for path, doc in manifests:
        if "base" in path.parts and doc["kind"] != "Kustomization":
            key = (doc["kind"], doc["metadata"]["name"])
            assert key not in out, f"duplicate {key}"
            out[key] = doc
    return out


def _container_env(base: dict, service: str, container: dict[str, Any]) -> dict[str, str]:
    env = {}
    for source in container.get("envFrom", []):
        env.update(base[("ConfigMap", source["configMapRef"]["name"])]["data"])
    for item in container.get("env", []):
        env[item["name"]] = item.get("value", "<from secret>")
    return env


def test_each_service_has_deployment_service_config_autoscaler_and_migration_job(
    manifests, services: tuple[str, ...]
) -> None:
    base = _base(manifests)
    for name in services:
        for kind in ("Deployment", "Service", "HorizontalPodAutoscaler"):
            assert (kind, name) in base, f"{kind}/{name} missing"
        assert ("ConfigMap", f"{name}-config") in base
        assert ("Job", f"{name}-migrate") in base
    deployments = {n for k, n in base if k == "Deployment"}
    assert deployments == set(services), "a Deployment for every service and nothing else"


def test_deployments_probe_shut_down_gracefully_and_wait_for_migrations(
    manifests, services: tuple[str, ...]
) -> None:
    import inspect

    from salesflow.cli import ops
    from salesflow.messaging.consumer import Consumer

    uvicorn_grace = int(
        re.search(r"timeout_graceful_shutdown=(\d+)", inspect.getsource(ops.serve))[1]
    )
    consumer_grace = inspect.signature(Consumer.stop).parameters["grace_s"].default
    base = _base(manifests)
    for name in services:
        pod = base[("Deployment", name)]["spec"]["template"]["spec"]
        (main,) = pod["containers"]
        assert main["args"] == ["serve", name]
        assert main["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert main["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert main["startupProbe"]["httpGet"]["path"] == "/healthz"
        assert main["ports"] == [{"name": "http", "containerPort": 8000, "protocol": "TCP"}]
        prestop = main["lifecycle"]["preStop"]["exec"]["command"]
        assert prestop[0] == "sleep"
        grace = pod["terminationGracePeriodSeconds"]
        assert grace > int(prestop[1]) + uvicorn_grace + consumer_grace, name
        assert main["resources"]["requests"]["cpu"] and main["resources"]["limits"]["memory"]
        assert main["securityContext"]["runAsNonRoot"] is True
        assert main["securityContext"]["runAsUser"] == 10001  # USER of deploy/Dockerfile
        assert main["securityContext"]["readOnlyRootFilesystem"] is True
        (wait,) = pod["initContainers"]
        assert wait["args"][:2] == ["salesflow-wait-migrated", name]
        assert wait["env"] == main["env"] and wait["envFrom"] == main["envFrom"]
        job = base[("Job", f"{name}-migrate")]["spec"]["template"]["spec"]
        assert job["containers"][0]["args"] == ["migrate", name]
        assert job["containers"][0]["env"] == main["env"]


def test_settings_of_every_pod_are_fields_and_load(
    manifests,
    services: tuple[str, ...],
    settings_classes: dict[str, type[ServiceSettings]],
    clean_env: pytest.MonkeyPatch,
) -> None:
    base = _base(manifests)
    kafka = base[("Kafka", "salesflow")]
    plain = next(lst for lst in kafka["spec"]["kafka"]["listeners"] if not lst["tls"])
    for name in services:
        cls = settings_classes[name]
        pod = base[("Deployment", name)]["spec"]["template"]["spec"]
        for container in pod["containers"] + pod["initContainers"]:
            env = _container_env(base, name, container)
            assert unknown_env(env, name, cls) == [], f"{name}/{container['name']}"
            assert setting_field(f"SALESFLOW_{name.upper()}_DATABASE_URL", name, cls)
        refs = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in pod["containers"][0]["env"]}
        assert refs[f"SALESFLOW_{name.upper()}_DATABASE_URL"] == {
            "name": f"{name}-database",
            "key": "url",
        }
        assert refs["SALESFLOW_JWT_SECRET"] == {"name": "salesflow-jwt", "key": "secret"}
        env = _container_env(base, name, pod["containers"][0])
        with pytest.MonkeyPatch.context() as mp:
            for key, value in env.items():
                mp.setenv(key, value)
            mp.setenv(f"SALESFLOW_{name.upper()}_DATABASE_URL", "postgresql+asyncpg://u:p@h/db")
            settings = cls()
        # Strimzi names the bootstrap service <cluster>-kafka-bootstrap
        assert settings.kafka_bootstrap_servers == f"salesflow-kafka-bootstrap:{plain['port']}"
        assert settings.kafka_enable_idempotence is True
        assert settings.kafka_replication_factor == 3
        assert settings.database_url == "postgresql+asyncpg://u:p@h/db"


def test_services_select_their_pods_and_autoscalers_are_bound_by_partitions(
    manifests, services: tuple[str, ...]
) -> None:
    from salesflow.contracts.catalog import all_topics

    base = _base(manifests)
    for name in services:
        deployment = base[("Deployment", name)]
        pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
        service = base[("Service", name)]
        assert service["spec"]["selector"].items() <= pod_labels.items()
        assert service["spec"]["ports"][0]["targetPort"] == "http"
        hpa = base[("HorizontalPodAutoscaler", name)]["spec"]
        assert hpa["scaleTargetRef"] == {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "name": name,
        }
        partitions = [all_topics()[t].partitions for t in topics_consumed_by(name)]
        assert hpa["maxReplicas"] <= max([2, *partitions]), "idle consumers beyond partitions"
        assert hpa["minReplicas"] >= 2, "two replicas: the relay lock has a standby"
        assert "replicas" not in deployment["spec"], "the autoscaler owns replicas"


def test_every_topic_is_a_strimzi_kafka_topic_with_replication_3(
    manifests, expected_topics: dict[str, int]
) -> None:
    base = _base(manifests)
    cluster = base[("Kafka", "salesflow")]
    config = cluster["spec"]["kafka"]["config"]
    assert config["auto.create.topics.enable"] is False
    assert config["min.insync.replicas"] == 2 and config["default.replication.factor"] == 3
    pools = [d for (k, _), d in base.items() if k == "KafkaNodePool"]
    assert sum(p["spec"]["replicas"] for p in pools if "broker" in p["spec"]["roles"]) >= 3
    assert any("controller" in p["spec"]["roles"] for p in pools), "KRaft controllers"
    assert all(p["metadata"]["labels"]["strimzi.io/cluster"] == "salesflow" for p in pools)
    assert "topicOperator" in cluster["spec"]["entityOperator"]
    topics = {d["spec"]["topicName"]: d for (k, _), d in base.items() if k == "KafkaTopic"}
    assert {n: t["spec"]["partitions"] for n, t in topics.items()} == expected_topics
    for name, topic in topics.items():
        assert topic["metadata"]["labels"]["strimzi.io/cluster"] == "salesflow"
        assert topic["spec"]["replicas"] == 3
        assert topic["spec"]["config"]["min.insync.replicas"] == 2
        assert topic["spec"]["config"]["retention.ms"] == (
            -1 if not name.endswith(".dlq") else 2592000000
        )


def test_ingress_routes_every_gateway_path_to_its_service(
    manifests, services: tuple[str, ...]
) -> None:
    base = _base(manifests)
    routes = {}
    for (kind, _), doc in base.items():
        if kind == "Ingress":
            annotations = doc["metadata"]["annotations"]
            assert annotations["nginx.ingress.kubernetes.io/rewrite-target"] == "/$2"
            for rule in doc["spec"]["rules"]:
                for path in rule["http"]["paths"]:
                    routes[path["path"]] = (path["backend"]["service"], annotations)
    for name in services:
        backend, _ = routes[f"/api/{name}(/|$)(.*)"]
        assert backend["name"] == name
        ports = {p["name"] for p in base[("Service", name)]["spec"]["ports"]}
        assert backend["port"]["name"] in ports
    from salesflow import registry

    for name in services:
        if registry.load(name).spec.body_limits:
            _, annotations = routes[f"/api/{name}(/|$)(.*)"]
            assert annotations["nginx.ingress.kubernetes.io/proxy-request-buffering"] == "off"


def test_overlays_provide_the_secrets_and_scale_settings(manifests, services) -> None:
    docs = {p.parent.name: d for p, d in manifests if p.name == "kustomization.yaml"}
    dev, prod = docs["dev"], docs["prod"]
    generated = {g["name"] for g in dev["secretGenerator"]}
    assert generated == {"salesflow-jwt", *(f"{s}-database" for s in services)}
    assert dev["namespace"] == "salesflow-dev" and prod["namespace"] == "salesflow"
    assert "secretGenerator" not in prod, "production secrets are never committed"
    pdbs = {d["metadata"]["name"] for p, d in manifests if d["kind"] == "PodDisruptionBudget"}
    assert pdbs == set(services)


# -- rendered with kustomize -----------------------------------------------------------------


def _render(target: Path) -> list[dict[str, Any]]:
    kustomize, kubectl = tool("kustomize"), tool("kubectl")
    if kustomize:
        command = [kustomize, "build", str(target)]
    elif kubectl:
        command = [kubectl, "kustomize", str(target)]  # kubectl embeds kustomize
    else:
        pytest.skip(f"neither kustomize nor kubectl installed: {TOOLS_HINT}")
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return [d for d in yaml.safe_load_all(done.stdout) if d]


@pytest.mark.parametrize("overlay", ["base", "overlays/dev", "overlays/prod"])
def test_kustomize_renders_valid_manifests(
    overlay: str, services: tuple[str, ...], expected_topics: dict[str, int]
) -> None:
    docs = _render(DEPLOY / "k8s" / overlay)
    for doc in docs:
        validate(doc, f"kustomize build {overlay}")
    kinds = Counter(d["kind"] for d in docs)
    assert kinds["Deployment"] == kinds["Service"] == kinds["HorizontalPodAutoscaler"] == 7
    assert kinds["Job"] == len(services) and kinds["KafkaTopic"] == len(expected_topics)
    if overlay == "base":
        return
    namespace = "salesflow-dev" if overlay.endswith("dev") else "salesflow"
    for doc in docs:
        if doc["kind"] not in CLUSTER_SCOPED:
            assert doc["metadata"].get("namespace") == namespace, doc["metadata"]["name"]
    images = {
        c["image"]
        for d in docs
        if d["kind"] in ("Deployment", "Job")
        for c in d["spec"]["template"]["spec"]["containers"]
        + d["spec"]["template"]["spec"].get("initContainers", [])
    }
    assert len(images) == 1 and images != {"salesflow"}, images


def test_dev_overlay_secret_references_resolve_and_kafka_fits_one_broker() -> None:
    docs = _render(DEPLOY / "k8s/overlays/dev")
    secrets = {d["metadata"]["name"] for d in docs if d["kind"] == "Secret"}
    for doc in docs:
        if doc["kind"] in ("Deployment", "Job"):
            pod = doc["spec"]["template"]["spec"]
            for container in pod["containers"] + pod.get("initContainers", []):
                for env in container.get("env", []):
                    ref = env.get("valueFrom", {}).get("secretKeyRef")
                    if ref:
                        assert ref["name"] in secrets, ref
    pool = next(d for d in docs if d["kind"] == "KafkaNodePool")
    assert pool["spec"]["replicas"] == 1
    for topic in (d for d in docs if d["kind"] == "KafkaTopic"):
        assert topic["spec"]["replicas"] == 1
        assert topic["spec"]["config"]["min.insync.replicas"] == 1
    common = next(
        d for d in docs if d["kind"] == "ConfigMap" and "salesflow-common" in d["metadata"]["name"]
    )
    assert common["data"]["SALESFLOW_KAFKA_REPLICATION_FACTOR"] == "1"
