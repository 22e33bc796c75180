"""Offline schema validation of Kubernetes objects, shared by the chart and the operator tests.

- Built-in kinds: ``kubernetes_validate``'s strict schemas of Kubernetes ``K8S_VERSION`` (unknown
  fields are errors, as with ``kubectl apply --validate=strict``).
- Our custom resources (``manifests/crds``) and kopf's peering (``charts/ai2text/crds``): the CRD's
  ``openAPIV3Schema`` with jsonschema's Draft 4 validator (OpenAPI 3.0's boolean
  ``exclusiveMinimum`` is Draft 4's; ``x-kubernetes-*`` keys are ignored except
  ``x-kubernetes-preserve-unknown-fields``), unknown fields rejected like the API server's strict
  field validation, ``metadata`` as a core ObjectMeta.
- KubeRay kinds (``ray.io/v1`` RayService, RayJob, RayCluster): no KubeRay CRD schema is
  available offline (no package on the index ships one), so the fields of KubeRay's v1 API types
  are checked here by hand (names, types, required fields, the rules KubeRay's validation
  enforces), every embedded pod template is validated as a core ``v1 Pod``, and a RayService's
  ``serveConfigV2`` is validated with Ray Serve's own ``ServeDeploySchema``.
- ``monitoring.coreos.com/v1`` ServiceMonitor: the fields the Prometheus Operator defines for
  what a chart uses (selector, namespaceSelector, endpoints).

Public API: :func:`validate`, :func:`validate_all`, :func:`validate_pod_templates`,
:func:`pod_templates`, :func:`crd_schema`, :func:`crds`, :func:`check_crd`, :func:`with_defaults`,
:func:`load_documents`, :func:`load_file`. Every check raises ``AssertionError`` naming the
object and the path of the problem.
"""

from __future__ import annotations

import copy
import functools
import re
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
CRD_DIRS = (REPO / "manifests" / "crds", REPO / "charts" / "ai2text" / "crds")
K8S_VERSION = "1.33.0"

Obj = dict[str, Any]


def load_documents(text: str) -> list[Obj]:
    """The non-empty YAML documents of a (multi-document) manifest."""
    return [doc for doc in yaml.safe_load_all(text) if doc]


def load_file(path: str | Path) -> list[Obj]:
    return load_documents(Path(path).read_text())


def _name(obj: Obj) -> str:
    meta = obj.get("metadata") or {}
    return f"{obj.get('kind', '?')}/{meta.get('name') or meta.get('generateName') or '?'}"


def _path(parts: Iterable[Any]) -> str:
    return ".".join(str(p) for p in parts) or "(root)"


# --- custom resource definitions -----------------------------------------------------------


@functools.cache
def _crd_index() -> dict[tuple[str, str], Obj]:
    index: dict[tuple[str, str], Obj] = {}
    for folder in CRD_DIRS:
        for path in sorted(folder.glob("*.yaml")):
            for doc in load_file(path):
                if doc.get("kind") != "CustomResourceDefinition":
                    continue
                key = (doc["spec"]["group"], doc["spec"]["names"]["kind"])
                index.setdefault(key, doc)
    return index


def crds() -> list[Obj]:
    """Every CRD this repository ships (manifests/crds and the chart's crds/), deep copies."""
    return [copy.deepcopy(crd) for crd in _crd_index().values()]


def _crd_for(api_version: str, kind: str) -> tuple[Obj, Obj] | None:
    group, _, version = api_version.rpartition("/")
    crd = _crd_index().get((group, kind))
    if crd is None:
        return None
    for entry in crd["spec"]["versions"]:
        if entry["name"] == version:
            return crd, entry
    raise AssertionError(f"{kind}: the CRD {crd['metadata']['name']} serves no version {version}")


def crd_schema(kind: str, version: str | None = None) -> Obj:
    """The ``openAPIV3Schema`` of one of our kinds (Dataset, TrainingRun, KopfPeering), a copy.

    ``version`` defaults to the storage version.
    """
    for (_, crd_kind), crd in _crd_index().items():
        if crd_kind != kind:
            continue
        for entry in crd["spec"]["versions"]:
            if (version is None and entry.get("storage")) or entry["name"] == version:
                return copy.deepcopy(entry["schema"]["openAPIV3Schema"])
        raise AssertionError(f"the CRD of {kind} has no version {version}")
    known = sorted(k for _, k in _crd_index())
    raise AssertionError(f"no CRD for kind {kind!r} (known: {known})")


def _strict(schema: Obj) -> Obj:
    """The schema with unknown fields rejected wherever the API server would prune them."""
    schema = copy.deepcopy(schema)

    def walk(node: Any) -> None:
        if not isinstance(node, dict):
            return
        if (
            "properties" in node
            and "additionalProperties" not in node
            and not node.get("x-kubernetes-preserve-unknown-fields")
        ):
            node["additionalProperties"] = False
        for key in ("properties", "patternProperties"):
            for child in (node.get(key) or {}).values():
                walk(child)
        for key in ("items", "additionalProperties", "not"):
            walk(node.get(key))
        for key in ("allOf", "anyOf", "oneOf"):
            for child in node.get(key) or []:
                walk(child)

    walk(schema)
    return schema


def _schema_errors(schema: Obj, instance: Any) -> list[str]:
    from jsonschema import Draft4Validator

    validator = Draft4Validator(schema)
    return [
        f"{_path(err.absolute_path)}: {err.message}"
        for err in sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
    ]


def with_defaults(obj: Obj) -> Obj:
    """A copy of a custom resource with its CRD's defaults applied, as the API server stores it.

    Top-down like structural defaulting: a missing property with a ``default`` gets a copy of
    it, then its own properties are defaulted in turn (so ``default: {}`` fills nested defaults).
    """
    found = _crd_for(obj["apiVersion"], obj["kind"])
    if found is None:
        raise AssertionError(f"{_name(obj)}: not one of our custom resources")
    schema = found[1]["schema"]["openAPIV3Schema"]
    result = copy.deepcopy(obj)

    def walk(node: Obj, value: Any) -> None:
        if isinstance(value, dict):
            for key, child in (node.get("properties") or {}).items():
                if key not in value and "default" in child:
                    value[key] = copy.deepcopy(child["default"])
                if key in value:
                    walk(child, value[key])
            extra = node.get("additionalProperties")
            if isinstance(extra, dict):
                for key, item in value.items():
                    if key not in (node.get("properties") or {}):
                        walk(extra, item)
        elif isinstance(value, list) and isinstance(node.get("items"), dict):
            for item in value:
                walk(node["items"], item)

    walk(schema, result)
    return result


def check_crd(crd: Obj) -> None:
    """A CRD is a valid apiextensions v1 object, its schemas are structural and sound JSON
    Schema, and every default validates against the schema it sits in."""
    from jsonschema import Draft4Validator
    from jsonschema.exceptions import SchemaError

    _validate_builtin(crd)
    name = crd["metadata"]["name"]
    spec = crd["spec"]
    assert name == f"{spec['names']['plural']}.{spec['group']}", (
        f"CRD {name}: must be named <plural>.<group>"
    )
    assert sum(1 for v in spec["versions"] if v.get("storage")) == 1, (
        f"CRD {name}: exactly one storage version"
    )
    for version in spec["versions"]:
        schema = version["schema"]["openAPIV3Schema"]
        try:
            Draft4Validator.check_schema(schema)
        except SchemaError as exc:
            raise AssertionError(f"CRD {name} {version['name']}: {exc.message}") from exc

        def walk(node: Obj, where: list[str], crd_name: str = name) -> None:
            untyped = not (node.get("x-kubernetes-preserve-unknown-fields") or node.get("type"))
            if untyped and not node.get("x-kubernetes-int-or-string"):
                raise AssertionError(f"CRD {crd_name}: {_path(where)} has no type")
            if "default" in node:
                errors = _schema_errors(node, node["default"])
                assert not errors, f"CRD {crd_name}: default of {_path(where)}: {errors}"
            for key, child in (node.get("properties") or {}).items():
                walk(child, [*where, key])
            for key in ("items", "additionalProperties"):
                if isinstance(node.get(key), dict):
                    walk(node[key], [*where, key])

        walk(schema, [])
        for column in version.get("additionalPrinterColumns") or []:
            assert column["jsonPath"].startswith("."), f"CRD {name}: column {column['name']}"


# --- built-in kinds ------------------------------------------------------------------------


def _validate_builtin(obj: Obj) -> None:
    import kubernetes_validate
    from kubernetes_validate.utils import SchemaNotFoundError

    try:
        kubernetes_validate.validate(obj, K8S_VERSION, strict=True)
    except kubernetes_validate.ValidationError as exc:
        raise AssertionError(
            f"{_name(obj)} ({obj.get('apiVersion')}): {_path(exc.path)}: {exc.message}"
        ) from None
    except SchemaNotFoundError as exc:
        raise AssertionError(f"{_name(obj)}: {exc.message}") from None


def _validate_metadata(obj: Obj) -> None:
    """ObjectMeta of any object, checked through a ConfigMap that carries it."""
    meta = obj.get("metadata")
    assert isinstance(meta, dict), f"{_name(obj)}: metadata must be a mapping"
    assert meta.get("name") or meta.get("generateName"), f"{_name(obj)}: metadata.name missing"
    _validate_builtin({"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta})
    _check_meta_semantics(_name(obj), meta)
    name = meta.get("name")
    if name is not None:
        assert _DNS_SUBDOMAIN.match(name) and len(name) <= 253, (
            f"{_name(obj)}: metadata.name is not a DNS subdomain"
        )


_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_LABEL_NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
_QUANTITY = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+|[numkMGTPE]|[KMGTPE]i)?$")
_PORT_NAME = re.compile(r"^(?=.*[a-z])[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def _qualified_name(key: str) -> bool:
    prefix, _, name = key.rpartition("/")
    if prefix and not (len(prefix) <= 253 and _DNS_SUBDOMAIN.match(prefix)):
        return False
    return 0 < len(name) <= 63 and bool(_LABEL_NAME.match(name))


def _check_meta_semantics(where: str, meta: Obj) -> None:
    """What the API server checks beyond the JSON schema: label and annotation syntax."""
    for key, value in (meta.get("labels") or {}).items():
        assert _qualified_name(key), f"{where}: label key {key!r} is not a qualified name"
        assert value == "" or (len(value) <= 63 and _LABEL_NAME.match(value)), (
            f"{where}: label value {value!r} of {key} is not valid"
        )
    for key in meta.get("annotations") or {}:
        assert _qualified_name(key), f"{where}: annotation key {key!r} is not a qualified name"


def _check_pod_spec(where: str, spec: Obj) -> None:
    """What the API server checks in a pod spec beyond the JSON schema."""
    assert spec.get("restartPolicy", "Always") in {"Always", "OnFailure", "Never"}, (
        f"{where}: restartPolicy {spec.get('restartPolicy')!r}"
    )
    volumes = [v["name"] for v in spec.get("volumes") or []]
    assert len(volumes) == len(set(volumes)), f"{where}: duplicate volume names {volumes}"
    containers = [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]
    names = [c["name"] for c in containers]
    assert len(names) == len(set(names)), f"{where}: duplicate container names {names}"
    for container in containers:
        here = f"{where}: container {container['name']}"
        assert _DNS_LABEL.match(container["name"]), f"{here}: name is not a DNS label"
        for kind in ("requests", "limits"):
            for resource, amount in ((container.get("resources") or {}).get(kind) or {}).items():
                assert _QUANTITY.match(str(amount)), f"{here}: {kind}.{resource} {amount!r}"
        limits = (container.get("resources") or {}).get("limits") or {}
        for resource, amount in ((container.get("resources") or {}).get("requests") or {}).items():
            if resource.startswith(("nvidia.com/", "amd.com/")):
                assert str(limits.get(resource)) == str(amount), (
                    f"{here}: extended resource {resource} needs limits equal to requests"
                )
        ports = container.get("ports") or []
        for port in ports:
            if "name" in port:
                assert len(port["name"]) <= 15 and _PORT_NAME.match(port["name"]), (
                    f"{here}: port name {port['name']!r}"
                )
        for mount in container.get("volumeMounts") or []:
            assert mount["name"] in volumes, f"{here}: mounts unknown volume {mount['name']!r}"


# --- KubeRay -------------------------------------------------------------------------------

_STRING_MAP = {"type": "object", "additionalProperties": {"type": "string"}}
_INT32 = {"type": "integer", "minimum": 0, "maximum": 2**31 - 1}
_OBJECT = {"type": "object"}
_GROUP_COMMON = {
    "template": _OBJECT,
    # KubeRay passes these to `ray start` as strings; a number here is refused by its CRD
    "rayStartParams": _STRING_MAP,
    "resources": _STRING_MAP,
    "labels": _STRING_MAP,
}
_HEAD_GROUP = {
    "type": "object",
    "required": ["template"],
    "additionalProperties": False,
    "properties": {
        **_GROUP_COMMON,
        "headService": _OBJECT,
        "enableIngress": {"type": "boolean"},
        "serviceType": {"enum": ["ClusterIP", "NodePort", "LoadBalancer"]},
    },
}
_WORKER_GROUP = {
    "type": "object",
    "required": ["groupName", "template"],
    "additionalProperties": False,
    "properties": {
        **_GROUP_COMMON,
        "groupName": {"type": "string", "minLength": 1, "maxLength": 63},
        "replicas": _INT32,
        "minReplicas": _INT32,
        "maxReplicas": _INT32,
        "idleTimeoutSeconds": _INT32,
        "numOfHosts": {"type": "integer", "minimum": 1},
        "suspend": {"type": "boolean"},
        "scaleStrategy": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"workersToDelete": {"type": "array", "items": {"type": "string"}}},
        },
    },
}
_RAY_CLUSTER_SPEC = {
    "type": "object",
    "required": ["headGroupSpec"],
    "additionalProperties": False,
    "properties": {
        "headGroupSpec": _HEAD_GROUP,
        "workerGroupSpecs": {"type": "array", "items": _WORKER_GROUP},
        "rayVersion": {"type": "string", "pattern": r"^\d+\.\d+\.\d+"},
        "enableInTreeAutoscaling": {"type": "boolean"},
        "autoscalerOptions": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "resources": _OBJECT,
                "image": {"type": "string"},
                "imagePullPolicy": {"enum": ["Always", "IfNotPresent", "Never"]},
                "securityContext": _OBJECT,
                "idleTimeoutSeconds": _INT32,
                "upscalingMode": {"enum": ["Default", "Aggressive", "Conservative"]},
                "version": {"enum": ["v1", "v2"]},
                "env": {"type": "array"},
                "envFrom": {"type": "array"},
                "volumeMounts": {"type": "array"},
            },
        },
        "headServiceAnnotations": _STRING_MAP,
        "gcsFaultToleranceOptions": _OBJECT,
        "suspend": {"type": "boolean"},
        "managedBy": {"enum": ["ray.io/kuberay-operator", "kueue.x-k8s.io/multikueue"]},
        "upgradeStrategy": _OBJECT,
        "authOptions": _OBJECT,
    },
}
_RAY_SERVICE_SPEC = {
    "type": "object",
    "required": ["rayClusterConfig"],
    "additionalProperties": False,
    "properties": {
        "serveConfigV2": {"type": "string", "minLength": 1},
        "rayClusterConfig": _RAY_CLUSTER_SPEC,
        "serveService": _OBJECT,
        "upgradeStrategy": {
            "type": "object",
            "properties": {
                "type": {"enum": ["NewCluster", "NewClusterWithIncrementalUpgrade", "None"]}
            },
        },
        "excludeHeadPodFromServeSvc": {"type": "boolean"},
        "rayClusterDeletionDelaySeconds": _INT32,
        "serviceUnhealthySecondThreshold": _INT32,
        "deploymentUnhealthySecondThreshold": _INT32,
    },
}
_RAY_JOB_SPEC = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "entrypoint": {"type": "string"},
        "rayClusterSpec": _RAY_CLUSTER_SPEC,
        "clusterSelector": _STRING_MAP,
        "submitterPodTemplate": _OBJECT,
        "submitterConfig": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"backoffLimit": _INT32},
        },
        "submissionMode": {"enum": ["K8sJobMode", "HTTPMode", "InteractiveMode", "SidecarMode"]},
        "shutdownAfterJobFinishes": {"type": "boolean"},
        "ttlSecondsAfterFinished": _INT32,
        "activeDeadlineSeconds": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
        "backoffLimit": _INT32,
        "runtimeEnvYAML": {"type": "string"},
        "jobId": {"type": "string"},
        "metadata": _STRING_MAP,
        "entrypointNumCpus": {"type": "number", "minimum": 0},
        "entrypointNumGpus": {"type": "number", "minimum": 0},
        "entrypointResources": {"type": "string"},
        "suspend": {"type": "boolean"},
        "managedBy": {"enum": ["ray.io/kuberay-operator", "kueue.x-k8s.io/multikueue"]},
        "deletionStrategy": _OBJECT,
        "schedule": {"type": "string"},
    },
}
_RAY_SPECS = {
    "RayService": _RAY_SERVICE_SPEC,
    "RayJob": _RAY_JOB_SPEC,
    "RayCluster": _RAY_CLUSTER_SPEC,
}


def _cluster_spec(obj: Obj) -> Obj | None:
    spec = obj.get("spec") or {}
    if obj["kind"] == "RayService":
        cluster: Obj | None = spec.get("rayClusterConfig")
        return cluster
    if obj["kind"] == "RayJob":
        return spec.get("rayClusterSpec")
    return spec


def pod_templates(obj: Obj) -> list[tuple[str, Obj]]:
    """(path, template) of every pod template a workload or KubeRay object embeds."""
    found: list[tuple[str, Obj]] = []
    kind = obj.get("kind")
    spec = obj.get("spec") or {}
    if obj.get("apiVersion", "").startswith("ray.io/"):
        cluster = _cluster_spec(obj) or {}
        prefix = {"RayService": "spec.rayClusterConfig", "RayJob": "spec.rayClusterSpec"}.get(
            str(kind), "spec"
        )
        head = cluster.get("headGroupSpec") or {}
        if "template" in head:
            found.append((f"{prefix}.headGroupSpec.template", head["template"]))
        for i, group in enumerate(cluster.get("workerGroupSpecs") or []):
            if "template" in group:
                found.append((f"{prefix}.workerGroupSpecs[{i}].template", group["template"]))
        if kind == "RayJob" and "submitterPodTemplate" in spec:
            found.append(("spec.submitterPodTemplate", spec["submitterPodTemplate"]))
    elif kind in {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"}:
        found.append(("spec.template", spec["template"]))
    elif kind == "CronJob":
        found.append(("spec.jobTemplate.spec.template", spec["jobTemplate"]["spec"]["template"]))
    return found


def validate_pod_templates(obj: Obj) -> int:
    """Validate each embedded pod template as a core v1 Pod; returns how many there were."""
    templates = pod_templates(obj)
    for where, template in templates:
        assert isinstance(template, dict) and isinstance(template.get("spec"), dict), (
            f"{_name(obj)}: {where} has no spec"
        )
        meta = dict(template.get("metadata") or {})
        meta.setdefault("name", "template")
        pod = {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": template["spec"]}
        try:
            _validate_builtin(pod)
        except AssertionError as exc:
            raise AssertionError(f"{_name(obj)}: {where}: {exc}") from None
        _check_meta_semantics(f"{_name(obj)}: {where}", meta)
        _check_pod_spec(f"{_name(obj)}: {where}", template["spec"])
        containers = template["spec"].get("containers") or []
        assert containers, f"{_name(obj)}: {where}: no containers"
        for container in containers:
            assert container.get("image"), f"{_name(obj)}: {where}: container without image"
    return len(templates)


def _check_serve_config(obj: Obj, text: str) -> None:
    config = yaml.safe_load(text)
    assert isinstance(config, dict), f"{_name(obj)}: serveConfigV2 is not a YAML mapping"
    apps = config.get("applications")
    assert isinstance(apps, list) and apps, f"{_name(obj)}: serveConfigV2 has no applications"
    try:
        with warnings.catch_warnings():  # ray's own pydantic deprecations
            warnings.simplefilter("ignore", DeprecationWarning)
            from ray.serve.schema import ServeDeploySchema
    except ImportError:  # pragma: no cover - ray is part of the dev environment
        return
    from pydantic import ValidationError

    try:
        ServeDeploySchema.model_validate(config)
    except ValidationError as exc:
        raise AssertionError(f"{_name(obj)}: serveConfigV2: {exc}") from None


def _validate_ray(obj: Obj) -> None:
    from jsonschema import Draft7Validator

    kind = obj["kind"]
    assert obj["apiVersion"] == "ray.io/v1", f"{_name(obj)}: use ray.io/v1"
    assert kind in _RAY_SPECS, f"{_name(obj)}: unknown KubeRay kind"
    _validate_metadata(obj)
    assert set(obj) <= {"apiVersion", "kind", "metadata", "spec", "status"}, (
        f"{_name(obj)}: unknown top-level fields {sorted(set(obj) - {'apiVersion', 'kind'})}"
    )
    spec = obj.get("spec")
    assert isinstance(spec, dict), f"{_name(obj)}: spec missing"
    errors = [
        f"spec.{_path(err.absolute_path)}: {err.message}"
        for err in Draft7Validator(_RAY_SPECS[kind]).iter_errors(spec)
    ]
    assert not errors, f"{_name(obj)}: {errors}"
    cluster = _cluster_spec(obj)
    if kind == "RayJob":
        assert (cluster is None) != (not spec.get("clusterSelector")), (
            f"{_name(obj)}: set exactly one of spec.rayClusterSpec and spec.clusterSelector"
        )
        if spec.get("submissionMode") != "InteractiveMode":
            assert spec.get("entrypoint"), f"{_name(obj)}: spec.entrypoint is required"
        if spec.get("suspend"):
            assert spec.get("shutdownAfterJobFinishes"), (
                f"{_name(obj)}: KubeRay only suspends RayJobs with shutdownAfterJobFinishes"
            )
        if spec.get("runtimeEnvYAML"):
            env = yaml.safe_load(spec["runtimeEnvYAML"])
            assert isinstance(env, dict), f"{_name(obj)}: runtimeEnvYAML is not a mapping"
    if kind == "RayService":
        _check_serve_config(obj, spec.get("serveConfigV2") or "")
    if cluster is not None:
        names = [g["groupName"] for g in cluster.get("workerGroupSpecs") or []]
        assert len(names) == len(set(names)), f"{_name(obj)}: duplicate worker groupName"
        for group in cluster.get("workerGroupSpecs") or []:
            low, high = group.get("minReplicas", 0), group.get("maxReplicas", 2**31 - 1)
            assert low <= high, f"{_name(obj)}: group {group['groupName']}: minReplicas > max"
            if "replicas" in group:
                assert low <= group["replicas"] <= high, (
                    f"{_name(obj)}: group {group['groupName']}: replicas outside [min, max]"
                )
    validate_pod_templates(obj)


# --- Prometheus Operator -------------------------------------------------------------------

_SERVICE_MONITOR_SPEC = {
    "type": "object",
    "required": ["selector", "endpoints"],
    "additionalProperties": False,
    "properties": {
        "selector": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"matchLabels": _STRING_MAP, "matchExpressions": {"type": "array"}},
        },
        "namespaceSelector": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "any": {"type": "boolean"},
                "matchNames": {"type": "array", "items": {"type": "string"}},
            },
        },
        "endpoints": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "port": {"type": "string", "minLength": 1},
                    "targetPort": {"type": ["string", "integer"]},
                    "path": {"type": "string", "pattern": "^/"},
                    "scheme": {"enum": ["http", "https"]},
                    "interval": {"type": "string", "pattern": r"^(\d+(ms|s|m|h))+$"},
                    "scrapeTimeout": {"type": "string", "pattern": r"^(\d+(ms|s|m|h))+$"},
                    "honorLabels": {"type": "boolean"},
                    "relabelings": {"type": "array"},
                    "metricRelabelings": {"type": "array"},
                    "tlsConfig": _OBJECT,
                    "authorization": _OBJECT,
                    "basicAuth": _OBJECT,
                    "params": _OBJECT,
                },
            },
        },
        "jobLabel": {"type": "string"},
        "targetLabels": {"type": "array", "items": {"type": "string"}},
        "podTargetLabels": {"type": "array", "items": {"type": "string"}},
        "sampleLimit": _INT32,
    },
}


def _validate_service_monitor(obj: Obj) -> None:
    from jsonschema import Draft7Validator

    _validate_metadata(obj)
    errors = [
        f"spec.{_path(err.absolute_path)}: {err.message}"
        for err in Draft7Validator(_SERVICE_MONITOR_SPEC).iter_errors(obj.get("spec"))
    ]
    assert not errors, f"{_name(obj)}: {errors}"
    for endpoint in obj["spec"]["endpoints"]:
        assert "port" in endpoint or "targetPort" in endpoint, f"{_name(obj)}: endpoint port"


# --- entry points --------------------------------------------------------------------------


def validate(obj: Obj) -> None:
    """Validate one object against the schema of its kind; AssertionError names the problem.

    An object of a kind this module has no schema for fails: nothing passes unchecked.
    """
    assert isinstance(obj, dict), f"not a mapping: {obj!r}"
    assert obj.get("apiVersion") and obj.get("kind"), f"apiVersion and kind required: {obj!r}"
    api_version, kind = obj["apiVersion"], obj["kind"]
    if kind == "CustomResourceDefinition":
        check_crd(obj)
        return
    if api_version.startswith("ray.io/"):
        _validate_ray(obj)
        return
    if api_version == "monitoring.coreos.com/v1" and kind == "ServiceMonitor":
        _validate_service_monitor(obj)
        return
    found = _crd_for(api_version, kind)
    if found is not None:
        crd, version = found
        _validate_metadata(obj)
        if crd["spec"]["scope"] == "Cluster":
            assert "namespace" not in obj["metadata"], f"{_name(obj)}: cluster-scoped"
        body = {k: v for k, v in obj.items() if k != "metadata"}
        schema = _strict(version["schema"]["openAPIV3Schema"])
        # apiVersion and kind are always allowed; metadata was checked as ObjectMeta above
        schema.setdefault("properties", {}).pop("metadata", None)
        schema["properties"].setdefault("apiVersion", {"type": "string"})
        schema["properties"].setdefault("kind", {"type": "string"})
        errors = _schema_errors(schema, body)
        assert not errors, f"{_name(obj)} ({api_version}): {errors}"
        return
    _validate_builtin(obj)
    _check_meta_semantics(_name(obj), obj.get("metadata") or {})
    if kind == "Pod":
        _check_pod_spec(_name(obj), obj.get("spec") or {})
    validate_pod_templates(obj)


def validate_all(objs: Iterable[Obj]) -> int:
    """Validate every object; returns how many were validated."""
    count = 0
    for obj in objs:
        validate(obj)
        count += 1
    return count
