"""Tagging text that is not stored."""

from __future__ import annotations

from flask import jsonify

from classifier.errors import InvalidInput
from classifier.text.policy import check_text

from . import bp
from .common import _paragraph_list, json_body, pipeline


@bp.post("/tag")
def tag():
    """Tag a text (split into paragraphs) or a list of paragraphs (each tagged as is).
    ---
    post:
      summary: Tag text with integration themes
      tags: [tagging]
      requestBody:
        required: true
        content: {application/json: {schema: TagRequest}}
      responses:
        200: {description: Tagged paragraphs and a document summary, content: {application/json: {schema: TagResponse}}}
        400: {description: Malformed JSON, content: {application/json: {schema: Error}}}
        413: {description: Too large, content: {application/json: {schema: Error}}}
        422: {description: Invalid input, content: {application/json: {schema: Error}}}
        503: {description: No model this worker can serve, content: {application/json: {schema: Error}}}
    """
    body = json_body()
    p = pipeline()
    if "paragraphs" in body and "text" in body:
        raise InvalidInput("give either 'text' or 'paragraphs', not both")
    if "paragraphs" in body:
        result = p.tag_paragraphs(_paragraph_list(body["paragraphs"], "paragraphs"))
    elif "text" in body:
        title = body.get("title")
        if title is not None:
            title = check_text(title, "title", 2000)
        result = p.tag_text(check_text(body["text"], "text"), title)
    else:
        raise InvalidInput("give 'text' (a string) or 'paragraphs' (a list of strings)")
    return jsonify(result.to_dict())
