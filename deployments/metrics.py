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

        self.stage_queued = Gauge(
            "ai2text_pipeline_queued",
            "events waiting for a pipeline stage (queue depth)",
            ["stage"],
            registry=self.registry,
        )
        self.stage_in_flight = Gauge(
            "ai2text_pipeline_in_flight",
            "events a pipeline stage holds now",
            ["stage"],
            registry=self.registry,
        )
        self.stage_processed = Gauge(
            "ai2text_pipeline_processed",
            "events a pipeline stage has handled (a counter kept in the database)",
            ["stage"],
            registry=self.registry,
        )
        self.stage_dead = Gauge(
            "ai2text_pipeline_dead_letters",
            "events a pipeline stage gave up on",
            ["stage"],
            registry=self.registry,
        )
        self.stage_lag = Gauge(
            "ai2text_pipeline_lag_seconds",
            "age of the oldest event a pipeline stage has not finished",
            ["stage"],
            registry=self.registry,
        )
        self.collected_hours = Gauge(
            "ai2text_dataset_hours",
            "hours of audio a dataset build would select, by split",
            ["split"],
            registry=self.registry,
        )

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(route, method, str(status)).inc()
        self.latency.labels(route, method).observe(seconds)

    def render(
        self,
        asr: dict[str, Any],
        stream: dict[str, Any] | None = None,
        pipeline: dict[str, Any] | None = None,
    ) -> tuple[bytes, str]:
        self.queue_depth.set(float(asr.get("waiting", 0)))
        self.model.clear()
        if asr.get("model_version"):
            self.model.labels(str(asr["model_version"])).set(1)
        for size, count in (asr.get("batch_sizes") or {}).items():
            self.batches.labels(str(size)).set(count)
        for size, count in ((stream or {}).get("batch_sizes") or {}).items():
            self.stream_batches.labels(str(size)).set(count)
        for stage, figures in ((pipeline or {}).get("stages") or {}).items():
            self.stage_queued.labels(stage).set(figures["queued"])
            self.stage_in_flight.labels(stage).set(figures["in_flight"])
            self.stage_processed.labels(stage).set(figures["processed"])
            self.stage_dead.labels(stage).set(figures["dead_letters"])
            self.stage_lag.labels(stage).set(figures["lag_s"])
        for split, hours in (((pipeline or {}).get("datasets") or {}).get("hours") or {}).items():
            self.collected_hours.labels(split).set(hours)
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
