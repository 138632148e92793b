"""Training with honest evaluation: model selection by cross-validation, a frozen test set, and a baseline.

The frozen test set is never used to fit, select or tune anything: it is scored once, at the end.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from iterstrat.ml_stratifiers import MultilabelStratifiedKFold
from threadpoolctl import threadpool_limits

from .codebook import Codebook
from .dataset import load_labelled
from .embeddings import Embedder
from .errors import DataError, JoinedupError
from .evaluation import EvaluationReport, evaluate
from .features import fit_model
from .registry import Registry, new_version, utc_now

# Candidates compared by cross-validation; the best micro-F1 wins (ties: the first listed). "embedding" is
# logistic regression on the sentence embeddings alone; "blended" averages it with a TF-IDF regression.
CANDIDATES = (
    {"kind": "embedding", "C": 8.0, "class_weight": None},
    {"kind": "embedding", "C": 4.0, "class_weight": "balanced"},
    {"kind": "blended", "C": 8.0, "class_weight": None, "lexical_C": 16.0, "blend": 0.5},
    {"kind": "blended", "C": 8.0, "class_weight": None, "lexical_C": 16.0, "blend": 0.65},
)
# The bar any model must clear: TF-IDF + the same per-theme regressions and threshold tuning.
BASELINE = {"kind": "lexical", "C": 16.0, "class_weight": "balanced"}
CV_FOLDS = 5
MIN_POSITIVES = 15  # a theme with fewer training positives is not learned; the report says so
GATE_MARGIN = 0.01  # a candidate may be at most this much worse (frozen-test micro-F1) than the active model
N_JOBS = None  # measured: process-parallel fitting of the themes costs more than it saves at this size


@dataclass
class CandidateScore:
    params: dict
    micro_f1: float
    macro_f1: float


@dataclass
class TrainingResult:
    version: str | None
    activated: bool
    params: dict
    candidates: list[CandidateScore]
    cv: EvaluationReport
    baseline_cv: EvaluationReport
    test: EvaluationReport | None
    baseline_test: EvaluationReport | None
    data_sha256: str
    n_train: int
    seconds: float
    skipped_themes: dict = field(default_factory=dict)
    comparison: dict | None = None   # candidate against the model that was active, on the same test set
    decision: str = "activated"      # activated | rejected | saved (not activated on request)

    def to_dict(self) -> dict:
        return {
            "version": self.version, "activated": self.activated, "params": self.params,
            "candidates": [c.__dict__ for c in self.candidates],
            "cv": self.cv.to_dict(), "baseline_cv": self.baseline_cv.to_dict(),
            "test": self.test.to_dict() if self.test else None,
            "baseline_test": self.baseline_test.to_dict() if self.baseline_test else None,
            "data_sha256": self.data_sha256, "n_train": self.n_train, "seconds": round(self.seconds, 1),
            "skipped_themes": self.skipped_themes, "comparison": self.comparison, "decision": self.decision,
        }


def _folds(Y: np.ndarray, seed: int, n_splits: int = CV_FOLDS):
    n_splits = min(n_splits, max(2, len(Y) // 2))
    return list(MultilabelStratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed).split(np.zeros(len(Y)), Y))


def cross_val_predict(params: dict, texts: list[str], X: np.ndarray, Y: np.ndarray, folds, seed: int) -> np.ndarray:
    """Out-of-fold 0/1 predictions: every row predicted by a model (vocabulary included) that never saw it."""
    pred = np.zeros_like(Y)
    for train, held in folds:
        model = fit_model(params, [texts[i] for i in train], X[train], Y[train], seed, N_JOBS)
        pred[held] = model.predict([texts[i] for i in held], X[held])
    return pred


def compare(candidate: EvaluationReport, active: EvaluationReport, active_version: str,
            candidate_cv: dict | None = None, active_cv: dict | None = None) -> dict:
    """Per-theme precision/recall/F1 deltas and micro/macro F1 of a candidate against the active model.

    The test-set figures are like for like; the cross-validation figures come from each model's own training
    run (the active model's from its manifest), so they also reflect any change in the training data.
    """
    old = {m.theme: m for m in active.per_theme}
    per_theme = {m.theme: {"precision": round(m.precision - old[m.theme].precision, 4),
                           "recall": round(m.recall - old[m.theme].recall, 4),
                           "f1": round(m.f1 - old[m.theme].f1, 4)} for m in candidate.per_theme if m.theme in old}
    return {"active_version": active_version, "active": active.summary(), "candidate": candidate.summary(),
            "micro_f1_delta": round(candidate.micro_f1 - active.micro_f1, 4),
            "macro_f1_delta": round(candidate.macro_f1 - active.macro_f1, 4), "per_theme": per_theme,
            "cross_validation": {"active": active_cv, "candidate": candidate_cv}}


def train(codebook: Codebook, embedder: Embedder, registry: Registry, data: Path, test_path: Path | None,
          seed: int = 13, activate: bool = True, progress=lambda msg: None, extra=(), force: bool = False,
          margin: float = GATE_MARGIN) -> TrainingResult:
    """Select, evaluate, fit and save a tagger; activate it unless told not to. Deterministic for a seed.

    ``extra`` adds labelled examples (stored labels and corrections; a correction replaces a shipped paragraph
    with the same text). When a model is active and a test set is given, the candidate is activated only if its
    frozen-test micro-F1 is at most ``margin`` below the active model's, or if ``force`` is set.
    """
    # Multi-threaded OpenBLAS thrashes on these small problems: one BLAS thread made the regressions ~30x
    # faster on the 2-core machine (measured, README "Performance").
    with threadpool_limits(limits=1, user_api="blas"):
        return _train(codebook, embedder, registry, data, test_path, seed, activate, progress, extra, force, margin)


def _train(codebook, embedder, registry, data, test_path, seed, activate, progress, extra, force, margin):
    started = time.perf_counter()
    train_set = load_labelled(data, codebook).with_extra(list(extra))
    test_set = load_labelled(test_path, codebook) if test_path and Path(test_path).exists() else None
    if test_set is not None and set(train_set.texts) & set(test_set.texts):
        raise DataError("the frozen test set shares paragraphs with the training data")
    Y_all = train_set.label_matrix(codebook)
    counts = Y_all.sum(axis=0)
    themes = [t for t, c in zip(codebook.ids, counts) if c >= MIN_POSITIVES]
    skipped = {t: f"{int(c)} training examples, needs {MIN_POSITIVES}" for t, c in zip(codebook.ids, counts)
               if c < MIN_POSITIVES}
    if not themes:
        raise DataError(f"no theme has {MIN_POSITIVES} training examples")
    cols = [codebook.ids.index(t) for t in themes]
    Y = Y_all[:, cols]

    progress(f"embedding {len(train_set.examples)} training paragraphs with {embedder.name}")
    X = embedder.embed(train_set.texts)
    folds = _folds(Y, seed)

    candidates, best, best_pred = [], None, None
    texts = train_set.texts
    for params in CANDIDATES:
        progress(f"cross-validating {params}")
        pred = cross_val_predict(params, texts, X, Y, folds, seed)
        rep = evaluate("cv", themes, Y, pred)
        candidates.append(CandidateScore(dict(params), rep.micro_f1, rep.macro_f1))
        if best is None or rep.micro_f1 > best.micro_f1 + 1e-9:
            best, best_pred = candidates[-1], pred
    params = best.params
    cv = evaluate(f"{CV_FOLDS}-fold cross-validation", themes, Y, best_pred)

    progress("cross-validating the TF-IDF baseline")
    base_pred = cross_val_predict(BASELINE, texts, X, Y, folds, seed)
    baseline_cv = evaluate(f"TF-IDF baseline, {CV_FOLDS}-fold cross-validation", themes, Y, base_pred)

    progress(f"fitting the final model {params}")
    model = fit_model(params, texts, X, Y, seed, N_JOBS)

    test = baseline_test = None
    if test_set is not None:
        progress(f"scoring the frozen test set ({len(test_set.examples)} paragraphs)")
        Yt = test_set.label_matrix(codebook)[:, cols]
        Xt = embedder.embed(test_set.texts)
        test = evaluate("frozen test set", themes, Yt, model.predict(test_set.texts, Xt))
        base = fit_model(BASELINE, texts, X, Y, seed, N_JOBS)
        baseline_test = evaluate("TF-IDF baseline, frozen test set", themes, Yt, base.predict(test_set.texts, Xt))

    comparison, decision = None, ("activated" if activate else "saved")
    active_version = registry.active_version()
    if test_set is not None and active_version:
        try:
            active = registry.load(active_version, embedder.name, embedder.dimension)
            a_cols = [codebook.ids.index(t) for t in active.themes]
            a_report = evaluate("active model, frozen test set", active.themes,
                                test_set.label_matrix(codebook)[:, a_cols], active.theme_model.predict(test_set.texts, Xt))
            comparison = compare(test, a_report, active_version, cv.summary(),
                                 active.manifest.get("metrics", {}).get("cv"))
            if activate and not force and test.micro_f1 < a_report.micro_f1 - margin:
                decision = "rejected"
        except JoinedupError as exc:  # an unusable active model is no bar to a new one
            progress(f"the active model could not be compared ({exc.message})")

    version = new_version(train_set.sha256)
    result = TrainingResult(version, False, params, candidates, cv, baseline_cv, test, baseline_test,
                            train_set.sha256, len(train_set.examples), 0.0, skipped, comparison, decision)
    metrics = {"cv": cv.summary(), "baseline_cv": baseline_cv.summary()}
    if test:
        metrics.update(test=test.summary(), baseline_test=baseline_test.summary())
    manifest = {
        "version": version, "created": utc_now(), "seed": seed, "params": params,
        "embedding": {"name": embedder.name, "dimension": embedder.dimension},
        "themes": themes, "thresholds": {t: float(v) for t, v in zip(themes, model.thresholds)},
        "training_data": {"sha256": train_set.sha256, "files": [Path(f).name for f in train_set.files],
                          "examples": len(train_set.examples),
                          "test_sha256": test_set.sha256 if test_set else None},
        "metrics": metrics,
    }
    result.seconds = time.perf_counter() - started
    registry.save(model, manifest, result.to_dict())
    if decision == "activated":
        registry.activate(version)
        result.activated = True
    return result
