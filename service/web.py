"""The web page for people who do not use the API, and the API docs page (Swagger UI)."""

from __future__ import annotations

from importlib.resources import files

from flask import Blueprint, abort, current_app, render_template, send_from_directory

bp = Blueprint("web", __name__)

# Swagger UI's files as the flask-swagger-ui package ships them; only those the docs page loads are served.
SWAGGER_UI_DIST = files("flask_swagger_ui") / "dist"
SWAGGER_UI_FILES = frozenset({"swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png"})


@bp.get("/")
def index():
    p = current_app.extensions["joinedup"]
    return render_template("index.html", themes=p.codebook.themes)


@bp.get("/api/v1/docs")
def docs():
    return render_template("docs.html", spec=current_app.extensions["joinedup_openapi"])


@bp.get("/api/v1/docs/assets/<filename>")
def docs_asset(filename: str):
    if filename not in SWAGGER_UI_FILES:
        abort(404)
    return send_from_directory(str(SWAGGER_UI_DIST), filename, max_age=3600)
