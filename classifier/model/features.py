"""From texts and their embeddings to the tagger's feature matrix, and the saved model that owns that step.

A ``ThemeModel`` is what a model version stores: the fitted tagger plus, when it uses lexical features, the
TF-IDF vocabularies (word n-grams, and character n-grams when ``char_share`` is set) fitted on its training
text. Scoring needs the texts and their embeddings, both of which the pipeline already has.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix, hstack
from sklearn.feature_extraction.text import TfidfVectorizer, strip_accents_unicode

from classifier.model.context import ContextTagger, DocumentLayout, context_features
from classifier.model.tagger import ThemeTagger


# A prefix is written with a hyphen or without ("re-designing" / "redesigning", "co-ordination", "re-ablement"),
# and word n-grams cut the hyphenated form into a stray "re" and a different word: the codebook's "job redesign"
# no longer matched "Re-designing jobs". The lexical blocks read both forms as one. (A vectorizer keeps the
# preprocessor it was fitted with, so models saved before this one still read text as they were trained to.)
_PREFIX_HYPHEN = re.compile(r"\b(re|co|pre|non|multi|inter|sub)-(?=[a-z])")


def lexical_form(text: str) -> str:
    """What the lexical blocks read: lower case, accents stripped, prefix hyphens joined."""
    return _PREFIX_HYPHEN.sub(r"\1", strip_accents_unicode(text.lower()))


def make_vectorizer() -> TfidfVectorizer:
    return TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True, preprocessor=lexical_form)


def make_char_vectorizer() -> TfidfVectorizer:
    """Character n-grams within word boundaries: they match inflections and compounds ("commissioners",
    "co-commissioning", "ICBs") that word n-grams treat as unrelated."""
    return TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), min_df=3, sublinear_tf=True,
                           preprocessor=lexical_form)


@dataclass
class ThemeModel:
    tagger: ThemeTagger
    vectorizer: TfidfVectorizer | None = None
    use_embeddings: bool = True
    char_vectorizer: TfidfVectorizer | None = None
    # The second, context-aware stage for paragraphs read in their document (model/context.py); None when
    # training found it no better than the paragraph alone, or for models saved before it existed.
    context: ContextTagger | None = None
    # With a gate, the tagger has one column more than there are themes: "the paragraph raises any theme at
    # all", learnt from every themed and themeless paragraph. Only the context stage reads it, as evidence
    # against tagging procedure, biographies and "about us" text. None: every column is a theme.
    n_themes: int | None = None

    def _themes(self, matrix: np.ndarray) -> np.ndarray:
        return matrix[..., :self.n_themes] if self.n_themes is not None else matrix

    @property
    def thresholds(self) -> np.ndarray:
        return self._themes(self.tagger.thresholds_)

    @property
    def document_thresholds(self) -> np.ndarray:
        """Thresholds for paragraphs tagged in their document (the context stage's, when there is one)."""
        return self.context.thresholds_ if self.context is not None else self.thresholds

    def document_proba(self, texts, vectors: np.ndarray, layouts: list[DocumentLayout]) -> np.ndarray:
        """Probabilities for rows read in their documents: the first stage for every row, then, for the rows
        that ``layouts`` place in a document, the context stage. Rows only a layout's title points at keep
        their first-stage probabilities."""
        full = self.tagger.predict_proba(self.features(texts, vectors))
        out = self._themes(full).copy()
        if self.context is None or not layouts:
            return out
        rows = np.concatenate([np.asarray(lay.rows, dtype=int) for lay in layouts])
        out[rows] = self.context.predict_proba(context_features(full, layouts))
        # Kinds for which cross-validation found the paragraph alone better than in context (list items: a
        # bullet is its own evidence more than its lead-in is) keep their first-stage decisions, put on the
        # context stage's threshold scale so that one set of document thresholds still cuts every row.
        alone_kinds = getattr(self.context, "first_stage_kinds_", ())
        if alone_kinds:
            kinds = np.concatenate([np.asarray(lay.kinds, dtype=object) for lay in layouts])
            keep = rows[np.isin(kinds, list(alone_kinds))]
            out[keep] = rescale(self._themes(full)[keep], self.thresholds, self.context.thresholds_)
        # The gate: a paragraph the first stage thinks raises no theme at all (its "any theme" probability under
        # the threshold training chose) gets none, its scores capped under every threshold in proportion. It is
        # what keeps procedure, biographies and "about us" text untagged in documents (issue 12).
        gate = getattr(self.context, "gate_threshold_", 0.0)
        if gate > 0 and self.n_themes is not None and full.shape[1] > self.n_themes:
            any_theme = full[rows, self.n_themes]
            shut = any_theme < gate
            cap = self.context.thresholds_[None, :] * (any_theme[shut] / gate)[:, None]
            out[rows[shut]] = np.minimum(out[rows[shut]], np.nextafter(cap, 0))
        return out

    def features(self, texts, vectors: np.ndarray):
        if self.vectorizer is None:
            return np.asarray(vectors)
        lexical = self.vectorizer.transform(list(texts))
        if not self.use_embeddings:
            return lexical
        blocks = [csr_matrix(np.asarray(vectors, dtype=np.float64)), lexical]
        if self.char_vectorizer is not None:
            blocks.append(self.char_vectorizer.transform(list(texts)))
        return hstack(blocks).tocsr()

    def predict_proba(self, texts, vectors: np.ndarray) -> np.ndarray:
        return self._themes(self.tagger.predict_proba(self.features(texts, vectors)))

    def predict(self, texts, vectors: np.ndarray) -> np.ndarray:
        return self._themes(self.tagger.predict(self.features(texts, vectors)))

    def lexical_part(self) -> "ThemeModel":
        """A freshly fitted blended model's TF-IDF half as a lexical model of its own (the baseline)."""
        return ThemeModel(self.tagger.lexical_tagger(), self.vectorizer, use_embeddings=False, n_themes=self.n_themes)


def rescale(proba: np.ndarray, source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Map probabilities cut at ``source`` thresholds onto ``target`` thresholds, piecewise linearly and
    monotonically: 0 stays 0, 1 stays 1 and each theme's source threshold lands on its target one, so a row is
    over its target threshold exactly when it was over its source threshold."""
    source = np.clip(np.asarray(source, dtype=float), 1e-6, 1 - 1e-6)
    target = np.clip(np.asarray(target, dtype=float), 1e-6, 1 - 1e-6)
    below = proba * (target / source)
    above = target + (proba - source) * ((1 - target) / (1 - source))
    return np.clip(np.where(proba >= source, np.maximum(above, target), np.minimum(below, np.nextafter(target, 0))),
                   0.0, 1.0)


def fit_model(params: dict, texts: list[str], vectors: np.ndarray, Y: np.ndarray, seed: int,
              n_jobs: int | None = None) -> ThemeModel:
    """Fit one model of the kind ``params["kind"]`` names: embedding, blended or lexical (the baseline).
    A blended model with a ``char_share`` adds a character n-gram block to the word n-gram one."""
    params = dict(params, n_jobs=n_jobs)
    kind = params.pop("kind")
    if kind == "embedding":
        return ThemeModel(ThemeTagger(random_state=seed, **params).fit(vectors, Y))
    vectorizer = make_vectorizer().fit(list(texts))
    if kind == "lexical":
        model = ThemeModel(ThemeTagger(random_state=seed, **params), vectorizer, use_embeddings=False)
    elif kind == "blended":
        chars = make_char_vectorizer().fit(list(texts)) if params.get("char_share") else None
        if chars is not None:
            params["n_word"] = len(vectorizer.vocabulary_)
        model = ThemeModel(ThemeTagger(random_state=seed, n_dense=vectors.shape[1], **params), vectorizer,
                           char_vectorizer=chars)
    else:
        raise ValueError(f"unknown model kind {kind!r}")
    model.tagger.fit(model.features(texts, vectors), Y)
    return model
