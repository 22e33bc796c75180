"""The operator's RBAC: namespaced, explicit, no Secrets, and enough for its contract."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.integration.chart.conftest import CI_VALUES, NAMESPACE, Render, one, values_of

pytestmark = pytest.mark.integration

# What the operator does (its contract); the Role must allow each and nothing of the forbidden.
NEEDED = [
    ("ai2text.io", "datasets", {"get", "list", "watch", "patch", "update"}),
    ("ai2text.io", "trainingruns", {"get", "list", "watch", "patch", "update", "create"}),
    ("ai2text.io", "datasets/status", {"patch"}),
    ("ai2text.io", "trainingruns/status", {"patch"}),
    ("ray.io", "rayjobs", {"create", "get", "list", "watch", "delete", "patch"}),
    ("ray.io", "rayservices", {"get", "list", "watch", "patch"}),
    ("", "events", {"create", "patch"}),
]
PEERING = ("kopf.dev", "kopfpeerings", {"get", "list", "watch", "patch"})


def _allowed(rules: list[dict[str, Any]], group: str, resource: str) -> set[str]:
    verbs: set[str] = set()
    for rule in rules:
        if group in rule.get("apiGroups", []) and resource in rule.get("resources", []):
            verbs |= set(rule["verbs"])
    return verbs


@pytest.mark.parametrize(
    "values_file", [None, *CI_VALUES], ids=["defaults", *(p.stem for p in CI_VALUES)]
)
def test_rbac_is_namespaced_explicit_and_never_touches_secrets(
    render: Render, values_file: Path | None
) -> None:
    objs = render(values_of(values_file) if values_file else {})
    assert not [o for o in objs if o["kind"] in {"ClusterRole", "ClusterRoleBinding"}]
    roles = [o for o in objs if o["kind"] == "Role"]
    for role in roles:
        for rule in role["rules"]:
            for field in ("apiGroups", "resources", "verbs"):
                assert "*" not in rule.get(field, []), (role["metadata"]["name"], rule)
            assert not rule.get("nonResourceURLs"), rule
            assert "secrets" not in rule["resources"], rule
            assert not {"escalate", "bind", "impersonate"} & set(rule["verbs"]), rule
    operator_on = bool(
        [o for o in objs if o["kind"] == "Deployment" and "operator" in o["metadata"]["name"]]
    )
    assert len(roles) == (1 if operator_on else 0)
    for binding in (o for o in objs if o["kind"] == "RoleBinding"):
        assert binding["roleRef"]["kind"] == "Role"
        for subject in binding["subjects"]:
            assert subject["kind"] == "ServiceAccount"
            assert subject["namespace"] == NAMESPACE


def test_role_grants_what_the_operator_does(render: Render) -> None:
    objs = render()
    role = one(objs, "Role")
    for group, resource, verbs in [*NEEDED, PEERING]:
        assert verbs <= _allowed(role["rules"], group, resource), (group, resource)
    binding = one(objs, "RoleBinding")
    deployment = one(objs, "Deployment")
    assert binding["roleRef"]["name"] == role["metadata"]["name"]
    sa = deployment["spec"]["template"]["spec"]["serviceAccountName"]
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": sa, "namespace": NAMESPACE}]
    one(objs, "ServiceAccount", sa)


def test_standalone_needs_no_peering_access(render: Render) -> None:
    role = one(render({"operator": {"standalone": True}}), "Role")
    assert _allowed(role["rules"], *PEERING[:2]) == set()


def test_ray_pods_get_no_api_token_unless_the_autoscaler_needs_one(render: Render) -> None:
    for autoscaling in (True, False):
        objs = render({"rayService": {"autoscaling": autoscaling}})
        ray_sa = one(objs, "ServiceAccount", "ai2text-ray")
        assert ray_sa["automountServiceAccountToken"] is False
        cluster = one(objs, "RayService")["spec"]["rayClusterConfig"]
        head = cluster["headGroupSpec"]["template"]["spec"]
        assert head["serviceAccountName"] == "ai2text-ray"
        assert head["automountServiceAccountToken"] is autoscaling
        for group in cluster["workerGroupSpecs"]:
            assert group["template"]["spec"]["automountServiceAccountToken"] is False
