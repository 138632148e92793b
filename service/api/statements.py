"""Adding, reading and deleting stored statements; organisations."""

from __future__ import annotations

from flask import jsonify, request

from classifier.errors import InvalidInput, PayloadTooLarge
from classifier.exports import tabular
from classifier.exports.tabular import statements_page
from classifier.storage.records import NewStatement
from classifier.text.policy import check_text
from classifier.text.readers import document_from_record

from . import bp
from .common import _int_arg, _limits, json_body, pipeline, require_token
from .search import export_response, request_filters, request_format


def _new_statement(obj, where: str) -> NewStatement:
    if not isinstance(obj, dict):
        raise InvalidInput(f"{where} must be an object")
    _, max_chars = _limits()
    # The same checks as a document's and an ingested record's; a statement's text is one paragraph.
    doc = document_from_record(obj, where, max_chars)
    return NewStatement(" ".join(doc.text.split()), doc.organisation, doc.date, doc.title, doc.url)


@bp.post("/statements")
@require_token
def add_statements():
    """Add statements, or a document split into paragraph statements.
    ---
    post:
      summary: Add statements (token required when configured)
      tags: [statements]
      security: [{bearer: []}]
      requestBody:
        required: true
        content: {application/json: {schema: AddStatementsRequest}}
      responses:
        201: {description: Stored and tagged, content: {application/json: {schema: AddStatementsResponse}}}
        401: {description: Missing or wrong token, content: {application/json: {schema: Error}}}
        413: {description: Too large, content: {application/json: {schema: Error}}}
        422: {description: Invalid input, content: {application/json: {schema: Error}}}
        503: {description: No model this worker can serve, content: {application/json: {schema: Error}}}
    """
    body = json_body()
    p = pipeline()
    max_n, _ = _limits()
    if "statements" in body and "document" in body:
        raise InvalidInput("give either 'statements' or 'document', not both")
    if "statements" in body:
        items = body["statements"]
        if not isinstance(items, list) or not items:
            raise InvalidInput("'statements' must be a non-empty list")
        if len(items) > max_n:
            raise PayloadTooLarge(f"{len(items)} statements; the limit is {max_n} per request", {"limit": max_n})
        new = [_new_statement(obj, f"statements[{i}]") for i, obj in enumerate(items)]
    elif "document" in body:
        doc_obj = body["document"]
        if not isinstance(doc_obj, dict):
            raise InvalidInput("'document' must be an object")
        # The same path as POST /documents and ingest: stored as a document, paragraphs tagged in context.
        _, result = p.add_document(document_from_record(doc_obj, "document"), max_paragraphs=max_n)
        return jsonify({"ids": result.ids, "added": result.added, "duplicates": result.duplicates}), 201
    else:
        raise InvalidInput("give 'statements' (a list) or 'document' (an object)")
    result = p.add_statements(new)
    return jsonify({"ids": result.ids, "added": result.added, "duplicates": result.duplicates}), 201


@bp.get("/statements/<int:statement_id>")
def get_statement(statement_id: int):
    """One stored statement.
    ---
    get:
      summary: Get a statement
      tags: [statements]
      parameters: [{name: statement_id, in: path, required: true, schema: {type: integer}, description: the statement's id, example: 42}]
      responses:
        200: {description: The statement, content: {application/json: {schema: Statement}}}
        404: {description: Not found, content: {application/json: {schema: Error}}}
    """
    return jsonify(pipeline().store.get_one(statement_id).to_dict())


@bp.delete("/statements/<int:statement_id>")
@require_token
def delete_statement(statement_id: int):
    """Delete a stored statement.
    ---
    delete:
      summary: Delete a statement (token required when configured)
      tags: [statements]
      security: [{bearer: []}]
      parameters: [{name: statement_id, in: path, required: true, schema: {type: integer}, description: the statement's id, example: 42}]
      responses:
        200: {description: Deleted, content: {application/json: {schema: Deleted}}}
        401: {description: Missing or wrong token, content: {application/json: {schema: Error}}}
        404: {description: Not found, content: {application/json: {schema: Error}}}
    """
    pipeline().store.delete(statement_id)
    return jsonify({"deleted": statement_id})


@bp.get("/organisations")
def organisations():
    """Organisations with statement counts; with q, those whose name contains it (suggestions as you type).
    ---
    get:
      summary: List organisations, or suggest them
      tags: [search]
      parameters:
        - {name: q, in: query, schema: {type: string, maxLength: 300}, description: 'only names containing this, case and spacing ignored; names starting with it come first', example: wexcombe}
        - {name: limit, in: query, schema: {type: integer, minimum: 1, maximum: 100, default: 10}, description: 'how many suggestions (with q)', example: 10}
      responses:
        200: {description: OK, content: {application/json: {schema: Organisations}}}
        422: {description: Invalid input, content: {application/json: {schema: Error}}}
    """
    store = pipeline().store
    q = request.args.get("q")
    if q is None:
        return jsonify({"organisations": store.organisations()})
    text = check_text(q, "q", 300) if q.strip() else ""
    return jsonify({"organisations": store.organisation_suggestions(text, _int_arg("limit", 10, 1, 100))})


@bp.get("/statements")
def list_statements():
    """The stored statements, a page at a time in id order, as JSON, or as CSV or JSON lines with citation columns.
    ---
    get:
      summary: Export stored statements (paged)
      tags: [statements]
      parameters:
        - {name: format, in: query, schema: {type: string, enum: [json, csv, jsonl], default: json}, description: 'json: statements with their theme scores; csv or jsonl: citation columns as a download', example: json}
        - {name: offset, in: query, schema: {type: integer, minimum: 0, default: 0}, description: statements to skip, example: 0}
        - {name: limit, in: query, schema: {type: integer, minimum: 1, maximum: 10000, default: 100}, description: statements in this page, example: 100}
        - {name: theme, in: query, schema: {type: array, items: {type: string}}, style: form, explode: true, description: 'only statements with this theme id (repeat for any of several)', example: [workforce]}
        - {name: organisation, in: query, schema: {type: array, items: {type: string}}, style: form, explode: true, description: 'only statements by this organisation, case ignored (repeat for any of several)', example: [Wexcombe County Council]}
        - {name: since, in: query, schema: PartialDate, description: statements dated on or after this, example: '2015'}
        - {name: until, in: query, schema: PartialDate, description: statements dated on or before this, example: '2025-12-31'}
      responses:
        200:
          description: 'A page of statements (JSON), or the same page with citation columns (id, organisation, date, title, url, document_id, paragraph_index, themes, score, text; score empty) as CSV or JSON lines'
          content:
            application/json: {schema: StatementsPage}
            text/csv: {schema: {type: string}, example: "id,organisation,date,title,url,document_id,paragraph_index,themes,score,text\\r\\n42,Wexcombe County Council,2024-03-12,Adult social care workforce plan,https://wexcombe.example/workforce-plan,,,workforce,,Care staff vacancies in Wexcombe rose again this year.\\r\\n"}
            application/x-ndjson: {schema: {type: string}, example: '{"id": 42, "organisation": "Wexcombe County Council", "date": "2024-03-12", "title": null, "url": null, "document_id": null, "paragraph_index": null, "themes": ["workforce"], "score": null, "text": "Care staff vacancies rose."}'}
        422: {description: Invalid input, content: {application/json: {schema: Error}}}
    """
    p = pipeline()
    fmt = request_format()
    filters = request_filters(p)
    page = statements_page(p.store, filters, _int_arg("offset", 0, 0), _int_arg("limit", 100, 1, 10_000))
    if fmt != "json":
        return export_response(fmt, tabular.chunks(fmt, tabular.statement_rows(page.statements)),
                               f"joinedup-statements-{page.offset + 1}-{page.offset + len(page.statements)}")
    return jsonify(page.to_dict())
