"""Health, the codebook, the OpenAPI document and metrics."""

from __future__ import annotations

from flask import Response, current_app, jsonify

from . import bp
from .common import pipeline


@bp.get("/health")
def health():
    """Whether this worker can tag and search, and with which model.
    ---
    get:
      summary: Service health
      tags: [service]
      responses:
        200: {description: OK, content: {application/json: {schema: Health}}}
        503: {description: No model this worker can serve (none active, or the active one fails its checks), content: {application/json: {schema: Error}}}
    """
    p = pipeline()
    # The model actually loaded, not what the ACTIVE pointer says: a version that fails its checks raises
    # ModelError here (a 503) exactly as it does for /tag and /search.
    scorer = p.scorer()
    p.check_vector_space()
    return jsonify({"status": "ok", "model": {"version": scorer.version}, "statements": p.store.count()})


@bp.get("/themes")
def themes():
    """The codebook.
    ---
    get:
      summary: List the themes
      tags: [tagging]
      responses:
        200: {description: OK, content: {application/json: {schema: Themes}}}
    """
    return jsonify({"themes": [t.to_dict() for t in pipeline().codebook.themes]})


@bp.get("/openapi.json")
def openapi():
    """This API's OpenAPI document.
    ---
    get:
      summary: The OpenAPI document (what /api/v1/docs shows)
      tags: [service]
      responses:
        200: {description: OpenAPI 3.1, content: {application/json: {schema: OpenAPIDocument}}}
    """
    return jsonify(current_app.extensions["joinedup_openapi"])


@bp.get("/metrics")
def metrics():
    """Prometheus metrics: requests, latency and errors by endpoint, model version, corpus size.
    ---
    get:
      summary: Metrics in Prometheus's text format
      tags: [service]
      responses:
        200:
          description: Prometheus text exposition
          content:
            text/plain:
              schema: {type: string}
              example: |
                # HELP joinedup_statements Statements in the store
                # TYPE joinedup_statements gauge
                joinedup_statements 3475.0
    """
    from service.metrics import render

    body, content_type = render(current_app)
    return Response(body, content_type=content_type)
