"""The generated deployment files are exactly what deploy/generate.py writes from the code."""

from __future__ import annotations

import os
import subprocess
import sys
from types import ModuleType

from deploy_support import DEPLOY, ROOT


def test_committed_files_equal_the_generator_output(generator: ModuleType) -> None:
    files = generator.render_all()
    differ = [path for path, text in files.items() if (ROOT / path).read_text() != text]
    assert not differ, f"run `.venv/bin/python deploy/generate.py`; out of date: {differ}"


def test_no_stale_generated_manifests(generator: ModuleType) -> None:
    assert generator.stale(generator.render_all()) == []


def test_generated_scripts_are_executable(generator: ModuleType) -> None:
    for rel in generator.EXECUTABLE:
        assert os.access(ROOT / rel, os.X_OK), rel
    for script in ("entrypoint.sh", "healthcheck.py", "wait_migrated.py"):
        assert os.access(DEPLOY / "docker" / script, os.X_OK), script


def test_generator_check_mode_reports_drift(tmp_path) -> None:
    """`deploy/generate.py --check` is what CI or a pre-commit hook can run: 0 when current."""
    done = subprocess.run(
        [sys.executable, str(DEPLOY / "generate.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr


def test_every_service_and_topic_is_in_the_model(
    generator: ModuleType, services: tuple[str, ...], expected_topics: dict[str, int]
) -> None:
    model_services, model_topics = generator.load_model()
    assert tuple(s.name for s in model_services) == services
    assert {t.name: t.partitions for t in model_topics} == expected_topics


def test_operations_readme_names_every_topic_and_service(
    expected_topics: dict[str, int], services: tuple[str, ...]
) -> None:
    readme = (DEPLOY / "README.md").read_text()
    for topic in expected_topics:
        if not topic.endswith(".dlq"):
            assert f"`{topic}`" in readme, topic
    dlq_row = next(line for line in readme.splitlines() if line.startswith("| `<service>.dlq`"))
    for name in services:
        assert name in dlq_row, name
