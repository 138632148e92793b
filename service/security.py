"""Security headers on every response the app makes, HTML and JSON alike.

The page and the API docs viewer load only their own files: scripts and styles come from this origin, never
inline and never from a CDN, so an injected ``<script>`` or ``onclick=`` does not run. The docs viewer's
stylesheet draws its icons as ``data:`` images, hence ``img-src 'self' data:``.
"""

from __future__ import annotations

from flask import Flask, Response

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


def init_app(app: Flask) -> None:
    """Register the after_request hook that sets :data:`HEADERS` on each response (a view's own value wins)."""

    @app.after_request
    def _security_headers(response: Response) -> Response:
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        return response
