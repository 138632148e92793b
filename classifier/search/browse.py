"""What a person browsing search results gets: pages of one ranking, an order by date, copies grouped.

``browse`` asks the engine (``SearchIndex.search``) for the top hits to a fixed depth, groups near-identical
statements into one hit (the earliest, with the others as ``copies``), then cuts the page
``[offset, offset + k)`` and, if asked, orders that page by date. The depth depends only on how far the page
reaches (``DEPTHS``), never on ``k`` or ``offset`` alone, so ``k=10&offset=10`` is exactly hits 11-20 of
``k=20``: both are cut from the same ranking.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from classifier.errors import InvalidInput, NotFound
from classifier.search import copies as copy_method
from classifier.search.engine import SearchHit, SearchIndex, best_sentence
from classifier.storage.records import Filters, Statement
from classifier.text.dates import date_bounds
from classifier.text.structure import SEARCHABLE_KINDS

SORTS = ("relevance", "date", "-date")
# How deep the ranking is taken for a page reaching to hit n: the first bucket that holds n + 1 hits (the one
# past the page says whether there are more). Paging within a bucket is exact; 1,000 is as deep as search
# pages go (the whole-corpus export is for more).
DEPTHS = (100, 1000)
MAX_DEPTH = DEPTHS[-1]


@dataclass(frozen=True)
class Copy:
    id: int
    organisation: str | None
    date: str | None

    def to_dict(self) -> dict:
        return {"id": self.id, "organisation": self.organisation, "date": self.date}


@dataclass(frozen=True)
class Neighbour:
    """A paragraph next to a hit in its document, shown as context."""

    index: int
    kind: str
    text: str

    def to_dict(self) -> dict:
        return {"index": self.index, "kind": self.kind, "text": self.text}


@dataclass(frozen=True)
class BrowseHit:
    hit: SearchHit
    copies: tuple[Copy, ...] = ()
    # (the paragraph before, the paragraph after) in the hit's document, when asked for; None at either end
    context: tuple[Neighbour | None, Neighbour | None] | None = None

    @property
    def statement(self) -> Statement:
        return self.hit.statement

    @property
    def score(self) -> float:
        return self.hit.score

    def to_dict(self) -> dict:
        s = self.hit.statement
        out = dict(self.hit.to_dict(), document_id=s.document_id, paragraph_index=s.paragraph_index,
                   copies=[c.to_dict() for c in self.copies])
        if self.context is not None:
            before, after = self.context
            out["context"] = {"before": before.to_dict() if before else None,
                              "after": after.to_dict() if after else None}
        return out


@dataclass(frozen=True)
class BrowseResult:
    query: str
    mode: str
    sort: str
    offset: int
    k: int
    results: tuple[BrowseHit, ...]
    has_more: bool
    total: int | None          # hits in the whole ranking, when it ended before the depth taken

    def to_dict(self) -> dict:
        return {"query": self.query, "mode": self.mode, "sort": self.sort, "offset": self.offset, "k": self.k,
                "has_more": self.has_more, "total": self.total, "results": [r.to_dict() for r in self.results]}


def date_key(statement: Statement, newest_first: bool = False) -> tuple:
    """Sort key: dated statements by the first day their date covers (oldest first, or newest first), then by
    id; undated statements last either way."""
    if not statement.date:
        return (1, 0, statement.id)
    day = date_bounds(statement.date)[0].replace("-", "")
    return (0, -int(day) if newest_first else int(day), statement.id)


def group_copies(store, hits: tuple[SearchHit, ...], query: str, filters: Filters) -> list[BrowseHit]:
    """One hit per group of copies, in the order of each group's best-ranked member: the group's earliest
    statement (passing ``filters``) with its best score, and the others as copies, earliest first. Highlights
    are left to the page (``browse``)."""
    if not hits:
        return []
    copy_method.sync_signatures(store)
    ids = [h.statement.id for h in hits]
    found = copy_method.copies_of(store, ids)
    others = sorted({c for cs in found.values() for c in cs} - set(ids))
    allowed = store.passing(others, filters) | set(ids)
    statements = {h.statement.id: h.statement for h in hits}
    statements.update(store.get([i for i in others if i in allowed]))
    seen: set[int] = set()
    out = []
    for h in hits:
        sid = h.statement.id
        if sid in seen:
            continue
        group = {sid} | {c for c in found[sid] if c in allowed and c in statements}
        group -= seen
        seen |= group
        members = sorted((statements[i] for i in group), key=date_key)
        first = members[0]
        hit = h if first.id == sid else SearchHit(first, h.score, None)
        out.append(BrowseHit(hit, tuple(Copy(m.id, m.organisation, m.date) for m in members[1:])))
    return out


def browse(index: SearchIndex, query: str, k: int = 10, offset: int = 0, filters: Filters = Filters(),
           mode: str = "hybrid", sort: str = "relevance", group: bool = True, context: bool = False) -> BrowseResult:
    """Hits ``offset + 1`` to ``offset + k`` of the ranking for ``query`` (copies grouped when ``group``),
    ordered by relevance or, with ``sort`` "date" / "-date", that same page oldest or newest first. With
    ``context`` each hit carries the paragraphs before and after it in its document."""
    if sort not in SORTS:
        raise InvalidInput(f"unknown sort {sort!r}; use one of {', '.join(SORTS)}")
    if not isinstance(k, int) or not isinstance(offset, int) or k < 1 or offset < 0:
        raise InvalidInput("k must be at least 1 and offset at least 0")
    if offset + k > MAX_DEPTH:
        raise InvalidInput(f"offset + k must be at most {MAX_DEPTH}; export the statements for more",
                           {"maximum": MAX_DEPTH})
    need = offset + k
    for depth in DEPTHS:
        if need >= depth and depth != MAX_DEPTH:
            continue
        # Highlights cost a sentence split per hit: found below for the page's hits alone.
        response = index.search(query, k=depth, filters=filters, mode=mode, highlights=False)
        raw = response.results
        ranked = (group_copies(index.store, raw, response.query, filters) if group
                  else [BrowseHit(h) for h in raw])
        ended = len(raw) < depth
        if len(ranked) > need or ended or depth == MAX_DEPTH:
            break
    page = [replace(h, hit=replace(h.hit, highlight=best_sentence(h.statement.text, response.query)))
            for h in ranked[offset:need]]
    if context:
        page = [replace(h, context=neighbours(index.store, h.statement)) for h in page]
    if sort != "relevance":
        page = sorted(page, key=lambda h: date_key(h.statement, newest_first=sort == "-date"))
    return BrowseResult(response.query, mode, sort, offset, k, tuple(page), len(ranked) > need,
                        len(ranked) if ended else None)


def neighbours(store, statement: Statement) -> tuple[Neighbour | None, Neighbour | None]:
    """The paragraphs just before and after ``statement`` in its document, skipping page furniture and readers'
    comments."""
    if statement.document_id is None or statement.paragraph_index is None:
        return (None, None)
    try:
        paragraphs = store.get_document(statement.document_id).paragraphs
    except NotFound:  # a statement stored before documents were
        return (None, None)
    content = [p for p in paragraphs if p.kind in SEARCHABLE_KINDS]   # not furniture, not readers' comments
    at = next((i for i, p in enumerate(content) if p.index == statement.paragraph_index), None)
    if at is None:
        return (None, None)

    def one(i):
        return Neighbour(content[i].index, content[i].kind, content[i].text) if 0 <= i < len(content) else None

    return (one(at - 1), one(at + 1))
