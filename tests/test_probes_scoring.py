"""The probe scorer (bench/probes.py) counts what a reader sees: units matched by span, and two annotators'
agreement over content units only."""

import importlib.util
import sys
from pathlib import Path

import pytest

_SPEC = importlib.util.spec_from_file_location("probes",
                                               Path(__file__).resolve().parent.parent / "bench" / "probes.py")
probes = importlib.util.module_from_spec(_SPEC)
sys.modules["probes"] = probes  # dataclasses look their module up by name
_SPEC.loader.exec_module(probes)

TEXT = "Skip to main content\n\nFunding for care must rise.\n\nThe meeting closed at 4pm.\n"
FIRST = [{"start": "Skip to", "kind": "furniture", "themes": []},
         {"start": "Funding for", "kind": "body", "themes": ["funding"]},
         {"start": "The meeting", "kind": "body", "themes": []}]


def _span(text, start):
    at = TEXT.index(start)
    return at, TEXT.index("\n", at)


def test_a_page_is_scored_by_span_with_themeless_and_furniture_apart():
    paragraphs = [(*_span(TEXT, "Funding for"), {"funding", "workforce"}), (*_span(TEXT, "The meeting"), {"governance"})]
    errors = []
    c = probes.score_page(paragraphs, TEXT, FIRST, "page", errors)
    assert (c.tp, c.fp, c.fn) == (1, 2, 0)
    assert (c.content, c.themeless, c.themeless_tagged, c.furniture, c.furniture_tagged) == (2, 1, 1, 1, 0)
    assert [e["gold"] for e in errors] == [["funding"], []]


def test_agreement_counts_content_units_and_skips_what_the_annotators_label_differently():
    second = [dict(FIRST[0]), {**FIRST[1], "themes": ["funding", "workforce"]}, dict(FIRST[2])]
    assert probes.agreement(FIRST, second) == (1, 1, 0)
    kept = probes.agreed(FIRST, second)
    assert [bool(u.get("skip")) for u in kept] == [False, True, False]
    paragraphs = [(*_span(TEXT, "Funding for"), {"funding"}), (*_span(TEXT, "The meeting"), set())]
    c = probes.score_page(paragraphs, TEXT, kept, "page", [])
    assert (c.content, c.tp, c.fp, c.fn) == (1, 0, 0, 0)  # only the agreed themeless unit is scored


def test_a_second_annotation_must_follow_the_first():
    with pytest.raises(SystemExit):
        probes.agreement(FIRST, [FIRST[0], {**FIRST[2], "themes": []}, FIRST[1]])


def test_gold_units_become_blocks_with_the_annotators_kinds_and_spans():
    text = "Skip to main content\n\nOur plan:\n\n\u2022 Pool the   budgets\nfor discharge.\n"
    labels = [{"start": "Skip to", "kind": "furniture", "themes": []},
              {"start": "Our plan:", "kind": "body", "themes": []},
              {"start": "\u2022 Pool", "kind": "list_item", "themes": ["pooled_budgets_commissioning"]}]
    blocks = probes.gold_blocks(text, labels)
    assert [(b.index, b.kind) for b in blocks] == [(0, "boilerplate"), (1, "body"), (2, "list_item")]
    # whitespace collapsed and the bullet gone, as structure() gives a list item; the span is the unit's own
    assert blocks[2].text == "Pool the budgets for discharge."
    assert (blocks[2].start, blocks[2].end) == (text.index("\u2022"), len(text))
    assert blocks[1].start == text.index("Our plan:") and blocks[1].end == blocks[2].start
