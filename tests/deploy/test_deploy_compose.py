"""docker-compose.yml against the code: every service, topic, setting, health check, database and
gateway path present and consistent (CI has no Docker engine: the file is parsed, not run)."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from deploy_support import (
    DEPLOY,
    ROOT,
    TOOLS_HINT,
    interpolate,
    setting_field,
    tool,
    unknown_env,
)

from salesflow.settings import ServiceSettings

CONDITIONS = {"service_started", "service_healthy", "service_completed_successfully"}


def _env(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    assert isinstance(env, dict), "environment as a mapping"
    return {k: str(v) for k, v in env.items()}


def test_every_service_runs_with_a_migration_step_before_it(
    compose: dict[str, Any], services: tuple[str, ...]
) -> None:
    defined = compose["services"]
    for name in services:
        assert name in defined, f"service {name} missing"
        svc, migrate = defined[name], defined[f"{name}-migrate"]
        assert svc["command"] == ["serve", name]
        assert migrate["command"] == ["migrate", name]
        assert migrate["restart"] == "no"
        assert svc["depends_on"][f"{name}-migrate"] == {
            "condition": "service_completed_successfully"
        }
        assert svc["image"] == migrate["image"]
        assert svc["build"] == {"context": ".", "dockerfile": "deploy/Dockerfile"}
    extra = {n for n in defined if n.removesuffix("-migrate") not in services} - {
        "kafka",
        "kafka-init",
        "postgres",
        "gateway",
    }
    assert not extra, f"services the registry does not know: {extra}"


def test_depends_on_conditions_are_valid_and_satisfiable(compose: dict[str, Any]) -> None:
    defined = compose["services"]
    for name, svc in defined.items():
        for dep, spec in svc.get("depends_on", {}).items():
            assert dep in defined, f"{name} depends on unknown {dep}"
            condition = spec["condition"]
            assert condition in CONDITIONS, f"{name} -> {dep}: {condition}"
            if condition == "service_healthy":
                assert "healthcheck" in defined[dep], f"{dep} has no healthcheck for {name}"
            if condition == "service_completed_successfully":
                assert defined[dep].get("restart") == "no", f"{dep} must run once"


def test_every_long_running_container_has_a_health_check(
    compose: dict[str, Any], services: tuple[str, ...]
) -> None:
    for name, svc in compose["services"].items():
        if svc.get("restart") == "no":
            continue  # one-shot steps
        check = svc.get("healthcheck")
        assert check and check["test"][0] in ("CMD", "CMD-SHELL"), name
        assert {"interval", "timeout", "retries"} <= set(check), name
    for name in services:
        test = compose["services"][name]["healthcheck"]["test"]
        assert test == ["CMD", "salesflow-healthcheck", "/readyz"]


def test_health_check_paths_are_routes_of_every_service(services: tuple[str, ...]) -> None:
    from salesflow import registry

    for name in services:
        paths = set(registry.load(name).create_app().openapi()["paths"])
        assert {"/healthz", "/readyz", "/metrics"} <= paths, name


def test_every_setting_is_a_field_of_the_services_settings(
    compose: dict[str, Any], services: tuple[str, ...], settings_classes: dict
) -> None:
    for name in services:
        cls = settings_classes[name]
        for container in (name, f"{name}-migrate"):
            env = _env(compose["services"][container])
            assert unknown_env(env, name, cls) == [], f"{container}: not settings of {name}"


def test_settings_load_from_the_compose_environment(
    compose: dict[str, Any],
    services: tuple[str, ...],
    settings_classes: dict[str, type[ServiceSettings]],
    env_example: dict[str, str],
    clean_env: pytest.MonkeyPatch,
) -> None:
    """The real Settings classes read the compose environment (interpolated with .env.example)
    into the values production needs."""
    for name in services:
        env = {k: interpolate(v, env_example) for k, v in _env(compose["services"][name]).items()}
        with pytest.MonkeyPatch.context() as mp:
            for key, value in env.items():
                mp.setenv(key, value)
            settings = settings_classes[name]()
        url = urlsplit(settings.database_url)
        assert url.scheme == "postgresql+asyncpg", name
        assert (url.hostname, url.port, url.path) == ("postgres", 5432, f"/{name}")
        assert url.username == name
        assert url.password == env_example[f"{name.upper()}_DB_PASSWORD"]
        assert settings.kafka_bootstrap_servers == "kafka:9092"
        assert settings.kafka_enable_idempotence is True
        assert settings.jwt_secret == env_example["SALESFLOW_JWT_SECRET"]
        assert settings.kafka_replication_factor == 1
        assert settings.topic_prefix == ""
        assert settings.log_json is True


def test_secrets_come_from_the_env_file(
    compose: dict[str, Any], services: tuple[str, ...], env_example: dict[str, str]
) -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    required = set(re.findall(r"\$\{([A-Z_][A-Z0-9_]*):\?", text))
    assert required <= set(env_example), f"not in .env.example: {required - set(env_example)}"
    assert "SALESFLOW_JWT_SECRET" in required
    for name in services:
        env = _env(compose["services"][name])
        assert env["SALESFLOW_JWT_SECRET"].startswith("${SALESFLOW_JWT_SECRET:?")
        assert f"${{{name.upper()}_DB_PASSWORD:?" in env[f"SALESFLOW_{name.upper()}_DATABASE_URL"]
    optional = set(re.findall(r"\$\{([A-Z_][A-Z0-9_]*):-", text))
    assert optional <= set(env_example)
    # no secret value is written into the compose file itself
    for value in env_example.values():
        if "change-me" in value:
            assert value not in text


def test_one_database_and_user_per_service(
    compose: dict[str, Any], services: tuple[str, ...]
) -> None:
    postgres = compose["services"]["postgres"]
    assert "./deploy/postgres:/docker-entrypoint-initdb.d:ro" in postgres["volumes"]
    pg_env = _env(postgres)
    script = (DEPLOY / "postgres/10-salesflow.sh").read_text()
    sql = (DEPLOY / "postgres/salesflow.psql").read_text()
    for name in services:
        var = f"{name.upper()}_DB_PASSWORD"
        assert pg_env[var] == f"${{{var}:?see .env.example}}"
        assert f'-v {name}_password="${{{var}:?}}"' in script
        assert f"CREATE ROLE {name} LOGIN" in sql
        assert f"PASSWORD :'{name}_password'" in sql
        assert f"CREATE DATABASE {name} OWNER {name}" in sql
        assert f"REVOKE ALL ON DATABASE {name} FROM PUBLIC" in sql
        url = _env(compose["services"][name])[f"SALESFLOW_{name.upper()}_DATABASE_URL"]
        assert url.startswith(f"postgresql+asyncpg://{name}:") and url.endswith(
            f"@postgres:5432/{name}"
        )


def _topic_lines() -> dict[str, tuple[int, int]]:
    lines = re.findall(
        r"^topic (\S+) (\d+) (-?\d+)$", (DEPLOY / "kafka/create-topics.sh").read_text(), re.M
    )
    return {name: (int(p), int(r)) for name, p, r in lines}


def test_topic_init_creates_every_topic_with_catalog_partitions(
    compose: dict[str, Any], expected_topics: dict[str, int], services: tuple[str, ...]
) -> None:
    created = _topic_lines()
    assert {n: p for n, (p, _) in created.items()} == expected_topics
    for name, (_, retention) in created.items():
        assert retention == (-1 if not name.endswith(".dlq") else 30 * 24 * 3600 * 1000)
    init = compose["services"]["kafka-init"]
    assert init["image"] == compose["services"]["kafka"]["image"]
    assert init["command"] == ["bash", "/salesflow/create-topics.sh"]
    assert "./deploy/kafka/create-topics.sh:/salesflow/create-topics.sh:ro" in init["volumes"]
    assert init["depends_on"] == {"kafka": {"condition": "service_healthy"}}
    for name in services:
        assert compose["services"][name]["depends_on"]["kafka-init"] == {
            "condition": "service_completed_successfully"
        }


def test_kafka_is_apache_kafka_in_kraft_mode_without_auto_created_topics(
    compose: dict[str, Any], generator
) -> None:
    kafka = compose["services"]["kafka"]
    assert kafka["image"] == f"apache/kafka:{generator.kafka_version()}"
    env = _env(kafka)
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"] == "1@kafka:9093"
    assert env["KAFKA_ADVERTISED_LISTENERS"] == "PLAINTEXT://kafka:9092"
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    assert env["KAFKA_LOG_DIRS"] == "/var/lib/kafka/data"
    assert "kafka-data:/var/lib/kafka/data" in kafka["volumes"]
    assert "kafka-data" in compose["volumes"] and "postgres-data" in compose["volumes"]
    # the CLUSTER_ID Kafka's storage format accepts: 16 bytes, base64url without padding
    import base64

    assert len(base64.urlsafe_b64decode(env["CLUSTER_ID"] + "==")) == 16


def test_graceful_stop_outlasts_uvicorn_and_the_consumers(
    compose: dict[str, Any], services: tuple[str, ...]
) -> None:
    import inspect

    from salesflow.cli import ops
    from salesflow.messaging.consumer import Consumer

    uvicorn_grace = int(
        re.search(r"timeout_graceful_shutdown=(\d+)", inspect.getsource(ops.serve))[1]
    )
    consumer_grace = inspect.signature(Consumer.stop).parameters["grace_s"].default
    for name in services:
        stop = compose["services"][name]["stop_grace_period"]
        assert int(stop.removesuffix("s")) > uvicorn_grace + consumer_grace, name


def test_gateway_serves_every_service_on_one_origin(
    compose: dict[str, Any], services: tuple[str, ...]
) -> None:
    gateway = compose["services"]["gateway"]
    assert gateway["image"].startswith("nginx:")
    assert "./deploy/gateway/salesflow.conf:/etc/nginx/conf.d/default.conf:ro" in gateway["volumes"]
    assert gateway["ports"] == ["${SALESFLOW_GATEWAY_PORT:-8080}:80"]
    conf = (DEPLOY / "gateway/salesflow.conf").read_text()
    for name in services:
        assert gateway["depends_on"][name] == {"condition": "service_healthy"}
        port = _env(compose["services"][name]).get("PORT", "8000")
        assert f"location /api/{name}/ {{" in conf
        assert f"set $upstream {name}:{port};" in conf
        assert f"rewrite ^/api/{name}/(.*)$ /$1 break;" in conf
    assert "resolver 127.0.0.11" in conf  # Docker's DNS: recreated containers are found again


def test_gateway_lets_large_imports_through(generator) -> None:
    from salesflow import registry

    conf = (DEPLOY / "gateway/salesflow.conf").read_text()
    for name in registry.SERVICES:
        for path, limit in registry.load(name).spec.body_limits.items():
            block = conf.split(f"location = /api/{name}{path} {{", 1)[1].split("}", 1)[0]
            assert f"client_max_body_size {generator._nginx_size(limit)};" in block
            assert "proxy_request_buffering off;" in block


def test_setting_rule_matches_pydantic_settings(
    settings_classes: dict[str, type[ServiceSettings]], clean_env: pytest.MonkeyPatch
) -> None:
    """The naming rule the checks above use is the one the Settings classes apply."""
    cls = settings_classes["orders"]
    assert setting_field("SALESFLOW_ORDERS_DATABASE_URL", "orders", cls) == "database_url"
    assert setting_field("SALESFLOW_LEADS_DATABASE_URL", "orders", cls) is None
    assert setting_field("SALESFLOW_NOT_A_SETTING", "orders", cls) is None
    clean_env.setenv("SALESFLOW_ORDERS_DATABASE_URL", "sqlite+aiosqlite:///orders.db")
    clean_env.setenv("SALESFLOW_LEADS_DATABASE_URL", "sqlite+aiosqlite:///leads.db")
    clean_env.setenv("SALESFLOW_RELAY_BATCH_SIZE", "7")
    clean_env.setenv("KAFKA_BOOTSTRAP_SERVERS", "kafka:9092")
    settings = cls()
    assert settings.database_url == "sqlite+aiosqlite:///orders.db"
    assert settings.relay_batch_size == 7
    assert settings.kafka_bootstrap_servers == "kafka:9092"


def _compose_check(compose_file: Path, env_file: Path) -> subprocess.CompletedProcess:
    check = tool("compose-check")
    if check is None:
        pytest.skip(f"compose-check not built: {TOOLS_HINT}")
    return subprocess.run(
        [check, str(compose_file), str(env_file)], capture_output=True, text=True, timeout=60
    )


def test_compose_file_loads_with_the_compose_specification_loader(
    services: tuple[str, ...], env_example: dict[str, str]
) -> None:
    """compose-go (what `docker compose config` runs): schema, interpolation, consistency."""
    done = _compose_check(ROOT / "docker-compose.yml", ROOT / ".env.example")
    assert done.returncode == 0, done.stderr
    project = json.loads(done.stdout)
    loaded = project["services"]
    assert set(services) <= set(loaded)
    for name in services:
        env = loaded[name]["environment"]
        assert env[f"SALESFLOW_{name.upper()}_DATABASE_URL"] == (
            f"postgresql+asyncpg://{name}:{env_example[f'{name.upper()}_DB_PASSWORD']}"
            f"@postgres:5432/{name}"
        )
        assert loaded[name]["depends_on"][f"{name}-migrate"]["condition"] == (
            "service_completed_successfully"
        )
        assert loaded[name]["build"]["dockerfile"] == "deploy/Dockerfile"
    assert loaded["gateway"]["ports"][0]["published"] == env_example["SALESFLOW_GATEWAY_PORT"]


def test_compose_loader_rejects_what_docker_compose_would(tmp_path: Path) -> None:
    """The loader above is a real check: an unknown key and a missing secret fail."""
    text = (ROOT / "docker-compose.yml").read_text()
    bad = tmp_path / "docker-compose.yml"
    bad.write_text(text.replace("    healthcheck:", "    healthchek:", 1))
    done = _compose_check(bad, ROOT / ".env.example")
    assert done.returncode == 1 and "healthchek" in done.stderr
    env = tmp_path / ".env"
    env.write_text(
        "".join(
            line + "\n"
            for line in (ROOT / ".env.example").read_text().splitlines()
            if not line.startswith("SALESFLOW_JWT_SECRET=")
        )
    )
    done = _compose_check(ROOT / "docker-compose.yml", env)
    assert done.returncode == 1 and "SALESFLOW_JWT_SECRET" in done.stderr
