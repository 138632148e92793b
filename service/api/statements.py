"""Adding, reading and deleting stored statements; organisations."""

from __future__ import annotations

from flask import jsonify

from classifier.errors import InvalidInput, PayloadTooLarge
from classifier.storage.records import NewStatement
from classifier.text.readers import document_from_record

from . import bp
from .common import _limits, json_body, pipeline, require_token


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
        new = p.statements_from_document(document_from_record(doc_obj, "document"), max_paragraphs=max_n)
        if not new:
            raise InvalidInput("the document has no paragraphs to store")
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
    """Organisations with statement counts.
    ---
    get:
      summary: List organisations
      tags: [search]
      responses:
        200: {description: OK, content: {application/json: {schema: Organisations}}}
    """
    return jsonify({"organisations": pipeline().store.organisations()})
