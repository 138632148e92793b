"""Score the tagger on whole pasted pages, as a user pastes them into POST /api/v1/tag: run by hand, never a test.

Each probe under bench/probes/ is a folder of pages (pages/NN-name.txt, as copied from a browser, a PDF or an
e-mail, furniture and all) and their labels (labels/NN-name.jsonl), made by an annotator who read only the
codebook and the guidelines (bench/probes/README.md). A label line is one unit of the page as a reader sees it:
{"start": the unit's first characters, exactly as in the page, "kind", "themes"}; a unit runs to the next one's
start, so the labels cover the page without depending on how joinedup cuts it.

Each page is tagged whole (``Pipeline.tag_text``, what POST /tag with {"text"} calls) and each unit gets the
themes of the paragraphs that make up most of it, or most of which lie in it: a paragraph joined across two
units gives its themes to both, a unit cut in two takes the themes of both halves. Printed per probe and pooled:
micro-F1 over content units, themeless content units tagged, furniture units tagged, and how many units the
segmentation joined or split; then pooled F1 per unit kind and per theme.

A probe may also hold a second annotator's labels of the same units (second/NN-name.jsonl: the same starts and
kinds, themes given blind). Then the annotators' agreement is printed beside joinedup's F1 against each of them
and on the units both label alike: the ceiling the probe can measure, and its cleanest gold.

With --gold-units each page is tagged on the annotator's own units and kinds instead of joinedup's segmentation
(furniture as boilerplate, a list item without its marker): what the tagger scores when the structure is right,
so the gap between the two runs is what segmentation costs.

    python bench/probes.py [--models DIR] [--errors FILE] [--gold-units] [PROBE_DIR ...]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from classifier.config import load_settings  # noqa: E402
from classifier.pipeline import Pipeline  # noqa: E402
from classifier.text.structure import MARKER, Block  # noqa: E402

PROBES = ROOT / "bench" / "probes"


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    content: int = 0
    themeless: int = 0
    themeless_tagged: int = 0
    furniture: int = 0
    furniture_tagged: int = 0
    joined: int = 0
    split: int = 0
    per_kind: dict = field(default_factory=dict)
    per_theme: dict = field(default_factory=dict)

    def add(self, other: "Counts") -> None:
        for name in ("tp", "fp", "fn", "content", "themeless", "themeless_tagged", "furniture", "furniture_tagged",
                     "joined", "split"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for mine, theirs in ((self.per_kind, other.per_kind), (self.per_theme, other.per_theme)):
            for key, (tp, fp, fn) in theirs.items():
                row = mine.setdefault(key, [0, 0, 0])
                row[0] += tp
                row[1] += fp
                row[2] += fn


def f1(tp: int, fp: int, fn: int) -> float:
    return 2 * tp / max(1, 2 * tp + fp + fn)


def units(text: str, labels: list[dict]) -> list[tuple[int, int, dict]]:
    """(start, end, label) for each labelled unit: from its start to the next unit's."""
    starts, position = [], 0
    for label in labels:
        at = text.find(label["start"], position)
        if at < 0:
            raise SystemExit(f"a label's start is not in its page: {label['start']!r}")
        starts.append(at)
        position = at + len(label["start"])
    ends = starts[1:] + [len(text)]
    return list(zip(starts, ends, labels))


def gold_blocks(text: str, labels: list[dict]) -> list[Block]:
    """The annotator's units as joinedup's blocks: the same kinds (furniture is boilerplate), text with its
    whitespace collapsed and, for a list item, without its bullet or number, as ``structure()`` gives them."""
    blocks = []
    for start, end, label in units(text, labels):
        words = " ".join(text[start:end].split())
        if not words:
            continue
        kind = "boilerplate" if label["kind"] == "furniture" else label["kind"]
        if kind == "list_item":
            words = MARKER.sub("", words) or words
        blocks.append(Block(index=len(blocks), kind=kind, text=words, start=start, end=end))
    return blocks


def visible(text: str, start: int, end: int) -> int:
    return len(text[max(start, 0):max(end, start)].strip())


def score_page(paragraphs: list[tuple[int, int, set]], text: str, labels: list[dict], name: str,
               errors: list) -> Counts:
    """Counts for one page: ``paragraphs`` are joinedup's (start, end, themes), ``labels`` the annotator's."""
    counts = Counts()
    spans = units(text, labels)
    for start, end, _ in paragraphs:
        if sum(visible(text, max(s, start), min(e, end)) >= 3 for s, e, _ in spans) > 1:
            counts.joined += 1
    for s, e, label in spans:
        if label.get("skip"):
            continue
        if sum(visible(text, max(s, start), min(e, end)) >= 3 for start, end, _ in paragraphs) > 1:
            counts.split += 1
        size = visible(text, s, e)
        got = set()
        for start, end, themes in paragraphs:
            overlap = min(e, end) - max(s, start)
            if overlap > 0 and (overlap >= 0.5 * size or overlap >= 0.5 * (end - start)):
                got |= themes
        gold = set(label["themes"])
        if label["kind"] == "furniture":
            counts.furniture += 1
            counts.furniture_tagged += bool(got)
        else:
            counts.content += 1
            counts.themeless += not gold
            counts.themeless_tagged += bool(got) and not gold
            tp, fp, fn = len(gold & got), len(got - gold), len(gold - got)
            counts.tp, counts.fp, counts.fn = counts.tp + tp, counts.fp + fp, counts.fn + fn
            row = counts.per_kind.setdefault(label["kind"], [0, 0, 0])
            row[0], row[1], row[2] = row[0] + tp, row[1] + fp, row[2] + fn
            for theme in gold | got:
                row = counts.per_theme.setdefault(theme, [0, 0, 0])
                row[0] += theme in gold and theme in got
                row[1] += theme in got and theme not in gold
                row[2] += theme in gold and theme not in got
        if got != gold:
            errors.append({"page": name, "kind": label["kind"], "gold": sorted(gold), "got": sorted(got),
                           "text": text[s:e].strip()[:300]})
    return counts


def agreement(first: list[dict], second: list[dict]) -> tuple[int, int, int]:
    """(tp, fp, fn) of the second annotator's themes against the first's, over the content units."""
    tp = fp = fn = 0
    for a, b in zip(first, second, strict=True):
        if a["start"] != b["start"] or a["kind"] != b["kind"]:
            raise SystemExit(f"the second annotation does not follow the first at {a['start']!r}")
        if a["kind"] != "furniture":
            gold, other = set(a["themes"]), set(b["themes"])
            tp, fp, fn = tp + len(gold & other), fp + len(other - gold), fn + len(gold - other)
    return tp, fp, fn


def agreed(first: list[dict], second: list[dict]) -> list[dict]:
    """The first annotation with every content unit the two annotators label differently marked to be skipped
    (it keeps its span, so its neighbours keep theirs)."""
    return [a if set(a["themes"]) == set(b["themes"]) else {**a, "skip": True} for a, b in zip(first, second)]


def read_labels(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x]


def line(name: str, c: Counts) -> str:
    return (f"| {name} | {c.content} | {f1(c.tp, c.fp, c.fn):.3f} | {c.themeless_tagged}/{c.themeless} "
            f"({c.themeless_tagged / max(1, c.themeless):.1%}) | {c.furniture_tagged}/{c.furniture} | "
            f"{(c.themeless_tagged + c.furniture_tagged) / max(1, c.themeless + c.furniture):.1%} | "
            f"{c.joined} / {c.split} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("probes", nargs="*", type=Path, help="probe folders (default: every one in bench/probes)")
    parser.add_argument("--models", type=Path, help="a models folder other than the configured one")
    parser.add_argument("--errors", type=Path, help="write every unit whose themes differ to this JSON Lines file")
    parser.add_argument("--gold-units", action="store_true",
                        help="tag the annotator's own units and kinds instead of joinedup's segmentation")
    args = parser.parse_args()
    # (in number order: probe10 after probe9)
    probes = args.probes or sorted((p for p in PROBES.iterdir() if (p / "pages").is_dir()),
                                   key=lambda p: (len(p.name), p.name))
    overrides = {"data_dir": Path(tempfile.mkdtemp(prefix="joinedup-probes-"))}
    if args.models:
        overrides["models_dir"] = args.models
    pipe = Pipeline(load_settings(**overrides))
    on_units = ", on the annotator's own units" if args.gold_units else ""
    print(f"model {pipe.scorer().version}{on_units}\n")
    print("| probe | content units | micro-F1 | themeless content tagged | furniture tagged | themeless incl. "
          "furniture tagged | units joined / split |")
    print("|---|---|---|---|---|---|---|")
    pooled, errors, checks = Counts(), [], []
    for probe in probes:
        counts, second, on_agreed, humans = Counts(), Counts(), Counts(), [0, 0, 0]
        for page in sorted((probe / "pages").glob("*.txt")):
            text = page.read_text(encoding="utf-8")
            labels = read_labels(probe / "labels" / f"{page.stem}.jsonl")
            tagged = (pipe.scorer().tag_document(gold_blocks(text, labels)) if args.gold_units
                      else pipe.tag_text(text))
            paragraphs = [(p.start, p.end, {t.id for t in p.themes}) for p in tagged.paragraphs]
            counts.add(score_page(paragraphs, text, labels, f"{probe.name}/{page.stem}", errors))
            second_path = probe / "second" / f"{page.stem}.jsonl"
            if second_path.exists():
                other = read_labels(second_path)
                humans = [x + y for x, y in zip(humans, agreement(labels, other))]
                second.add(score_page(paragraphs, text, other, page.stem, []))
                on_agreed.add(score_page(paragraphs, text, agreed(labels, other), page.stem, []))
        pooled.add(counts)
        print(line(probe.name, counts))
        if second.content:
            checks.append((probe.name, humans, second, on_agreed, counts))
    if len(probes) > 1:
        print(line("pooled", pooled))
    if checks:
        # A second annotator labelled the same units blind: how far the annotators agree is the ceiling a probe
        # can measure, and the units they agree on are the cleanest gold.
        print("\n| probe | annotators' agreement, micro-F1 | joinedup against the first / the second | joinedup on "
              "the units both agree on (of all) |\n|---|---|---|---|")
        for name, humans, second, on_agreed, counts in checks:
            print(f"| {name} | {f1(*humans):.3f} | {f1(counts.tp, counts.fp, counts.fn):.3f} / "
                  f"{f1(second.tp, second.fp, second.fn):.3f} | {f1(on_agreed.tp, on_agreed.fp, on_agreed.fn):.3f} "
                  f"({on_agreed.content} of {counts.content}) |")
    print("\n| kind | F1 | | theme | F1 |\n|---|---|---|---|---|")
    kinds, themes = sorted(pooled.per_kind.items()), sorted(pooled.per_theme.items())
    for i in range(max(len(kinds), len(themes))):
        k = f"| {kinds[i][0]} | {f1(*kinds[i][1]):.3f} |" if i < len(kinds) else "| | |"
        t = f" | {themes[i][0]} | {f1(*themes[i][1]):.3f} |" if i < len(themes) else " | | |"
        print(k + t)
    if args.errors:
        args.errors.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in errors), encoding="utf-8")
    pipe.close()


if __name__ == "__main__":
    main()
