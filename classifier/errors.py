"""The one exception hierarchy. Translated to HTTP in ``service/errors.py`` and to CLI messages in ``service/commands.py``."""

from __future__ import annotations


class JoinedupError(Exception):
    """Base class. ``code`` is a stable machine-readable string; the HTTP status each class maps to lives in
    ``service/errors.py``, because the core knows nothing of HTTP."""

    code = "error"

    def __init__(self, message: str, details: dict | list | None = None):
        super().__init__(message)
        self.message = message
        self.details = details


class InvalidInput(JoinedupError):
    """Well-formed input that breaks a rule (empty text, bad date, unknown theme...)."""

    code = "invalid_input"


class MalformedRequest(JoinedupError):
    """Input that cannot be parsed at all (bad JSON, wrong content type)."""

    code = "malformed_request"


class PayloadTooLarge(JoinedupError):
    """Input over a size limit."""

    code = "payload_too_large"


class NotFound(JoinedupError):
    """A statement, model version or job that does not exist."""

    code = "not_found"


class Conflict(JoinedupError):
    """The request clashes with current state (e.g. a training job already running)."""

    code = "conflict"


class Unauthorized(JoinedupError):
    code = "unauthorized"


class ModelError(JoinedupError):
    """No usable model: none trained, or a model folder failed its integrity or compatibility checks."""

    code = "model_unavailable"


class DataError(JoinedupError):
    """Training or corpus data that cannot be used (bad JSONL, unknown theme ids, unreadable file)."""

    code = "bad_data"


class ConfigError(JoinedupError):
    """A setting that cannot work (missing embedding model, bad JOINEDUP_* value)."""

    code = "config_error"
