import sys
from pathlib import Path

# helpers live beside the tests, under a name no other test folder uses
sys.path.insert(0, str(Path(__file__).parent))

from deploy_support import (
    clean_env,
    compose,
    controlling_service,
    env_example,
    expected_topics,
    generator,
    manifests,
    services,
    settings_classes,
)

__all__ = [
    "clean_env",
    "compose",
    "controlling_service",
    "env_example",
    "expected_topics",
    "generator",
    "manifests",
    "services",
    "settings_classes",
]
