"""Multi-label evaluation: per-theme precision, recall, F1 and support, with micro and macro F1."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from sklearn.metrics import precision_recall_fscore_support


@dataclass(frozen=True)
class ThemeMetrics:
    theme: str
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class EvaluationReport:
    """Scores of one model on one labelled set. Macro F1 averages the themes with at least one positive."""

    name: str
    n_examples: int
    per_theme: tuple[ThemeMetrics, ...]
    micro_precision: float
    micro_recall: float
    micro_f1: float
    macro_f1: float
    themeless_examples: int
    themeless_kept_untagged: float  # share of themeless examples the model left without any theme

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "EvaluationReport":
        d = dict(d)
        d["per_theme"] = tuple(ThemeMetrics(**m) for m in d["per_theme"])
        return cls(**d)

    def summary(self) -> dict:
        return {"micro_f1": round(self.micro_f1, 4), "macro_f1": round(self.macro_f1, 4),
                "micro_precision": round(self.micro_precision, 4), "micro_recall": round(self.micro_recall, 4),
                "n_examples": self.n_examples}


def evaluate(name: str, theme_ids: list[str], y_true: np.ndarray, y_pred: np.ndarray) -> EvaluationReport:
    """Score 0/1 predictions against 0/1 truth, both (n, n_themes) in ``theme_ids`` order."""
    y_true = np.asarray(y_true).astype(int)
    y_pred = np.asarray(y_pred).astype(int)
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, average=None, zero_division=0,
                                                 labels=list(range(len(theme_ids))))
    mp, mr, mf, _ = precision_recall_fscore_support(y_true, y_pred, average="micro", zero_division=0)
    present = s > 0
    macro = float(np.mean(f[present])) if present.any() else 0.0
    themeless = y_true.sum(axis=1) == 0
    kept = float((y_pred[themeless].sum(axis=1) == 0).mean()) if themeless.any() else 1.0
    per_theme = tuple(ThemeMetrics(t, float(p[j]), float(r[j]), float(f[j]), int(s[j]))
                      for j, t in enumerate(theme_ids))
    return EvaluationReport(name, int(len(y_true)), per_theme, float(mp), float(mr), float(mf), macro,
                            int(themeless.sum()), kept)


def format_report(report: EvaluationReport, baseline: EvaluationReport | None = None) -> str:
    """A plain-text table: one row per theme, then micro and macro F1 (and the baseline's, if given)."""
    width = max(len(m.theme) for m in report.per_theme) + 2
    head = f"{'theme':<{width}}{'precision':>10}{'recall':>8}{'F1':>7}{'support':>9}"
    if baseline:
        head += f"{'baseline F1':>13}"
    lines = [f"{report.name} ({report.n_examples} paragraphs)", head, "-" * len(head)]
    base = {m.theme: m for m in baseline.per_theme} if baseline else {}
    for m in report.per_theme:
        row = f"{m.theme:<{width}}{m.precision:>10.3f}{m.recall:>8.3f}{m.f1:>7.3f}{m.support:>9d}"
        if baseline:
            row += f"{base[m.theme].f1:>13.3f}"
        lines.append(row)
    lines.append("-" * len(head))
    lines.append(f"{'micro':<{width}}{report.micro_precision:>10.3f}{report.micro_recall:>8.3f}{report.micro_f1:>7.3f}"
                 + (f"{'':>9}{baseline.micro_f1:>13.3f}" if baseline else ""))
    lines.append(f"{'macro F1':<{width}}{'':>18}{report.macro_f1:>7.3f}"
                 + (f"{'':>9}{baseline.macro_f1:>13.3f}" if baseline else ""))
    lines.append(f"themeless paragraphs left untagged: {report.themeless_kept_untagged:.1%} of {report.themeless_examples}"
                 + (f" (baseline {baseline.themeless_kept_untagged:.1%})" if baseline else ""))
    return "\n".join(lines)
