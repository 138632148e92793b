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


class ThemeTagger(ClassifierMixin, BaseEstimator):
    """One-vs-rest logistic regression with per-theme decision thresholds tuned by inner cross-validation.

    With ``n_dense`` set, the first ``n_dense`` columns of X are sentence embeddings and the rest are
    lexical (TF-IDF) features: each theme then gets one regression per block and their probabilities are
    blended, which was measured to beat either block alone (README, "Evaluation").

    Parameters
    ----------
    C : inverse regularisation strength of each logistic regression (of the embedding block when blended).
    class_weight : passed to each logistic regression (``"balanced"`` helps the rarer themes).
    threshold_folds : folds used to collect out-of-fold probabilities for threshold tuning; 0 or 1 keeps 0.5.
    random_state : seed for the fold split.
    max_iter : solver iterations.
    n_dense : number of leading embedding columns, or None to treat all columns as one block.
    lexical_C : regularisation of the lexical block's regressions (always class-balanced).
    blend : weight of the embedding block's probability; the lexical block gets ``1 - blend``.
    n_jobs : processes for fitting the themes' regressions in parallel (joblib); None means one.
    """

    def __init__(self, C=4.0, class_weight="balanced", threshold_folds=4, random_state=0, max_iter=3000,
                 n_dense=None, lexical_C=16.0, blend=0.5, n_jobs=None):
        self.C = C
        self.class_weight = class_weight
        self.threshold_folds = threshold_folds
        self.random_state = random_state
        self.max_iter = max_iter
        self.n_dense = n_dense
        self.lexical_C = lexical_C
        self.blend = blend
        self.n_jobs = n_jobs

    def _blocks(self, X) -> list[tuple]:
        """(columns, C, class_weight, weight) for each block of features."""
        if self.n_dense is None:
            return [(slice(None), self.C, self.class_weight, 1.0)]
        return [(slice(0, self.n_dense), self.C, self.class_weight, self.blend),
                (slice(self.n_dense, None), self.lexical_C, "balanced", 1.0 - self.blend)]

    def _fit_head(self, X, y):
        if y.min() == y.max():
            return float(y[0])  # a theme with no positives (or no negatives) is a constant
        return [(cols, w, LogisticRegression(C=C, class_weight=cw, max_iter=self.max_iter).fit(X[:, cols], y))
                for cols, C, cw, w in self._blocks(X)]

    def _fit_heads(self, X, Y) -> list:
        if not self.n_jobs or self.n_jobs == 1:
            return [self._fit_head(X, Y[:, j]) for j in range(Y.shape[1])]
        return Parallel(n_jobs=self.n_jobs)(delayed(self._fit_head)(X, Y[:, j]) for j in range(Y.shape[1]))

    @staticmethod
    def _proba(heads, X) -> np.ndarray:
        def one(h):
            if isinstance(h, float):
                return np.full(X.shape[0], h)
            return sum(w * clf.predict_proba(X[:, cols])[:, 1] for cols, w, clf in h)

        cols = [one(h) for h in heads]
        return np.column_stack(cols) if cols else np.zeros((X.shape[0], 0))

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
        if not folds or folds < 2 or X.shape[0] < 2 * folds:
            return np.full(Y.shape[1], 0.5)
        oof = np.zeros(Y.shape, dtype=float)
        splitter = MultilabelStratifiedKFold(n_splits=folds, shuffle=True, random_state=self.random_state)
        for train, held in splitter.split(np.zeros(len(Y)), Y):
            oof[held] = self._proba(self._fit_heads(X[train], Y[train]), X[held])
        return np.array([best_threshold(Y[:, j], oof[:, j]) for j in range(Y.shape[1])])

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
