"""Searching stored statements: pages of results, date order, copies grouped, and exports of the hits."""

from __future__ import annotations

import re

from flask import Response, jsonify, request, stream_with_context

from classifier.errors import InvalidInput
from classifier.exports import tabular
from classifier.search.browse import SORTS, browse
from classifier.search.engine import MODES
from classifier.storage.records import Filters
from classifier.text.dates import parse_date
from classifier.text.policy import check_text

from . import bp
from .common import MAX_QUERY_CHARS, _int_arg, pipeline

PAGE_MAX = 100          # results per page as JSON
EXPORT_MAX = 1000       # hits in one CSV or JSON lines export (the depth a ranking goes to)
FORMATS = ("json", *tabular.FORMATS)


def request_filters(p) -> Filters:
    """theme, organisation (both repeatable), since and until from the query string, checked."""
    themes = p.codebook.validate(request.args.getlist("theme"))
    organisations = [check_text(o, "organisation", 300) for o in request.args.getlist("organisation")]
    return Filters(tuple(themes), tuple(organisations), parse_date(request.args.get("since"), "since"),
                   parse_date(request.args.get("until"), "until"))


def request_format() -> str:
    fmt = request.args.get("format", "json")
    if fmt not in FORMATS:
        raise InvalidInput(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    return fmt


def export_response(fmt: str, chunks, name: str) -> Response:
    """A streamed CSV or JSON lines download named ``name``.<fmt>."""
    response = Response(stream_with_context(chunks), mimetype=tabular.MEDIA_TYPES[fmt].split(";")[0])
    response.headers["Content-Type"] = tabular.MEDIA_TYPES[fmt]
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "results"


@bp.get("/search")
def search():
    """Search stored statements: one page of the ranking, as JSON, or the hits as CSV or JSON lines.
    ---
    get:
      summary: Search statements (hybrid, semantic or keyword); page, sort by date, export
      tags: [search]
      parameters:
        - {name: q, in: query, required: true, schema: {type: string, minLength: 1, maxLength: 1000}, description: words or a question, example: care staff vacancies}
        - {name: k, in: query, schema: {type: integer, minimum: 1, maximum: 1000, default: 10}, description: 'results per page: at most 100 as JSON, 1,000 in a CSV or JSON lines export', example: 10}
        - {name: offset, in: query, schema: {type: integer, minimum: 0, maximum: 999, default: 0}, description: 'hits of the ranking to skip: k=10&offset=10 is hits 11-20 of k=20 (offset + k at most 1,000)', example: 0}
        - {name: theme, in: query, schema: {type: array, items: {type: string}}, style: form, explode: true, description: 'only statements with this theme id (repeat for any of several)', example: [workforce]}
        - {name: organisation, in: query, schema: {type: array, items: {type: string}}, style: form, explode: true, description: 'only statements by this organisation, case ignored (repeat for any of several)', example: [Wexcombe County Council]}
        - {name: since, in: query, schema: PartialDate, description: statements dated on or after this, example: '2023-01'}
        - {name: until, in: query, schema: PartialDate, description: statements dated on or before this, example: '2024-12-31'}
        - {name: mode, in: query, schema: {type: string, enum: [hybrid, semantic, keyword], default: hybrid}, description: 'hybrid fuses meaning and keywords; semantic is meaning only; keyword is BM25 only', example: hybrid}
        - {name: sort, in: query, schema: {type: string, enum: [relevance, date, '-date'], default: relevance}, description: 'order of the page: by relevance, or the same hits oldest first (date) or newest first (-date), undated last', example: date}
        - {name: copies, in: query, schema: {type: string, enum: [group, separate], default: group}, description: 'group near-identical statements into one hit (the earliest, the others under copies), or list each separately', example: group}
        - {name: format, in: query, schema: {type: string, enum: [json, csv, jsonl], default: json}, description: 'json: the page as below; csv or jsonl: the hits as a download with citation columns', example: json}
        - {name: context, in: query, schema: {type: boolean, default: false}, description: "give each hit the paragraphs before and after it in its document (JSON only)", example: true}
      responses:
        200:
          description: 'One page of results (JSON), or the hits with citation columns (id, organisation, date, title, url, document_id, paragraph_index, themes, score, text, copies) as CSV (RFC 4180, UTF-8, themes and copies joined by ;) or JSON lines'
          content:
            application/json: {schema: SearchResponse}
            text/csv: {schema: {type: string}, example: "id,organisation,date,title,url,document_id,paragraph_index,themes,score,text,copies\\r\\n42,Wexcombe County Council,2024-03-12,Adult social care workforce plan,https://wexcombe.example/workforce-plan,,,workforce,0.0325,Care staff vacancies in Wexcombe rose again this year.,57;63\\r\\n"}
            application/x-ndjson: {schema: {type: string}, example: '{"id": 42, "organisation": "Wexcombe County Council", "date": "2024-03-12", "title": "Adult social care workforce plan", "url": null, "document_id": null, "paragraph_index": null, "themes": ["workforce"], "score": 0.0325, "text": "Care staff vacancies rose.", "copies": [57]}'}
        422: {description: Invalid input, content: {application/json: {schema: Error}}}
        503: {description: No model this worker can serve, content: {application/json: {schema: Error}}}
    """
    p = pipeline()
    fmt = request_format()
    query = check_text(request.args.get("q", ""), "q", MAX_QUERY_CHARS)
    filters = request_filters(p)
    mode = request.args.get("mode", "hybrid")
    if mode not in MODES:
        raise InvalidInput(f"unknown mode {mode!r}; use one of {', '.join(MODES)}")
    sort = request.args.get("sort", "relevance")
    if sort not in SORTS:
        raise InvalidInput(f"unknown sort {sort!r}; use one of {', '.join(SORTS)}")
    grouping = request.args.get("copies", "group")
    if grouping not in ("group", "separate"):
        raise InvalidInput(f"unknown copies {grouping!r}; use group or separate")
    k = _int_arg("k", 10, 1, PAGE_MAX if fmt == "json" else EXPORT_MAX)
    offset = _int_arg("offset", 0, 0, EXPORT_MAX - 1)
    context = request.args.get("context", "false").lower()
    if context not in ("true", "false", "1", "0"):
        raise InvalidInput(f"context must be true or false, not {context!r}")
    result = browse(p.search_index, query, k=k, offset=offset, filters=filters, mode=mode, sort=sort,
                    group=grouping == "group", context=context in ("true", "1") and fmt == "json")
    if fmt != "json":
        rows = tabular.search_rows(result.results)
        return export_response(fmt, tabular.chunks(fmt, rows, tabular.SEARCH_COLUMNS), f"joinedup-search-{_slug(query)}")
    body = result.to_dict()
    # Result themes were written by the model named on each stored statement; this is the one serving now.
    body["model"] = {"version": p.scorer().version}
    return jsonify(body)
