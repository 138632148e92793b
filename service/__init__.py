"""The HTTP service: a Flask app factory in the manner of Flask's tutorial (flaskr).

Configuration comes from defaults, then ``JOINEDUP_*`` environment variables, then the ``config`` dict a
caller (a test) passes. Keys of that dict that name a setting, in upper case (``DATA_DIR``, ``API_TOKEN``...),
override it; ``EMBEDDER`` injects an embedder object (the tests' fake).
"""

from __future__ import annotations

import dataclasses

from flask import Flask

from classifier.config import Settings, load_settings
from classifier.pipeline import Pipeline


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__)
    config = dict(config or {})
    fields = {f.name for f in dataclasses.fields(Settings)}
    overrides = {k.lower(): config.pop(k) for k in list(config) if k.lower() in fields}
    embedder = config.pop("EMBEDDER", None)
    settings = load_settings(**overrides)
    app.config.from_mapping(MAX_CONTENT_LENGTH=settings.max_request_bytes, JSON_SORT_KEYS=False,
                            EAGER_LOAD=False)
    app.config.update(config)
    app.json.sort_keys = False
    app.json.ensure_ascii = False

    pipe = Pipeline(settings, embedder=embedder)
    app.extensions["joinedup"] = pipe

    from . import api, errors, metrics, ratelimit, security, web

    errors.init_app(app)
    metrics.init_app(app)
    security.init_app(app)
    ratelimit.init_app(app, settings.rate_limit)
    app.register_blueprint(api.bp)
    app.register_blueprint(web.bp)

    from .limits import ChunkedBodyLimit
    from .openapi import build_spec

    app.wsgi_app = ChunkedBodyLimit(app.wsgi_app, app.config["MAX_CONTENT_LENGTH"])

    app.extensions["joinedup_openapi"] = build_spec(app)

    if app.config["EAGER_LOAD"]:
        # Heavy objects once per process, before the first request: model, codebook, indexes.
        pipe.scorer()
        pipe.search_index.sync()
    return app
