"""Sentences of a text with exact character offsets, for highlights and anything else that quotes one.

A full stop does not always end a sentence: "£3.8 billion", "Dr. Smith", "J. R. Hartley", "e.g.", "No. 10"
and "1.5m" must stay whole, or a quote misleads. The boundaries come from sentencex (Wikimedia's rule-based
segmenter, which knows numbers, abbreviations and initials and reports character offsets); this module
trims the whitespace around each sentence so that ``text[start:end]`` is exactly the sentence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sentencex

_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class Sentence:
    """One sentence: ``text == original[start:end]``, with no whitespace at either end."""

    start: int
    end: int
    text: str


def split_sentences(text: str, language: str = "en") -> list[Sentence]:
    """The sentences of ``text`` in order, each with its offsets; [] when the text is blank."""
    # The segmenter takes UTF-8, which a lone surrogate cannot be; U+FFFD has the same length, so the
    # offsets still point into ``text``.
    safe = _SURROGATE.sub("\ufffd", text)
    sentences: list[Sentence] = []
    for boundary in sentencex.get_sentence_boundaries(language, safe):
        piece = text[boundary["start_index"]:boundary["end_index"]]
        body = piece.strip()
        if body:
            start = boundary["start_index"] + len(piece) - len(piece.lstrip())
            sentences.append(Sentence(start, start + len(body), body))
    return sentences
