"""The JSON API under /api/v1. Views parse, call one function of the pipeline, and return JSON."""

from __future__ import annotations

import hmac
from functools import wraps

from flask import Blueprint, Response, current_app, jsonify, request

from classifier.errors import InvalidInput, MalformedRequest, PayloadTooLarge, Unauthorized
from classifier.text.readers import document_from_record
from classifier.text.paragraphs import split_paragraphs
from classifier.search.engine import MODES
from classifier.storage.sqlite import MAX_ID, Filters, NewStatement, check_int, parse_date
from classifier.text.policy import check_text

bp = Blueprint("api", __name__, url_prefix="/api/v1")

# A search query is a question, not a document; a longer q is a 422 in the JSON shape. gunicorn's request
# line limit (service/cli.py) is set well above what this takes in a URL, so the app is the one to say so.
MAX_QUERY_CHARS = 1000


def pipeline():
    return current_app.extensions["joinedup"]


def json_body() -> dict:
    """The request's JSON object, or a 400 saying what is wrong with it."""
    if not request.is_json:
        raise MalformedRequest("the body must be JSON with Content-Type: application/json")
    charset = request.mimetype_params.get("charset", "utf-8").lower()
    if charset not in ("utf-8", "utf8"):
        raise MalformedRequest(f"the body must be UTF-8, not {charset}")
    raw = request.get_data(cache=True)
    if len(raw) > current_app.config["MAX_CONTENT_LENGTH"]:
        raise PayloadTooLarge("the body is over the size limit")
    # Decoded here, strictly: json.loads on bytes would also accept UTF-16 and UTF-32.
    try:
        data = current_app.json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise MalformedRequest("the body is not valid UTF-8") from exc
    except ValueError as exc:
        raise MalformedRequest(f"the body is not valid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise InvalidInput("the body must be a JSON object")
    return data


def has_valid_token() -> bool:
    """Whether the request carries exactly ``Authorization: Bearer <token>`` with the configured token.

    The scheme is case-insensitive (RFC 7235); nothing else is forgiven, and the token is compared in
    constant time. False when no token is configured.
    """
    token = pipeline().settings.api_token
    if not token:
        return False
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(value.encode("utf-8"), token.encode("utf-8"))


def require_token(view):
    """Writes need ``Authorization: Bearer <token>`` when JOINEDUP_API_TOKEN is set."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if pipeline().settings.api_token and not has_valid_token():
            raise Unauthorized("this endpoint needs 'Authorization: Bearer <token>'")
        return view(*args, **kwargs)

    wrapped.requires_token = True
    return wrapped


def _limits():
    s = pipeline().settings
    return s.max_paragraphs, s.max_paragraph_chars


def _paragraph_list(items, field: str) -> list[str]:
    max_n, max_chars = _limits()
    if not isinstance(items, list) or not items:
        raise InvalidInput(f"'{field}' must be a non-empty list")
    if len(items) > max_n:
        raise PayloadTooLarge(f"{len(items)} items in '{field}'; the limit is {max_n} per request",
                              {"limit": max_n})
    return [check_text(t, f"{field}[{i}]", max_chars) for i, t in enumerate(items)]


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


@bp.post("/tag")
def tag():
    """Tag a text (split into paragraphs) or a list of paragraphs (each tagged as is).
    ---
    post:
      summary: Tag text with integration themes
      tags: [tagging]
      requestBody:
        required: true
        content: {application/json: {schema: TagRequest}}
      responses:
        200: {description: Tagged paragraphs and a document summary, content: {application/json: {schema: TagResponse}}}
        400: {description: Malformed JSON, content: {application/json: {schema: Error}}}
        413: {description: Too large, content: {application/json: {schema: Error}}}
        422: {description: Invalid input, content: {application/json: {schema: Error}}}
        503: {description: No model this worker can serve, content: {application/json: {schema: Error}}}
    """
    body = json_body()
    scorer = pipeline().scorer()
    if "paragraphs" in body and "text" in body:
        raise InvalidInput("give either 'text' or 'paragraphs', not both")
    if "paragraphs" in body:
        result = scorer.tag_texts(_paragraph_list(body["paragraphs"], "paragraphs"))
    elif "text" in body:
        max_n, max_chars = _limits()
        text = check_text(body["text"], "text")
        # The splitter stops as soon as the count passes the limit, before any further work (a 413).
        paragraphs = split_paragraphs(text, max_paragraphs=max_n)
        if not paragraphs:
            raise InvalidInput("the text has no paragraphs to tag (only headings or page numbers)")
        long = [p.index for p in paragraphs if len(p.text) > max_chars]
        if long:
            raise InvalidInput(f"paragraph {long[0]} is over {max_chars} characters", {"limit": max_chars})
        result = scorer.tag_paragraphs(paragraphs)
    else:
        raise InvalidInput("give 'text' (a string) or 'paragraphs' (a list of strings)")
    return jsonify(result.to_dict())


def _int_arg(name: str, default: int, low: int = 1, high: int = MAX_ID) -> int:
    """A query-string integer in ``low..high`` (never past SQLite's 64-bit range), or a 422 naming it."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:  # also a string of more digits than int() will convert
        raise InvalidInput(f"'{name}' must be an integer", {"field": name}) from exc
    return check_int(value, name, low, high)


@bp.get("/search")
def search():
    """Search stored statements.
    ---
    get:
      summary: Search statements (hybrid, semantic or keyword)
      tags: [search]
      parameters:
        - {name: q, in: query, required: true, schema: {type: string, minLength: 1, maxLength: 1000}, description: words or a question, example: care staff vacancies}
        - {name: k, in: query, schema: {type: integer, minimum: 1, maximum: 100, default: 10}, description: how many results, example: 10}
        - {name: theme, in: query, schema: {type: array, items: {type: string}}, style: form, explode: true, description: 'only statements with this theme id (repeat for any of several)', example: [workforce]}
        - {name: organisation, in: query, schema: {type: array, items: {type: string}}, style: form, explode: true, description: 'only statements by this organisation, case ignored (repeat for any of several)', example: [Wexcombe County Council]}
        - {name: since, in: query, schema: PartialDate, description: statements dated on or after this, example: '2023-01'}
        - {name: until, in: query, schema: PartialDate, description: statements dated on or before this, example: '2024-12-31'}
        - {name: mode, in: query, schema: {type: string, enum: [hybrid, semantic, keyword], default: hybrid}, description: 'hybrid fuses meaning and keywords; semantic is meaning only; keyword is BM25 only', example: hybrid}
      responses:
        200: {description: Ranked results, content: {application/json: {schema: SearchResponse}}}
        422: {description: Invalid input, content: {application/json: {schema: Error}}}
        503: {description: No model this worker can serve, content: {application/json: {schema: Error}}}
    """
    p = pipeline()
    query = check_text(request.args.get("q", ""), "q", MAX_QUERY_CHARS)
    themes = p.codebook.validate(request.args.getlist("theme"))
    organisations = [check_text(o, "organisation", 300) for o in request.args.getlist("organisation")]
    filters = Filters(tuple(themes), tuple(organisations), parse_date(request.args.get("since"), "since"),
                      parse_date(request.args.get("until"), "until"))
    mode = request.args.get("mode", "hybrid")
    if mode not in MODES:
        raise InvalidInput(f"unknown mode {mode!r}; use one of {', '.join(MODES)}")
    body = p.search_index.search(query, k=_int_arg("k", 10, 1, 100), filters=filters, mode=mode).to_dict()
    # Result themes were written by the model named on each stored statement; this is the one serving now.
    body["model"] = {"version": p.scorer().version}
    return jsonify(body)


def _new_statement(obj, where: str) -> NewStatement:
    if not isinstance(obj, dict):
        raise InvalidInput(f"{where} must be an object")
    _, max_chars = _limits()
    # The same checks as a document's and an ingested record's; a statement's text is one paragraph.
    doc = document_from_record(obj, where, max_chars)
    return NewStatement(" ".join(doc.text.split()), doc.organisation, doc.date, doc.title, doc.url)


@bp.post("/statements")
@require_token
def add_statements():
    """Add statements, or a document split into paragraph statements.
    ---
    post:
      summary: Add statements (token required when configured)
      tags: [statements]
      security: [{bearer: []}]
      requestBody:
        required: true
        content: {application/json: {schema: AddStatementsRequest}}
      responses:
        201: {description: Stored and tagged, content: {application/json: {schema: AddStatementsResponse}}}
        401: {description: Missing or wrong token, content: {application/json: {schema: Error}}}
        413: {description: Too large, content: {application/json: {schema: Error}}}
        422: {description: Invalid input, content: {application/json: {schema: Error}}}
        503: {description: No model this worker can serve, content: {application/json: {schema: Error}}}
    """
    body = json_body()
    p = pipeline()
    max_n, _ = _limits()
    if "statements" in body and "document" in body:
        raise InvalidInput("give either 'statements' or 'document', not both")
    if "statements" in body:
        items = body["statements"]
        if not isinstance(items, list) or not items:
            raise InvalidInput("'statements' must be a non-empty list")
        if len(items) > max_n:
            raise PayloadTooLarge(f"{len(items)} statements; the limit is {max_n} per request", {"limit": max_n})
        new = [_new_statement(obj, f"statements[{i}]") for i, obj in enumerate(items)]
    elif "document" in body:
        doc_obj = body["document"]
        if not isinstance(doc_obj, dict):
            raise InvalidInput("'document' must be an object")
        new = p.statements_from_document(document_from_record(doc_obj, "document"), max_paragraphs=max_n)
        if not new:
            raise InvalidInput("the document has no paragraphs to store")
    else:
        raise InvalidInput("give 'statements' (a list) or 'document' (an object)")
    result = p.add_statements(new)
    return jsonify({"ids": result.ids, "added": result.added, "duplicates": result.duplicates}), 201


@bp.get("/statements/<int:statement_id>")
def get_statement(statement_id: int):
    """One stored statement.
    ---
    get:
      summary: Get a statement
      tags: [statements]
      parameters: [{name: statement_id, in: path, required: true, schema: {type: integer}, description: the statement's id, example: 42}]
      responses:
        200: {description: The statement, content: {application/json: {schema: Statement}}}
        404: {description: Not found, content: {application/json: {schema: Error}}}
    """
    return jsonify(pipeline().store.get_one(statement_id).to_dict())


@bp.delete("/statements/<int:statement_id>")
@require_token
def delete_statement(statement_id: int):
    """Delete a stored statement.
    ---
    delete:
      summary: Delete a statement (token required when configured)
      tags: [statements]
      security: [{bearer: []}]
      parameters: [{name: statement_id, in: path, required: true, schema: {type: integer}, description: the statement's id, example: 42}]
      responses:
        200: {description: Deleted, content: {application/json: {schema: Deleted}}}
        401: {description: Missing or wrong token, content: {application/json: {schema: Error}}}
        404: {description: Not found, content: {application/json: {schema: Error}}}
    """
    pipeline().store.delete(statement_id)
    return jsonify({"deleted": statement_id})


@bp.get("/organisations")
def organisations():
    """Organisations with statement counts.
    ---
    get:
      summary: List organisations
      tags: [search]
      responses:
        200: {description: OK, content: {application/json: {schema: Organisations}}}
    """
    return jsonify({"organisations": pipeline().store.organisations()})


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
    from .metrics import render

    body, content_type = render(current_app)
    return Response(body, content_type=content_type)


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
