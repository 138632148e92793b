"""Security headers (service/security.py) on every kind of response: page, JSON, JSON error, static file."""

import pytest

from service.security import CONTENT_SECURITY_POLICY

EXPECTED = {"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer"}


def directives(policy: str) -> dict[str, list[str]]:
    parts = (d.split() for d in policy.split(";") if d.strip())
    return {p[0]: p[1:] for p in parts}


@pytest.mark.parametrize("method, path, status", [
    ("GET", "/", 200),
    ("GET", "/api/v1/docs", 200),
    ("GET", "/static/app.js", 200),
    ("GET", "/api/v1/health", 200),
    ("GET", "/api/v1/openapi.json", 200),
    ("GET", "/api/v1/statements/999", 404),
    ("GET", "/api/v1/no-such-endpoint", 404),
    ("DELETE", "/api/v1/themes", 405),
    ("POST", "/api/v1/tag", 400),
])
def test_every_response_carries_the_security_headers(client, method, path, status):
    response = client.open(path, method=method)
    assert response.status_code == status
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, name
    assert response.headers.get("Content-Security-Policy") == CONTENT_SECURITY_POLICY


def test_an_unexpected_error_still_carries_the_headers(app, monkeypatch):
    def broken():
        raise RuntimeError("boom")

    monkeypatch.setitem(app.view_functions, "api.themes", broken)
    response = app.test_client().get("/api/v1/themes")
    assert response.status_code == 500 and response.is_json
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "Content-Security-Policy" in response.headers


def test_the_policy_forbids_inline_script_framing_plugins_and_other_origins():
    d = directives(CONTENT_SECURITY_POLICY)
    assert d["default-src"] == ["'self'"]
    assert d["script-src"] == ["'self'"]  # no 'unsafe-inline', no 'unsafe-eval', no CDN
    assert d["style-src"] == ["'self'"]
    assert d["frame-ancestors"] == ["'none'"]
    assert d["object-src"] == ["'none'"]
    assert d["base-uri"] == ["'none'"]
    sources = [s for values in d.values() for s in values]
    assert all(s.startswith("'") or s == "data:" for s in sources), sources


def test_the_templates_and_scripts_carry_no_inline_script_handler_or_style():
    import re
    from pathlib import Path

    service = Path(__file__).resolve().parent.parent / "service"
    for page in (service / "templates").glob("*.html"):
        html = page.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), page.name  # every script is a file
        assert not re.search(r"\son[a-z]+\s*=", html, re.I), page.name  # no onclick= and the like
        assert not re.search(r"<style|\sstyle\s*=", html, re.I), page.name
    for script in (service / "static").glob("*.js"):
        js = script.read_text()
        # a style attribute set from script is inline style too; element.style.x = ... is allowed
        assert not re.search(r"""setAttribute\(\s*["']style|[{,]\s*style\s*:""", js), script.name
        assert "innerHTML" not in js and "eval(" not in js, script.name
