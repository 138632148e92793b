"""The web page for people who do not use the API, and the API docs page (Swagger UI)."""

from __future__ import annotations

from importlib.resources import files

from flask import Blueprint, abort, current_app, render_template, request, send_from_directory

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


def _heat(count: int, top: int) -> int:
    """A shade from 0 (none) to 4 for a table cell, relative to ``top``: classes h0..h4 in workbench.css."""
    if count <= 0 or top <= 0:
        return 0
    return min(4, 1 + int(4 * count / (top + 1)))


@bp.get("/trends")
def trends():
    """The trends view: a chart of statements per period and the organisations x themes table."""
    from classifier.analysis.trends import INTERVALS, RELEVANCE_FLOOR, organisation_crosstab, trend
    from classifier.errors import JoinedupError
    from classifier.storage.records import Filters
    from classifier.text.dates import parse_date
    from classifier.text.policy import check_text

    from .charts import bar_chart

    p = current_app.extensions["joinedup"]
    labels = {t.id: t.label for t in p.codebook.themes}
    args = {"theme": request.args.get("theme", ""), "interval": request.args.get("interval", "year"),
            "since": request.args.get("since", ""), "until": request.args.get("until", ""),
            "q": request.args.get("q", ""), "organisations": request.args.getlist("organisation")}
    result = crosstab = chart = error = None
    try:
        organisations = tuple(check_text(o, "organisation", 300) for o in args["organisations"])
        filters = Filters((), organisations, parse_date(args["since"] or None, "since"),
                          parse_date(args["until"] or None, "until"))
        query = check_text(args["q"], "q", 1000) if args["q"].strip() else None
        result = trend(p, args["theme"] or None, filters, args["interval"], query)
        crosstab = organisation_crosstab(p, filters)
    except JoinedupError as exc:  # shown on the page, as the API would return it
        error = exc.message
    if result and result.series:
        what = labels.get(result.theme, "all") if result.theme else "All"
        chart = bar_chart([(s.period, s.count) for s in result.series],
                          f"{what} statements per {result.interval}" + (f" matching {result.query}" if result.query else ""))
    return render_template("trends.html", themes=p.codebook.themes, labels=labels, intervals=INTERVALS, args=args,
                           result=result, crosstab=crosstab, chart=chart, error=error, floor=RELEVANCE_FLOOR,
                           heat=_heat), 422 if error else 200


@bp.get("/organisations/<name>")
def organisation(name: str):
    """An organisation's page: the themes it raised, per period."""
    from classifier.analysis.trends import INTERVALS, organisation_themes

    p = current_app.extensions["joinedup"]
    table = organisation_themes(p, name, request.args.get("interval", "year"))
    top = max((c for row in table.themes for c in row.counts), default=0)
    return render_template("organisation.html", table=table, intervals=INTERVALS, heat=_heat, top=top,
                           labels={t.id: t.label for t in p.codebook.themes})


# -- documents, labels and models -----------------------------------------------------------------------------
THEME_CLASSES = 13  # chip colours c0..c12 in workbench.css, in codebook order


def _theme_classes(p) -> dict:
    return {t.id: f"c{i % THEME_CLASSES}" for i, t in enumerate(p.codebook.themes)}


def _page_number(name: str, default: int, low: int, high: int) -> int:
    try:
        value = int(request.args.get(name, default))
    except ValueError:
        return default
    return min(max(value, low), high)


@bp.get("/documents")
def documents():
    """Stored documents, newest first, and a form to tag a text or add a document (pasted or uploaded)."""
    from classifier.storage.records import Filters

    p = current_app.extensions["joinedup"]
    offset = _page_number("offset", 0, 0, 10 ** 9)
    page, total = p.store.list_documents(Filters(), offset, 20)
    return render_template("documents.html", documents=page, total=total, offset=offset, limit=20)


@bp.get("/documents/<document_id>")
def document(document_id: str):
    """One stored document: every paragraph in order with its kind and themes; #p<index> marks one."""
    from classifier.errors import NotFound

    p = current_app.extensions["joinedup"]
    try:
        doc = p.store.get_document(document_id)
    except NotFound:
        return render_template("not_found.html", what=f"No document {document_id}."), 404
    return render_template("document.html", doc=doc, labels={t.id: t.label for t in p.codebook.themes},
                           classes=_theme_classes(p))


@bp.get("/labels")
def labels():
    """Labels, newest first (of one statement with ?statement_id=), with edit and delete."""
    p = current_app.extensions["joinedup"]
    statement_id = _page_number("statement_id", 0, 0, 2 ** 63 - 1) or None
    offset = _page_number("offset", 0, 0, 10 ** 9)
    rows, total = p.store.list_labels(statement_id, offset, 50)
    return render_template("labels.html", rows=rows, total=total, offset=offset, limit=50, statement_id=statement_id,
                           themes=p.codebook.themes, labels={t.id: t.label for t in p.codebook.themes},
                           classes=_theme_classes(p))


@bp.get("/models")
def models():
    """Model versions, newest first, with their headline figures; train, activate and roll back."""
    from classifier.model.report import GATE_RULE, rollback_target, summaries

    p = current_app.extensions["joinedup"]
    return render_template("models.html", versions=summaries(p.registry), rollback=rollback_target(p.registry),
                           gate_rule=GATE_RULE)


@bp.get("/models/<version>")
def model(version: str):
    """One version's evaluation: per theme, against the model it was gated against and the TF-IDF baseline."""
    from classifier.errors import NotFound
    from classifier.model.report import GATE_RULE, model_report

    p = current_app.extensions["joinedup"]
    try:
        report = model_report(p.registry, version, p.codebook)
    except NotFound:
        return render_template("not_found.html", what=f"No model version {version}."), 404
    return render_template("model.html", r=report, gate_rule=GATE_RULE)
