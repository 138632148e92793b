"""A per-client rate limit on what anyone can call without the API token (``JOINEDUP_RATE_LIMIT``).

The open endpoints (``POST /tag``, search, the page) cost CPU per request; without a limit one client can
starve everyone else. Requests carrying the valid token are not limited, nor are health checks, metrics
scrapes, job status polls and static files; everything else counts against one budget per client. Counts
are kept in memory in each gunicorn worker, so with W workers a client gets up to W times the limit; the
client is the peer address (behind a reverse proxy, every client shares the proxy's). A breach is a 429 in
the API's error shape with ``Retry-After`` (service/errors.py).
"""

from __future__ import annotations

from flask import Flask, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits import parse_many

from classifier.errors import ConfigError

# Probes and scrapers call these on a schedule, clients poll a job's status while it runs, and static files
# are cached by the browser; each is a small read.
EXEMPT_ENDPOINTS = frozenset({"api.health", "api.metrics", "api.get_job", "static"})
DISABLED = ("", "0", "off", "none")


def init_app(app: Flask, rate_limit: str) -> Limiter | None:
    """Limit every non-exempt request without a valid token to ``rate_limit`` (e.g. "120/minute", or
    several separated by ";"); "0", "off" or an empty string turns the limit off."""
    rate_limit = (rate_limit or "").strip()
    if rate_limit.lower() in DISABLED:
        return None
    try:
        parse_many(rate_limit)
    except ValueError as exc:
        raise ConfigError(f"JOINEDUP_RATE_LIMIT must look like '120/minute' or '0' (off), got {rate_limit!r}") from exc

    from .api.common import has_valid_token

    # One budget per client across every endpoint (application limits), not one per endpoint.
    limiter = Limiter(get_remote_address, app=app, application_limits=[rate_limit], storage_uri="memory://",
                      headers_enabled=True, strategy="fixed-window")

    @limiter.request_filter
    def _not_limited() -> bool:
        return request.endpoint in EXEMPT_ENDPOINTS or has_valid_token()

    return limiter
