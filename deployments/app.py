"""The ai2text Serve application and how it is deployed.

``app_builder`` is the application's import path in ``serve_config.yaml`` (``serve run`` /
``serve deploy`` / a RayService's ``serveConfigV2``). :func:`deploy` applies that config
declaratively, like ``serve deploy``: deploying it again with only ``user_config`` changed makes
Serve call ``reconfigure`` on the running ASR replicas (the model swap), without new replicas.
"""

from __future__ import annotations

from typing import Any

from ray.serve import Application

from ai2text.config import Settings, load_settings
from deployments.asr import BatchAsr, StreamingAsr
from deployments.embeddings import Embeddings
from deployments.ingress import Ingress
from deployments.nlp import TextPostprocess
from deployments.serve_config import load_serve_config, set_model_version


def build_app(settings: Settings) -> Application:
    serve = settings.serve
    # serve.deployment turns the classes into Deployments, which mypy cannot see
    deployments: Any = (BatchAsr, StreamingAsr, TextPostprocess, Embeddings, Ingress)
    batch_asr, streaming_asr, text_postprocess, embeddings, ingress = deployments
    asr = batch_asr.options(
        ray_actor_options={"num_cpus": serve.asr_num_cpus},
        autoscaling_config={
            "min_replicas": serve.asr_min_replicas,
            "max_replicas": serve.asr_max_replicas,
            "target_ongoing_requests": serve.asr_target_ongoing_requests,
        },
    ).bind()
    stream = streaming_asr.options(ray_actor_options={"num_cpus": serve.asr_num_cpus}).bind()
    app: Application = ingress.bind(asr, stream, text_postprocess.bind(), embeddings.bind())
    return app


def app_builder(args: dict[str, Any]) -> Application:
    """Serve's entry point: the settings come from the replicas' ``AI2TEXT_*`` environment."""
    return build_app(load_settings())


def serve_config(settings: Settings, model_version: str | None) -> dict[str, Any]:
    """``serve_config.yaml`` with this machine's address and the model version to serve."""
    config = set_model_version(load_serve_config(), model_version)
    config["http_options"].update({"host": settings.serve.host, "port": settings.serve.port})
    return config


def deploy(config: dict[str, Any]) -> None:
    """Apply a Serve config to the connected Ray cluster (what ``serve deploy`` does)."""
    from ray.serve._private import api as serve_api
    from ray.serve.schema import ServeDeploySchema

    schema = ServeDeploySchema.model_validate(config)
    client = serve_api.serve_start(
        http_options=schema.http_options.model_dump(), proxy_location=schema.proxy_location
    )
    client.deploy_apps(schema, _blocking=False)
