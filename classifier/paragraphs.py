"""Split pasted text into paragraphs, keeping each one's character offsets into the original.

Text arrives from web pages, Word documents and PDFs. Hard-wrapped lines are rejoined, bullets and numbered
items become paragraphs of their own, and headings and page numbers are kept as segments of their own kinds
so they can be shown but are not tagged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PARAGRAPH, HEADING, PAGE_NUMBER = "paragraph", "heading", "page_number"

_LINE = re.compile(r"[^\n\r\f\u2028\u2029]*(?:\r\n|[\n\r\f\u2028\u2029])?")
_PAGE_NUMBER = re.compile(r"^(?:page\s+)?\d{1,4}(?:\s*(?:of|/)\s*\d{1,4})?$|^[-\u2013\u2014]\s*\d{1,4}\s*[-\u2013\u2014]$",
                          re.IGNORECASE)
_ITEM = re.compile(r"^(?:[\u2022\u00b7\u25e6\u25aa\u2023\u25cf\u25cb\u25a0\u25a1\u27a2\u25ba\u2713*+\-\u2013\u2014]"
                   r"|\(?\d{1,3}[.)]|\(?[a-z][.)]|\((?:[ivx]{1,4}|[a-z])\))\s+")
_TERMINAL = re.compile(r"[.!?:;\u2026][\"'\u201d\u2019)\]]*$")
# Lines longer than this are not hard-wrapped: each one is a paragraph in its own right.
_WRAP_LIMIT = 130
_HEADING_MAX_WORDS = 12


@dataclass(frozen=True)
class Segment:
    """A run of the original text: ``text`` is ``original[start:end]`` with whitespace collapsed."""

    text: str
    start: int
    end: int
    kind: str = PARAGRAPH


@dataclass(frozen=True)
class Paragraph:
    """A paragraph to tag. ``index`` counts paragraphs only (headings and page numbers are skipped)."""

    index: int
    text: str
    start: int
    end: int


@dataclass
class _Line:
    start: int
    end: int
    text: str

    @property
    def is_item(self) -> bool:
        return bool(_ITEM.match(self.text))

    @property
    def is_page_number(self) -> bool:
        return bool(_PAGE_NUMBER.match(self.text))


def _lines(text: str) -> list[_Line | None]:
    """Non-blank lines with their stripped offsets; ``None`` marks a blank line (a block break)."""
    out: list[_Line | None] = []
    for m in _LINE.finditer(text):
        if m.start() == m.end():
            break
        raw = m.group(0)
        body = raw.rstrip("\r\n\f\u2028\u2029")
        stripped = body.strip()
        if not stripped:
            out.append(None)
            continue
        lead = len(body) - len(body.lstrip())
        start = m.start() + lead
        out.append(_Line(start, start + len(stripped), stripped))
        if raw.endswith("\f"):
            out.append(None)
    return out


def _looks_like_heading(line: _Line, width: int) -> bool:
    words = line.text.split()
    return (len(words) <= _HEADING_MAX_WORDS and not _TERMINAL.search(line.text) and not line.is_item
            and (line.text[0].isupper() or line.text[0].isdigit()) and len(line.text) < max(0.7 * width, 20))


def _breaks_after(line: _Line, nxt: _Line, width: int) -> bool:
    if nxt.is_item or nxt.is_page_number or line.is_page_number:
        return True
    if width > _WRAP_LIMIT:
        return True
    if _TERMINAL.search(line.text):
        return len(line.text) < 0.8 * width
    return _looks_like_heading(line, width) and nxt.text[0].isupper()


def segment(text: str) -> list[Segment]:
    """Every non-blank stretch of ``text`` as a segment of kind paragraph, heading or page_number, in order."""
    blocks: list[list[_Line]] = [[]]
    for line in _lines(text):
        if line is None:
            if blocks[-1]:
                blocks.append([])
        else:
            blocks[-1].append(line)
    runs: list[list[_Line]] = []
    for block in blocks:
        if not block:
            continue
        width = max(len(line.text) for line in block)
        run = [block[0]]
        for line, nxt in zip(block, block[1:]):
            if _breaks_after(line, nxt, width):
                runs.append(run)
                run = []
            run.append(nxt)
        runs.append(run)

    segments = []
    for i, run in enumerate(runs):
        start, end = run[0].start, run[-1].end
        joined = " ".join(text[start:end].split())
        if len(run) == 1 and run[0].is_page_number:
            kind = PAGE_NUMBER
        elif (len(run) == 1 and i < len(runs) - 1 and not _TERMINAL.search(joined) and not run[0].is_item
              and len(joined.split()) <= _HEADING_MAX_WORDS):
            kind = HEADING
        else:
            kind = PARAGRAPH
        segments.append(Segment(joined, start, end, kind))
    return segments


def split_paragraphs(text: str) -> list[Paragraph]:
    """The paragraphs of ``text`` to tag, numbered from 0, with offsets into ``text``."""
    paras = [s for s in segment(text) if s.kind == PARAGRAPH]
    return [Paragraph(i, s.text, s.start, s.end) for i, s in enumerate(paras)]
