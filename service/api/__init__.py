"""The JSON API under /api/v1, one module per area. Views parse, call one function of the pipeline, and return JSON."""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

# The view modules register their routes on ``bp`` when imported.
from . import documents, exports, labels, meta, models, search, statements, tagging, trends  # noqa: E402,F401
