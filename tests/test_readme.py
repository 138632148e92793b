"""The README's HTTP API table names real endpoints, by the full path a user would type."""

import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"
ENDPOINT = re.compile(r"`(GET|POST|PUT|PATCH|DELETE) (/[^`?\s]*)(?:\?[^`]*)?`")


def table_endpoints() -> set[tuple[str, str]]:
    section = README.read_text().split("## HTTP API", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    assert rows, "no API table under '## HTTP API'"
    return {(m, p) for row in rows for m, p in ENDPOINT.findall(row.split(" | ")[0])}


def route_shape(path: str) -> str:
    return re.sub(r"<(?:\w+:)?\w+>|{\w+}", "<>", path)


def test_every_path_in_the_api_table_is_a_route_of_the_app(app):
    routes = {(m, route_shape(r.rule)) for r in app.url_map.iter_rules() for m in r.methods}
    for method, path in table_endpoints():
        assert (method, route_shape(path)) in routes, f"README lists {method} {path}, which the app does not serve"


def test_the_api_table_lists_every_documented_operation(app):
    listed = {(m, route_shape(p)) for m, p in table_endpoints()}
    for path, ops in app.extensions["joinedup_openapi"]["paths"].items():
        for method in ops:
            assert (method.upper(), route_shape(path)) in listed, f"{method.upper()} {path} is not in the README table"
