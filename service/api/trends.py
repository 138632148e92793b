"""Trends over time and an organisation's themes over time."""

from __future__ import annotations

from flask import jsonify, request

from classifier.analysis.trends import organisation_themes, trend
from classifier.storage.records import Filters
from classifier.text.dates import parse_date
from classifier.text.policy import check_text

from . import bp
from .common import MAX_QUERY_CHARS, pipeline


@bp.get("/trends")
def trends():
    """Stored statements per period: tagged with a theme, by some organisations, matching a query.
    ---
    get:
      summary: Count statements over time
      tags: [analysis]
      parameters:
        - {name: theme, in: query, schema: {type: string}, description: 'count statements tagged with this theme id (all statements when absent)', example: workforce}
        - {name: organisation, in: query, schema: {type: array, items: {type: string}}, style: form, explode: true, description: 'only statements by this organisation, case ignored (repeat for any of several)', example: [Wexcombe County Council]}
        - {name: since, in: query, schema: PartialDate, description: statements dated on or after this, example: '2015'}
        - {name: until, in: query, schema: PartialDate, description: statements dated on or before this, example: '2025-12-31'}
        - {name: interval, in: query, schema: {type: string, enum: [year, quarter, month], default: year}, description: 'the length of a period', example: year}
        - {name: q, in: query, schema: {type: string, maxLength: 1000}, description: 'count only statements whose cosine similarity to this query is at least relevance_floor (0.55)', example: care staff vacancies}
      responses:
        200: {description: 'Counts per period, every period from the first to the last included (0 when empty); total = sum of the series + imprecise + undated', content: {application/json: {schema: Trend}}}
        422: {description: Invalid input, content: {application/json: {schema: Error}}}
    """
    p = pipeline()
    theme = request.args.get("theme") or None
    organisations = [check_text(o, "organisation", 300) for o in request.args.getlist("organisation")]
    filters = Filters((), tuple(organisations), parse_date(request.args.get("since"), "since"),
                      parse_date(request.args.get("until"), "until"))
    q = request.args.get("q")
    query = check_text(q, "q", MAX_QUERY_CHARS) if q else None
    return jsonify(trend(p, theme, filters, request.args.get("interval", "year"), query).to_dict())


@bp.get("/organisations/<name>")
def organisation(name: str):
    """One organisation's themes over time: a row per theme it raised, a column per period.
    ---
    get:
      summary: An organisation's themes over time
      tags: [analysis]
      parameters:
        - {name: name, in: path, required: true, schema: {type: string}, description: 'the organisation, case and spacing ignored', example: Wexcombe County Council}
        - {name: interval, in: query, schema: {type: string, enum: [year, quarter, month], default: year}, description: 'the length of a period', example: year}
        - {name: since, in: query, schema: PartialDate, description: statements dated on or after this, example: '2015'}
        - {name: until, in: query, schema: PartialDate, description: statements dated on or before this, example: '2025-12-31'}
      responses:
        200: {description: 'The organisation x theme table', content: {application/json: {schema: OrganisationThemes}}}
        404: {description: No statements from that organisation, content: {application/json: {schema: Error}}}
        422: {description: Invalid input, content: {application/json: {schema: Error}}}
    """
    p = pipeline()
    filters = Filters((), (), parse_date(request.args.get("since"), "since"), parse_date(request.args.get("until"), "until"))
    name = check_text(name, "name", 300)
    return jsonify(organisation_themes(p, name, request.args.get("interval", "year"), filters).to_dict())
