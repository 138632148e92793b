"""A model version's evaluation as rows people read: headline figures, per theme against the model it was
gated against and against the TF-IDF baseline, and the context stage per register and paragraph kind.

The web page's models view reads it from here, so the figures on the page are the ones ``joinedup train``
printed (they come from the same ``report.json`` and ``manifest.json``). Versions are only ever looked up in the
registry's own list.
"""

from __future__ import annotations

from dataclasses import dataclass

from classifier.model.codebook import Codebook
from classifier.model.registry import Registry
from classifier.model.training import GATE_MARGIN

DECISIONS = {  # completes "This version ..."
    "activated": "passed the evaluation gate and was activated",
    "saved": "was saved without being activated (trained with --no-activate)",
    "rejected": "was rejected by the evaluation gate: worse than the active model on the frozen test set",
}


@dataclass(frozen=True)
class VersionSummary:
    """One line of the versions list: the headline figures from the manifest and what the gate said."""

    version: str
    created: str
    active: bool
    decision: str | None
    gated_against: str | None
    test_micro_f1: float | None
    test_macro_f1: float | None
    cv_micro_f1: float | None
    cv_macro_f1: float | None
    baseline_test_micro_f1: float | None   # the TF-IDF baseline trained in the same run


@dataclass(frozen=True)
class Rollback:
    version: str
    reason: str


@dataclass(frozen=True)
class GateRow:
    """One theme on the frozen test set: this version's figures beside those of the version it is compared with."""

    theme: str
    label: str
    support: int | None
    precision: float
    recall: float
    f1: float
    other_precision: float
    other_recall: float
    other_f1: float

    @property
    def precision_delta(self) -> float:
        return self.precision - self.other_precision

    @property
    def recall_delta(self) -> float:
        return self.recall - self.other_recall

    @property
    def f1_delta(self) -> float:
        return self.f1 - self.other_f1


@dataclass(frozen=True)
class Gate:
    """This version against the one it was gated against (or, when nothing was recorded, the active one)."""

    against: str
    recorded: bool                 # True: the gate's own like-for-like measurement at training time
    same_test_set: bool | None     # only meaningful when not recorded: were both scored on the same test set?
    rows: tuple[GateRow, ...]
    micro_f1: float | None
    other_micro_f1: float | None
    macro_f1: float | None
    other_macro_f1: float | None
    cv_micro_f1: float | None      # cross-validation, each on its own training data
    other_cv_micro_f1: float | None


@dataclass(frozen=True)
class ThemeRow:
    theme: str
    label: str
    precision: float | None
    recall: float | None
    f1: float | None
    support: int | None
    baseline_precision: float | None   # the TF-IDF baseline trained in the same run, same data
    baseline_recall: float | None
    baseline_f1: float | None

    @property
    def baseline_f1_delta(self) -> float | None:
        return None if self.f1 is None or self.baseline_f1 is None else self.f1 - self.baseline_f1


@dataclass(frozen=True)
class Evaluation:
    """One evaluation (cross-validation or the frozen test set) of one version, beside the TF-IDF baseline."""

    name: str
    n_examples: int | None
    micro_f1: float | None
    macro_f1: float | None
    baseline_micro_f1: float | None
    baseline_macro_f1: float | None
    rows: tuple[ThemeRow, ...]


@dataclass(frozen=True)
class ContextRow:
    """Paragraphs read alone against read in their document, over one group of rows."""

    key: str
    n: int | None
    alone_micro_f1: float | None
    context_micro_f1: float | None
    alone_macro_f1: float | None
    context_macro_f1: float | None
    alone_themeless_tagged: float | None   # share of paragraphs with no theme that were given one anyway
    context_themeless_tagged: float | None


@dataclass(frozen=True)
class ContextPart:
    name: str
    overall: ContextRow
    documents: ContextRow | None           # a document raises a theme when any of its paragraphs does
    axes: tuple[tuple[str, tuple[ContextRow, ...]], ...]   # ("register", rows), ("kind", rows)


@dataclass(frozen=True)
class Candidate:
    params: dict
    micro_f1: float | None
    macro_f1: float | None
    chosen: bool


@dataclass(frozen=True)
class ModelReport:
    version: str
    created: str
    active: bool
    decision: str | None               # what the gate said: activated, rejected, saved
    decision_text: str
    replaced: str | None               # the version active when this one was trained
    params: dict
    params_source: str | None          # selected (candidates compared) or reused (the active model's)
    seconds: float | None
    n_train: int | None
    embedding: dict
    gate: Gate | None
    evaluations: tuple[Evaluation, ...]
    context_kept: bool | None
    context: tuple[ContextPart, ...]
    candidates: tuple[Candidate, ...]
    comparison: dict


def _get(d: dict | None, key: str):
    return (d or {}).get(key)


def summaries(registry: Registry) -> list[VersionSummary]:
    """Every version the registry holds, newest first, with its headline figures."""
    out = []
    for info in reversed(registry.list()):
        report = registry.report(info.version)
        m = info.metrics or {}
        out.append(VersionSummary(info.version, info.created, info.active, report.get("decision"),
                                  _get(report.get("comparison"), "active_version"),
                                  _get(m.get("test"), "micro_f1"), _get(m.get("test"), "macro_f1"),
                                  _get(m.get("cv"), "micro_f1"), _get(m.get("cv"), "macro_f1"),
                                  _get(m.get("baseline_test"), "micro_f1")))
    return out


def rollback_target(registry: Registry) -> Rollback | None:
    """The version a rollback returns to: the one active before the current one.

    Read from the registry's activation record when it explains the current activation; otherwise (a registry
    from before the record, or ACTIVE changed by hand) the version that was active when the current one was
    trained, then the newest earlier version the gate activated (version names sort by creation time).
    """
    active = registry.active_version()
    if active is None:
        return None
    versions = registry.versions()
    history = [a["version"] for a in registry.activations()]
    if history and history[-1] == active:
        for v in reversed(history[:-1]):
            if v != active and v in versions:
                return Rollback(v, "the version active before the current one")
    replaced = _get(registry.report(active).get("comparison"), "active_version")
    if replaced and replaced != active and replaced in versions:
        return Rollback(replaced, f"the version that was active when {active} was trained")
    for v in reversed([v for v in versions if v < active]):
        if registry.report(v).get("decision") == "activated":
            return Rollback(v, "the newest earlier version the evaluation gate activated")
    return None


def _gate(registry: Registry, version: str, report: dict, labels: dict) -> Gate | None:
    test = report.get("test") or {}
    comparison = report.get("comparison") or {}
    mine = [r for r in test.get("per_theme") or [] if r.get("f1") is not None]
    if not mine:
        return None
    deltas = comparison.get("per_theme") or {}
    if comparison.get("active_version") and deltas:
        # The gate scored both models on the same frozen test set and kept the differences: the other model's
        # figures are this one's less the difference (both rounded to 4 places, shown to 3).
        rows = tuple(GateRow(r["theme"], labels.get(r["theme"], r["theme"]), r.get("support"), r["precision"],
                             r["recall"], r["f1"], r["precision"] - d["precision"], r["recall"] - d["recall"],
                             r["f1"] - d["f1"])
                     for r in mine for d in [deltas.get(r["theme"])] if d)
        cv = comparison.get("cross_validation") or {}
        return Gate(comparison["active_version"], True, True, rows,
                    _get(comparison.get("candidate"), "micro_f1"), _get(comparison.get("active"), "micro_f1"),
                    _get(comparison.get("candidate"), "macro_f1"), _get(comparison.get("active"), "macro_f1"),
                    _get(cv.get("candidate"), "micro_f1"), _get(cv.get("active"), "micro_f1"))
    other = registry.active_version()
    if other is None or other == version:
        return None
    theirs = {r["theme"]: r for r in (registry.report(other).get("test") or {}).get("per_theme") or []}
    rows = tuple(GateRow(r["theme"], labels.get(r["theme"], r["theme"]), r.get("support"), r["precision"],
                         r["recall"], r["f1"], t["precision"], t["recall"], t["f1"])
                 for r in mine for t in [theirs.get(r["theme"])] if t and t.get("f1") is not None)
    if not rows:
        return None
    m_mine, m_theirs = registry.manifest(version), registry.manifest(other)
    same = (_get(m_mine.get("training_data"), "test_sha256") or None) == (
        _get(m_theirs.get("training_data"), "test_sha256") or None)
    mine_m, theirs_m = m_mine.get("metrics") or {}, m_theirs.get("metrics") or {}
    return Gate(other, False, same, rows,
                _get(mine_m.get("test"), "micro_f1"), _get(theirs_m.get("test"), "micro_f1"),
                _get(mine_m.get("test"), "macro_f1"), _get(theirs_m.get("test"), "macro_f1"),
                _get(mine_m.get("cv"), "micro_f1"), _get(theirs_m.get("cv"), "micro_f1"))


def evaluation(section: dict, baseline: dict, labels: dict) -> Evaluation:
    """One evaluation section of a report beside the TF-IDF baseline's section of the same run."""
    base = {r["theme"]: r for r in baseline.get("per_theme") or []}
    rows = tuple(ThemeRow(r["theme"], labels.get(r["theme"], r["theme"]), r.get("precision"), r.get("recall"),
                          r.get("f1"), r.get("support"), _get(base.get(r["theme"]), "precision"),
                          _get(base.get(r["theme"]), "recall"), _get(base.get(r["theme"]), "f1"))
                 for r in section.get("per_theme") or [])
    return Evaluation(section.get("name", ""), section.get("n_examples"), section.get("micro_f1"),
                      section.get("macro_f1"), baseline.get("micro_f1"), baseline.get("macro_f1"), rows)


def _themeless_tagged(section: dict) -> float | None:
    kept = section.get("themeless_kept_untagged")
    return None if kept is None else 1 - kept


def _context_row(key: str, context: dict, alone: dict) -> ContextRow:
    """A breakdown row ({micro_f1, macro_f1, themeless_tagged, n}) or a whole evaluation section."""
    def tagged(section):
        return section["themeless_tagged"] if "themeless_tagged" in section else _themeless_tagged(section)
    return ContextRow(key, context.get("n", context.get("n_examples")), alone.get("micro_f1"),
                      context.get("micro_f1"), alone.get("macro_f1"), context.get("macro_f1"),
                      tagged(alone), tagged(context))


def context_parts(context: dict) -> tuple[ContextPart, ...]:
    """The context stage's figures: overall, documents, per register and per kind, in CV and on the test set."""
    parts = []
    for where, name in (("cv", "cross-validation, grouped by document"), ("test", "frozen test set")):
        part = context.get(where)
        if not part or not part.get("context") or not part.get("context_free"):
            continue
        breakdown = part.get("breakdown") or {}
        docs = breakdown.get("document_level")
        documents = _context_row("documents", docs["context"], docs["context_free"]) if docs else None
        axes = tuple((axis, tuple(_context_row(k, row["context"], row["context_free"]) for k, row in rows.items()))
                     for axis, rows in breakdown.items() if axis != "document_level" and isinstance(rows, dict))
        parts.append(ContextPart(name, _context_row("all paragraphs", part["context"], part["context_free"]),
                                 documents, axes))
    return tuple(parts)


def model_report(registry: Registry, version: str, codebook: Codebook) -> ModelReport:
    """The report of ``version`` (NotFound for a version the registry does not hold)."""
    report = registry.report(version)
    manifest = registry.manifest(version)
    labels = {t.id: t.label for t in codebook.themes}
    comparison = report.get("comparison") or {}
    evaluations = tuple(evaluation(report[key], report.get(base_key) or {}, labels)
                        for key, base_key in (("test", "baseline_test"), ("cv", "baseline_cv")) if report.get(key))
    context = report.get("context") or {}
    params = report.get("params") or manifest.get("params") or {}
    candidates = tuple(Candidate(c.get("params") or {}, c.get("micro_f1"), c.get("macro_f1"), c.get("params") == params)
                       for c in report.get("candidates") or [])
    decision = report.get("decision")
    return ModelReport(version, manifest.get("created", ""), registry.active_version() == version, decision,
                       DECISIONS.get(decision, "has no recorded gate decision"), comparison.get("active_version"), params,
                       report.get("params_source"), report.get("seconds"), report.get("n_train"),
                       manifest.get("embedding") or {}, _gate(registry, version, report, labels),
                       evaluations, context.get("kept") if context else None, context_parts(context), candidates,
                       comparison)


GATE_RULE = (f"A new model is activated only if its micro-F1 on the frozen test set is at most {GATE_MARGIN:.2f} "
             "below the active model's, unless training is forced.")
