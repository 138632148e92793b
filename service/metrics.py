"""Prometheus metrics: requests, latency and errors by endpoint, plus model version and corpus size.

Under gunicorn every worker writes to PROMETHEUS_MULTIPROC_DIR (set by ``joinedup serve``), and a scrape of
any worker reports the sum over all of them.
"""

from __future__ import annotations

import os
import time

from flask import Flask, g, request
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST


class _StateCollector:
    """Model version and corpus size, read at scrape time from the registry and the store."""

    def __init__(self, app: Flask):
        self.app = app

    def collect(self):
        p = self.app.extensions["joinedup"]
        info = GaugeMetricFamily("joinedup_model_info", "Active model version", labels=["version"])
        info.add_metric([p.registry.active_version() or "none"], 1)
        yield info
        yield GaugeMetricFamily("joinedup_statements", "Statements in the store", value=p.store.count())


def init_app(app: Flask) -> None:
    registry = CollectorRegistry()
    requests = Counter("joinedup_requests", "HTTP requests", ["endpoint", "method", "status"], registry=registry)
    errors = Counter("joinedup_errors", "HTTP responses with status >= 400", ["endpoint", "status"], registry=registry)
    latency = Histogram("joinedup_request_seconds", "Request latency", ["endpoint"], registry=registry,
                        buckets=(0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
    app.extensions["joinedup_metrics"] = registry

    @app.before_request
    def _start():
        g.started = time.perf_counter()

    @app.after_request
    def _record(response):
        endpoint = request.url_rule.rule if request.url_rule else "unmatched"
        requests.labels(endpoint, request.method, str(response.status_code)).inc()
        if response.status_code >= 400:
            errors.labels(endpoint, str(response.status_code)).inc()
        if "started" in g:
            latency.labels(endpoint).observe(time.perf_counter() - g.started)
        return response


def render(app: Flask) -> tuple[bytes, str]:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = app.extensions["joinedup_metrics"]
    state = CollectorRegistry()
    state.register(_StateCollector(app))
    return generate_latest(registry) + generate_latest(state), CONTENT_TYPE_LATEST
