"""A model version's evaluation as rows people read: per theme, against the baseline and the model it replaced.

The web page's models view and anything else that shows a report read it from here, so the figures on the page
are the ones ``joinedup train`` printed (they come from the same ``report.json``).
"""

from __future__ import annotations

from dataclasses import dataclass

from classifier.model.codebook import Codebook
from classifier.model.registry import Registry


@dataclass(frozen=True)
class ThemeRow:
    theme: str
    label: str
    precision: float | None
    recall: float | None
    f1: float | None
    support: int | None
    baseline_f1: float | None          # the TF-IDF baseline trained in the same run, same data
    previous_f1_delta: float | None    # against the model that was active when this one was trained


@dataclass(frozen=True)
class Evaluation:
    """One evaluation (cross-validation or the frozen test set) of one version."""

    name: str
    n_examples: int | None
    micro_f1: float | None
    macro_f1: float | None
    baseline_micro_f1: float | None
    rows: tuple[ThemeRow, ...]


@dataclass(frozen=True)
class ModelReport:
    version: str
    created: str
    active: bool
    decision: str | None               # what the gate said: activated, rejected, saved...
    replaced: str | None               # the version active when this one was trained (what a rollback returns to)
    params: dict
    seconds: float | None
    evaluations: tuple[Evaluation, ...]
    context: dict                      # the context stage's figures, when the report has them
    comparison: dict




def evaluation(section: dict, baseline: dict, metrics: dict, baseline_metrics: dict, deltas: dict,
               codebook: Codebook) -> Evaluation:
    labels = {t.id: t.label for t in codebook.themes}
    base = {r["theme"]: r for r in baseline.get("per_theme") or []}
    rows = tuple(ThemeRow(r["theme"], labels.get(r["theme"], r["theme"]), r.get("precision"), r.get("recall"),
                          r.get("f1"), r.get("support"), base.get(r["theme"], {}).get("f1"),
                          (deltas.get(r["theme"]) or {}).get("f1"))
                 for r in section.get("per_theme") or [])
    return Evaluation(section.get("name", ""), section.get("n_examples"), metrics.get("micro_f1"),
                      metrics.get("macro_f1"), baseline_metrics.get("micro_f1"), rows)


def model_report(registry: Registry, version: str, codebook: Codebook) -> ModelReport:
    """The report of ``version`` (NotFound for a version the registry does not hold)."""
    report = registry.report(version)
    manifest = registry.manifest(version)
    metrics = manifest.get("metrics", {})
    comparison = report.get("comparison") or {}
    deltas = comparison.get("per_theme") or {}
    evaluations = []
    for key, base_key, label in (("test", "baseline_test", "frozen test set"),
                                 ("cv", "baseline_cv", "cross-validation")):
        if report.get(key):
            evaluations.append(evaluation(report[key], report.get(base_key) or {}, metrics.get(key) or {},
                                          metrics.get(base_key) or {}, deltas if key == "test" else {}, codebook))
    return ModelReport(version, manifest.get("created", ""), registry.active_version() == version,
                       report.get("decision"), comparison.get("active_version"), report.get("params") or {},
                       report.get("seconds"), tuple(evaluations), report.get("context") or {}, comparison)
