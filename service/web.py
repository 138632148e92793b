"""The web page for people who do not use the API, and the API docs page."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

bp = Blueprint("web", __name__)


@bp.get("/")
def index():
    p = current_app.extensions["joinedup"]
    return render_template("index.html", themes=p.codebook.themes)


@bp.get("/api/v1/docs")
def docs():
    return render_template("docs.html", spec=current_app.extensions["joinedup_openapi"])
