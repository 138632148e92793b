"""Index terms: the words keyword search matches, as one function for what is stored and what is asked.

Lower-cased words of two or more characters, English stop words removed, Snowball-stemmed (bm25s's tokenizer
with PyStemmer), so "commissioning" finds "commissioned" and a query and a statement are always cut the same
way. A statement's terms include its document title and organisation: a paragraph often leaves its subject
to its title ("Response to the workforce consultation"), and searching the three together lifted hybrid
nDCG@10 on the judged queries from 0.730 to 0.761 (bench/search_tuning.py).
"""

from __future__ import annotations

import bm25s
import Stemmer

_STEMMER = Stemmer.Stemmer("english")


def terms(texts: list[str]) -> list[list[str]]:
    """Each text's terms, in order (repeats kept)."""
    if not texts:
        return []
    return bm25s.tokenize(texts, stopwords="en", stemmer=_STEMMER, return_ids=False, show_progress=False)


def statement_terms(rows: list[tuple[str | None, str | None, str]]) -> list[str]:
    """The space-separated index terms of each (title, organisation, text)."""
    return [" ".join(t) for t in terms([f"{title or ''} {organisation or ''} {text}"
                                        for title, organisation, text in rows])]
