import re

from hypothesis import given, settings, strategies as st

from classifier.paragraphs import HEADING, PAGE_NUMBER, PARAGRAPH, segment, split_paragraphs


def test_hard_wrapped_lines_are_rejoined():
    text = ("The council and the ICB have agreed a plan to\nreduce delayed discharges this winter, and it\n"
            "will fund forty step-down beds in the county.\n\nA second paragraph follows here.")
    paras = split_paragraphs(text)
    assert [p.text for p in paras] == [
        "The council and the ICB have agreed a plan to reduce delayed discharges this winter, and it will fund "
        "forty step-down beds in the county.",
        "A second paragraph follows here."]


def test_bullets_and_numbered_items_are_split():
    text = "We ask the government to:\n1. Publish a workforce plan.\n2. Fund the public health grant.\n• Share records."
    assert [p.text for p in split_paragraphs(text)] == [
        "We ask the government to:", "1. Publish a workforce plan.", "2. Fund the public health grant.",
        "• Share records."]


def test_wrapped_bullet_continues_on_the_next_line():
    text = "- a bullet that is long enough to wrap onto a\n  second line of the same item\n- next item"
    assert [p.text for p in split_paragraphs(text)] == [
        "- a bullet that is long enough to wrap onto a second line of the same item", "- next item"]


def test_headings_and_page_numbers_are_not_paragraphs():
    text = "Our response\n\nWe support pooled budgets.\n\nPage 2 of 9\n\n- 3 -\n\nWe oppose cuts."
    kinds = [(s.kind, s.text) for s in segment(text)]
    assert kinds == [(HEADING, "Our response"), (PARAGRAPH, "We support pooled budgets."),
                     (PAGE_NUMBER, "Page 2 of 9"), (PAGE_NUMBER, "- 3 -"), (PARAGRAPH, "We oppose cuts.")]
    assert [p.index for p in split_paragraphs(text)] == [0, 1]


def test_single_short_line_is_still_a_paragraph():
    assert [p.text for p in split_paragraphs("Councils need fair funding")] == ["Councils need fair funding"]


def test_long_unwrapped_lines_from_web_pages_are_separate_paragraphs():
    a = "Integrated care boards must give councils an equal voice in decisions about money and priorities " * 2
    b = "Shared care records have cut the time social workers spend chasing information from hospitals " * 2
    paras = split_paragraphs(a.strip() + "\n" + b.strip())
    assert len(paras) == 2


def test_windows_line_endings_and_form_feeds():
    text = "First paragraph here.\r\n\r\nSecond one.\fThird after a page break."
    assert [p.text for p in split_paragraphs(text)] == ["First paragraph here.", "Second one.",
                                                        "Third after a page break."]


def test_offsets_point_into_the_original():
    text = "  Intro line.\n\n\tBody text that\n   wraps here.  \n"
    for p in split_paragraphs(text):
        assert " ".join(text[p.start:p.end].split()) == p.text


_alphabet = st.sampled_from(list("abc XYZ.,;:!?-•*()1234567890") + ["\n", "\n\n", "\r\n", "\t", "\f", "é", "’"])


@settings(max_examples=300, deadline=None)
@given(st.lists(_alphabet, max_size=300).map("".join))
def test_no_non_whitespace_character_is_lost(text):
    segments = segment(text)
    covered = "".join(text[s.start:s.end] for s in segments)
    assert re.sub(r"\s", "", covered) == re.sub(r"\s", "", text)


@settings(max_examples=300, deadline=None)
@given(st.lists(_alphabet, max_size=300).map("".join))
def test_offsets_map_back_and_are_ordered(text):
    last_end = 0
    for s in segment(text):
        assert 0 <= last_end <= s.start < s.end <= len(text)
        assert s.text == " ".join(text[s.start:s.end].split())
        assert s.text and s.text == s.text.strip()
        last_end = s.end
