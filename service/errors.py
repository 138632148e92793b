"""One JSON error shape for every error: ``{"error": {"code", "message", "details"?}}``."""

from __future__ import annotations

import json

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException, TooManyRequests

from classifier import errors as core

# The one place core errors become HTTP statuses. Looked up along the class's MRO, so a subclass added to
# classifier/errors.py gets its parent's status until it is given one here.
STATUS = {core.InvalidInput: 422, core.MalformedRequest: 400, core.PayloadTooLarge: 413, core.NotFound: 404,
          core.Conflict: 409, core.Unauthorized: 401, core.ModelError: 503, core.DataError: 422,
          core.ConfigError: 500, core.JoinedupError: 500}


def status_of(exc: core.JoinedupError) -> int:
    return next(STATUS[k] for k in type(exc).__mro__ if k in STATUS)


def error_response(status: int, code: str, message: str, details=None):
    body = {"code": code, "message": message}
    if details is not None:
        body["details"] = details
    response = jsonify({"error": body})
    response.status_code = status
    return response


def _code(name: str) -> str:
    return (name or "error").lower().replace(" ", "_").replace("'", "")


def _http_code(exc: HTTPException) -> str:
    return _code(exc.name)


def write_gunicorn_error(sock, status_int: int, reason: str, mesg: str) -> None:
    """Stands in for ``gunicorn.util.write_error`` (set in each worker by ``service.cli``), so that what
    gunicorn answers itself, before the app sees a request (a request line over ``limit_request_line``,
    headers too large, a malformed request), comes in the same JSON shape instead of an HTML page."""
    from gunicorn.util import write_nonblock

    body = json.dumps({"error": {"code": _code(reason), "message": mesg or reason}}).encode()
    head = (f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode("latin-1")
    write_nonblock(sock, head + body)


def init_app(app: Flask) -> None:
    @app.errorhandler(core.JoinedupError)
    def _joinedup(exc: core.JoinedupError):
        return error_response(status_of(exc), exc.code, exc.message, exc.details)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        response = error_response(exc.code or 500, _http_code(exc), exc.description or exc.name)
        if exc.code == 405 and exc.valid_methods:
            response.headers["Allow"] = ", ".join(exc.valid_methods)
        return response

    @app.errorhandler(TooManyRequests)
    def _rate_limited(exc: TooManyRequests):
        # Raised by the rate limit (service/ratelimit.py), whose after_request hook adds Retry-After.
        return error_response(429, "rate_limited", f"too many requests from this client (limit {exc.description});"
                              " retry after the Retry-After seconds, or send the API token",
                              {"limit": exc.description})

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        # Logged with its traceback; the client gets the same shape without internals.
        app.logger.exception("unhandled error")
        return error_response(500, "internal_error", "an internal error occurred; it has been logged")
