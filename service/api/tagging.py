"""Tagging text that is not stored."""

from __future__ import annotations

from flask import jsonify

from classifier.errors import InvalidInput
from classifier.text.paragraphs import split_paragraphs
from classifier.text.policy import check_text

from . import bp
from .common import _limits, _paragraph_list, json_body, pipeline


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
    scorer = pipeline().scorer()
    if "paragraphs" in body and "text" in body:
        raise InvalidInput("give either 'text' or 'paragraphs', not both")
    if "paragraphs" in body:
        result = scorer.tag_texts(_paragraph_list(body["paragraphs"], "paragraphs"))
    elif "text" in body:
        max_n, max_chars = _limits()
        text = check_text(body["text"], "text")
        # The splitter stops as soon as the count passes the limit, before any further work (a 413).
        paragraphs = split_paragraphs(text, max_paragraphs=max_n)
        if not paragraphs:
            raise InvalidInput("the text has no paragraphs to tag (only headings or page numbers)")
        long = [p.index for p in paragraphs if len(p.text) > max_chars]
        if long:
            raise InvalidInput(f"paragraph {long[0]} is over {max_chars} characters", {"limit": max_chars})
        result = scorer.tag_paragraphs(paragraphs)
    else:
        raise InvalidInput("give 'text' (a string) or 'paragraphs' (a list of strings)")
    return jsonify(result.to_dict())
