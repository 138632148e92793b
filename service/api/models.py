"""Model versions, training jobs and activation."""

from __future__ import annotations

from flask import jsonify, request

from classifier.errors import InvalidInput

from . import bp
from .common import json_body, pipeline, require_token


@bp.post("/models/train")
@require_token
def start_training():
    """Start a training job in the background.
    ---
    post:
      summary: Retrain (token required when configured); one job at a time
      tags: [models]
      security: [{bearer: []}]
      requestBody:
        required: false
        content: {application/json: {schema: TrainRequest}}
      responses:
        202: {description: Job queued, content: {application/json: {schema: JobResponse}}}
        401: {description: Missing or wrong token, content: {application/json: {schema: Error}}}
        409: {description: A training job is already running, content: {application/json: {schema: Error}}}
        422: {description: Invalid input, content: {application/json: {schema: Error}}}
    """
    from classifier.jobs import public, start_job

    params = {"force": False, "select": False}
    if request.content_length:
        body = json_body()
        for name in params:
            params[name] = body.get(name, False)
            if not isinstance(params[name], bool):
                raise InvalidInput(f"'{name}' must be true or false")
    job = start_job(pipeline().store, "train", params, pipeline().settings)
    return jsonify({"job": public(job)}), 202


@bp.get("/jobs/<int:job_id>")
def get_job(job_id: int):
    """A background job's status and, when finished, its model and report.
    ---
    get:
      summary: Job status
      tags: [models]
      parameters: [{name: job_id, in: path, required: true, schema: {type: integer}, description: the id a POST to /api/v1/models/train returned, example: 7}]
      responses:
        200: {description: The job, content: {application/json: {schema: JobResponse}}}
        404: {description: Not found, content: {application/json: {schema: Error}}}
    """
    from classifier.jobs import public

    return jsonify({"job": public(pipeline().store.get_job(job_id))})


@bp.get("/models")
def list_models():
    """Model versions.
    ---
    get:
      summary: List model versions
      tags: [models]
      responses:
        200: {description: Versions, content: {application/json: {schema: Models}}}
    """
    reg = pipeline().registry
    return jsonify({"active": reg.active_version(), "models": [m.to_dict() for m in reg.list()]})


@bp.post("/models/<version>/activate")
@require_token
def activate_model(version: str):
    """Make a version the active model; stored statements are re-tagged in the background.
    ---
    post:
      summary: Activate a model version (token required when configured)
      tags: [models]
      security: [{bearer: []}]
      parameters: [{name: version, in: path, required: true, schema: {type: string}, description: a version from GET /api/v1/models, example: 20250312-101500-3f9c2a7e}]
      responses:
        200: {description: Activated, content: {application/json: {schema: Activated}}}
        401: {description: Missing or wrong token, content: {application/json: {schema: Error}}}
        404: {description: No such version, content: {application/json: {schema: Error}}}
        503: {description: The version failed its integrity checks, content: {application/json: {schema: Error}}}
    """
    from classifier.errors import Conflict
    from classifier.jobs import start_job

    p = pipeline()
    p.registry.activate(version)
    p.scorer()  # this worker serves the new version from now on
    retag = None
    if p.store.count():
        try:
            retag = start_job(p.store, "retag", {"version": version}, p.settings)["id"]
        except Conflict as exc:
            retag = exc.details["job"]["id"]
    return jsonify({"active": version, "retag_job": retag})
