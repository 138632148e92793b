"""REFI-QDA downloads: the coded corpus as a QDPX project, the codebook as QDC."""

from __future__ import annotations

from flask import Response

from classifier.exports.refiqda import codebook_xml

from . import bp
from .common import pipeline
from .search import request_filters


@bp.get("/exports/qdpx")
def export_qdpx():
    """The stored documents coded with their themes, as a REFI-QDA project for NVivo, MAXQDA or ATLAS.ti.
    ---
    get:
      summary: Download a REFI-QDA project (QDPX)
      tags: [exports]
      parameters:
        - {name: theme, in: query, schema: {type: array, items: {type: string}}, style: form, explode: true, description: 'only documents with a paragraph tagged with this theme (repeat for any of several)', example: [workforce]}
        - {name: organisation, in: query, schema: {type: array, items: {type: string}}, style: form, explode: true, description: 'only documents by this organisation, case ignored (repeat for any of several)', example: [Wexcombe County Council]}
        - {name: since, in: query, schema: PartialDate, description: documents dated on or after this, example: '2015'}
        - {name: until, in: query, schema: PartialDate, description: documents dated on or before this, example: '2025-12-31'}
      responses:
        200:
          description: 'A zip: project.qde (one code per theme, one text source per document, one selection per tagged paragraph at its exact offsets, a coding per theme) and sources/*.txt'
          content:
            application/vnd.refi-qda.qdpx: {schema: {type: string, contentMediaType: application/zip}, example: '(zip bytes)'}
        422: {description: Invalid input, content: {application/json: {schema: Error}}}
    """
    p = pipeline()
    data, _ = p.export_qdpx(request_filters(p))
    return _download(data, "application/vnd.refi-qda.qdpx", "joinedup.qdpx")


@bp.get("/exports/qdc")
def export_qdc():
    """The codebook as a REFI-QDA codebook: one code per theme, its definition as the description.
    ---
    get:
      summary: Download the codebook (QDC)
      tags: [exports]
      responses:
        200:
          description: REFI-QDA codebook XML (urn:QDA-XML:codebook:1.0)
          content:
            application/xml: {schema: {type: string}, example: '<?xml version="1.0" encoding="utf-8"?><CodeBook xmlns="urn:QDA-XML:codebook:1.0" origin="joinedup"><Codes><Code guid="8d2c7a57-0c49-5a3b-9d1f-3e6b8f0f2a11" name="Funding" isCodable="true" color="#1f77b4"><Description>Money for care and health services.</Description></Code></Codes></CodeBook>'}
    """
    return _download(codebook_xml(pipeline().codebook), "application/xml", "joinedup-codebook.qdc")


def _download(data: bytes, mimetype: str, name: str) -> Response:
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
