"""The OpenAPI document, generated from the views' docstrings (apispec's Flask plugin) and the schemas below."""

from __future__ import annotations

from apispec import APISpec
from apispec.yaml_utils import load_operations_from_docstring
from flask import Flask

_STR = {"type": "string"}
_NSTR = {"type": ["string", "null"]}
_THEME_SCORE = {"type": "object", "required": ["id", "label", "score"],
                "properties": {"id": _STR, "label": _STR, "score": {"type": "number"}}}
_STORED_THEME = {"type": "object", "required": ["id", "score"], "properties": {"id": _STR, "score": {"type": "number"}}}
_STATEMENT_IN = {"type": "object", "required": ["text"], "properties": {
    "text": {"type": "string", "minLength": 1, "pattern": "\\S"}, "organisation": _STR,
    "date": {"type": "string", "format": "date"}, "title": _STR, "url": _STR}}

SCHEMAS = {
    "Error": {"type": "object", "required": ["error"], "properties": {"error": {
        "type": "object", "required": ["code", "message"],
        "properties": {"code": _STR, "message": _STR, "details": {}}}}},
    "Health": {"type": "object", "required": ["status", "model", "statements"], "properties": {
        "status": _STR, "model": {"type": "object", "properties": {"version": _NSTR}},
        "statements": {"type": "integer"}}},
    "Themes": {"type": "object", "required": ["themes"], "properties": {"themes": {"type": "array", "items": {
        "type": "object", "required": ["id", "label", "definition"],
        "properties": {"id": _STR, "label": _STR, "definition": _STR,
                       "include": {"type": "array", "items": _STR}, "exclude": {"type": "array", "items": _STR}}}}}},
    "TagRequest": {"oneOf": [
        {"type": "object", "required": ["text"], "additionalProperties": False,
         "properties": {"text": {"type": "string", "minLength": 1, "pattern": "\\S"}}},
        {"type": "object", "required": ["paragraphs"], "additionalProperties": False,
         "properties": {"paragraphs": {"type": "array", "minItems": 1, "maxItems": 500,
                                       "items": {"type": "string", "minLength": 1, "maxLength": 20000,
                                                 "pattern": "\\S"}}}}]},
    "TagResponse": {"type": "object", "required": ["model", "paragraphs", "document"], "properties": {
        "model": {"type": "object", "required": ["version"], "properties": {"version": _STR}},
        "paragraphs": {"type": "array", "items": {"type": "object",
                                                  "required": ["index", "text", "start", "end", "themes", "scores"],
                                                  "properties": {
                                                      "index": {"type": "integer"}, "text": _STR,
                                                      "start": {"type": "integer"}, "end": {"type": "integer"},
                                                      "themes": {"type": "array", "items": _THEME_SCORE},
                                                      "scores": {"type": "object",
                                                                 "additionalProperties": {"type": "number"}}}}},
        "document": {"type": "object", "required": ["themes"], "properties": {"themes": {"type": "array", "items": {
            "type": "object", "required": ["id", "label", "score", "paragraphs"],
            "properties": {"id": _STR, "label": _STR, "score": {"type": "number"},
                           "paragraphs": {"type": "array", "items": {"type": "integer"}}}}}}}}},
    "SearchResponse": {"type": "object", "required": ["query", "mode", "results"], "properties": {
        "query": _STR, "mode": _STR, "model": {"type": "object", "properties": {"version": _STR}}, "results": {"type": "array", "items": {
            "type": "object", "required": ["id", "score", "text", "organisation", "date", "title", "url", "themes",
                                           "highlight"],
            "properties": {"id": {"type": "integer"}, "score": {"type": "number"}, "text": _STR,
                           "organisation": _NSTR, "date": _NSTR, "title": _NSTR, "url": _NSTR,
                           "themes": {"type": "array", "items": _STORED_THEME},
                           "highlight": {"type": "object", "required": ["start", "end", "text"], "properties": {
                               "start": {"type": "integer"}, "end": {"type": "integer"}, "text": _STR}}}}}}},
    "AddStatementsRequest": {"oneOf": [
        {"type": "object", "required": ["statements"], "additionalProperties": False,
         "properties": {"statements": {"type": "array", "minItems": 1, "maxItems": 500, "items": _STATEMENT_IN}}},
        {"type": "object", "required": ["document"], "additionalProperties": False,
         "properties": {"document": _STATEMENT_IN}}]},
    "AddStatementsResponse": {"type": "object", "required": ["ids", "added", "duplicates"], "properties": {
        "ids": {"type": "array", "items": {"type": "integer"}}, "added": {"type": "integer"},
        "duplicates": {"type": "integer"}}},
    "Statement": {"type": "object", "required": ["id", "text", "themes"], "properties": {
        "id": {"type": "integer"}, "text": _STR, "organisation": _NSTR, "date": _NSTR, "title": _NSTR, "url": _NSTR,
        "document_id": _NSTR, "paragraph_index": {"type": ["integer", "null"]},
        "start": {"type": ["integer", "null"]}, "end": {"type": ["integer", "null"]},
        "themes": {"type": "array", "items": _STORED_THEME}, "model_version": _NSTR, "created": _NSTR}},
    "LabelsRequest": {"type": "object", "required": ["examples"], "properties": {"examples": {
        "type": "array", "minItems": 1, "maxItems": 500, "items": {
            "type": "object", "required": ["text", "themes"], "properties": {
                "text": {"type": "string", "minLength": 1, "pattern": "\\S"},
                "themes": {"type": "array", "items": _STR}, "statement_id": {"type": "integer"}}}}}},
    "LabelsResponse": {"type": "object", "required": ["added"], "properties": {"added": {"type": "integer"}}},
    "TrainRequest": {"type": "object", "properties": {
        "force": {"type": "boolean", "description": "activate even if the gate rejects the model"},
        "select": {"type": "boolean", "description": "choose the model's parameters again by cross-validation "
                                                     "instead of reusing the active model's (slower)"}}},
    "JobResponse": {"type": "object", "required": ["job"], "properties": {"job": {
        "type": "object", "required": ["id", "status"], "properties": {
            "id": {"type": "integer"}, "kind": _STR,
            "status": {"type": "string", "enum": ["queued", "running", "succeeded", "failed", "rejected"]},
            "progress": _STR, "model": _STR, "report": {"type": "object"}, "created": _STR, "updated": _STR}}}},
    "Models": {"type": "object", "required": ["active", "models"], "properties": {
        "active": _NSTR, "models": {"type": "array", "items": {"type": "object", "required": ["version", "active"],
                                                                "properties": {"version": _STR, "created": _STR,
                                                                               "metrics": {"type": "object"},
                                                                               "active": {"type": "boolean"}}}}}},
    "Activated": {"type": "object", "required": ["active"], "properties": {
        "active": _STR, "retag_job": {"type": ["integer", "null"]}}},
    "Review": {"type": "object", "required": ["statements"], "properties": {"statements": {"type": "array", "items": {
        "type": "object", "required": ["id", "text", "themes", "uncertain"], "properties": {
            "id": {"type": "integer"}, "text": _STR, "themes": {"type": "array", "items": _STORED_THEME},
            "uncertain": {"type": "array", "items": _STR}, "margin": {"type": "number"}}}}}},
    "Deleted": {"type": "object", "required": ["deleted"], "properties": {"deleted": {"type": "integer"}}},
    "Organisations": {"type": "object", "required": ["organisations"], "properties": {"organisations": {
        "type": "array", "items": {"type": "object", "required": ["name", "statements"], "properties": {
            "name": _STR, "statements": {"type": "integer"}, "first_date": _NSTR, "last_date": _NSTR}}}}},
}


def build_spec(app: Flask) -> dict:
    """Walk the app's routes and collect the YAML after '---' in each view's docstring."""
    spec = APISpec(title="joinedup API", version="1.0.0", openapi_version="3.1.0",
                   info={"description": "Tag and search statements on health and social care integration."})
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    for name, schema in SCHEMAS.items():
        spec.components.schema(name, schema)
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        view = app.view_functions[rule.endpoint]
        operations = load_operations_from_docstring(view.__doc__ or "")
        if not operations:
            continue
        path = rule.rule.replace("<int:", "{").replace("<", "{").replace(">", "}")
        operations = {m: op for m, op in operations.items() if m.upper() in (rule.methods or ())}
        _ref_schemas(operations)
        spec.path(path=path, operations=operations)
    return spec.to_dict()


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
