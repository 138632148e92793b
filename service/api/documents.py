"""Documents: stored whole, with every paragraph in order (kind, offsets, themes, the statement it became)."""

from __future__ import annotations

from flask import jsonify, request

from classifier.errors import InvalidInput
from classifier.storage.records import Filters
from classifier.text.dates import parse_date
from classifier.text.policy import check_text
from classifier.text.readers import FIELDS, document_from_record, document_from_upload

from . import bp
from .common import _int_arg, _limits, json_body, pipeline, require_token

PAGE_MAX = 100


def _request_document():
    """The document a POST carries: JSON ``{"text", ...fields}`` or a multipart upload (``file`` + fields)."""
    if request.mimetype == "multipart/form-data":
        upload = request.files.get("file")
        unknown = sorted(str(k) for k in {*request.form, *request.files} if k not in (*FIELDS, "text", "file"))
        if unknown:
            raise InvalidInput(f"unknown form field {unknown[0]!r}; use file, text, {', '.join(FIELDS)}")
        fields = {f: request.form[f] for f in FIELDS if request.form.get(f, "").strip()}
        if upload is not None and upload.filename:
            if request.form.get("text", "").strip():
                raise InvalidInput("give either a file or 'text', not both")
            return document_from_upload(upload.read(), upload.filename, fields)
        return document_from_record(dict(fields, text=request.form.get("text")), "document")
    body = json_body()
    unknown = sorted(str(k) for k in body if k not in (*FIELDS, "text"))
    if unknown:
        raise InvalidInput(f"unknown field {unknown[0]!r}; a document has text, {', '.join(FIELDS)}")
    return document_from_record(body, "document")


@bp.post("/documents")
@require_token
def add_document():
    """Store a document: split into paragraphs with kinds, tagged in context, each tagged paragraph searchable.
    ---
    post:
      summary: Add a document (token required when configured)
      tags: [documents]
      security: [{bearer: []}]
      requestBody:
        required: true
        content:
          application/json: {schema: AddDocumentRequest}
          multipart/form-data: {schema: AddDocumentUpload}
      responses:
        201: {description: 'Stored (or found stored already: the same organisation, title, url and text), as GET returns it', content: {application/json: {schema: DocumentResponse}}}
        400: {description: Malformed request, content: {application/json: {schema: Error}}}
        401: {description: Missing or wrong token, content: {application/json: {schema: Error}}}
        413: {description: Too large, content: {application/json: {schema: Error}}}
        422: {description: Invalid input, content: {application/json: {schema: Error}}}
        503: {description: No model this worker can serve, content: {application/json: {schema: Error}}}
    """
    p = pipeline()
    max_n, _ = _limits()
    stored, _ = p.add_document(_request_document(), max_paragraphs=max_n)
    response = jsonify({"document": stored.to_dict()})
    response.headers["Location"] = f"/api/v1/documents/{stored.id}"
    return response, 201


@bp.get("/documents/<document_id>")
def get_document(document_id: str):
    """One stored document with its paragraphs in order.
    ---
    get:
      summary: Get a document
      tags: [documents]
      parameters:
        - {name: document_id, in: path, required: true, schema: {type: string, maxLength: 64}, description: "the document's id", example: 3f2a9c0d1e4b5a67}
      responses:
        200: {description: The document, content: {application/json: {schema: DocumentResponse}}}
        404: {description: Not found, content: {application/json: {schema: Error}}}
    """
    return jsonify({"document": pipeline().store.get_document(document_id).to_dict()})


@bp.get("/documents")
def list_documents():
    """Stored documents, newest first, a page at a time, without their paragraphs.
    ---
    get:
      summary: List documents (paged)
      tags: [documents]
      parameters:
        - {name: organisation, in: query, schema: {type: array, items: {type: string}}, style: form, explode: true, description: 'only documents by this organisation, case ignored (repeat for any of several)', example: [Wexcombe County Council]}
        - {name: since, in: query, schema: PartialDate, description: documents dated on or after this, example: '2015'}
        - {name: until, in: query, schema: PartialDate, description: documents dated on or before this, example: '2025-12-31'}
        - {name: offset, in: query, schema: {type: integer, minimum: 0, default: 0}, description: documents to skip, example: 0}
        - {name: limit, in: query, schema: {type: integer, minimum: 1, maximum: 100, default: 20}, description: documents in this page, example: 20}
      responses:
        200: {description: A page of documents, content: {application/json: {schema: DocumentsPage}}}
        422: {description: Invalid input, content: {application/json: {schema: Error}}}
    """
    p = pipeline()
    filters = Filters((), tuple(check_text(o, "organisation", 300) for o in request.args.getlist("organisation")),
                      parse_date(request.args.get("since"), "since"), parse_date(request.args.get("until"), "until"))
    offset, limit = _int_arg("offset", 0, 0), _int_arg("limit", 20, 1, PAGE_MAX)
    docs, total = p.store.list_documents(filters, offset, limit)
    return jsonify({"documents": [_summary(d) for d in docs],
                    "total": total, "offset": offset, "limit": limit, "has_more": offset + len(docs) < total})


def _summary(doc) -> dict:
    return {k: v for k, v in doc.to_dict().items() if k != "paragraphs"}
