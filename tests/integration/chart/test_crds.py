"""The CRDs: the chart ships the same files as manifests/crds, they are valid apiextensions v1
objects with sound schemas, and the samples (as written and as the API server defaults them)
validate against them."""

from __future__ import annotations

import pytest

from tests.integration.chart.conftest import CHART, REPO

MANIFEST_CRDS = sorted((REPO / "manifests" / "crds").glob("*.yaml"))
SAMPLES = sorted((REPO / "manifests" / "samples").glob("*.yaml"))


def test_chart_crds_are_byte_identical_to_manifests() -> None:
    assert MANIFEST_CRDS
    for path in MANIFEST_CRDS:
        copy = CHART / "crds" / path.name
        assert copy.is_file(), f"charts/ai2text/crds/{path.name} is missing"
        assert copy.read_bytes() == path.read_bytes(), f"{copy} differs from {path}"
    extra = {p.name for p in (CHART / "crds").glob("*.yaml")} - {p.name for p in MANIFEST_CRDS}
    assert extra == {"kopfpeerings.kopf.dev.yaml"}, extra


@pytest.mark.integration
def test_helm_loads_every_crd(chart: object) -> None:
    names = {crd["name"] for crd in chart.crds}  # type: ignore[attr-defined]
    assert names == {f"crds/{p.name}" for p in (CHART / "crds").glob("*.yaml")}


def test_every_crd_is_valid() -> None:
    from tests.k8s_schemas import check_crd, crds

    found = crds()
    kinds = {crd["spec"]["names"]["kind"] for crd in found}
    assert kinds == {"Dataset", "TrainingRun", "KopfPeering"}
    for crd in found:
        check_crd(crd)


def test_kopf_peering_crd_is_what_kopf_uses() -> None:
    from kopf._cogs.structs import references

    from tests.k8s_schemas import crds

    (peering,) = [c for c in crds() if c["spec"]["names"]["kind"] == "KopfPeering"]
    selector = references.NAMESPACED_PEERINGS_K  # kopf's preferred peering resource
    assert peering["spec"]["group"] == selector.group
    assert [v["name"] for v in peering["spec"]["versions"]] == [selector.version]
    assert peering["spec"]["names"]["plural"] == selector.any_name
    assert peering["spec"]["scope"] == "Namespaced"


@pytest.mark.parametrize("path", SAMPLES, ids=[p.stem for p in SAMPLES])
def test_sample_validates_as_written_and_defaulted(path: object) -> None:
    from tests.k8s_schemas import load_file, validate, with_defaults

    docs = load_file(path)  # type: ignore[arg-type]
    assert docs
    for doc in docs:
        validate(doc)
        defaulted = with_defaults(doc)
        validate(defaulted)
        assert defaulted != doc  # the CRDs default something in every sample


def test_dataset_training_template_is_a_valid_trainingrun_spec() -> None:
    """A Dataset's spec.training is kept as-is (preserve-unknown-fields); the TrainingRuns it
    creates must still validate, so check it against the TrainingRun schema."""
    from tests.k8s_schemas import load_file, validate

    for path in SAMPLES:
        for doc in load_file(path):
            if doc["kind"] != "Dataset":
                continue
            spec = dict(doc["spec"].get("training", {}))
            spec["datasetRef"] = {"name": doc["metadata"]["name"]}
            spec["trigger"] = "threshold"
            validate(
                {
                    "apiVersion": "ai2text.io/v1alpha1",
                    "kind": "TrainingRun",
                    "metadata": {"name": f"{doc['metadata']['name']}-1"},
                    "spec": spec,
                }
            )
