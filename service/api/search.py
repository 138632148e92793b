"""Searching stored statements."""

from __future__ import annotations

from flask import jsonify, request

from classifier.errors import InvalidInput
from classifier.search.engine import MODES
from classifier.storage.records import Filters
from classifier.text.dates import parse_date
from classifier.text.policy import check_text

from . import bp
from .common import MAX_QUERY_CHARS, _int_arg, pipeline


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
