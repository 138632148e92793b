"""The OpenAPI document, built from the views' docstrings (the YAML after ``---``) and the schemas below.

A docstring names its operation's parameters, request body and responses, and refers to schemas by bare name
(``schema: TagResponse``). ``build_spec`` turns those names into ``$ref``s, gives each operation an
``operationId`` (the view's name) and puts an example on every JSON body that lacks one: the schema's entry in
``EXAMPLES``, or for an ``Error`` an error of that status in the API's one error shape.
"""

from __future__ import annotations

from apispec import APISpec
from apispec.yaml_utils import load_operations_from_docstring
from flask import Flask
from werkzeug.http import HTTP_STATUS_CODES

_STR = {"type": "string"}
_NSTR = {"type": ["string", "null"]}
_DATE = {"type": ["string", "null"], "description": "YYYY-MM-DD, or YYYY-MM or YYYY as it was given"}
_THEME_ID = {"type": "string", "description": "a theme id from GET /api/v1/themes"}
_THEME_SCORE = {"type": "object", "required": ["id", "label", "score"],
                "properties": {"id": _THEME_ID, "label": _STR,
                               "score": {"type": "number", "description": "probability, 0 to 1"}}}
_STORED_THEME = {"type": "object", "required": ["id", "score"],
                 "properties": {"id": _THEME_ID, "score": {"type": "number", "description": "probability, 0 to 1"}}}
_STATEMENT_IN = {"type": "object", "required": ["text"], "properties": {
    "text": {"type": "string", "minLength": 1, "pattern": "\\S"},
    "organisation": {"type": "string", "description": "who made the statement"},
    "date": {"$ref": "#/components/schemas/PartialDate"},
    "title": {"type": "string", "description": "title of the source document"},
    "url": {"type": "string", "description": "where the source document is published"}}}
_STATEMENT_PROPS = {
    "id": {"type": "integer"}, "text": _STR, "organisation": _NSTR, "date": _DATE, "title": _NSTR, "url": _NSTR,
    "document_id": {"type": ["string", "null"], "description": "shared by the paragraphs of one stored document"},
    "paragraph_index": {"type": ["integer", "null"], "description": "position of the paragraph in its document"},
    "start": {"type": ["integer", "null"], "description": "character offset of the paragraph in its document"},
    "end": {"type": ["integer", "null"]},
    "themes": {"type": "array", "items": _STORED_THEME, "description": "themes over their thresholds"},
    "model_version": {"type": ["string", "null"], "description": "the model that tagged the statement"},
    "created": {"type": ["string", "null"], "description": "when it was stored (ISO 8601)"}}

_SOURCE_TYPE = {"type": "string", "description": "what kind of document: press_release, board_paper, web_page..."}
_PARTIAL_DATE = {"type": "string", "pattern": "^[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?$"}
_NEIGHBOUR = {"index": {"type": "integer"}, "kind": _STR, "text": _STR}
_DOCUMENT_PROPS = {
    "id": {"type": "string", "description": "stable: the same organisation, title, url and text give the same id"},
    "organisation": _NSTR, "date": _DATE, "title": _NSTR, "url": _NSTR, "source_type": _NSTR,
    "model_version": {"type": ["string", "null"], "description": "the model that tagged the paragraphs"},
    "created": {"type": ["string", "null"], "description": "when it was stored (ISO 8601)"}}

SCHEMAS = {
    "PartialDate": {"type": "string", "pattern": "^[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?$",
                    "description": "an ISO 8601 date: YYYY-MM-DD, or YYYY-MM or YYYY when only the month or year "
                                   "is known"},
    "Error": {"type": "object", "required": ["error"], "description": "The shape of every error response.",
              "properties": {"error": {
                  "type": "object", "required": ["code", "message"],
                  "properties": {"code": {"type": "string", "description": "stable machine-readable code"},
                                 "message": {"type": "string", "description": "what went wrong, for people"},
                                 "details": {"description": "more about the error, such as the limit broken"}}}}},
    "Health": {"type": "object", "required": ["status", "model", "statements"], "properties": {
        "status": _STR, "model": {"type": "object", "properties": {"version": _NSTR}},
        "statements": {"type": "integer", "description": "statements in the store"}}},
    "Themes": {"type": "object", "required": ["themes"], "properties": {"themes": {"type": "array", "items": {
        "type": "object", "required": ["id", "label", "definition"],
        "properties": {"id": _STR, "label": _STR, "definition": _STR,
                       "include": {"type": "array", "items": _STR, "description": "what the theme covers"},
                       "exclude": {"type": "array", "items": _STR, "description": "what belongs elsewhere"}}}}}},
    "TagRequest": {"description": "Either a text, split into paragraphs at blank lines, or a list of paragraphs "
                                  "tagged as they are.", "oneOf": [
        {"type": "object", "required": ["text"], "additionalProperties": False, "title": "text",
         "properties": {"text": {"type": "string", "minLength": 1, "pattern": "\\S"}}},
        {"type": "object", "required": ["paragraphs"], "additionalProperties": False, "title": "paragraphs",
         "properties": {"paragraphs": {"type": "array", "minItems": 1, "maxItems": 500,
                                       "items": {"type": "string", "minLength": 1, "maxLength": 20000,
                                                 "pattern": "\\S"}}}}]},
    "TagResponse": {"type": "object", "required": ["model", "paragraphs", "document"], "properties": {
        "model": {"type": "object", "required": ["version"], "properties": {"version": _STR}},
        "paragraphs": {"type": "array", "items": {
            "type": "object", "required": ["index", "text", "start", "end", "themes", "scores"], "properties": {
                "index": {"type": "integer"}, "text": _STR,
                "start": {"type": "integer", "description": "character offset in the text sent"},
                "end": {"type": "integer"},
                "themes": {"type": "array", "items": _THEME_SCORE, "description": "themes over their thresholds"},
                "scores": {"type": "object", "additionalProperties": {"type": "number"},
                           "description": "every theme's probability, by theme id"}}}},
        "document": {"type": "object", "required": ["themes"], "properties": {"themes": {
            "type": "array", "description": "themes found in any paragraph, strongest first", "items": {
                "type": "object", "required": ["id", "label", "score", "paragraphs"],
                "properties": {"id": _THEME_ID, "label": _STR, "score": {"type": "number"},
                               "paragraphs": {"type": "array", "items": {"type": "integer"},
                                              "description": "indexes of the paragraphs with the theme"}}}}}}}},
    "SearchResponse": {"type": "object", "required": ["query", "mode", "results"], "properties": {
        "query": _STR, "mode": _STR,
        "sort": {"type": "string", "enum": ["relevance", "date", "-date"]},
        "offset": {"type": "integer", "description": "hits of the ranking skipped before this page"},
        "k": {"type": "integer", "description": "the page size asked for"},
        "has_more": {"type": "boolean", "description": "whether the ranking goes on after this page"},
        "total": {"type": ["integer", "null"],
                  "description": "hits in the whole ranking, when it ends within 1,000 (null when it goes further)"},
        "model": {"type": "object", "properties": {"version": _STR},
                  "description": "the model serving now (each result's themes were written by its model_version)"},
        "results": {"type": "array", "items": {
            "type": "object", "required": ["id", "score", "text", "organisation", "date", "title", "url", "themes",
                                           "highlight"],
            "properties": {"id": {"type": "integer"}, "score": {"type": "number", "description": "rank score"},
                           "text": _STR, "organisation": _NSTR, "date": _DATE, "title": _NSTR, "url": _NSTR,
                           "themes": {"type": "array", "items": _STORED_THEME},
                           "document_id": {"type": ["string", "null"]},
                           "paragraph_index": {"type": ["integer", "null"]},
                           "context": {"type": "object", "description": "with context=true: the paragraphs before "
                                       "and after the hit in its document (null at either end)", "properties": {
                                           "before": {"type": ["object", "null"], "properties": _NEIGHBOUR},
                                           "after": {"type": ["object", "null"], "properties": _NEIGHBOUR}}},
                           "copies": {"type": "array", "description": "near-identical statements grouped under "
                                      "this one (the earliest), earliest first", "items": {
                                          "type": "object", "required": ["id", "organisation", "date"],
                                          "properties": {"id": {"type": "integer"}, "organisation": _NSTR,
                                                         "date": _DATE}}},
                           "highlight": {"type": "object", "required": ["start", "end", "text"],
                                         "description": "the sentence that best matches the query", "properties": {
                                             "start": {"type": "integer"}, "end": {"type": "integer"},
                                             "text": _STR}}}}}}},
    "AddStatementsRequest": {"description": "Either statements stored as they are, or one document split into "
                                            "paragraph statements.", "oneOf": [
        {"type": "object", "required": ["statements"], "additionalProperties": False, "title": "statements",
         "properties": {"statements": {"type": "array", "minItems": 1, "maxItems": 500, "items": _STATEMENT_IN}}},
        {"type": "object", "required": ["document"], "additionalProperties": False, "title": "document",
         "properties": {"document": _STATEMENT_IN}}]},
    "AddStatementsResponse": {"type": "object", "required": ["ids", "added", "duplicates"], "properties": {
        "ids": {"type": "array", "items": {"type": "integer"}, "description": "one id per statement, in order"},
        "added": {"type": "integer"},
        "duplicates": {"type": "integer", "description": "statements already stored, not added again"}}},
    "Statement": {"type": "object", "required": ["id", "text", "themes"], "properties": _STATEMENT_PROPS},
    "AddDocumentRequest": {"type": "object", "required": ["text"], "additionalProperties": False,
                           "properties": dict(_STATEMENT_IN["properties"], source_type=_SOURCE_TYPE)},
    "AddDocumentUpload": {"type": "object", "description": "a file (or a text) with the same fields as form fields",
                          "properties": dict({k: v for k, v in _STATEMENT_IN["properties"].items() if k != "date"},
                                             date=_PARTIAL_DATE, source_type=_SOURCE_TYPE, file={
                                                 "type": "string", "contentMediaType": "application/octet-stream",
                                                 "description": ".pdf, .docx, .html, .htm, .txt or .md"})},
    "DocumentResponse": {"type": "object", "required": ["document"], "properties": {"document": {
        "type": "object", "required": ["id", "paragraphs"], "properties": dict(_DOCUMENT_PROPS, paragraphs={
            "type": "array", "items": {
                "type": "object", "required": ["index", "kind", "text", "start", "end", "themes", "statement_id"],
                "properties": {
                    "index": {"type": "integer", "description": "position in the document, from 0"},
                    "kind": {"type": "string", "enum": ["heading", "body", "list_item", "quote", "comment", "boilerplate"]},
                    "text": _STR,
                    "start": {"type": "integer", "description": "character offset into the document text"},
                    "end": {"type": "integer"},
                    "themes": {"type": "array", "items": _STORED_THEME,
                               "description": "themes over their thresholds (never on boilerplate)"},
                    "statement_id": {"type": ["integer", "null"],
                                     "description": "the searchable statement this paragraph became"}}}})}}},
    "DocumentsPage": {"type": "object", "required": ["documents", "total", "offset", "limit", "has_more"],
                      "properties": {"documents": {"type": "array", "items": {"type": "object",
                                                                              "properties": _DOCUMENT_PROPS}},
                                     "total": {"type": "integer"}, "offset": {"type": "integer"},
                                     "limit": {"type": "integer"}, "has_more": {"type": "boolean"}}},
    "LabelsRequest": {"type": "object", "required": ["examples"], "properties": {"examples": {
        "type": "array", "minItems": 1, "maxItems": 500, "items": {
            "type": "object", "required": ["text", "themes"], "properties": {
                "text": {"type": "string", "minLength": 1, "pattern": "\\S"},
                "themes": {"type": "array", "items": _THEME_ID,
                           "description": "every theme the text has; an empty list says it has none"},
                "statement_id": {"type": "integer",
                                 "description": "the stored statement this labels, for a correction"}}}},
        "name": {"type": "string", "maxLength": 200, "description": "who gave these labels"}}},
    "LabelsResponse": {"type": "object", "required": ["added"], "properties": {"added": {"type": "integer"}}},
    "Label": {"type": "object", "required": ["id", "text", "themes", "source", "statement_id", "name", "created"],
              "properties": {"id": {"type": "integer"}, "text": _STR, "themes": {"type": "array", "items": _THEME_ID},
                             "source": {"type": "string", "description": "api, correction, file or page"},
                             "statement_id": {"type": ["integer", "null"]},
                             "name": {"type": ["string", "null"], "description": "who gave the label"},
                             "created": _STR, "updated": {"type": ["string", "null"],
                                                          "description": "when it was last edited"}}},
    "LabelsPage": {"type": "object", "required": ["labels", "total", "offset", "limit", "has_more"], "properties": {
        "labels": {"type": "array", "items": {"$ref": "#/components/schemas/Label"}}, "total": {"type": "integer"},
        "offset": {"type": "integer"}, "limit": {"type": "integer"}, "has_more": {"type": "boolean"}}},
    "EditLabelRequest": {"type": "object", "required": ["themes"], "additionalProperties": False, "properties": {
        "themes": {"type": "array", "items": _THEME_ID, "description": "every theme the text has; [] for none"},
        "name": {"type": ["string", "null"], "maxLength": 200,
                 "description": "who gives the new themes; left out or null, the label has no name (the earlier "
                                "name was for the earlier themes)"}}},
    "TrainRequest": {"type": "object", "properties": {
        "force": {"type": "boolean", "description": "activate even if the gate rejects the model"},
        "select": {"type": "boolean", "description": "choose the model's parameters again by cross-validation "
                                                     "instead of reusing the active model's (slower)"}}},
    "JobResponse": {"type": "object", "required": ["job"], "properties": {"job": {
        "type": "object", "required": ["id", "status"], "properties": {
            "id": {"type": "integer"}, "kind": {"type": "string", "description": "train or retag"},
            "status": {"type": "string", "enum": ["queued", "running", "succeeded", "failed", "rejected"]},
            "progress": _STR, "model": {"type": "string", "description": "the version trained, once finished"},
            "report": {"type": "object", "description": "evaluation and gate report, once finished"},
            "created": _STR, "updated": _STR}}}},
    "Models": {"type": "object", "required": ["active", "models"], "properties": {
        "active": _NSTR, "models": {"type": "array", "items": {
            "type": "object", "required": ["version", "active"],
            "properties": {"version": _STR, "created": _STR,
                           "metrics": {"type": "object", "description": "cross-validated and held-out scores"},
                           "active": {"type": "boolean"}}}}}},
    "Activated": {"type": "object", "required": ["active"], "properties": {
        "active": _STR,
        "retag_job": {"type": ["integer", "null"], "description": "the job re-tagging stored statements"}}},
    "Review": {"type": "object", "required": ["statements"], "properties": {"statements": {"type": "array", "items": {
        "type": "object", "required": ["id", "text", "themes", "uncertain"], "properties": dict(
            _STATEMENT_PROPS,
            uncertain={"type": "array", "items": _THEME_ID, "description": "themes whose score is near its threshold"},
            margin={"type": "number", "description": "distance of the closest score from its threshold"})}}}},
    "Deleted": {"type": "object", "required": ["deleted"], "properties": {"deleted": {"type": "integer"}}},
    "Organisations": {"type": "object", "required": ["organisations"], "properties": {"organisations": {
        "type": "array", "items": {"type": "object", "required": ["name", "statements"], "properties": {
            "name": _STR, "statements": {"type": "integer"}, "first_date": _DATE, "last_date": _DATE}}}}},
    "StatementsPage": {"type": "object", "required": ["offset", "limit", "total", "has_more", "statements"],
                       "properties": {"offset": {"type": "integer"}, "limit": {"type": "integer"},
                                      "total": {"type": "integer", "description": "statements passing the filters"},
                                      "has_more": {"type": "boolean"},
                                      "statements": {"type": "array", "items": {"$ref": "#/components/schemas/Statement"}}}},
    "Trend": {"type": "object", "required": ["interval", "series", "total", "undated", "imprecise"], "properties": {
        "interval": {"type": "string", "enum": ["year", "quarter", "month"]}, "theme": _NSTR, "query": _NSTR,
        "relevance_floor": {"type": ["number", "null"], "description": "cosine similarity a statement needs to count "
                                                                       "for the query"},
        "series": {"type": "array", "items": {"type": "object", "required": ["period", "count"], "properties": {
            "period": {"type": "string", "description": "2021, 2021-Q2 or 2021-06"}, "count": {"type": "integer"}}}},
        "total": {"type": "integer", "description": "statements counted: the series, imprecise and undated together"},
        "undated": {"type": "integer", "description": "statements with no date"},
        "imprecise": {"type": "integer", "description": "statements dated less precisely than the interval (a year "
                                                        "in a monthly series)"}}},
    "OrganisationThemes": {"type": "object", "required": ["organisation", "interval", "periods", "themes"],
                           "properties": {
        "organisation": _STR, "interval": _STR, "statements": {"type": "integer"}, "first_date": _DATE,
        "last_date": _DATE, "periods": {"type": "array", "items": _STR},
        "themes": {"type": "array", "items": {"type": "object", "required": ["theme", "total", "counts"], "properties": {
            "theme": _THEME_ID, "total": {"type": "integer", "description": "all its statements with the theme"},
            "counts": {"type": "array", "items": {"type": "integer"}, "description": "one per period"}}}}}},
    "OpenAPIDocument": {"type": "object", "required": ["openapi", "info", "paths"],
                        "description": "This document, as JSON.",
                        "properties": {"openapi": _STR, "info": {"type": "object"}, "paths": {"type": "object"},
                                       "components": {"type": "object"}}},
}

# Sample data for the examples: fictional organisations, a model version in the registry's format.
_VERSION = "20250312-101500-3f9c2a7e"
_TEXT_A = "Care staff vacancies in Wexcombe rose again this year, and pay must improve if we are to keep carers."
_TEXT_B = "Delayed discharge from hospital beds rose this winter as home care packages ran short."
_STATEMENT = {"id": 42, "text": _TEXT_A, "organisation": "Wexcombe County Council", "date": "2024-03-12",
              "title": "Adult social care workforce plan", "url": "https://wexcombe.example/workforce-plan",
              "document_id": None, "paragraph_index": None, "start": None, "end": None,
              "themes": [{"id": "workforce", "score": 0.94}], "model_version": _VERSION,
              "created": "2025-03-14T09:30:00+00:00"}

_DOCUMENT = {"id": "3f2a9c0d1e4b5a67", "organisation": "Wexcombe County Council", "date": "2024-03-12",
             "title": "Wexcombe joins up hospital discharge", "url": None, "source_type": "press_release",
             "model_version": _VERSION, "created": "2025-03-14T09:30:00+00:00", "paragraphs": [
                 {"index": 0, "kind": "heading", "text": "Wexcombe joins up hospital discharge", "start": 0,
                  "end": 36, "themes": [], "statement_id": None},
                 {"index": 1, "kind": "body", "text": "The council and the hospital trust now run one discharge team.",
                  "start": 38, "end": 100, "themes": [{"id": "hospital_discharge", "score": 0.91}],
                  "statement_id": 42},
                 {"index": 2, "kind": "boilerplate", "text": "Media enquiries: press@wexcombe.example", "start": 102,
                  "end": 140, "themes": [], "statement_id": None}]}
_LABEL = {"id": 7, "text": _TEXT_B, "themes": ["hospital_discharge"], "source": "correction", "statement_id": 42,
          "name": "R. Analyst", "created": "2025-03-14T09:30:00+00:00", "updated": "2025-03-15T11:02:00+00:00"}

EXAMPLES = {
    "Health": {"status": "ok", "model": {"version": _VERSION}, "statements": 3475},
    "Themes": {"themes": [{
        "id": "workforce", "label": "Workforce",
        "definition": "The people who deliver health and care: recruitment, retention, vacancies, pay, training.",
        "include": ["care worker vacancies and turnover", "a workforce plan or strategy"],
        "exclude": ["leadership structures or who chairs a board (governance_accountability)"]}]},
    "TagRequest": {"text": f"{_TEXT_A}\n\n{_TEXT_B}"},
    "TagResponse": {
        "model": {"version": _VERSION},
        "paragraphs": [
            {"index": 0, "text": _TEXT_A, "start": 0, "end": len(_TEXT_A),
             "themes": [{"id": "workforce", "label": "Workforce", "score": 0.94}],
             "scores": {"workforce": 0.94, "funding": 0.21, "hospital_discharge": 0.03}},
            {"index": 1, "text": _TEXT_B, "start": len(_TEXT_A) + 2, "end": len(_TEXT_A) + 2 + len(_TEXT_B),
             "themes": [{"id": "hospital_discharge", "label": "Hospital discharge and flow", "score": 0.97}],
             "scores": {"workforce": 0.18, "funding": 0.05, "hospital_discharge": 0.97}}],
        "document": {"themes": [
            {"id": "hospital_discharge", "label": "Hospital discharge and flow", "score": 0.97, "paragraphs": [1]},
            {"id": "workforce", "label": "Workforce", "score": 0.94, "paragraphs": [0]}]}},
    "SearchResponse": {"query": "care staff vacancies", "mode": "hybrid", "sort": "relevance", "offset": 0, "k": 10,
                       "has_more": False, "total": 1, "model": {"version": _VERSION},
                       "results": [{
                           "id": 42, "score": 0.0325, "text": _TEXT_A, "organisation": "Wexcombe County Council",
                           "date": "2024-03-12", "title": "Adult social care workforce plan",
                           "url": "https://wexcombe.example/workforce-plan",
                           "themes": [{"id": "workforce", "score": 0.94}], "document_id": None, "paragraph_index": None,
                           "copies": [{"id": 57, "organisation": "Harrow Vale Council", "date": "2024-05-02"}],
                           "highlight": {"start": 0, "end": len(_TEXT_A), "text": _TEXT_A}}]},
    "AddStatementsRequest": {"statements": [{
        "text": _TEXT_A, "organisation": "Wexcombe County Council", "date": "2024-03-12",
        "title": "Adult social care workforce plan", "url": "https://wexcombe.example/workforce-plan"}]},
    "AddStatementsResponse": {"ids": [42], "added": 1, "duplicates": 0},
    "Statement": _STATEMENT,
    "AddDocumentRequest": {"text": "Wexcombe joins up hospital discharge\n\nThe council and the hospital trust now run one "
                                   "discharge team.\n\nMedia enquiries: press@wexcombe.example",
                           "organisation": "Wexcombe County Council", "date": "2024-03-12",
                           "title": "Wexcombe joins up hospital discharge", "source_type": "press_release"},
    "AddDocumentUpload": {"file": "(the bytes of wexcombe-discharge.pdf)", "organisation": "Wexcombe County Council",
                          "date": "2024-03", "source_type": "press_release"},
    "DocumentResponse": {"document": _DOCUMENT},
    "DocumentsPage": {"documents": [{k: v for k, v in _DOCUMENT.items() if k != "paragraphs"}], "total": 1,
                      "offset": 0, "limit": 20, "has_more": False},
    "LabelsRequest": {"examples": [{"text": _TEXT_B, "themes": ["hospital_discharge", "workforce"]}],
                      "name": "R. Analyst"},
    "LabelsResponse": {"added": 1},
    "Label": _LABEL,
    "LabelsPage": {"labels": [_LABEL], "total": 1, "offset": 0, "limit": 100, "has_more": False},
    "EditLabelRequest": {"themes": ["hospital_discharge"], "name": "R. Analyst"},
    "TrainRequest": {"force": False, "select": False},
    "JobResponse": {"job": {"id": 7, "kind": "train", "status": "queued", "progress": "",
                            "created": "2025-03-14T09:30:00+00:00", "updated": "2025-03-14T09:30:00+00:00"}},
    "Models": {"active": _VERSION, "models": [{
        "version": _VERSION, "created": "2025-03-12T10:15:00+00:00", "active": True,
        "metrics": {"cv": {"macro_f1": 0.71, "micro_f1": 0.76, "n_examples": 3475}}}]},
    "Activated": {"active": _VERSION, "retag_job": 8},
    "Review": {"statements": [dict(_STATEMENT, uncertain=["funding"], margin=0.04)]},
    "Deleted": {"deleted": 42},
    "Organisations": {"organisations": [{"name": "Wexcombe County Council", "statements": 12,
                                         "first_date": "2019-04-01", "last_date": "2024-03-12"}]},
    "StatementsPage": {"offset": 0, "limit": 100, "total": 1, "has_more": False, "statements": [_STATEMENT]},
    "Trend": {"interval": "year", "theme": "workforce", "query": None, "relevance_floor": None,
              "series": [{"period": "2022", "count": 3}, {"period": "2023", "count": 0}, {"period": "2024", "count": 5}],
              "total": 9, "undated": 1, "imprecise": 0},
    "OrganisationThemes": {"organisation": "Wexcombe County Council", "interval": "year", "statements": 12,
                           "first_date": "2019-04-01", "last_date": "2024-03-12", "periods": ["2019", "2020"],
                           "themes": [{"theme": "workforce", "total": 5, "counts": [2, 3]},
                                      {"theme": "funding", "total": 2, "counts": [0, 2]}]},
    "OpenAPIDocument": {"openapi": "3.1.0", "info": {"title": "joinedup API", "version": "1.0.0"},
                        "paths": {"/api/v1/health": {"get": {"summary": "Service health"}}}},
}

# The error an Error response of each status most often carries; other statuses get their HTTP name.
ERROR_EXAMPLES = {
    400: ("malformed_request", "the body is not valid UTF-8 JSON", None),
    401: ("unauthorized", "this endpoint needs 'Authorization: Bearer <token>'", None),
    404: ("not_found", "no statement 999", None),
    409: ("conflict", "a train job is already running (job 7)", {"job": {"id": 7}}),
    413: ("payload_too_large", "the text has 612 paragraphs; the limit is 500", {"limit": 500}),
    422: ("invalid_input", "unknown theme 'transport'", None),
    503: ("model_unavailable", "no active model; train one with 'joinedup train'", None),
}

TAGS = [
    {"name": "tagging", "description": "Tag text with the codebook's themes."},
    {"name": "search", "description": "Search stored statements and list who made them."},
    {"name": "statements", "description": "Store and remove statements."},
    {"name": "documents", "description": "Documents stored whole: every paragraph in order with its kind and themes."},
    {"name": "exports", "description": "The coded corpus and the codebook for qualitative-analysis tools (REFI-QDA)."},
    {"name": "labels", "description": "Labelled examples for retraining, and the review queue that asks for them."},
    {"name": "models", "description": "Model versions, retraining and background jobs."},
    {"name": "analysis", "description": "Counts over time: trends by theme and query, organisations' themes."},
    {"name": "service", "description": "Health, metrics and this document."},
]


def error_example(status: int) -> dict:
    """An error body of ``status`` in the API's one error shape."""
    code, message, details = ERROR_EXAMPLES.get(status) or (
        HTTP_STATUS_CODES.get(status, "error").lower().replace(" ", "_"), HTTP_STATUS_CODES.get(status, "error"),
        None)
    body = {"code": code, "message": message}
    if details is not None:
        body["details"] = details
    return {"error": body}


def build_spec(app: Flask) -> dict:
    """Walk the app's routes and collect the YAML after '---' in each view's docstring."""
    spec = APISpec(title="joinedup API", version="1.0.0", openapi_version="3.1.0",
                   info={"description": "Tag and search statements on health and social care integration."})
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    for name, schema in SCHEMAS.items():
        spec.components.schema(name, schema)
    for tag in TAGS:
        spec.tag(tag)
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        view = app.view_functions[rule.endpoint]
        operations = load_operations_from_docstring(view.__doc__ or "")
        if not operations:
            continue
        path = rule.rule.replace("<int:", "{").replace("<", "{").replace(">", "}")
        operations = {m: op for m, op in operations.items() if m.upper() in (rule.methods or ())}
        intro = " ".join((view.__doc__ or "").split("---", 1)[0].split())
        for method, operation in operations.items():
            name = rule.endpoint.rsplit(".", 1)[-1]
            if intro:
                operation.setdefault("description", intro)
            operation.setdefault("operationId", name if len(operations) == 1 else f"{method}_{name}")
            _add_examples(operation)
        _ref_schemas(operations)
        spec.path(path=path, operations=operations)
    return spec.to_dict()


def _add_examples(operation: dict) -> None:
    """Put an example on each request and response body that names a schema and has none of its own."""
    bodies = [(None, operation.get("requestBody") or {})]
    bodies += [(int(status), response) for status, response in (operation.get("responses") or {}).items()
               if str(status).isdigit()]
    for status, body in bodies:
        for media in (body.get("content") or {}).values():
            schema = media.get("schema")
            if "example" in media or "examples" in media or not isinstance(schema, str):
                continue
            if schema == "Error" and status is not None:
                media["example"] = error_example(status)
            elif schema in EXAMPLES:
                media["example"] = EXAMPLES[schema]


def _ref_schemas(node):
    """Turn bare schema names in the docstrings (``schema: Error``) into $refs."""
    if isinstance(node, dict):
        for key, value in list(node.items()):
            if key == "schema" and isinstance(value, str):
                node[key] = {"$ref": f"#/components/schemas/{value}"}
            else:
                _ref_schemas(value)
    elif isinstance(node, list):
        for item in node:
            _ref_schemas(item)
