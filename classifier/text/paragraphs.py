"""Split pasted text into paragraphs, keeping each one's character offsets into the original.

Text arrives from web pages, Word documents and PDFs. Hard-wrapped lines are rejoined, bullets and numbered
items become paragraphs of their own, and headings and page numbers are kept as segments of their own kinds
so they can be shown but are not tagged.

Anyone can send text to ``POST /tag``, so the cost must stay linear with a small constant even for hundreds
of thousands of one-letter lines. Nothing here loops in Python over every line: lines are cut and measured by
C-level string methods, the line patterns run once over a chunk of lines joined together, and the decisions
are array operations. Chunks of whole blocks are decided one after another, so ``max_paragraphs`` stops the
work at the first chunk that goes over the limit, before any of its paragraphs is built.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from itertools import compress
from operator import itemgetter

import numpy as np

from classifier.errors import PayloadTooLarge

PARAGRAPH, HEADING, PAGE_NUMBER = "paragraph", "heading", "page_number"

# A line ends at \r\n, \n, \r, \f, U+2028 or U+2029. str.splitlines also ends lines at \v, \x1c-\x1e and
# \x85; when a text has none of those it cuts exactly as _LINE does, and much faster.
_LINE = re.compile(r"[^\n\r\f\u2028\u2029]*(?:\r\n|[\n\r\f\u2028\u2029])?")
_OTHER_BREAKS = re.compile("[\x0b\x1c\x1d\x1e\x85]")
# The line patterns run over a chunk's stripped lines joined by "\n" (which no line contains): each is
# anchored to a line with (?m) and uses [^\S\n] for "whitespace", so no match runs on into the next line.
# A page number: "12", "Page 3 of 9", "- 4 -", and a report's front matter numbered in lower-case roman ("ii").
_PAGE_NUMBER = re.compile(r"^(?:page[^\S\n]+)?\d{1,4}(?:[^\S\n]*(?:of|/)[^\S\n]*\d{1,4})?$"
                          r"|^[-\u2013\u2014][^\S\n]*\d{1,4}[^\S\n]*[-\u2013\u2014]$"
                          r"|^(?-i:(?=[ivx])x{0,3}(?:ix|iv|v?i{0,3}))$", re.IGNORECASE | re.MULTILINE)
# A time on a line of its own (a programme's "09:30", "2.15pm - 3.00pm") is a segment of its own.
TIME_LINE = re.compile(r"^\d{1,2}[:.]\d\d(?:[^\S\n]*[ap]\.?m\.?)?"
                       r"(?:[^\S\n]*(?:-|\u2013|\u2014|to)[^\S\n]*\d{1,2}[:.]\d\d(?:[^\S\n]*[ap]\.?m\.?)?)?$",
                       re.IGNORECASE | re.MULTILINE)
# What starts a list item: a bullet, a number or a letter. Bullets include the private-use characters a PDF
# made from Word gives for its Symbol and Wingdings bullets (U+F0B7, U+F0A7, ...), and Word's second- and
# third-level "o" and "\u00a7" when a tab follows them, as a paste from Word gives them.
ITEM_MARKER = (r"(?:[\u2022\u00b7\u25e6\u25aa\u2023\u25cf\u25cb\u25a0\u25a1\u27a2\u25ba\u2713*+\-\u2013\u2014"
               r"\u2043\u2219\u2192\u2666\u25c6\u25c7\u25b6\u25b8\u2714\u2756\u27a4\uf0a7\uf0b7\uf0d8\uf0e0\uf0fc]"
               r"|[o\u00a7](?=\t)|\(?\d{1,3}[.)]|\(?[a-z][.)]|\((?:[ivx]{1,4}|[a-z])\))")
_ITEM = re.compile(rf"^{ITEM_MARKER}[^\S\n]+", re.MULTILINE)
# A numbered paragraph of a report, evidence or minutes ("2.2 Because the delays involve ...", "10.4 The Board
# ..."): the number and a capital after it.
_DECIMAL = re.compile(r"^\d{1,2}\.\d{1,2}(?:\.\d{1,2})?[^\S\n]+[A-Z\u2018\u201c\"']", re.MULTILINE)
# A numbered recommendation, action or question of a report ("Recommendation 3.2: The council should ...",
# "Action 4 - ...") starts anew after a line that ends a sentence, as a numbered paragraph does.
_NUMBERED_LABEL = re.compile(r"^(?:recommendations?|actions?|priority|objective|ambition|commitment|step|question|q)"
                            r"[^\S\n]*\d{1,2}(?:\.\d{1,2})?[^\S\n]*[:.\u2013\u2014-]", re.IGNORECASE | re.MULTILINE)
# A quotation that opens a line after one that ends a sentence or a bracket is the next of a report's quotes, and
# a line after a quotation's speaker in brackets ('..." (Patient, aged 72)') starts anew: neither is the rest of
# the paragraph before it.
_OPENS_QUOTE = re.compile(r"^[\u201c\"]", re.MULTILINE)
_BRACKETED_END = re.compile(r"\)$", re.MULTILINE)
_QUOTE_THEN_SPEAKER = re.compile(r"[\u201d\"][^\S\n]*\([^()\n]{1,60}\)$", re.MULTILINE)  # '..." (Patient, aged 72)'
# A transcript's turn (oral evidence, an interview, a podcast): the speaker's name or title and a colon, after a
# question number if any ("Q120 Dev Arkwright-Lyle:", "Dr Penrose:", "Councillor Marsh:", "HOST:").
_SPEAKER = re.compile(r"^(?:Q\d{1,4}[^\S\n]+)?(?:[A-Z][\w'\u2019.-]*[^\S\n]+){0,3}[A-Z][\w'\u2019-]*"
                      r"(?:[^\S\n]+\([A-Z][\w ]{0,30}\))?:[^\S\n]+\S", re.MULTILINE)
# A minutes page (modern.gov and its kind) puts a label on a line of its own between an agenda item's title and
# its text: "51. Apologies for absence" / "Minutes:" / "Apologies were received ...". The label is a segment
# of its own, so the title is not read as "Apologies for absence Minutes:".
_LABEL = re.compile(r"^(?:minutes|decision|resolved|purpose|supporting documents|attachments|reasons? for (?:the )?"
                    r"decision|alternative options considered)[^\S\n]*:$", re.IGNORECASE | re.MULTILINE)
# A wide gap inside a line: what sets a table's cells, a menu's items or a page number apart from the text.
_GAP = r"(?:   +|\t)"
_WIDE_GAP = re.compile(_GAP)
# A PDF's running header or footer with its page number on the same line, set apart by a wide gap or a "|"
# ("Example Council | Annual Review 2026/27          5", "Annual Review 2026/27 | Page 5 of 12"): a page break,
# like a page number on a line of its own. Only a title's single spaces come before the gap, so a table's row
# (gaps between its cells) is not one. On a left-hand page the number comes first ("4          Annual Review
# 2026/27"); as an agenda's numbered item can look like that too, that counts only when the header comes back or
# a "|" sets the number apart ("8 | Annual Review 2026/27").
_NUMBER_AT_END = re.compile(r"^(\S(?:[ \u00a0]{0,2}\S)*?)(?:" + _GAP + r"|[^\S\n]*\|[^\S\n]*)"
                            r"(?:(?i:page)[^\S\n]+)?\d{1,4}(?:[^\S\n]+of[^\S\n]+\d{1,4})?$", re.MULTILINE)
_NUMBER_AT_START = re.compile(r"^\d{1,4}(?:" + _GAP + r"|[^\S\n]*(\|)[^\S\n]*)(?=\S)", re.MULTILINE)
_MAX_PAGES = 2000  # more numbered lines than a document has pages are not its page headers
# A table's row pasted from a PDF or a spreadsheet: cells set apart by two or more wide gaps, one of them a
# figure ("A&E: seen within 4 hours     78%     71.4%     74.9%"). Rows are not the prose around them. (A menu's
# row, "Contact us    Accessibility    Privacy", has no figures; see boilerplate.has_spaced_menu.)
_FIGURE_AFTER_GAP = re.compile(_GAP + r"[-+\u2212\u2013<>~\u00a3$\u20ac(]?\d")
# A table's or figure's caption ("Table 1: Care budgets by year", "Figure 3. Delays by month") is a line of its own.
_CAPTION = re.compile(r"^(?:table|figure|fig\.|chart|graph|box|exhibit|map)[^\S\n]+\d{1,3}(?:\.\d{1,2})?[a-z]?"
                      r"(?:[.:][^\S\n]|[^\S\n]+[-\u2013\u2014][^\S\n])",
                      re.IGNORECASE | re.MULTILINE)
# A month's name, full or short ("9 March 2026", "3 Sept 2025"); boilerplate.py's dates use it too.
MONTH = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?"
         r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)")
# A page's date stamp or byline on a line of its own ("Published: 9 March 2026", "Case study | 17 July 2025",
# "By Jo Bloggs | 3 March 2026 | 5 min read"): pasted without a blank line under a headline, it is not the
# headline's rest. A short line that opens with a capital or a digit and ends with a date (and perhaps a time; a
# narrow column's wrapped line "which came into force on 1 April 2025" opens in lower case), or a byline set out
# with separators, or a reading time.
_STAMP = re.compile(r"^(?=(?-i:[A-Z0-9])[^\n]{0,69}$)(?:[^\n.!?]*?[^\S\n])?\d{1,2}(?:st|nd|rd|th)?[^\S\n]+" + MONTH +
                    r"\.?,?[^\S\n]+\d{4}"
                    r"(?:[^\S\n]*(?:,|at|\||\u2022|\u00b7)?[^\S\n]*\d{1,2}[:.]\d\d(?:[^\S\n]*[ap]m)?)?"
                    # a podcast's or a video's length after its date ("Released 8 May 2025 · 38 min")
                    r"(?:[^\S\n]*(?:\||\u2022|\u00b7)[^\S\n]*\d{1,3}[^\S\n]*(?:min(?:ute)?s?|h(?:ou)?rs?)\b[^\n]{0,10})?$"
                    r"|^by[^\S\n]+[A-Z][^\n]{0,80}?[^\S\n](?:\||\u2022|\u00b7)[^\S\n]"
                    r"|^(?=[^\n]{0,80}$)[^\n]*\b\d{1,2}[^\S\n]*min(?:ute)?s?[^\S\n]+read\b",
                    re.IGNORECASE | re.MULTILINE)
# A social post's or a comment's interaction line ("Like · Reply", "Reply · 9 likes", "👍 412 · 58 comments")
# or a line of hashtags: a line of its own, and furniture (boilerplate.py). Counts or separators are required, so a
# one-word "Comments" heading is not one.
SOCIAL_LINE = re.compile(
    r"^(?=[^\n]{0,80}$)(?=[^\n]*\b(?:likes?|repl(?:y|ies)|reposts?|comments?|reactions?)\b)(?=[^\n]*[\d\u00b7\u2022|])"
    r"(?:(?:likes?|repl(?:y|ies)|reposts?|shares?|comments?|reactions?|\d[\d,.]*[km]?)\b|[^\w\s]|[^\S\n])+$"
    r"|^#\w+(?:[^\S\n]+#\w+)+[^\S\n]*$", re.IGNORECASE | re.MULTILINE)
# A form's field on a line of its own, its label set apart from its value by a wide gap, as a board paper's cover
# sheet pastes ("Purpose:            For decision", "Equality impact:    The evaluation found ..."): each field starts
# anew (its value may wrap onto the lines after it).
_FIELD = re.compile(r"^(?-i:[A-Z])[\w ,'\u2019()/&-]{1,40}:(?:" + _GAP + r")\S", re.MULTILINE)
# An entry of a table of contents: its page number after a leader of dots ("Summary ........ 3"). Each is a line
# of its own, pasted without blank lines or not.
TOC_ENTRY = r"(?:\.[^\S\n]?){4,}[^\S\n]*\d{1,4}$|\u2026{2,}[^\S\n]*\d{1,4}$"
_TOC_ENTRY = re.compile(TOC_ENTRY, re.MULTILINE)
# A quotation's speaker on the line after it, after a dash ('"I counted."' / "\u2013 Man, 71, living with
# Parkinson's"): the end of the quotation's paragraph (as a speaker in brackets on the quotation's own line is),
# not a list item that runs on into the next paragraph.
_DASH_SPEAKER = re.compile(r"^[\u2013\u2014-][^\S\n]*[A-Z][^\n\"\u201c\u201d]{0,80}$", re.MULTILINE)
_CLOSES_QUOTE = re.compile(r"[\u201d\"][^\S\n]*$", re.MULTILINE)
_PAREN_ITEM = re.compile(r"^\((?:\d{1,3}|[ivx]{1,4}|[a-z])\)[^\S\n]+", re.MULTILINE)
# A line that stops on one of these runs on into the next ("Who we are" is a heading: verbs are not here).
_OPEN_END = re.compile(r"(?i:\b(?:the|a|an|of|to|and|or|but|in|for|with|by|on|at|from|that|which|as|its|their|our"
                       r"|this|these|than|into)|[,\u2013\u2014-])$", re.MULTILINE)
# How a line (or a paragraph: these match at the end of a text too) ends or starts; structure.py reads
# paragraphs with the same patterns.
FOOTNOTE = re.compile(r"^\d{1,3}[^\S\n]+[A-Z\u201c\"]", re.MULTILINE)       # "12 Example Institute analysis ..."
# A chart's or table's source line ("Source: Example ICB analysis of ...") is not part of the prose around it.
_SOURCE = re.compile(r"^sources?[^\S\n]*:", re.IGNORECASE | re.MULTILINE)
# A note marked with a superscript number ("\u00b9 Example JSNA 2026, life expectancy chapter."): prose never
# starts with one, so each such line starts a note of its own.
SUPERSCRIPT_DIGITS = "[\u00b9\u00b2\u00b3\u2070\u2074-\u2079]"
SUPERSCRIPT_NOTE = re.compile(rf"^{SUPERSCRIPT_DIGITS}{{1,3}}[^\S\n]*\S", re.MULTILINE)
_FOOTNOTE_LINES = 4  # how far above its page number a footnote can start
LEAD_IN = re.compile(r":[\"'\u201d\u2019)\]]*$", re.MULTILINE)              # "The council will:"
SENTENCE_STOP = re.compile(r"[.!?\u2026][\"'\u201d\u2019)\]]*$", re.MULTILINE)  # a full stop
ITEM_END = re.compile(r";(?:[^\S\n]+(?:and|or))?$", re.MULTILINE)           # "...;" or "...; and"
TERMINAL = re.compile(r"[.!?:;\u2026][\"'\u201d\u2019)\]]*$", re.MULTILINE)   # any of those ends
# Lines longer than this are not hard-wrapped: each one is a paragraph in its own right.
_WRAP_LIMIT = 130
_HEADING_MAX_WORDS = 12
# Among unwrapped lines a news headline ("Budget survey 2026: three in four councils overspent on adult social
# care last year") is a line of its own, not the start of the byline after it.
_HEADLINE_MAX_WORDS = 20
_FULL_LINE = 60  # a line this long, near its block's widest, was wrapped by a PDF or an editor
_MENU_WIDTH = 30
_ROOM = 0.9  # a next word must fit in this share of the block's widest line for a break to count as by hand
# Lines decided together; a chunk is extended to the end of the block it stops in.
_CHUNK_LINES = 4096


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


def _ints(values, n: int) -> np.ndarray:
    return np.fromiter(values, dtype=np.int64, count=n)


def _codes(chars) -> np.ndarray:
    return np.array(list(map(ord, chars)), dtype=np.int64)


def _where(test, codes: np.ndarray) -> np.ndarray:
    """Which code points pass a str test such as str.isupper, testing each distinct one once."""
    distinct = np.unique(codes).tolist()
    return np.isin(codes, [c for c in distinct if test(chr(c))])


def _lines(text: str):
    """The non-blank lines: (stripped texts, start and end offsets into ``text``, starts-a-block flags).

    Blank lines and form feeds separate blocks.
    """
    raws = text.splitlines(True) if _OTHER_BREAKS.search(text) is None else _LINE.findall(text)[:-1]
    n = len(raws)
    stripped = list(map(str.strip, raws))
    raw_len = _ints(map(len, raws), n)
    length = _ints(map(len, stripped), n)
    # Where each line's text starts: the end of the raw line less the length of its left-stripped form.
    start = np.cumsum(raw_len) - _ints(map(len, map(str.lstrip, raws)), n)
    form_feed = (_codes(map(itemgetter(-1), raws)) == 12) if "\f" in text else np.zeros(n, dtype=bool)
    kept = length > 0
    after_break = np.ones(n, dtype=bool)
    after_break[1:] = ~kept[:-1] | form_feed[:-1]
    return (list(compress(stripped, kept.tolist())), start[kept], start[kept] + length[kept], length[kept],
            after_break[kept])


def _flags(pattern: re.Pattern, joined: str, positions: np.ndarray, at_end: bool = False) -> np.ndarray:
    """Which lines ``pattern`` matches, from the match starts (or ends) at the lines' starts (or ends)."""
    found = np.zeros(len(positions), dtype=bool)
    hits = list(map(re.Match.end if at_end else re.Match.start, pattern.finditer(joined)))
    if hits:
        found[np.searchsorted(positions, hits)] = True
    return found


def _line_of(positions: np.ndarray, hits: list[int]) -> np.ndarray:
    return np.searchsorted(positions, hits, side="right") - 1


def _page_lines(joined: str, lines: list[str], positions: np.ndarray,
                repeated: _Repeats) -> tuple[np.ndarray, np.ndarray]:
    """Which lines are a running header beside its page number (see _NUMBER_AT_END), and which are a table's rows
    (see _FIGURE_AFTER_GAP). Only lines with a wide gap or a "|" are looked at, by scans of the text that do nothing
    in Python per line."""
    n = len(positions)
    paged, table = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    if "   " not in joined and "\t" not in joined and "|" not in joined:
        return paged, table  # (as most texts)
    gap_at = list(map(re.Match.end, _WIDE_GAP.finditer(joined)))
    gaps = np.bincount(_line_of(positions, gap_at), minlength=n)
    if gap_at:
        # a figure just after a gap: a digit, or a sign or currency and then a digit
        after = _codes(map(joined.__getitem__, gap_at))
        digit = _where(str.isdigit, after)
        sign = np.isin(after, _codes("-+\u2212\u2013<>~\u00a3$\u20ac("))
        if sign.any():
            nxt = np.minimum(np.asarray(gap_at)[sign] + 1, len(joined) - 1).tolist()
            digit[sign] = _where(str.isdigit, _codes(map(joined.__getitem__, nxt)))
        table[_line_of(positions, list(compress(gap_at, digit.tolist())))] = True
        table &= gaps >= 2
    piped = np.zeros(n, dtype=bool)
    piped[_line_of(positions, list(map(re.Match.start, re.finditer(r"\|", joined))))] = True
    spaced = (gaps == 1) | ((gaps == 0) & piped)  # one gap (or a "|") in the line, no more
    if not spaced.any():
        return paged, table
    first = _codes(map(itemgetter(0), lines))
    last = _codes(map(itemgetter(-1), lines))
    ends = np.flatnonzero(spaced & _where(str.isdigit, last))
    if len(ends):
        paged[ends[_flags(_NUMBER_AT_END, "\n".join(_take(lines, ends)), _starts(lines, ends))]] = True
    begins = np.flatnonzero(spaced & _where(str.isdigit, first))
    if 0 < len(begins) <= _MAX_PAGES:
        found = [(r, _NUMBER_AT_START.match(lines[r])) for r in begins.tolist()]
        found = [(r, m) for r, m in found if m]
        titles = [lines[r][m.end():] for r, m in found]
        # its words come back: as another header (beside its number) or as a line of their own (a title page's)
        seen = Counter(titles)
        seen.update(_NUMBER_AT_END.match(lines[r]).group(1) for r in np.flatnonzero(paged)[:_MAX_PAGES].tolist())
        alone = repeated.seen(titles)
        for (r, m), title, line in zip(found, titles, alone.tolist()):
            paged[r] |= bool(m.group(1)) or line or seen[title] >= 2
    return paged, table


def _starts(lines: list[str], rows: np.ndarray) -> np.ndarray:
    """Where each of ``lines[rows]`` starts in their text joined by newlines."""
    length = _ints(map(len, _take(lines, rows)), len(rows))
    return np.cumsum(length + 1) - (length + 1)


_FIRST_WORD = re.compile(r"^\S+", re.MULTILINE)


def _deliberate_lines(joined: str, length: np.ndarray, width: np.ndarray, column: np.ndarray, new_block: np.ndarray,
                      block: np.ndarray, decided: np.ndarray, terminal: np.ndarray, capital: np.ndarray,
                      listed: np.ndarray, open_end: np.ndarray) -> np.ndarray:
    """Breaks after the lines of blocks whose lines were broken by hand, not wrapped (between lines i and i + 1).

    A browser copies a list without its bullets: one item per line, no blank lines ("The council will:" /
    "invest in reablement" / "recruit more carers"). Wrapping fills each line greedily, so the first word of the
    next line never fits on a wrapped line: where it would fit (with room to spare for proportional fonts), the
    break was deliberate. A block where at least half its open breaks are deliberate is a block of lines, each a
    paragraph of its own, except that a line the next word would not fit on, followed by one that opens in lower
    case, is still wrapped ("... that it" / "would help").
    """
    m = len(length)
    if m < 2:
        return np.zeros(0, dtype=bool)
    first_word = _ints(map(len, _FIRST_WORD.findall(joined)), m)
    this, nxt = slice(None, -1), slice(1, None)
    open_break = ~decided & ~new_block[nxt] & (width[this] <= _WRAP_LIMIT)
    fits = length[this] + 1 + first_word[nxt] <= _ROOM * column[this]
    # The open breaks (those the rules above did not already make: a heading's, an item's) after lines that do
    # not end a sentence, and the deliberate ones among them, counted per run of lines between sentence ends (a
    # break belongs to the run of the line before it). A paragraph's last line is short in any text, so a break
    # after a sentence's end says nothing; and a PDF pasted without blank lines puts a paper's header lines and
    # its wrapped paragraphs in one block.
    run = np.cumsum(new_block | np.concatenate(([False], terminal[:-1]))) - 1
    counted = open_break & ~terminal[this]
    n_open = np.bincount(run[this], weights=counted, minlength=run[-1] + 1)
    n_fit = np.bincount(run[this], weights=counted & fits, minlength=run[-1] + 1)
    by_hand = (n_fit >= 1) & (2 * n_fit >= n_open)
    wrapped = ~fits & ~terminal[this] & ~capital[nxt]
    # After a lead-in, only a line that stops on "the", "and" or a comma runs on into the next.
    wrapped &= ~(listed[this] & ~open_end[this])
    return open_break & by_hand[run[this]] & ~wrapped


def _after_lead_in(lead_in: np.ndarray, stop: np.ndarray, new_block: np.ndarray, block: np.ndarray) -> np.ndarray:
    """Which lines come after a lead-in ("The council will:", on a line of this block or ending the block
    before) and before the next full stop: a list's items, lower case or not."""
    index = np.arange(len(lead_in))
    last_lead = np.maximum.accumulate(np.where(lead_in, index, -1))
    last_stop = np.concatenate(([-1], np.maximum.accumulate(np.where(stop, index, -1))[:-1]))
    block_start = np.flatnonzero(new_block)[block]
    listed = (last_lead >= block_start) & (last_lead < index) & (last_stop < last_lead)
    listed |= np.concatenate(([False], lead_in[:-1]))[block_start] & (last_stop < block_start)
    return listed


def _take(items, keys) -> list:
    """``[items[k] for k in keys]`` by C-level lookups, so that many keys cost no Python work each."""
    keys = keys.tolist() if isinstance(keys, np.ndarray) else list(keys)
    if len(keys) < 2:
        return [items[k] for k in keys]
    return list(itemgetter(*keys)(items))


class _Repeats:
    """Whether a line comes back elsewhere in the text: counted over all its lines, once, when first asked."""

    def __init__(self, lines: list[str]):
        self._lines = lines
        self._counts: Counter | None = None

    def _times(self, candidates: list[str]) -> np.ndarray:
        if self._counts is None:
            self._counts = Counter(self._lines)
        return _ints(_take(self._counts, candidates), len(candidates))

    def __call__(self, candidates: list[str]) -> np.ndarray:
        return self._times(candidates) > 1 if candidates else np.zeros(0, dtype=bool)

    def seen(self, candidates: list[str]) -> np.ndarray:
        """Whether each candidate is a line of the text."""
        return self._times(candidates) > 0 if candidates else np.zeros(0, dtype=bool)


_COLUMN_LINES = 10  # in a block of this many lines or more, its longest line may be an outlier


def _widths(lines: list[str], length: np.ndarray, new_block: np.ndarray, block_first: np.ndarray,
            repeated: _Repeats, aside: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each line's block's width and column.

    The width is the block's longest line, not counting a running header or footer (a line that comes back
    elsewhere in the text and does not end a sentence): a PDF's running header ("Carrowmere County Council –
    ... Committee – 12 March 2027") is often longer than the text's own lines, and pasted without blank lines it
    is in the same block as the text; measured against it, every wrapped line looked short enough to have been
    broken by hand.

    The column, against which a break is judged deliberate (a next word that would have fitted), is the
    width less the block's few longest lines (one in every 10 lines): a long block of a PDF's text also
    holds a title or a byline set wider than its wrapped lines.
    """
    block = np.cumsum(new_block) - 1
    # A table's rows and a running header beside its page number (``aside``) are set out apart from the text's
    # wrapped lines, often wider than them: they are not measured (unless a block has nothing else).
    measured = np.where(aside, 0, length)
    width = np.maximum.reduceat(length, block_first)[block]
    if aside.any():
        narrower = np.maximum.reduceat(measured, block_first)[block]
        width = np.where(narrower > 0, narrower, width)

    def running(candidates: np.ndarray) -> np.ndarray:
        """The candidates that do not end a sentence and come back elsewhere (only candidates are scanned)."""
        texts = _take(lines, candidates)
        ends = np.cumsum(length[candidates] + 1) - 1
        unfinished = ~_flags(TERMINAL, "\n".join(texts), ends, at_end=True)
        return candidates[unfinished][repeated(list(compress(texts, unfinished.tolist())))]

    # Running lines among those as long as their block's longest.
    top = running(np.flatnonzero(length == width))
    if len(top):
        # their blocks' running lines are not measured
        lines_of = running(np.flatnonzero(np.isin(block, block[top])))
        measured[lines_of] = 0
        narrower = np.maximum.reduceat(measured, block_first)[block]
        width = np.where(narrower > 0, narrower, width)
    n_lines = np.bincount(block)
    longest_first = np.lexsort((-measured, block))  # blocks in order, each from its longest line down
    kth = measured[longest_first[block_first + n_lines // _COLUMN_LINES]]
    column = np.minimum(np.where(kth > 0, kth, width[block_first]), width[block_first])[block]
    return width, column


def _decide(lines: list[str], joined: str, length: np.ndarray, new_block: np.ndarray, width: np.ndarray,
            column: np.ndarray, repeated: _Repeats, paged: np.ndarray, table: np.ndarray, last_chunk: bool):
    """For a chunk of whole blocks: the first and last line of each segment and its kind. ``width`` and
    ``column`` are each line's block's (see ``_widths``); ``joined`` is the chunk's lines joined by newlines."""
    m = len(lines)
    line_start = np.cumsum(length + 1) - (length + 1)
    item = _flags(_ITEM, joined, line_start)
    decimal = _flags(_DECIMAL, joined, line_start) | _flags(_NUMBERED_LABEL, joined, line_start)
    speaker = _flags(_SPEAKER, joined, line_start)
    page = _flags(_PAGE_NUMBER, joined, line_start) | paged
    # (the gap after an agenda item's number is not a cell's: "4.    Better Care Fund    (Pages 7 - 28)")
    table = table & ~item
    terminal = _flags(TERMINAL, joined, line_start + length, at_end=True)
    open_end = _flags(_OPEN_END, joined, line_start + length, at_end=True)
    # (a date after a line that stops on "on", "the" or a comma is the rest of a sentence, not a stamp)
    stamp = _flags(_STAMP, joined, line_start)
    stamp[1:] &= ~open_end[:-1]
    label = (_flags(_LABEL, joined, line_start) | _flags(TIME_LINE, joined, line_start)  # lines of their own
             | _flags(_CAPTION, joined, line_start) | _flags(_TOC_ENTRY, joined, line_start + length, at_end=True)
             | stamp | _flags(SOCIAL_LINE, joined, line_start))
    field = _flags(_FIELD, joined, line_start)
    # A PDF can wrap an inline "(a) ... ; and (b) ..." so that "(b)" starts a line: after a full line whose
    # sentence goes on (and which is not itself an item's first line), a parenthesised letter or number continues
    # the paragraph rather than starting an item.
    inline = _flags(_PAREN_ITEM, joined, line_start)
    first_chars = _codes(map(itemgetter(0), lines))
    upper = _where(str.isupper, first_chars)
    digit = _where(str.isdigit, first_chars)
    capital = upper | digit
    # Thirteen words need at least 25 characters, so only longer lines are counted.
    few_words = np.ones(m, dtype=bool)
    headline = np.ones(m, dtype=bool)
    count_them = np.flatnonzero((length >= 2 * _HEADING_MAX_WORDS + 1) & ~terminal)
    words = np.array([len(lines[i].split(None, _HEADLINE_MAX_WORDS)) for i in count_them.tolist()], dtype=np.int64)
    few_words[count_them] = words <= _HEADING_MAX_WORDS
    headline[count_them] = words <= _HEADLINE_MAX_WORDS

    block = np.cumsum(new_block) - 1
    # Whether the text breaks between line i and line i + 1.
    this, nxt = slice(None, -1), slice(1, None)
    inline[1:] &= (~new_block[1:] & ~terminal[:-1] & ~item[:-1] & (length[:-1] >= _FULL_LINE)
                   & (length[:-1] >= 0.8 * width[:-1]) & (length[:-1] <= _WRAP_LIMIT))
    inline[0] = False
    # At a PDF's page break: the running header or footer beside the page number (a line that comes back
    # elsewhere in the text) and a footnote at the page's foot ("12 Corrie Institute analysis of ...", after a
    # sentence the page break cut) are lines of their own, not part of the paragraph they interrupt.
    beside_page = np.zeros(m, dtype=bool)
    beside_page[1:] |= page[:-1]
    beside_page[:-1] |= page[1:]
    running = beside_page & headline & ~page
    candidates = np.flatnonzero(running)
    running[candidates] = repeated(_take(lines, candidates))
    note = _flags(SUPERSCRIPT_NOTE, joined, line_start)
    source = _flags(_SOURCE, joined, line_start)
    quote_opens = _flags(_OPENS_QUOTE, joined, line_start)
    # A speaker after a dash ends a quotation's paragraph only when that paragraph opened with the quotation: after
    # a list's item that ends in a quotation ('- Councils said "too little"'), the next dash is the next item.
    speaker_after_quote = _flags(_DASH_SPEAKER, joined, line_start)
    speaker_after_quote[1:] &= _flags(_CLOSES_QUOTE, joined, line_start + length, at_end=True)[:-1]
    speaker_after_quote[0] = False
    if speaker_after_quote.any():
        index = np.arange(m)
        opened = np.maximum.accumulate(np.where(item | quote_opens | new_block, index, -1))
        candidates = np.flatnonzero(speaker_after_quote)
        speaker_after_quote[candidates] = quote_opens[opened[candidates - 1]] & ~item[opened[candidates - 1]]
    quoted = _flags(_QUOTE_THEN_SPEAKER, joined, line_start + length, at_end=True)
    bracketed = _flags(_BRACKETED_END, joined, line_start + length, at_end=True)  # (a quoted speaker's too)
    footnote = _flags(FOOTNOTE, joined, line_start) & ~item
    footnote[1:] &= ~terminal[:-1] & ~new_block[1:]
    footnote[0] = False
    page_ahead = np.zeros(m, dtype=bool)  # a page number within the next few lines of its block: a page's foot
    for k in range(1, _FOOTNOTE_LINES + 1):
        page_ahead[:-k] |= page[k:] & (block[:-k] == block[k:])
    footnote &= page_ahead
    # In a PDF pasted without blank lines, a numbered paragraph or a speaker's turn after a line that ends a
    # sentence starts anew.
    forced = ((item[nxt] & ~inline[nxt] & ~speaker_after_quote[nxt]) | speaker_after_quote[this]
              | page[nxt] | page[this] | new_block[nxt] | label[nxt] | label[this] | running[nxt] | running[this]
              | footnote[nxt] | ((decimal[nxt] | speaker[nxt]) & terminal[this])
              | (table[this] != table[nxt]) | note[nxt] | source[nxt] | (source[this] & upper[nxt])
              | (quote_opens[nxt] & (terminal[this] | bracketed[this])) | field[nxt]
              | (quoted[this] & upper[nxt]))
    sentence_ends_short_line = length[this] < 0.8 * width[this]
    # In a block whose lines are all short (a menu pasted with a page: "Adult social care" / "Health and
    # wellbeing" / "News"), a capitalised line is never a wrapped part of the line before it.
    short = length[this] < np.maximum(0.7 * width[this], 20)
    # (a decimal-numbered paragraph opens with a digit, not a capital: "Priority 2: Housing" / "4.3 The ...")
    opens = upper | decimal
    heading_then_capital = (capital[this] & (short | (width[this] <= _MENU_WIDTH)) & ~item[this]
                            & few_words[this] & opens[nxt])
    # A numbered section heading in a PDF pasted without blank lines ("3. Housing as a health service" then
    # "Most of what determines ...") is not the first line of a list item: a short numbered line without a
    # full stop ends there when the next line is prose (or a minutes label). A list's items follow one another,
    # so a numbered line after another item, or before one, or before a short line, stays an item.
    # A numbered heading may be followed by a subheading first ("4. Progress against our priorities" /
    # "Priority 1: Tackling health inequalities" / "4.1 The gap ...").
    subheading = np.zeros(m, dtype=bool)
    subheading[:-1] = capital[:-1] & few_words[:-1] & ~terminal[:-1] & ~item[:-1] & (decimal[1:] | upper[1:])
    subheading[:-1] &= (length[1:] >= 0.7 * column[1:]) | decimal[1:]
    numbered_heading = item & few_words & ~terminal
    # (after an item of another style, "(f) urgent services." then "2. What this means", the list has ended)
    numbered_heading[1:] &= ~(item[:-1] & (digit[:-1] == digit[1:]))
    # (in a block that was never wrapped, the line after a short numbered one cannot be its wrapped rest: an
    # unmarked line with a capital after "1. Fewer people waiting in hospital" is the first of its section's items)
    # (a full line is judged against the column of wrapped text, not the block's widest line: a report's quotes
    # and contact lines, pasted unwrapped, are wider than its prose)
    numbered_heading[:-1] &= ~item[1:] & ((length[1:] >= 0.7 * column[1:]) | label[1:] | subheading[1:]
                                          | ((width[1:] > _WRAP_LIMIT) & upper[1:]))
    heading_then_capital |= numbered_heading[this] & short & opens[nxt]
    # A block with a line too long to be hard-wrapped holds unwrapped paragraphs, one per line, except that a
    # long line whose sentence does not end there is continued by the short lines after it (a last line
    # wrapped by hand or by a PDF: "... which made it" / "very easy."). A short line before a long one, a
    # finished sentence and a heading-like line end a paragraph.
    long = length > _WRAP_LIMIT
    lead_in = _flags(LEAD_IN, joined, line_start + length, at_end=True)
    stop = _flags(SENTENCE_STOP, joined, line_start + length, at_end=True)
    listed = _after_lead_in(lead_in, stop, new_block, block)
    # (after a lead-in the lines are a list's items, unless one stops on "the", "and" or a comma: "partners have
    # agreed to:" / "treat each other as equals, ... in our own organisations" / "share data safely ...")
    # Nor does a full line run on into a full line that starts with a capital: in a block that was never wrapped,
    # that is the next of a list's unmarked items ("Our ten asks" / "A settlement for adult social care that ..."
    # / "A fair pay deal for care workers ..."), not the rest of the sentence (a wrapped sentence's rest is short,
    # or starts in lower case).
    unwrapped = (terminal[this] | long[nxt] | (listed[this] & ~open_end[this])
                 | (~long[this] & capital[this] & headline[this] & ~item[this] & upper[nxt])
                 | ((length[this] >= _FULL_LINE) & (length[nxt] >= _FULL_LINE) & upper[nxt] & ~open_end[this])
                 | (numbered_heading[this] & opens[nxt]))
    # A section heading in a PDF pasted without blank lines, after a full line that ends a sentence ("... care home
    # places that are closing." / "Devolution and the county geography" / "5. The English ..."): a short
    # capitalised line without a full stop, with a break after it, is not the rest of the paragraph before it.
    # (A line that stops on "the", "of" or "and" is a sentence cut by a page break, not a heading.)
    heading_line = np.zeros(m, dtype=bool)
    heading_line[:-1] = (capital[this] & few_words[this] & ~terminal[this] & ~item[this] & short
                         & (forced | heading_then_capital))
    heading_line &= ~open_end
    ends_before_heading = terminal[this] & heading_line[nxt]
    breaks = forced | ends_before_heading | np.where(width[this] > _WRAP_LIMIT, unwrapped,
                                                     np.where(terminal[this], sentence_ends_short_line,
                                                              heading_then_capital))
    breaks |= _deliberate_lines(joined, length, width, column, new_block, block, breaks, terminal, capital, listed,
                                open_end)
    # Items of a list without bullets end with ";" or "; and": two such line ends in one block are a list's
    # items, not a wrap that happened to fall after a semicolon.
    item_end = _flags(ITEM_END, joined, line_start + length, at_end=True)
    listed = np.bincount(block, weights=item_end, minlength=block[-1] + 1) >= 2
    breaks |= item_end[this] & listed[block[this]]
    breaks[speaker_after_quote[nxt] & ~new_block[nxt]] = False
    # A table's rows run on into one another: the table is one paragraph, however short its rows.
    rows = table[this] & table[nxt]
    breaks[rows] = new_block[nxt][rows]

    first = np.concatenate(([0], np.flatnonzero(breaks) + 1))
    last = np.concatenate((first[1:] - 1, [m - 1]))
    one_line = first == last
    single = first[one_line]
    kind = np.zeros(len(first), dtype=np.int8)  # 0 paragraph, 1 heading, 2 page number
    # A numbered line is a heading when its number heads a section (followed by prose, not by the next item).
    # (a line that stops on "the" or a comma is a sentence cut short, not a heading)
    heading = ~terminal[single] & ~open_end[single] & (~item[single] | numbered_heading[single]) & few_words[single]
    if last_chunk and one_line[-1]:
        heading[-1] = False  # the text's last segment is never a heading
    kind[one_line] = np.where(page[single], 2, np.where(heading, 1, 0))
    return first, last, kind


_KINDS = (PARAGRAPH, HEADING, PAGE_NUMBER)


def _segments(text: str, max_paragraphs: int | None, paragraphs_only: bool):
    """(start, end, kind, its one line or None) for each segment in order; PayloadTooLarge over the limit."""
    lines, start, end, length, new_block = _lines(text)
    if not lines:
        return
    n = len(lines)
    block_first = np.flatnonzero(new_block)
    repeated = _Repeats(lines)
    joined = "\n".join(lines)
    line_start = np.cumsum(length + 1) - (length + 1)
    paged, table = _page_lines(joined, lines, line_start, repeated)
    width, column = _widths(lines, length, new_block, block_first, repeated, paged | table)
    start, end = start.tolist(), end.tolist()
    count, lo = 0, 0
    while lo < n:
        after = np.searchsorted(block_first, lo + _CHUNK_LINES)
        hi = int(block_first[after]) if after < len(block_first) else n
        # A chunk is decided with the line on either side of it (the last line of the block before, the first
        # of the block after), so that decisions looking one line across a block's edge are the same whatever
        # the chunks; those lines' own segments belong to the chunks they are in.
        a, b = max(lo - 1, 0), min(hi + 1, n)
        edge = new_block[a:b].copy()
        edge[0] = True
        chunk = joined[line_start[a]:line_start[b - 1] + length[b - 1]]
        first, last, kind = _decide(lines[a:b], chunk, length[a:b], edge, width[a:b], column[a:b], repeated,
                                    paged[a:b], table[a:b], b == n)
        own = (first >= lo - a) & (first < hi - a)
        first, last, kind = first[own], last[own], kind[own]
        is_paragraph = kind == 0
        count += int(is_paragraph.sum())
        if max_paragraphs is not None and count > max_paragraphs:
            raise PayloadTooLarge(f"the text has more than {max_paragraphs} paragraphs")
        if paragraphs_only:
            first, last, kind = first[is_paragraph], last[is_paragraph], kind[is_paragraph]
        for s_, e_, k in zip((first + a).tolist(), (last + a).tolist(), kind.tolist()):
            yield start[s_], end[e_], _KINDS[k], lines[s_] if s_ == e_ else None
        lo = hi


# A word a typesetter hyphenated at a line's end ("preven-" / "tion") is one word again; a compound that broke
# at its own hyphen ("long-" / "term", "NHS-" / "led", "follow-" / "up") keeps it. The two cannot be told apart
# without a dictionary, so the hyphen stays after an acronym, before a short function word, and after one of
# these compound heads unless what follows is a suffix ("place-" / "ment", "short-" / "age").
_HYPHEN_AT_LINE_END = re.compile(r"\b([A-Za-z]+)-[ \t]*(?:\r\n|[\n\r\u2028\u2029])\s*(?=([a-z]+))")
_COMPOUND_HEADS = frozenset("""
    age anti bed city co council cross decision discharge drop end evidence extra face family first front full half
    high home joined joint large long low means multi needs non one outcome outcomes person place post real ring
    risk second self short sign single small spot step stop system third top upper user value well whole working
    year two three four five six seven eight nine ten twelve twenty
""".split())
_FUNCTION_WORDS = frozenset("a and at by down for in of off on or out over the to up".split())
_SUFFIX = re.compile(r"(?:ment|ful|less|ness|is|iz|ity|ier|iest|ing|ed|er|al|ly|ship|tion|sion|ance|ence|ant|ent|"
                     r"atic|ic|teen|ty|age|lor|nel|ple|ary|est|ous|ive|ure|ping|ped|ner)")


def _rejoin(m: re.Match) -> str:
    head, tail = m.group(1), m.group(2)
    keep = (head.isupper() and len(head) > 1 or tail in _FUNCTION_WORDS
            or head.lower() in _COMPOUND_HEADS and not _SUFFIX.match(tail))
    return head + ("-" if keep else "")


def rejoin_lines(text: str) -> str:
    """A multi-line run of text as one paragraph's words: whitespace collapsed, and words hyphenated across a
    line end rejoined."""
    if "-" in text:
        text = _HYPHEN_AT_LINE_END.sub(_rejoin, text)
    return " ".join(text.split())


def _collapse(text: str, start: int, end: int, line: str | None) -> str:
    return " ".join(line.split()) if line is not None else rejoin_lines(text[start:end])


def segment(text: str, max_paragraphs: int | None = None) -> list[Segment]:
    """Every non-blank stretch of ``text`` as a segment of kind paragraph, heading or page_number, in order.

    With ``max_paragraphs``, a text with more paragraphs than that raises PayloadTooLarge (the message names
    the limit) as soon as the count is exceeded.
    """
    return [Segment(_collapse(text, start, end, line), start, end, kind)
            for start, end, kind, line in _segments(text, max_paragraphs, paragraphs_only=False)]


def split_paragraphs(text: str, max_paragraphs: int | None = None) -> list[Paragraph]:
    """The paragraphs of ``text`` to tag, numbered from 0, with offsets into ``text``.

    With ``max_paragraphs``, a text with more paragraphs than that raises PayloadTooLarge (the message names
    the limit) as soon as the count is exceeded, before the rest of the text is split.
    """
    return [Paragraph(i, _collapse(text, start, end, line), start, end)
            for i, (start, end, _, line) in enumerate(_segments(text, max_paragraphs, paragraphs_only=True))]
