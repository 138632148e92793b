"""What every view shares: the pipeline, the JSON body, the token check and request limits."""

from __future__ import annotations

import hmac
from functools import wraps

from flask import current_app, request

from classifier.errors import InvalidInput, MalformedRequest, PayloadTooLarge, Unauthorized
from classifier.storage.records import MAX_ID, check_int
from classifier.text.policy import check_text

# A search query is a question, not a document; a longer q is a 422 in the JSON shape. gunicorn's request
# line limit (service/cli.py) is set well above what this takes in a URL, so the app is the one to say so.
MAX_QUERY_CHARS = 1000


def pipeline():
    return current_app.extensions["joinedup"]


def json_body() -> dict:
    """The request's JSON object, or a 400 saying what is wrong with it."""
    if not request.is_json:
        raise MalformedRequest("the body must be JSON with Content-Type: application/json")
    charset = request.mimetype_params.get("charset", "utf-8").lower()
    if charset not in ("utf-8", "utf8"):
        raise MalformedRequest(f"the body must be UTF-8, not {charset}")
    raw = request.get_data(cache=True)
    if len(raw) > current_app.config["MAX_CONTENT_LENGTH"]:
        raise PayloadTooLarge("the body is over the size limit")
    # Decoded here, strictly: json.loads on bytes would also accept UTF-16 and UTF-32.
    try:
        data = current_app.json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise MalformedRequest("the body is not valid UTF-8") from exc
    except ValueError as exc:
        raise MalformedRequest(f"the body is not valid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise InvalidInput("the body must be a JSON object")
    return data


def has_valid_token() -> bool:
    """Whether the request carries exactly ``Authorization: Bearer <token>`` with the configured token.

    The scheme is case-insensitive (RFC 7235); nothing else is forgiven, and the token is compared in
    constant time. False when no token is configured.
    """
    token = pipeline().settings.api_token
    if not token:
        return False
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(value.encode("utf-8"), token.encode("utf-8"))


def require_token(view):
    """Writes need ``Authorization: Bearer <token>`` when JOINEDUP_API_TOKEN is set."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if pipeline().settings.api_token and not has_valid_token():
            raise Unauthorized("this endpoint needs 'Authorization: Bearer <token>'")
        return view(*args, **kwargs)

    wrapped.requires_token = True
    return wrapped


def _limits():
    s = pipeline().settings
    return s.max_paragraphs, s.max_paragraph_chars


def _paragraph_list(items, field: str) -> list[str]:
    max_n, max_chars = _limits()
    if not isinstance(items, list) or not items:
        raise InvalidInput(f"'{field}' must be a non-empty list")
    if len(items) > max_n:
        raise PayloadTooLarge(f"{len(items)} items in '{field}'; the limit is {max_n} per request",
                              {"limit": max_n})
    return [check_text(t, f"{field}[{i}]", max_chars) for i, t in enumerate(items)]


def _int_arg(name: str, default: int, low: int = 1, high: int = MAX_ID) -> int:
    """A query-string integer in ``low..high`` (never past SQLite's 64-bit range), or a 422 naming it."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:  # also a string of more digits than int() will convert
        raise InvalidInput(f"'{name}' must be an integer", {"field": name}) from exc
    return check_int(value, name, low, high)
