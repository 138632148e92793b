"""A document's structure: its paragraphs in order, each with a kind, text and offsets into the document text.

Kinds: ``heading`` (titles, section headings), ``body`` (prose, including list lead-ins), ``list_item``
(bullets and numbered items, marker removed), ``quote`` (a paragraph that is mostly quotation with its
attribution) and ``boilerplate`` (page furniture, contact lines, page numbers: kept for the document view,
never tagged, never searchable). Headings and lead-ins stay in the document as context for the paragraphs
after them.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, replace

from classifier.text.visible import visible
from classifier.text.boilerplate import RELATED_LEAD, has_spaced_menu, is_boilerplate
from classifier.text.paragraphs import (FOOTNOTE, HEADING, ITEM_END, ITEM_MARKER, LEAD_IN, PAGE_NUMBER, SENTENCE_STOP,
                                       SOCIAL_LINE, TERMINAL, TIME_LINE, rejoin_lines, segment)

KINDS = ("heading", "body", "list_item", "quote", "comment", "boilerplate")
# A reader's comment under an article is tagged (it is text a reader of the page reads for its themes) but it is
# not the publisher's statement: it is never searchable, never in the document's summary, and is read on its own
# rather than as part of the article's argument.
TAGGED_KINDS = ("heading", "body", "list_item", "quote", "comment")
SEARCHABLE_KINDS = ("heading", "body", "list_item", "quote")

# A list item's bullet or number and the space after it (bench/probes.py strips it the same way).
MARKER = re.compile(rf"^{ITEM_MARKER}\s+")
_QUOTE_OPEN = "\"\u201c\u2018'"
_QUOTE_SCAN_LIMIT = 20_000
_QUOTED = re.compile(r"[\"\u201c][^\"\u201d]{20,}[\"\u201d]")


@dataclass(frozen=True)
class Block:
    """One paragraph of a document. ``text`` is the document text from ``start`` to ``end`` with whitespace
    collapsed (and, for a list item, without its bullet or number)."""

    index: int
    kind: str
    text: str
    start: int
    end: int
    # The whole paragraph, when a page break cut this one in two (see ``read_across_page_breaks``).
    whole: str | None = None

    @property
    def tagged(self) -> bool:
        return self.kind in TAGGED_KINDS

    @property
    def searchable(self) -> bool:
        """Stored as a statement of the document's organisation (a reader's comment is not)."""
        return self.kind in SEARCHABLE_KINDS

    @property
    def reading(self) -> str:
        """What the tagger reads (and the search embeds) for this paragraph: its whole paragraph, if cut."""
        return self.whole or self.text


def _is_quote(text: str) -> bool:
    """Mostly quotation: opens with a quote mark, or quoted spans make up most of it."""
    if len(text) > _QUOTE_SCAN_LIMIT:  # over any paragraph limit: refused later, never scanned here
        return False
    if text[:1] in _QUOTE_OPEN and len(text) > 40:
        return True
    quoted = sum(len(m.group(0)) for m in _QUOTED.finditer(text))
    return quoted >= 0.6 * len(text)


def kind_of(text: str, segment_kind: str, marked: bool = False) -> str:
    """The kind of a segment of text (see the module docstring); ``marked``: its original starts with an item
    marker (Word's "o" and tab is one only before the tab is collapsed)."""
    if segment_kind == PAGE_NUMBER or is_boilerplate(text):
        return "boilerplate"
    if segment_kind == HEADING:
        return "heading"
    if marked or MARKER.match(text):
        return "list_item"
    if _is_quote(text):
        return "quote"
    return "body"


# A pasted web page brings its menus: a run of short headings with nothing between them ("Adult social care",
# "Health and wellbeing boards", "Workforce") is navigation, not section headings, and tagging it gave themes
# to themeless text. A document's own headings are separated by paragraphs; three short ones in a row are not.
NAV_RUN = 3
NAV_WORDS = 5
_CONTENTS = re.compile(r"^(?:table of )?contents:?$", re.IGNORECASE)
CONTENTS_WORDS = 8


def _blank_between(text: str, before: Block, after: Block) -> bool:
    """Whether a blank line (or a page break) separates two blocks in the document text."""
    gap = text[before.end:after.start]
    return gap.count("\n") + gap.count("\r") - gap.count("\r\n") >= 2 or "\f" in gap


def _short(block: Block, words: int) -> bool:
    return len(block.text.split()) <= words


def _furniture_runs(blocks: list[Block]) -> list[Block]:
    """Blocks with navigation runs and tables of contents made boilerplate (see NAV_RUN)."""
    kinds = [b.kind for b in blocks]
    i = 0
    while i < len(blocks):
        if _CONTENTS.match(blocks[i].text) and kinds[i] != "body":
            # "Contents" and the short entries after it, up to the first paragraph of prose.
            kinds[i] = "boilerplate"
            j = i + 1
            while j < len(blocks) and kinds[j] in ("heading", "list_item", "boilerplate") \
                    and _short(blocks[j], CONTENTS_WORDS):
                kinds[j] = "boilerplate"
                j += 1
            i = j
            continue
        j, headings = i, []
        # (a run stops before "Contents", so that its entries are read as the table of contents above)
        while j < len(blocks) and not (j > i and _CONTENTS.match(blocks[j].text)) \
                and (kinds[j] == "boilerplate" or (kinds[j] == "heading" and _short(blocks[j], NAV_WORDS))):
            if kinds[j] == "heading":
                headings.append(j)
            j += 1
        if len(headings) >= NAV_RUN:
            for k in headings:
                kinds[k] = "boilerplate"
        i = max(j, i + 1)
    return [b if b.kind == k else replace(b, kind=k) for b, k in zip(blocks, kinds)]


# A PDF's running header or footer ("Fenmarch Health and Wellbeing Board \u2013 9 September 2027") comes back on
# every page; the same short line three times in one document is furniture, not three headings.
RUNNING_REPEATS = 3
RUNNING_WORDS = 20


FOOTNOTE_WORDS = 60  # a footnote at a page's foot, just before its page number (see paragraphs.FOOTNOTE)


def _running_lines(blocks: list[Block], page_numbers: set[int]) -> list[Block]:
    """Running headers and footers (see RUNNING_REPEATS; twice is enough beside a page number) and footnotes
    at a page's foot are furniture. ``page_numbers``: the indexes of the blocks that are page numbers."""
    counts = Counter(b.text for b in blocks if b.kind != "boilerplate" and _short(b, RUNNING_WORDS))
    repeated = {t for t, n in counts.items() if n >= RUNNING_REPEATS}
    footnotes = set()
    for i, b in enumerate(blocks):
        if counts.get(b.text, 0) >= 2 and (i - 1 in page_numbers or i + 1 in page_numbers):
            repeated.add(b.text)  # every time it comes back, the first page's header included
        elif i + 1 in page_numbers and FOOTNOTE.match(b.text) and _short(b, FOOTNOTE_WORDS):
            footnotes.add(i)
    return [replace(b, kind="boilerplate") if b.kind != "boilerplate" and (b.text in repeated or i in footnotes)
            else b for i, b in enumerate(blocks)]


# A page's footer or masthead pasted as lines without blank lines between them ("Example Council, County Hall,
# ..." / "Contact us | Accessibility | Privacy" / "\u00a9 Example Council 2027"): when at least half of the short
# lines of such a run are furniture, the address and site-name lines among them are too.
FOOTER_WORDS = 16


def _furniture_neighbours(text: str, blocks: list[Block]) -> list[Block]:
    out, run = list(blocks), []

    def close():
        # (a programme's times are furniture but say nothing of the lines between them, its sessions; nor do a
        # social post's "Reply · 2 likes" lines of the comments between them)
        lines = [k for k in run if not (TIME_LINE.match(blocks[k].text) or SOCIAL_LINE.match(blocks[k].text))]
        furniture = sum(blocks[k].kind == "boilerplate" for k in lines)
        if furniture >= 2 and 2 * furniture >= len(lines) and all(_short(blocks[k], FOOTER_WORDS) for k in run):
            for k in run:
                # a sentence or an item among them ("ENDS" / "Notes to editors" / "The fund is worth \u00a32bn.")
                # is content
                if blocks[k].kind in ("heading", "body") and not SENTENCE_STOP.search(blocks[k].text):
                    out[k] = replace(blocks[k], kind="boilerplate")
        run.clear()

    for i, block in enumerate(blocks):
        if run and _blank_between(text, blocks[i - 1], block):
            close()
        run.append(i)
    close()
    return out


# Under "Related articles" (or "You might also be interested in") a page lists other pages' headlines, one per
# line; pasted without blank lines they join into one paragraph that reads as content and was tagged. Lines that
# are each a headline (a few words, no full stop) after such a lead are furniture, up to the first real sentence.
HEADLINE_WORDS = 16
_FULL_STOP = re.compile(r"[.;:,]['\"\u2019\u201d)]*$")


def _headlines(text: str, block: Block) -> bool:
    lines = [" ".join(line.split()) for line in text[block.start:block.end].splitlines() if line.strip()]
    return bool(lines) and all(len(line.split()) <= HEADLINE_WORDS and not _FULL_STOP.search(line) for line in lines)


def _related_lists(text: str, blocks: list[Block]) -> list[Block]:
    out, listing, listed = [], False, set()
    for block in blocks:
        if block.kind == "boilerplate":
            # a list entry can be furniture on its own ("... (opens in a new tab)"); a sentence ends the list
            lead = bool(RELATED_LEAD.match(block.text))
            listing = lead or (listing and _headlines(text, block))
            listed = set() if lead else listed
        elif listing and _headlines(text, block) and block.text not in listed:
            # (an entry of a page's own jump list comes back as the heading of its section: the list ends there)
            block = replace(block, kind="boilerplate")
            listed.update(" ".join(line.split()) for line in text[block.start:block.end].splitlines())
        else:
            listing = False
        out.append(block)
    return out


# A browser drops the bullets of a list it copies: after a lead-in ("The eight-point plan is:", "Our survey found
# that:") the items come back as short lines or paragraphs with no marker. Two or more short paragraphs after a
# lead-in are its items, so they are read as list items (with the lead-in as their context), not as headings (a
# short line without a full stop) or as body.
ITEM_WORDS = 45
MIN_ITEMS = 2


def _item_style(text: str) -> str:
    return "semicolon" if ITEM_END.search(text) else "stop" if SENTENCE_STOP.search(text) else "bare"


def _same_list(text: str, blocks: list[Block], items: list[int], j: int) -> tuple[bool, bool]:
    """Whether ``blocks[j]`` goes on the list whose items so far are ``items``, and whether it is the last item.

    A list's items share one style: lines of one block (so the paragraph after the block is not an item), and
    all with or all without a full stop, except that items ending "...;" or "...; and" end with a full stop.
    """
    if not items:
        return True, False
    first = blocks[items[0]]
    if _blank_between(text, first, blocks[items[0] + 1]) != _blank_between(text, blocks[j - 1], blocks[j]):
        return False, False
    style, this = _item_style(first.text), _item_style(blocks[j].text)
    if style == this:
        return True, False
    return style == "semicolon" and this == "stop", True


def _unmarked_items(text: str, blocks: list[Block]) -> list[Block]:
    kinds = [b.kind for b in blocks]
    for i, block in enumerate(blocks):
        if block.kind != "body" or not LEAD_IN.search(block.text):
            continue
        items: list[int] = []
        marked = False
        for j in range(i + 1, len(blocks)):
            candidate = blocks[j]
            if candidate.kind in ("list_item", "boilerplate"):
                marked |= candidate.kind == "list_item"
                continue
            if marked and not items:
                break  # the lead-in's items kept their markers: what follows them is not one of them
            if candidate.kind not in ("heading", "body") or not _short(candidate, ITEM_WORDS) \
                    or LEAD_IN.search(candidate.text):
                break
            goes_on, last = _same_list(text, blocks, items, j)
            if not goes_on:
                break
            items.append(j)
            if last:
                break
        if len(items) >= MIN_ITEMS:
            for k in items:
                kinds[k] = "list_item"
    return [b if b.kind == k else replace(b, kind=k) for b, k in zip(blocks, kinds)]


# A press release ends at "ENDS" or "Notes to editors": what follows is background for journalists (about the
# organisation, how a figure was estimated, contacts), themeless by the codebook's guidelines. It stays in the
# document view, as furniture. (So does what follows a count of readers' comments: see _COMMENTS.)
_RELEASE_END = re.compile(r"^(?:[-*#\s]*ends[-*#\s]*|notes? (?:to|for) (?:editors?|news ?desks?):?|editors'? notes?:?)$",
                          re.IGNORECASE)


# Readers' comments under an article ("3 comments", then each comment's name and time and its text) are not the
# publisher's statements: from a count of comments on, each comment's text is a ``comment`` and the rest (the
# commenters' names and times, which read as headings, and the page's furniture) is boilerplate.
_COMMENTS = re.compile(r"^(?:\d+ comments?|comments \(\d+\))$", re.IGNORECASE)


COMMENTS_AFTER = 3  # paragraphs of argument before a count of comments ("0 comments" also heads a blog post)
_ARGUMENT_WORDS = 25


def _after_the_release(blocks: list[Block]) -> list[Block]:
    before = 0
    end, comments = None, False
    for i, b in enumerate(blocks):
        if b.kind == "boilerplate" and _RELEASE_END.match(b.text):
            end = i
            break
        if b.kind == "boilerplate" and _COMMENTS.match(b.text) and before >= COMMENTS_AFTER:
            end, comments = i, True
            break
        before += b.tagged and not _short(b, _ARGUMENT_WORDS)
    if end is None:
        return blocks

    def after(b: Block) -> str:
        if b.kind == "boilerplate" or not comments or b.kind == "heading":
            return "boilerplate"
        return "comment"

    return blocks[:end] + [b if b.kind == after(b) else replace(b, kind=after(b)) for b in blocks[end:]]


# An explainer or FAQ page asks its sections' questions as headings ("Who decides how it is spent?") with the
# answer below. Read as a body paragraph, such a line has nothing of its own to tag; read as a heading, it takes
# its themes from what it announces, as the documents we train on label it. A short one-sentence question
# (a consultation's "Question 3: ..." included) followed by the paragraph that answers it is a heading; a
# question in an exchange ("Q16 Chair: ...?") has a speaker's label and stays what it is.
QUESTION_WORDS = 16
_QUESTION = re.compile(r"^(?:Question \d+[.:]? )?[^:.!?]+\?[\"'\u201d\u2019)]*$")


def _question_headings(blocks: list[Block]) -> list[Block]:
    out = list(blocks)
    for i, (b, after) in enumerate(zip(blocks, blocks[1:])):
        if (b.kind == "body" and after.kind in ("body", "list_item", "quote") and _short(b, QUESTION_WORDS)
                and _QUESTION.match(b.text) and not _QUESTION.match(after.text)):
            out[i] = replace(b, kind="heading")
    return out


# A PDF's page break can fall inside a sentence: "... a coastal town with poor-quality private" / the page number
# and running header / "rented homes are not those of an inner-city borough." Each half read alone lost themes
# the sentence raised. The halves stay two paragraphs of the document (their offsets cut the text between them),
# but both are read, embedded and tagged as the whole paragraph.
CONTINUING_KINDS = ("body", "quote", "heading")


def read_across_page_breaks(blocks: list[Block], text: str | None = None) -> list[Block]:
    """Blocks with ``whole`` set on the halves of a paragraph cut by a page break: a paragraph that stops
    mid-sentence, then only page furniture (or a form feed in ``text``), then one that starts in lower case."""
    out = list(blocks)
    tagged = [i for i, b in enumerate(blocks) if b.tagged]
    group: list[int] = []

    def close():
        if len(group) >= 2:
            whole = " ".join(blocks[k].text for k in group)
            for k in group:
                out[k] = replace(blocks[k], whole=whole)
        group.clear()

    for a, b in zip(tagged, tagged[1:]):
        first, then = blocks[a], blocks[b]
        between = blocks[a + 1:b]
        page_break = bool(between) or (text is not None and "\f" in text[first.end:then.start])
        if (page_break and first.kind != "heading" and not TERMINAL.search(first.text)
                and then.kind in CONTINUING_KINDS and then.text[:1].islower()):
            group.extend([a, b] if not group else [b])
        else:
            close()
    close()
    return out


def structure(text: str, max_paragraphs: int | None = None) -> list[Block]:
    """The paragraphs of a document text in order, numbered from 0, with kinds and offsets.

    ``max_paragraphs`` stops early with PayloadTooLarge (see ``segment``). The text is read as a reader sees
    it (``visible``: no soft hyphens or zero-width characters, ligatures spelt out); the blocks' texts are that
    reading and their offsets cut the text as given.
    """
    seen, origin = visible(text)
    blocks = _structure(seen, max_paragraphs)
    if origin is None:
        return blocks
    return [replace(b, start=int(origin[b.start]), end=int(origin[b.end - 1]) + 1) for b in blocks]


def _structure(text: str, max_paragraphs: int | None) -> list[Block]:
    blocks, page_numbers = [], set()
    for seg in segment(text, max_paragraphs=max_paragraphs):
        if seg.kind == PAGE_NUMBER:
            page_numbers.add(len(blocks))
        raw = MARKER.match(text[seg.start:seg.end])
        kind = ("boilerplate" if has_spaced_menu(text[seg.start:seg.end])
                else kind_of(seg.text, seg.kind, raw is not None))
        body, start = seg.text, seg.start
        if kind == "list_item":
            # The item's text and offsets both start past its marker.
            start = seg.start + raw.end() if raw else seg.start
            body = rejoin_lines(text[start:seg.end]) if raw else body[MARKER.match(body).end():]
        blocks.append(Block(len(blocks), kind, body, start, seg.end))
    blocks = _furniture_runs(_running_lines(_unmarked_items(text, blocks), page_numbers))
    blocks = _after_the_release(_related_lists(text, _furniture_neighbours(text, blocks)))
    blocks = _question_headings(blocks)
    return read_across_page_breaks(blocks, text)
