"""Analysts' labels and the review queue."""

from __future__ import annotations

from flask import Response, jsonify, request

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
        isinstance(e, dict) and e.get("statement_id") is not None for e in examples) else "api",
        body.get("name"))}), 201


@bp.get("/labels")
def list_labels():
    """Labels, newest first, a page at a time (of one statement with statement_id); or all of them as JSON lines.
    ---
    get:
      summary: List labels, or export them (JSON lines)
      tags: [labels]
      parameters:
        - {name: statement_id, in: query, schema: {type: integer, minimum: 1}, description: only the labels of this stored statement, example: 42}
        - {name: offset, in: query, schema: {type: integer, minimum: 0, default: 0}, description: labels to skip, example: 0}
        - {name: limit, in: query, schema: {type: integer, minimum: 1, maximum: 1000, default: 100}, description: labels in this page, example: 100}
        - {name: format, in: query, schema: {type: string, enum: [json, jsonl], default: json}, description: 'json: a page as below; jsonl: every label, oldest first, one JSON object per line (paging and statement_id do not apply)', example: json}
      responses:
        200:
          description: A page of labels (JSON), or every label as JSON lines
          content:
            application/json: {schema: LabelsPage}
            application/x-ndjson:
              schema: {type: string}
              example: |
                {"id": 1, "text": "Delayed discharge from hospital beds rose this winter.", "themes": ["hospital_discharge"], "source": "api", "statement_id": null, "name": "R. Analyst", "created": "2025-03-14T09:30:00+00:00", "updated": null}
        422: {description: Invalid input, content: {application/json: {schema: Error}}}
    """
    import json

    fmt = request.args.get("format", "json")
    if fmt not in ("json", "jsonl"):
        raise InvalidInput(f"unknown format {fmt!r}; use json or jsonl")
    store = pipeline().store
    if fmt == "jsonl":
        body = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in store.labels())
        return Response(body, content_type="application/x-ndjson; charset=utf-8")
    statement_id = _int_arg("statement_id", 0, 1) or None
    offset, limit = _int_arg("offset", 0, 0), _int_arg("limit", 100, 1, 1000)
    rows, total = store.list_labels(statement_id, offset, limit)
    return jsonify({"labels": [r.to_dict() for r in rows], "total": total, "offset": offset, "limit": limit,
                    "has_more": offset + len(rows) < total})


@bp.get("/labels/<int:label_id>")
def get_label(label_id: int):
    """One label.
    ---
    get:
      summary: Get a label
      tags: [labels]
      parameters: [{name: label_id, in: path, required: true, schema: {type: integer}, description: the label's id, example: 7}]
      responses:
        200: {description: The label, content: {application/json: {schema: Label}}}
        404: {description: Not found, content: {application/json: {schema: Error}}}
    """
    return jsonify(pipeline().store.get_label(label_id).to_dict())


@bp.put("/labels/<int:label_id>")
@require_token
def edit_label(label_id: int):
    """Correct a label: replace its themes (and who gave them).
    ---
    put:
      summary: Edit a label (token required when configured)
      tags: [labels]
      security: [{bearer: []}]
      parameters: [{name: label_id, in: path, required: true, schema: {type: integer}, description: the label's id, example: 7}]
      requestBody:
        required: true
        content: {application/json: {schema: EditLabelRequest}}
      responses:
        200: {description: The label as it now is, content: {application/json: {schema: Label}}}
        401: {description: Missing or wrong token, content: {application/json: {schema: Error}}}
        404: {description: Not found, content: {application/json: {schema: Error}}}
        422: {description: Invalid input or unknown theme ids, content: {application/json: {schema: Error}}}
    """
    body = json_body()
    unknown = sorted(str(k) for k in body if k not in ("themes", "name"))
    if unknown:
        raise InvalidInput(f"unknown field {unknown[0]!r}; a label's themes and name can be changed")
    if "themes" not in body:
        raise InvalidInput("give 'themes' (a list of theme ids; an empty list says the text has none)")
    return jsonify(pipeline().edit_label(label_id, body["themes"], body.get("name")).to_dict())


@bp.delete("/labels/<int:label_id>")
@require_token
def delete_label(label_id: int):
    """Delete a label: it no longer trains the model, and its statement returns to the review queue.
    ---
    delete:
      summary: Delete a label (token required when configured)
      tags: [labels]
      security: [{bearer: []}]
      parameters: [{name: label_id, in: path, required: true, schema: {type: integer}, description: the label's id, example: 7}]
      responses:
        200: {description: Deleted, content: {application/json: {schema: Deleted}}}
        401: {description: Missing or wrong token, content: {application/json: {schema: Error}}}
        404: {description: Not found, content: {application/json: {schema: Error}}}
    """
    pipeline().store.delete_label(label_id)
    return jsonify({"deleted": label_id})


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
