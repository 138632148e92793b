"""How well copies are found: precision and recall on copies and near-misses constructed from a corpus.

Each paragraph of the corpus (the shipped sample corpus by default) gives pairs of the kinds below; a pair
is grouped when it would be in search: the two share an LSH band (so the store finds them as candidates) and
``copies.is_copy`` holds at the threshold tried. Copies, which should be grouped:
- ``repost``: the same text from another organisation, with case, spacing, quotes and dashes changed;
- ``own_name``: the text naming its own organisation, repeated by another that puts its own name there;
- ``small_edit``: one word changed (a typo fixed, a word swapped) in a paragraph of 20 words or more;
- ``added_line``: a line added at the end ("Notes to editors: ...") of a paragraph of 30 words or more.
Near-misses, which should not be:
- ``other_figure``: the same text with one of its figures changed;
- ``same_topic``: the other paragraph of the corpus whose shingles overlap most (the hardest true non-copy);
- ``half_rewritten``: the first half kept and the rest taken from another paragraph.

The threshold is chosen on the even-numbered paragraphs and the figures reported on the odd-numbered ones,
so the reported figures are not those the choice was made on.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from pathlib import Path

from classifier.search.copies import (SHINGLE, THRESHOLD, Signature, is_copy, share_a_band, signature,
                                      similarity, tokens)

POSITIVE = ("repost", "own_name", "small_edit", "added_line")
NEGATIVE = ("other_figure", "same_topic", "half_rewritten")
OTHER_ORGS = ("Northfold Borough Council", "Kestrel Vale NHS Trust", "Greyharbour City Council")
ADDED = "Notes to editors: the full response is published on our website, with the data behind it."
_FIGURE = re.compile(r"\d+")


@dataclass(frozen=True)
class Pair:
    kind: str
    a: Signature
    b: Signature

    @property
    def positive(self) -> bool:
        return self.kind in POSITIVE


@dataclass(frozen=True)
class CopyScores:
    threshold: float
    precision: float
    recall: float
    by_kind: dict            # kind -> (pairs, grouped)

    def to_dict(self) -> dict:
        return {"threshold": self.threshold, "precision": round(self.precision, 4), "recall": round(self.recall, 4),
                "by_kind": {k: {"pairs": n, "grouped": g} for k, (n, g) in self.by_kind.items()}}


def _restyle(text: str) -> str:
    return ("  " + text.upper().replace("\u2019", "'").replace("\u201c", '"').replace("\u201d", '"')
            .replace(" - ", " \u2013 ").replace(", ", " , ") + "\n")


def _shingles(text: str) -> set[str]:
    words = tokens(text)
    return {" ".join(words[i:i + SHINGLE]) for i in range(max(1, len(words) - SHINGLE + 1))}


def construct_pairs(records: list[dict], seed: int = 14) -> list[tuple[int, Pair]]:
    """(index of the source paragraph, pair) for every kind each paragraph can give."""
    rng = random.Random(seed)
    shingles = [_shingles(r["text"]) for r in records]
    out = []
    for i, r in enumerate(records):
        text, org = r["text"], r.get("organisation") or "Sample Organisation"
        other = OTHER_ORGS[i % len(OTHER_ORGS)]
        words = text.split()
        sig = signature(text, org)
        out.append((i, Pair("repost", sig, signature(_restyle(text), other))))
        if org in text:
            out.append((i, Pair("own_name", sig, signature(text.replace(org, other), other))))
        if len(words) >= 20:
            plain = [j for j, w in enumerate(words) if w.isalpha() and len(w) > 3]
            j = rng.choice(plain)
            edited = words[:j] + [words[j][::-1] if rng.random() < 0.5 else "particular"] + words[j + 1:]
            out.append((i, Pair("small_edit", sig, signature(" ".join(edited), other))))
        if len(words) >= 30:
            out.append((i, Pair("added_line", sig, signature(text + " " + ADDED, other))))
        figures = list(_FIGURE.finditer(text))
        if figures:
            m = rng.choice(figures)
            changed = text[:m.start()] + str(int(m.group()) + rng.randint(1, 9)) + text[m.end():]
            out.append((i, Pair("other_figure", sig, signature(changed, other))))
        nearest = max((j for j in range(len(records)) if j != i and records[j]["text"] != text),
                      key=lambda j: len(shingles[i] & shingles[j]) / max(1, len(shingles[i] | shingles[j])))
        out.append((i, Pair("same_topic", sig, signature(records[nearest]["text"], records[nearest].get("organisation")))))
        donor = records[(i + 7) % len(records)]["text"].split()
        half = len(words) // 2
        if half >= 5:
            mixed = words[:half] + donor[len(donor) // 2:]
            out.append((i, Pair("half_rewritten", sig, signature(" ".join(mixed), other))))
    return out


def score(pairs: list[Pair], threshold: float) -> CopyScores:
    by_kind: dict[str, list[int]] = {k: [0, 0] for k in (*POSITIVE, *NEGATIVE)}
    tp = fp = fn = 0
    for p in pairs:
        grouped = share_a_band(p.a, p.b) and is_copy(p.a, p.b, threshold)
        by_kind[p.kind][0] += 1
        by_kind[p.kind][1] += grouped
        tp += grouped and p.positive
        fp += grouped and not p.positive
        fn += (not grouped) and p.positive
    return CopyScores(threshold, tp / max(1, tp + fp), tp / max(1, tp + fn),
                      {k: tuple(v) for k, v in by_kind.items() if v[0]})


def choose_threshold(pairs: list[Pair], candidates=None) -> float:
    """The threshold with the best F1 on ``pairs`` (the lowest one on a tie: copies found matter)."""
    candidates = candidates or [round(0.3 + 0.05 * i, 2) for i in range(13)]

    def f1(t):
        s = score(pairs, t)
        return 2 * s.precision * s.recall / max(1e-9, s.precision + s.recall)

    return max(candidates, key=lambda t: (round(f1(t), 6), -t))


def evaluate_copies(corpus: Path, seed: int = 14) -> dict:
    """Choose the threshold on the even paragraphs' pairs; score it, and the shipped ``THRESHOLD``, on the odd."""
    records = [json.loads(line) for line in Path(corpus).read_text(encoding="utf-8").splitlines() if line.strip()]
    pairs = construct_pairs(records, seed)
    tune = [p for i, p in pairs if i % 2 == 0]
    held = [p for i, p in pairs if i % 2 == 1]
    chosen = choose_threshold(tune)
    return {"pairs": len(pairs), "chosen_on_even": chosen, "held_out_at_chosen": score(held, chosen),
            "held_out_at_shipped": score(held, THRESHOLD), "all_at_shipped": score([p for _, p in pairs], THRESHOLD),
            "sweep": [score(held, t) for t in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)]}


def format_copies(result: dict) -> str:
    lines = [f"{result['pairs']} constructed pairs; threshold chosen on the even paragraphs: "
             f"{result['chosen_on_even']:.2f} (shipped: {THRESHOLD:.2f})", "",
             "held-out (odd paragraphs), by threshold:", "threshold  precision  recall"]
    lines += [f"{s.threshold:9.2f}  {s.precision:9.3f}  {s.recall:6.3f}" for s in result["sweep"]]
    shipped = result["held_out_at_shipped"]
    lines += ["", f"held-out at the shipped threshold {THRESHOLD:.2f}: precision {shipped.precision:.3f}, "
                  f"recall {shipped.recall:.3f}", "kind              pairs  grouped"]
    lines += [f"{k:16s} {n:6d}  {g:7d}  {'copy' if k in POSITIVE else 'near-miss'}"
              for k, (n, g) in shipped.by_kind.items()]
    return "\n".join(lines)


__all__ = ["construct_pairs", "score", "choose_threshold", "evaluate_copies", "format_copies", "similarity"]
