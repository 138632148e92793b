"""Context-aware tagging: a paragraph's themes read with what surrounds it in its document.

A paragraph's meaning often comes from its neighbours: bullets after "The eight-point plan is:", a quote whose
attribution says who is speaking and about what, a short heading under a document's title. The context-free
tagger (``features.ThemeModel``) scores each paragraph alone; this second stage re-scores each theme from a
paragraph's own first-stage probabilities together with those of its previous and next paragraphs, its list
lead-in, the document's title, the document as a whole (mean and max) and its kind and position. It is
stacking: the second stage is trained on out-of-fold first-stage probabilities, with folds grouped by
document, so what it learns about neighbours is what an unseen document looks like.

The same paragraph in the same document always gets the same scores: features depend on its own document
only, never on other documents in a batch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.utils.validation import check_is_fitted

from classifier.model.tagger import best_thresholds

TAGGED_KINDS = ("heading", "body", "list_item", "quote")


@dataclass(frozen=True)
class DocumentLayout:
    """Where each tagged paragraph of one document sits: its kind, and the row of its title's probabilities.

    ``rows`` index the first-stage probability matrix (one row per tagged paragraph, in document order);
    ``title_row`` is the row holding the title's probabilities (a paragraph that is the title, or an extra row
    scored for a title given apart from the text), or None when the document has no title.
    """

    rows: tuple[int, ...]
    kinds: tuple[str, ...]
    title_row: int | None = None


def context_features(proba: np.ndarray, layouts: list[DocumentLayout]) -> np.ndarray:
    """The second stage's input for every row named in ``layouts``, in the order they name them.

    Per theme: own, previous, next, list lead-in, title, document mean and document max probabilities;
    then kind one-hot, relative position, whether the paragraph has neighbours, and the document's length.
    """
    n_themes = proba.shape[1]
    blocks = []
    for layout in layouts:
        rows = np.asarray(layout.rows, dtype=int)
        n = len(rows)
        if n == 0:
            continue
        own = proba[rows]
        zeros = np.zeros(n_themes)
        prev = np.vstack([zeros, own[:-1]]) if n > 1 else zeros[None, :]
        nxt = np.vstack([own[1:], zeros]) if n > 1 else zeros[None, :]
        lead = np.zeros_like(own)
        last_lead = None
        for i, kind in enumerate(layout.kinds):
            if kind == "list_item":
                if last_lead is not None:
                    lead[i] = own[last_lead]
            else:
                last_lead = i
        title = np.tile(proba[layout.title_row], (n, 1)) if layout.title_row is not None else np.zeros_like(own)
        mean = np.tile(own.mean(axis=0), (n, 1))
        peak = np.tile(own.max(axis=0), (n, 1))
        kinds = np.array([[k == kind for kind in TAGGED_KINDS] for k in layout.kinds], dtype=float)
        position = (np.arange(n) / max(n - 1, 1))[:, None]
        alone = np.full((n, 1), float(n == 1))
        size = np.full((n, 1), np.log1p(n) / 4.0)
        blocks.append(np.hstack([own, prev, nxt, lead, title, mean, peak, kinds, position, alone, size]))
    if not blocks:
        return np.zeros((0, 7 * n_themes + len(TAGGED_KINDS) + 3))
    return np.vstack(blocks)


class ContextTagger(BaseEstimator):
    """Per-theme logistic regression over ``context_features``, with per-theme thresholds.

    Follows scikit-learn's conventions: parameters untouched in ``__init__``, fitted state in ``attr_``.
    ``fit`` takes the feature matrix and a 0/1 label matrix; thresholds are set by ``tune_thresholds`` on
    out-of-fold probabilities (as the first stage's are), 0.5 until then.
    """

    def __init__(self, C: float = 1.0, max_iter: int = 2000):
        self.C = C
        self.max_iter = max_iter

    def fit(self, F: np.ndarray, Y: np.ndarray) -> "ContextTagger":
        Y = np.asarray(Y).astype(int)
        self.n_themes_ = Y.shape[1]
        self.heads_ = []
        for j in range(Y.shape[1]):
            y = Y[:, j]
            if y.min() == y.max():
                self.heads_.append(float(y[0]))
            else:
                self.heads_.append(LogisticRegression(C=self.C, max_iter=self.max_iter).fit(F, y))
        self.thresholds_ = np.full(Y.shape[1], 0.5)
        return self

    def predict_proba(self, F: np.ndarray) -> np.ndarray:
        check_is_fitted(self, "heads_")
        out = np.zeros((F.shape[0], self.n_themes_))
        for j, head in enumerate(self.heads_):
            out[:, j] = head if isinstance(head, float) else head.predict_proba(F)[:, 1]
        return out

    def tune_thresholds(self, Y: np.ndarray, proba: np.ndarray) -> "ContextTagger":
        check_is_fitted(self, "heads_")
        self.thresholds_ = best_thresholds(Y, proba)
        return self


def layouts_for(groups, kinds, title_rows: dict | None = None) -> list[DocumentLayout]:
    """Layouts for rows listed in document order: consecutive rows with the same group form one document.

    ``title_rows`` maps a group to the row holding its title's probabilities.
    """
    title_rows = title_rows or {}
    out, start = [], 0
    groups = list(groups)
    for i in range(1, len(groups) + 1):
        if i == len(groups) or groups[i] != groups[start]:
            out.append(DocumentLayout(tuple(range(start, i)), tuple(kinds[start:i]), title_rows.get(groups[start])))
            start = i
    return out


def cross_validated_context(proba: np.ndarray, Y: np.ndarray, layouts: list[DocumentLayout], folds, C: float = 1.0):
    """Out-of-fold second-stage probabilities for out-of-fold first-stage ``proba`` (rows in layout order) and
    the second stage fitted on every row (thresholds tuned on the out-of-fold probabilities)."""
    F = context_features(proba, layouts)
    order = np.concatenate([np.asarray(lay.rows, dtype=int) for lay in layouts if lay.rows])
    Yo = np.asarray(Y)[order]
    position = np.empty(len(order), dtype=int)
    position[order] = np.arange(len(order))
    oof = np.zeros(Yo.shape)
    for train, held in folds:
        tr, he = position[train], position[held]
        oof[he] = ContextTagger(C=C).fit(F[tr], Yo[tr]).predict_proba(F[he])
    final = ContextTagger(C=C).fit(F, Yo).tune_thresholds(Yo, oof)
    back = np.zeros_like(oof)
    back[order] = oof
    return back, final
