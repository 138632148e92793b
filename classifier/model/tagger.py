"""The multi-label theme tagger: one logistic regression per theme over embeddings, with per-theme thresholds.

It follows scikit-learn's estimator conventions (parameters stored untouched in ``__init__``, fitted state in
``attr_``, ``fit`` returns self) and takes a feature matrix, never text, so it works the same on sentence
embeddings and, for the baseline, on TF-IDF features.
"""

from __future__ import annotations

import numpy as np
from joblib import Parallel, delayed
from iterstrat.ml_stratifiers import MultilabelStratifiedKFold
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.utils.validation import check_is_fitted, validate_data

THRESHOLD_GRID = np.round(np.arange(0.05, 0.951, 0.025), 3)


def best_threshold(y_true: np.ndarray, proba: np.ndarray) -> float:
    """The grid threshold that maximises F1 for one theme; ties go to the value nearest 0.5."""
    if y_true.sum() == 0:
        return 1.0
    best, best_f1 = 0.5, -1.0
    for t in THRESHOLD_GRID:
        pred = proba >= t
        tp = float(np.sum(pred & (y_true == 1)))
        denom = pred.sum() + y_true.sum()
        f1 = 2 * tp / denom if denom else 0.0
        if f1 > best_f1 + 1e-12 or (abs(f1 - best_f1) <= 1e-12 and abs(t - 0.5) < abs(best - 0.5)):
            best, best_f1 = float(t), f1
    return best


def best_thresholds(Y: np.ndarray, proba: np.ndarray) -> np.ndarray:
    """``best_threshold`` for every theme (column) of a 0/1 label matrix and its out-of-sample probabilities."""
    Y, proba = np.asarray(Y), np.asarray(proba)
    if Y.shape != proba.shape:
        raise ValueError(f"labels {Y.shape} and probabilities {proba.shape} differ in shape")
    return np.array([best_threshold(Y[:, j], proba[:, j]) for j in range(Y.shape[1])])


class ThemeTagger(ClassifierMixin, BaseEstimator):
    """One-vs-rest logistic regression with per-theme decision thresholds tuned by inner cross-validation.

    With ``n_dense`` set, the first ``n_dense`` columns of X are sentence embeddings and the rest are
    lexical (TF-IDF) features: each theme then gets one regression per block and their probabilities are
    blended, which was measured to beat either block alone (README, "Evaluation"). With ``n_word`` set too, the
    lexical columns are two blocks: ``n_word`` word n-gram columns, then character n-gram columns.

    Parameters
    ----------
    C : inverse regularisation strength of each logistic regression (of the embedding block when blended).
    class_weight : passed to each logistic regression (``"balanced"`` helps the rarer themes).
    threshold_folds : folds used to collect out-of-fold probabilities for threshold tuning; 0 or 1 keeps 0.5.
    random_state : seed for the fold split.
    max_iter : solver iterations.
    n_dense : number of leading embedding columns, or None to treat all columns as one block.
    lexical_C : regularisation of the lexical block's regressions (always class-balanced).
    blend : weight of the embedding block's probability; the lexical blocks share ``1 - blend``.
    n_word : number of word n-gram columns after the embeddings when a character n-gram block follows them;
        None means all lexical columns are one block.
    char_share : the character block's share of the lexical weight (with ``n_word`` set).
    n_jobs : processes for fitting the themes' regressions in parallel (joblib); None means one.
    """

    # Defaults for taggers pickled before these parameters existed (model format 2).
    n_word = None
    char_share = 0.5

    def __init__(self, C=4.0, class_weight="balanced", threshold_folds=4, random_state=0, max_iter=3000,
                 n_dense=None, lexical_C=16.0, blend=0.5, n_word=None, char_share=0.5, n_jobs=None):
        self.C = C
        self.class_weight = class_weight
        self.threshold_folds = threshold_folds
        self.random_state = random_state
        self.max_iter = max_iter
        self.n_dense = n_dense
        self.lexical_C = lexical_C
        self.blend = blend
        self.n_word = n_word
        self.char_share = char_share
        self.n_jobs = n_jobs

    def _blocks(self, X) -> list[tuple]:
        """(columns, C, class_weight, weight) for each block of features; the word block, when there is one,
        is always second (``lexical_tagger`` relies on it)."""
        if self.n_dense is None:
            return [(slice(None), self.C, self.class_weight, 1.0)]
        dense = (slice(0, self.n_dense), self.C, self.class_weight, self.blend)
        if self.n_word is None:
            return [dense, (slice(self.n_dense, None), self.lexical_C, "balanced", 1.0 - self.blend)]
        end = self.n_dense + self.n_word
        lexical = 1.0 - self.blend
        return [dense,
                (slice(self.n_dense, end), self.lexical_C, "balanced", lexical * (1.0 - self.char_share)),
                (slice(end, None), self.lexical_C, "balanced", lexical * self.char_share)]

    def _block_matrices(self, X) -> list:
        """The feature blocks, sliced once per call rather than once per theme: column slicing a sparse matrix
        is costly, and the embedding block fits faster as a dense array than as sparse data."""
        out = []
        for cols, C, cw, w in self._blocks(X):
            block = X[:, cols]
            if self.n_dense is not None and cols.start == 0 and hasattr(block, "toarray"):
                block = block.toarray()
            out.append((cols, C, cw, w, block))
        return out

    def _fit_head(self, blocks, y):
        if y.min() == y.max():
            return float(y[0])  # a theme with no positives (or no negatives) is a constant
        return [(cols, w, LogisticRegression(C=C, class_weight=cw, max_iter=self.max_iter).fit(block, y))
                for cols, C, cw, w, block in blocks]

    def _fit_heads(self, X, Y) -> list:
        blocks = self._block_matrices(X)
        if not self.n_jobs or self.n_jobs == 1:
            return [self._fit_head(blocks, Y[:, j]) for j in range(Y.shape[1])]
        return Parallel(n_jobs=self.n_jobs)(delayed(self._fit_head)(blocks, Y[:, j]) for j in range(Y.shape[1]))

    def _block_proba(self, heads, X) -> tuple[np.ndarray, np.ndarray]:
        """Each block's probability for each theme, shape (n_blocks, n, n_themes), and the blocks' weights."""
        blocks = self._block_matrices(X)
        out = np.zeros((len(blocks), X.shape[0], len(heads)))
        for j, h in enumerate(heads):
            if isinstance(h, float):
                out[:, :, j] = h
                continue
            for b, (cols, _, clf) in enumerate(h):
                out[b, :, j] = clf.predict_proba(blocks[b][4])[:, 1]
        return out, np.array([w for _, _, _, w, _ in blocks])

    @staticmethod
    def _blend(per_block: np.ndarray, weights: np.ndarray) -> np.ndarray:
        return sum(w * p for w, p in zip(weights, per_block))

    def _proba(self, heads, X) -> np.ndarray:
        return self._blend(*self._block_proba(heads, X))

    def fit(self, X, Y):
        """Fit on features ``X`` (n, d) and a 0/1 label matrix ``Y`` (n, n_themes). Returns self."""
        X, Y = validate_data(self, X, Y, accept_sparse="csr", multi_output=True, dtype=None)
        Y = np.asarray(Y).astype(int)
        if Y.ndim != 2:
            raise ValueError("Y must be a 2-D 0/1 matrix (n_samples, n_themes)")
        self.n_themes_ = Y.shape[1]
        self.estimators_ = self._fit_heads(X, Y)
        self.thresholds_ = self._tune_thresholds(X, Y)
        return self

    def _tune_thresholds(self, X, Y) -> np.ndarray:
        folds = self.threshold_folds
        self._lexical_thresholds = None
        if not folds or folds < 2 or X.shape[0] < 2 * folds:
            if self.n_dense is not None:
                self._lexical_thresholds = np.full(Y.shape[1], 0.5)
            return np.full(Y.shape[1], 0.5)
        oof = np.zeros((len(self._blocks(X)),) + Y.shape, dtype=float)
        splitter = MultilabelStratifiedKFold(n_splits=folds, shuffle=True, random_state=self.random_state)
        for train, held in splitter.split(np.zeros(len(Y)), Y):
            oof[:, held], weights = self._block_proba(self._fit_heads(X[train], Y[train]), X[held])
        blended = self._blend(oof, weights)
        if self.n_dense is not None:
            # What a lexical-only tagger fitted on the same rows would tune: see lexical_tagger().
            self._lexical_thresholds = best_thresholds(Y, oof[1])
        return best_thresholds(Y, blended)

    def tune_thresholds(self, Y, proba) -> "ThemeTagger":
        """Set each theme's threshold to the F1-best one for out-of-sample probabilities ``proba`` of rows
        labelled ``Y``. Training uses it with ``threshold_folds=0`` and the probabilities its own
        cross-validation produced, instead of a second, inner cross-validation per fit. Returns self."""
        check_is_fitted(self, "estimators_")
        if np.shape(Y)[1:] != (self.n_themes_,):
            raise ValueError(f"Y must have {self.n_themes_} theme columns")
        self.thresholds_ = best_thresholds(Y, proba)
        return self

    def lexical_tagger(self) -> "ThemeTagger":
        """The (word) lexical block of a blended tagger as a tagger of its own, over that block's columns alone.

        It is exactly the tagger that ``ThemeTagger(C=lexical_C, class_weight="balanced")`` fitted on the same
        lexical features would be (same regressions, same inner folds, thresholds tuned on the block's own
        out-of-fold probabilities), so training gets its TF-IDF baseline without fitting it twice.
        Only on a freshly fitted blended tagger; the out-of-fold data it needs is not saved with the model.
        """
        check_is_fitted(self, "estimators_")
        if self.n_dense is None or getattr(self, "_lexical_thresholds", None) is None:
            raise ValueError("lexical_tagger() needs a freshly fitted blended tagger")
        lex = ThemeTagger(C=self.lexical_C, class_weight="balanced", threshold_folds=self.threshold_folds,
                          random_state=self.random_state, max_iter=self.max_iter)
        lex.n_features_in_ = self.n_word if self.n_word is not None else self.n_features_in_ - self.n_dense
        lex.n_themes_ = self.n_themes_
        lex.estimators_ = [h if isinstance(h, float) else [(slice(None), 1.0, h[1][2])] for h in self.estimators_]
        lex.thresholds_ = self._lexical_thresholds
        return lex

    def __getstate__(self):
        state = super().__getstate__()
        state.pop("_lexical_thresholds", None)
        return state

    def predict_proba(self, X) -> np.ndarray:
        """Per-theme probabilities, shape (n, n_themes)."""
        check_is_fitted(self, "estimators_")
        X = validate_data(self, X, accept_sparse="csr", reset=False, dtype=None)
        return self._proba(self.estimators_, X)

    def predict(self, X) -> np.ndarray:
        """0/1 matrix: a theme is on where its probability reaches its tuned threshold."""
        return (self.predict_proba(X) >= self.thresholds_).astype(int)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = False
        tags.input_tags.sparse = True
        return tags
