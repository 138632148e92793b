"""The OpenAPI document as documentation: every operation has its parameters, schemas and an example, the
examples are valid and work against the API, and /api/v1/docs serves Swagger UI from this server."""

import inspect
import re
from urllib.parse import urlencode

import jsonschema_rs
import pytest

from service.openapi import EXAMPLES, SCHEMAS

TEMPLATE_VAR = re.compile(r"{(\w+)}")
# How the views read their input: query-string arguments, and the JSON body.
QUERY_ARG = re.compile(r"""(?:request\.args\.get(?:list)?|_int_arg)\(\s*["'](\w+)["']""")


@pytest.fixture
def spec(app):
    return app.extensions["joinedup_openapi"]


def operations(spec):
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            yield f"{method.upper()} {path}", path, method, op


def bodies(op):
    """(where, media type object) for the request body and each response's body."""
    for media in (op.get("requestBody") or {}).get("content", {}).values():
        yield "request", media
    for status, response in op["responses"].items():
        for media in response.get("content", {}).values():
            yield status, media


def check(spec, schema, instance, where):
    validator = jsonschema_rs.validator_for(dict(schema, components=spec["components"]))
    errors = [e.message for e in validator.iter_errors(instance)]
    assert not errors, f"{where}: {errors[:3]}"


def test_every_endpoint_is_documented(app, spec):
    documented = {(m.upper(), TEMPLATE_VAR.sub(r"<\1>", p)) for _, p, m, _ in operations(spec)}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.rule.startswith("/api/v1/docs"):
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"<\1>", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (method, path) in documented, f"{method} {path} is not in the OpenAPI document"


def test_every_operation_has_parameters_schemas_and_an_example(spec):
    for name, path, method, op in operations(spec):
        assert op.get("summary") and op.get("description") and op.get("tags") and op.get("operationId"), name
        params = {p["name"]: p for p in op.get("parameters", [])}
        assert {p for p, q in params.items() if q["in"] == "path"} == set(TEMPLATE_VAR.findall(path)), name
        for p in params.values():
            assert p.get("schema") and p.get("description") and "example" in p, f"{name}: parameter {p['name']}"
        found = [media for _, media in bodies(op)]
        assert found, f"{name} documents no body"
        for where, media in bodies(op):
            assert media.get("schema"), f"{name} {where}: no schema"
            assert "example" in media, f"{name} {where}: no example"
        assert any(s.startswith("2") and op["responses"][s].get("content") for s in op["responses"]), name


def test_the_views_read_only_documented_input(app, spec):
    for name, path, method, op in operations(spec):
        endpoint = next(r.endpoint for r in app.url_map.iter_rules()
                        if TEMPLATE_VAR.sub(r"<\1>", path) == re.sub(r"<(?:\w+:)?(\w+)>", r"<\1>", r.rule)
                        and method.upper() in r.methods)
        source = inspect.getsource(inspect.unwrap(app.view_functions[endpoint]))
        documented = {p["name"] for p in op.get("parameters", []) if p["in"] == "query"}
        assert set(QUERY_ARG.findall(source)) <= documented, name
        if "json_body()" in source:
            assert op.get("requestBody"), f"{name} reads a JSON body it does not document"


def test_every_example_is_valid_against_its_schema(spec):
    for name, _, _, op in operations(spec):
        for p in op.get("parameters", []):
            check(spec, p["schema"], p["example"], f"{name} parameter {p['name']}")
        for where, media in bodies(op):
            check(spec, media["schema"], media["example"], f"{name} {where}")
    for schema, example in EXAMPLES.items():
        check(spec, SCHEMAS[schema], example, f"EXAMPLES[{schema!r}]")


def test_the_examples_work_against_the_api(client, spec):
    """Each operation called with its own examples answers a status it documents, and 2xx where nothing is
    looked up by id; the request examples are stored, so the examples describe one consistent session."""
    order = sorted(operations(spec), key=lambda o: (o[2] == "delete", o[2] != "post"))  # writes first
    for name, path, method, op in order:
        if path == "/api/v1/models/train":
            continue  # starts a background training process; tests/test_retraining.py covers it
        params = op.get("parameters", [])
        url = TEMPLATE_VAR.sub(lambda m: str(next(p["example"] for p in params if p["name"] == m[1])), path)
        query = [(p["name"], v) for p in params if p["in"] == "query"
                 for v in (p["example"] if isinstance(p["example"], list) else [p["example"]])]
        if query:
            url += "?" + urlencode(query)
        body = (op.get("requestBody") or {}).get("content", {}).get("application/json", {}).get("example")
        response = client.open(url, method=method.upper(), json=body)
        assert str(response.status_code) in op["responses"], f"{name}: {response.status_code} {response.data[:300]}"
        if not TEMPLATE_VAR.search(path):
            assert response.status_code < 300, f"{name}: {response.status_code} {response.data[:300]}"


def test_search_example_finds_the_statement_example(client, spec):
    stored = client.post("/api/v1/statements", json=EXAMPLES["AddStatementsRequest"])
    assert stored.status_code == 201
    params = spec["paths"]["/api/v1/search"]["get"]["parameters"]
    query = [(p["name"], v) for p in params for v in (p["example"] if isinstance(p["example"], list)
                                                        else [p["example"]])]
    body = client.get("/api/v1/search?" + urlencode(query)).get_json()
    assert [r["id"] for r in body["results"]] == stored.get_json()["ids"]


def test_docs_page_loads_swagger_ui_from_this_server(client):
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    sources = re.findall(r"""(?:src|href)="([^"]+)\"""", html)
    assert "/api/v1/docs/assets/swagger-ui-bundle.js" in sources
    assert "/api/v1/docs/assets/swagger-ui.css" in sources
    assert "/static/docs.js" in sources
    assert all(s.startswith("/") for s in sources), sources  # nothing from a CDN
    assert 'data-spec-url="/api/v1/openapi.json"' in html

    bundle = client.get("/api/v1/docs/assets/swagger-ui-bundle.js")
    assert bundle.status_code == 200 and "javascript" in bundle.content_type
    assert b"SwaggerUIBundle" in bundle.data
    assert client.get("/api/v1/docs/assets/swagger-ui.css").content_type.startswith("text/css")
    assert client.get("/static/docs.js").status_code == 200
    # only the files the page needs are served, and no path escapes the package's folder
    assert client.get("/api/v1/docs/assets/oauth2-redirect.html").status_code == 404
    assert client.get("/api/v1/docs/assets/..%2F__init__.py").status_code == 404
