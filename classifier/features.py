"""From texts and their embeddings to the tagger's feature matrix, and the saved model that owns that step.

A ``ThemeModel`` is what a model version stores: the fitted tagger plus, when it uses lexical features, the
TF-IDF vocabulary fitted on its training text. Scoring needs the texts and their embeddings, both of which the
pipeline already has.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix, hstack
from sklearn.feature_extraction.text import TfidfVectorizer

from .tagger import ThemeTagger


def make_vectorizer() -> TfidfVectorizer:
    return TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True, strip_accents="unicode")


@dataclass
class ThemeModel:
    tagger: ThemeTagger
    vectorizer: TfidfVectorizer | None = None
    use_embeddings: bool = True

    @property
    def thresholds(self) -> np.ndarray:
        return self.tagger.thresholds_

    def features(self, texts, vectors: np.ndarray):
        if self.vectorizer is None:
            return np.asarray(vectors)
        lexical = self.vectorizer.transform(list(texts))
        if not self.use_embeddings:
            return lexical
        return hstack([csr_matrix(np.asarray(vectors, dtype=np.float64)), lexical]).tocsr()

    def predict_proba(self, texts, vectors: np.ndarray) -> np.ndarray:
        return self.tagger.predict_proba(self.features(texts, vectors))

    def predict(self, texts, vectors: np.ndarray) -> np.ndarray:
        return self.tagger.predict(self.features(texts, vectors))

    def lexical_part(self) -> "ThemeModel":
        """A freshly fitted blended model's TF-IDF half as a lexical model of its own (the baseline)."""
        return ThemeModel(self.tagger.lexical_tagger(), self.vectorizer, use_embeddings=False)


def fit_model(params: dict, texts: list[str], vectors: np.ndarray, Y: np.ndarray, seed: int,
              n_jobs: int | None = None) -> ThemeModel:
    """Fit one model of the kind ``params["kind"]`` names: embedding, blended or lexical (the baseline)."""
    params = dict(params, n_jobs=n_jobs)
    kind = params.pop("kind")
    if kind == "embedding":
        return ThemeModel(ThemeTagger(random_state=seed, **params).fit(vectors, Y))
    vectorizer = make_vectorizer().fit(list(texts))
    if kind == "lexical":
        model = ThemeModel(ThemeTagger(random_state=seed, **params), vectorizer, use_embeddings=False)
    elif kind == "blended":
        model = ThemeModel(ThemeTagger(random_state=seed, n_dense=vectors.shape[1], **params), vectorizer)
    else:
        raise ValueError(f"unknown model kind {kind!r}")
    model.tagger.fit(model.features(texts, vectors), Y)
    return model
