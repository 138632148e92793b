"""Analysts' labels and the review queue."""

from __future__ import annotations

from flask import Response, jsonify

from classifier.errors import InvalidInput, PayloadTooLarge

from . import bp
from .common import _int_arg, _limits, json_body, pipeline, require_token


@bp.post("/labels")
@require_token
def add_labels():
    """Add labelled examples (analysts' labels and corrections).
    ---
    post:
      summary: Add labelled examples (token required when configured)
      tags: [labels]
      security: [{bearer: []}]
      requestBody:
        required: true
        content: {application/json: {schema: LabelsRequest}}
      responses:
        201: {description: Stored, content: {application/json: {schema: LabelsResponse}}}
        401: {description: Missing or wrong token, content: {application/json: {schema: Error}}}
        413: {description: Too large, content: {application/json: {schema: Error}}}
        422: {description: Invalid input or unknown theme ids, content: {application/json: {schema: Error}}}
    """
    body = json_body()
    examples = body.get("examples")
    max_n, _ = _limits()
    if not isinstance(examples, list) or not examples:
        raise InvalidInput("'examples' must be a non-empty list")
    if len(examples) > max_n:
        raise PayloadTooLarge(f"{len(examples)} examples; the limit is {max_n} per request", {"limit": max_n})
    return jsonify({"added": pipeline().add_labels(examples, "correction" if any(
        isinstance(e, dict) and e.get("statement_id") is not None for e in examples) else "api")}), 201


@bp.get("/labels")
def export_labels():
    """Export labelled examples as JSON lines.
    ---
    get:
      summary: Export labels (JSON lines)
      tags: [labels]
      responses:
        200:
          description: One JSON object per line
          content:
            application/x-ndjson:
              schema: {type: string}
              example: |
                {"id": 1, "text": "Delayed discharge from hospital beds rose this winter.", "themes": ["hospital_discharge"], "source": "api", "statement_id": null, "created": "2025-03-14T09:30:00+00:00"}
    """
    import json

    rows = pipeline().store.labels()
    body = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    return Response(body, content_type="application/x-ndjson; charset=utf-8")


@bp.get("/review")
def review():
    """Statements whose theme scores sit closest to their thresholds, for an analyst to confirm or correct.
    ---
    get:
      summary: Review queue (uncertainty sampling)
      tags: [labels]
      parameters: [{name: n, in: query, schema: {type: integer, minimum: 1, maximum: 100, default: 20}, description: how many statements, example: 10}]
      responses:
        200: {description: Statements to review, content: {application/json: {schema: Review}}}
        422: {description: Invalid input, content: {application/json: {schema: Error}}}
    """
    return jsonify({"statements": pipeline().review_queue(_int_arg("n", 20, 1, 100))})
