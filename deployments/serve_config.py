"""The Serve config (``serve_config.yaml``) and the one place that sets its model version.

Kept free of Ray imports: ``ai2text serve`` deploys the config on its own Ray, and the Kubernetes
operator sets the same ``user_config`` in a RayService's ``serveConfigV2``; in both cases Serve
calls ``reconfigure`` on the running model replicas (a swap in place, no new replicas).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

CONFIG_PATH = Path(__file__).with_name("serve_config.yaml")
APP_NAME = "ai2text"
MODEL_DEPLOYMENTS = ("asr", "stream_asr")


def load_serve_config() -> dict[str, Any]:
    config: dict[str, Any] = yaml.safe_load(CONFIG_PATH.read_text())
    return config


def set_model_version(config: dict[str, Any], model_version: str | None) -> dict[str, Any]:
    """A copy of ``config`` whose model deployments serve ``model_version``.

    Raises ValueError when no application has a model deployment to set."""
    updated = copy.deepcopy(config)
    found = 0
    for app in updated.get("applications") or []:
        for deployment in app.get("deployments") or []:
            if deployment.get("name") in MODEL_DEPLOYMENTS:
                user_config = dict(deployment.get("user_config") or {})
                user_config["model_version"] = model_version
                deployment["user_config"] = user_config
                found += 1
    if not found:
        raise ValueError(
            f"the Serve config has no {' or '.join(MODEL_DEPLOYMENTS)} deployment to update"
        )
    return updated
