"""Prometheus metrics of the ingress, plus what the ASR replicas report when scraped."""

from __future__ import annotations

from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)


class ApiMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "ai2text_http_requests",
            "HTTP requests by route, method and status",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "ai2text_http_request_seconds",
            "HTTP request latency by route",
            ["route", "method"],
            registry=self.registry,
        )
        self.in_flight = Gauge(
            "ai2text_http_in_flight",
            "requests being served by this ingress",
            registry=self.registry,
        )
        self.queue_depth = Gauge(
            "ai2text_asr_queue_depth",
            "requests waiting in or running on the ASR replica that answered the scrape",
            registry=self.registry,
        )
        self.model = Gauge(
            "ai2text_model_info", "the model version served", ["version"], registry=self.registry
        )
        self.batches = Gauge(
            "ai2text_asr_batches",
            "ASR batches run, by batch size (from the replica that answered the scrape)",
            ["size"],
            registry=self.registry,
        )
        self.stream_batches = Gauge(
            "ai2text_stream_batches",
            "streaming steps run, by how many streams shared the step",
            ["size"],
            registry=self.registry,
        )

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(route, method, str(status)).inc()
        self.latency.labels(route, method).observe(seconds)

    def render(
        self, asr: dict[str, Any], stream: dict[str, Any] | None = None
    ) -> tuple[bytes, str]:
        self.queue_depth.set(float(asr.get("waiting", 0)))
        self.model.clear()
        if asr.get("model_version"):
            self.model.labels(str(asr["model_version"])).set(1)
        for size, count in (asr.get("batch_sizes") or {}).items():
            self.batches.labels(str(size)).set(count)
        for size, count in ((stream or {}).get("batch_sizes") or {}).items():
            self.stream_batches.labels(str(size)).set(count)
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
