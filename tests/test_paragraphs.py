import re

from hypothesis import given, settings, strategies as st

from classifier.text.paragraphs import HEADING, PAGE_NUMBER, PARAGRAPH, rejoin_lines, segment, split_paragraphs
from classifier.text.structure import structure
from classifier.text.visible import plain, visible


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


def test_a_word_hyphenated_at_a_line_end_is_one_word_again_and_a_compound_keeps_its_hyphen():
    # A typeset PDF hyphenates words where lines end; pasted, "preven- tion" matched nothing the tagger knows.
    lines = ["Councils spend their public health grant on the prevention of harm, on preven-",
             "tion in schools, on services for people with long-term conditions, and on long-",
             "term care at home. The county will fund placements for children and place-",
             "based teams for adults, with the place-",
             "ment panel meeting monthly."]
    text = "\n".join(lines)
    assert [p.text for p in split_paragraphs(text)] == [
        "Councils spend their public health grant on the prevention of harm, on prevention in schools, on "
        "services for people with long-term conditions, and on long-term care at home. The county will fund "
        "placements for children and place-based teams for adults, with the placement panel meeting monthly."]
    assert [rejoin_lines(f"{a}\n{b}") for a, b in [("NHS-", "led"), ("follow-", "up"), ("short-", "age"),
                                                    ("a dash -", "stays")]] == [
        "NHS-led", "follow-up", "shortage", "a dash - stays"]
    assert rejoin_lines("part-\nnership and integ-\r\nration and co-\nproduction") == \
        "partnership and integration and co-production"


_HIDDEN_PAGE = ("\ufeffHome\n\nCouncils need a \ufb01nancial settlement that re\u00adflects rising demand.\u200b "
                "The public health grant should be pro\u00adtected for \ufb02exible prevention work.\n\n"
                "We call on the government to:\n\n- fund the \ufb01rst year of the work\u00adforce plan\n"
                "- restore the public health grant\n")


def test_hidden_characters_and_ligatures_are_read_as_a_reader_sees_them():
    # A web page's soft hyphens and zero-width spaces and a PDF's ligatures come along with a paste: the
    # paragraphs are the clean text's, and their offsets still cut the text as it came.
    clean, origin = visible(_HIDDEN_PAGE)
    assert "\u00ad" not in clean and "\ufb01" not in clean and "financial" in clean and "flexible" in clean
    dirty, tidy = structure(_HIDDEN_PAGE), structure(clean)
    assert [(b.kind, b.text) for b in dirty] == [(b.kind, b.text) for b in tidy]
    assert [b.text for b in dirty if b.kind == "list_item"] == ["fund the first year of the workforce plan",
                                                                 "restore the public health grant"]
    for b in dirty:
        assert rejoin_lines(plain(_HIDDEN_PAGE[b.start:b.end])).endswith(b.text)
        assert _HIDDEN_PAGE[b.start:b.end] == _HIDDEN_PAGE[b.start:b.end].strip()
    assert origin[clean.index("financial")] == _HIDDEN_PAGE.index("\ufb01nancial")


_dirty_alphabet = st.sampled_from(list("abc XYZ.,;:-•1") + ["\n", "\n\n", "\u00ad", "\u200b", "\ufb01", "\ufeff"])


@settings(max_examples=300, deadline=None)
@given(st.lists(_dirty_alphabet, max_size=200).map("".join))
def test_structure_offsets_cut_the_text_as_it_came(text):
    last_end = 0
    for b in structure(text):
        assert 0 <= last_end <= b.start < b.end <= len(text)
        assert rejoin_lines(plain(text[b.start:b.end])).endswith(b.text)
        last_end = b.end


def test_bullets_from_word_and_from_pdfs_made_by_word_start_items():
    # A PDF made from Word gives its Symbol and Wingdings bullets as private-use characters (U+F0B7, U+F0A7),
    # and a paste from Word gives second-level items as "o" and a tab; all of them once ran into one paragraph.
    text = ("The partnership will:\n\n\uf0b7\tshare one waiting list for care at home\n"
            "\uf0b7\tfund forty step-down beds from the pooled budget\n"
            "o\tkeep ten of them for people leaving mental health wards\n"
            "\uf0a7\tpublish the waiting times every month\n\u2756 review the plan in a year\n\n"
            "Home care o the side of the road is not a list.\n")
    blocks = structure(text)
    assert [(b.kind, b.text) for b in blocks] == [
        ("body", "The partnership will:"),
        ("list_item", "share one waiting list for care at home"),
        ("list_item", "fund forty step-down beds from the pooled budget"),
        ("list_item", "keep ten of them for people leaving mental health wards"),
        ("list_item", "publish the waiting times every month"),
        ("list_item", "review the plan in a year"),
        ("body", "Home care o the side of the road is not a list.")]
    assert all(text[b.start:b.end] == b.text for b in blocks)


def test_offsets_point_into_the_original():
    text = "  Intro line.\n\n\tBody text that\n   wraps here.  \n"
    for p in split_paragraphs(text):
        assert rejoin_lines(text[p.start:p.end]) == p.text


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
        assert s.text == rejoin_lines(text[s.start:s.end])
        assert s.text and s.text == s.text.strip()
        last_end = s.end


# -- cost and limits: POST /tag is open, so a hostile text must stay cheap ------------------------------------

import contextlib
import sys
from unittest import mock

import pytest

from classifier.text import paragraphs
from classifier.errors import PayloadTooLarge


def _python_calls(fn, *args, **kwargs) -> int:
    """How many Python-level function calls ``fn`` makes (C functions and methods are not counted)."""
    with pytest.raises(PayloadTooLarge) if kwargs.get("max_paragraphs") else contextlib.nullcontext():
        fn(*args, **kwargs)  # first-call set-up inside numpy and re is not the splitter's work
    calls = 0

    def count(frame, event, arg):
        nonlocal calls
        calls += event == "call"

    sys.setprofile(count)
    try:
        fn(*args, **kwargs)
    except PayloadTooLarge:
        pass
    finally:
        sys.setprofile(None)
    return calls


@pytest.mark.parametrize("unit", ["a\n", "A\n", "1\n", "a.\n", "a\n\n", "A\r\n", "x\f", "- a\n", "A.\n\n"])
def test_no_python_work_per_line_on_a_flood_of_one_letter_lines(unit):
    # 690,000 such lines (a 2 MB body) took 1.5-3.5 s of CPU when every line went through Python code. Now
    # Python code runs per paragraph built (and per chunk of lines), never per line.
    text = unit * 20_000
    assert _python_calls(split_paragraphs, text) < 1000 + 3 * len(split_paragraphs(text))
    if len(split_paragraphs(text)) > 100:
        # a constant (the text's set-up and the first chunk's), the same for four times the lines
        limited = _python_calls(split_paragraphs, text, max_paragraphs=100)
        assert limited < 250
        assert _python_calls(split_paragraphs, unit * 80_000, max_paragraphs=100) <= limited + 10


def test_max_paragraphs_raises_payload_too_large_naming_the_limit():
    text = "One.\n\nTwo.\n\nThree.\n\nFour."
    assert len(split_paragraphs(text, max_paragraphs=4)) == 4
    with pytest.raises(PayloadTooLarge, match="more than 3 paragraphs"):
        split_paragraphs(text, max_paragraphs=3)
    with pytest.raises(PayloadTooLarge):
        segment(text, max_paragraphs=3)


def test_headings_and_page_numbers_do_not_count_toward_the_limit():
    text = "Our response\n\nWe support pooled budgets.\n\nPage 2 of 9\n\n- 3 -\n\nWe oppose cuts."
    assert [p.text for p in split_paragraphs(text, max_paragraphs=2)] == ["We support pooled budgets.",
                                                                         "We oppose cuts."]


def test_the_limit_stops_the_work_at_the_first_chunk_over_it():
    decided = []
    real = paragraphs._decide

    def spy(lines, *args):
        decided.append(len(lines))
        return real(lines, *args)

    with mock.patch.object(paragraphs, "_decide", spy), pytest.raises(PayloadTooLarge):
        split_paragraphs("A paragraph.\n\n" * 50_000, max_paragraphs=500)
    assert decided == [paragraphs._CHUNK_LINES + 1]  # the chunk and the first line after it, as context


@settings(max_examples=200, deadline=None)
@given(st.lists(_alphabet, max_size=300).map("".join), st.sampled_from([1, 2, 3]))
def test_chunk_boundaries_change_nothing(text, chunk):
    with mock.patch.object(paragraphs, "_CHUNK_LINES", chunk):
        small = segment(text)
    assert small == segment(text)


_other_breaks = st.sampled_from(["a", "B.", " ", "\n", "\x0b", "\x1c", "\x85", "\u2028", "\u2029", "\r", "\f", "- "])


@settings(max_examples=200, deadline=None)
@given(st.lists(_other_breaks, max_size=60).map("".join))
def test_both_ways_of_cutting_lines_agree(text):
    # str.splitlines (fast) is used only when the text has none of the breaks it knows and _LINE does not.
    with mock.patch.object(paragraphs, "_OTHER_BREAKS", re.compile("")):  # always take the regex cutter
        by_regex = segment(text)
    assert by_regex == segment(text)
    for s in by_regex:
        assert s.text == rejoin_lines(text[s.start:s.end])


def test_a_long_line_is_continued_by_the_wrapped_lines_after_it():
    # Issue 12.7: a paragraph whose first line was never wrapped but whose end was ("very easy." alone).
    long = ("Carers told the panel that the new single assessment, shared between the council and the hospital "
            "discharge team, has made getting support at home")
    text = f"{long}\nvery easy.\n\nA second paragraph."
    assert [p.text for p in split_paragraphs(text)] == [f"{long} very easy.", "A second paragraph."]


def test_finished_sentences_on_long_lines_stay_separate_paragraphs():
    a = ("Integrated care boards must give councils an equal voice in decisions about money, priorities and the "
         "shape of the local services they pay for.")
    text = f"{a}\nShort closing paragraph one.\nShort closing paragraph two, a little longer than that.\nOur plan\n{a}"
    assert [(s.kind, s.text) for s in segment(text)] == [
        (PARAGRAPH, a), (PARAGRAPH, "Short closing paragraph one."),
        (PARAGRAPH, "Short closing paragraph two, a little longer than that."), (HEADING, "Our plan"), (PARAGRAPH, a)]


def _structure(text):
    from classifier.text.structure import structure

    return [(b.kind, b.text) for b in structure(text)]


_REPORT_LINES = [
    "1. Introduction",
    "1.1 The panel was asked by the Cabinet in June to review how the county and the two",
    "trusts plan winter capacity together, and to report back before the budget is set.",
    "1.2 Its members visited both hospitals and the joint discharge hub, and heard from",
    "four care providers, the carers' centre and the integrated care board's place team.",
    "Wenmore County Council - Health Scrutiny Panel - Winter planning review - 4 February 2027",
    "Page 2",
    "2. Findings",
    "2.1 Plans for extra beds are still made by each organisation on its own, so that the",
    "hub learns in December what the wards decided in September. The panel found no",
    "single list of the capacity each partner had bought for the winter.",
    "Wenmore County Council - Health Scrutiny Panel - Winter planning review - 4 February 2027",
    "Page 3",
]


def test_a_pdf_report_without_blank_lines_keeps_its_numbered_paragraphs_whole():
    # A scrutiny report pasted from a PDF without blank lines: its running footer is longer than its text,
    # which made every wrapped line look broken by hand (one paragraph per line), and its "1.1", "2.1"
    # paragraphs ran into one another once the lines were joined.
    blocks = [(b.kind, b.text) for b in structure("\n".join(_REPORT_LINES)) if b.kind != "boilerplate"]
    assert blocks == [
        ("heading", "1. Introduction"),
        ("body", " ".join(_REPORT_LINES[1:3])),
        ("body", " ".join(_REPORT_LINES[3:5])),
        ("heading", "2. Findings"),
        ("body", " ".join(_REPORT_LINES[8:11]))]


def test_one_wide_line_in_a_long_pdf_block_does_not_make_its_wrapped_lines_look_broken_by_hand():
    # A consultation response from a PDF without blank lines: a byline set wider than the text's column made
    # "... but refers to" / "councils mainly ..." look like a break by hand (the next word fitted under the
    # byline's width), cutting answers in two; a long block is measured without its few widest lines.
    import textwrap

    answers = [
        "4. Not yet. The plan describes the programmes of the integrated care board in detail but refers to "
        "councils mainly as delivery partners, and a plan that is joint in name must be joint in substance.",
        "5. We would also welcome a partnership agreement between the board, the council and the main providers "
        "in the city, setting out how disagreements will be settled and how the voluntary sector will be heard.",
        "6. The plan assumes that spending on care in the city will rise by two per cent a year, while the "
        "council's own medium-term financial plan assumes a real-terms fall in spending per person on adult "
        "social care, because the money the council has is not keeping pace with what care costs.",
        "7. Progress should be measured through a small number of outcomes agreed with the health and wellbeing "
        "board and reported publicly each year, rather than through the activity counts the plan proposes now.",
    ]
    byline = "Submitted on behalf of the Council by the Cabinet Member for Health and Social Care, February 2027"
    text = "\n".join([byline] + [line for a in answers for line in textwrap.wrap(a, 78)])
    assert len(text.splitlines()) >= 10 and max(map(len, text.splitlines()[1:])) < len(byline) - 8
    assert [b.text for b in structure(text) if b.kind == "list_item"] == [a[3:] for a in answers]


def test_a_roman_page_number_and_programme_times_are_lines_of_their_own():
    # A report's front matter is numbered "ii", "iii": the running header beside it is furniture and the
    # paragraph the page break cut is read whole. A programme's times sit on lines of their own.
    pdf = ("Neither place can yet show what difference its partnership has made. Each reports a long list\n"
           "of activity measures, but there is no agreed set of outcomes, and the records needed to follow\n"
           "people across health and social care are not yet linked\n"
           "Working Together? A review of the Ashby and Morden place partnerships\n"
           "ii\n"
           "in a form that analysts in the partner organisations can use.\n"
           "Both partnerships should publish a short annual report on the outcomes they have agreed.\n"
           "Working Together? A review of the Ashby and Morden place partnerships\n"
           "iii\n")
    blocks = structure(pdf)
    assert [b.kind for b in blocks] == ["body", "boilerplate", "boilerplate", "body", "body", "boilerplate",
                                        "boilerplate"]
    assert blocks[0].reading == blocks[3].reading == f"{blocks[0].text} {blocks[3].text}"
    sessions = ["Keynote: what ten years of integration policy have taught councils and the NHS",
                "Panel: can strategic authorities use their new health duties to reduce inequalities?",
                "Workshops on joint commissioning, shared records and the care workforce"]
    programme = f"09:30\n{sessions[0]}\n09:45 - 10:30\n{sessions[1]}\n2.15pm\n{sessions[2]}"
    blocks = structure(programme)
    assert [b.text for b in blocks] == ["09:30", sessions[0], "09:45 - 10:30", sessions[1], "2.15pm", sessions[2]]
    assert [b.kind == "boilerplate" for b in blocks] == [True, False] * 3


def test_subheadings_before_decimal_numbered_paragraphs_are_headings_of_their_own():
    # An annual report from a PDF, without blank lines: a numbered heading, a subheading, then "4.1 ..."; a
    # decimal-numbered paragraph opens with a digit, which had glued each subheading to the paragraph after it.
    lines = ["4. What we achieved",
             "Priority 1: Warmer homes",
             "4.1 The partnership insulated 900 homes this year, choosing them from linked GP records so that",
             "households with someone who has a lung condition came first.",
             "Priority 2: Starting well",
             "4.2 Family hubs opened in every locality, and the share of children ready for school rose."]
    assert _structure("\n".join(lines)) == [
        ("heading", lines[0]), ("heading", lines[1]), ("body", f"{lines[2]} {lines[3]}"), ("heading", lines[4]),
        ("body", lines[5])]


def test_unwrapped_lines_after_a_lead_in_are_items_even_without_full_stops():
    # A browser paste of a list without bullets whose items are longer than any wrapped line: a long line that
    # does not end its sentence is not continued by the items after it once a lead-in has opened the list.
    items = ["treat each other as equals whatever our size or budget, and decide things together at the "
             "partnership rather than separately in each of our own organisations",
             "share records safely so that every professional involved in someone's care sees what they need",
             "report each year on a few outcomes that matter to residents"]
    text = "\n".join(["To deliver the strategy, the partners have agreed to:", *items,
                      "The health and wellbeing board oversees the strategy and reviews it every year."])
    assert _structure(text) == [("body", "To deliver the strategy, the partners have agreed to:"),
                                *[("list_item", i) for i in items],
                                ("body", "The health and wellbeing board oversees the strategy and reviews it "
                                         "every year.")]


def test_a_numbered_section_heading_in_a_pdf_without_blank_lines_is_not_glued_to_its_first_paragraph():
    pdf = ("3. Housing as a health service\n"
           "Most of what decides how long people live lies outside the reach of the NHS, and the\n"
           "councils hold most of the levers that matter for housing.\n")
    assert _structure(pdf) == [("heading", "3. Housing as a health service"),
                               ("body", "Most of what decides how long people live lies outside the reach of the NHS,"
                                        " and the councils hold most of the levers that matter for housing.")]
    # minutes with blank lines: numbered agenda headings, not list items
    minutes = "1. APOLOGIES FOR ABSENCE\n\nApologies were received from Cllr Example.\n\n2. MINUTES\n\nApproved."
    assert [k for k, _ in _structure(minutes)] == ["heading", "body", "heading", "body"]


def test_numbered_list_items_stay_items_whatever_follows_them():
    # after another item, before another item, or before a short line: items of a list
    assert [k for k, _ in _structure("We ask for:\n\n1. Recruit more carers\n\n2. Pay them more\n\n"
                                     "Councils should act now on both of these points.")] == [
        "body", "list_item", "list_item", "body"]
    wrapped = ("We recommend:\n1. Cut the number of national targets for integrated care boards to no more than\n"
               "ten, agreed with councils.\n2. Publish progress each year\n")
    assert [k for k, _ in _structure(wrapped)] == ["body", "list_item", "list_item"]


def test_a_minutes_label_on_its_own_line_separates_an_agenda_title_from_its_text():
    page = ("51. Apologies for absence\nMinutes:\nApologies were received from Councillor Example.\n\n"
            "52. Home to school transport for children with SEND\nMinutes:\nCabinet considered proposals to change "
            "the eligibility policy for home to school transport.\n\nRESOLVED: That the proposals be approved.")
    assert _structure(page) == [
        ("heading", "51. Apologies for absence"), ("boilerplate", "Minutes:"),
        ("body", "Apologies were received from Councillor Example."),
        ("heading", "52. Home to school transport for children with SEND"), ("boilerplate", "Minutes:"),
        ("body", "Cabinet considered proposals to change the eligibility policy for home to school transport."),
        ("body", "RESOLVED: That the proposals be approved.")]


def test_an_inline_clause_b_wrapped_to_the_start_of_a_line_continues_its_paragraph():
    resolution = ("RESOLVED: That the Board (a) approve the Better Care Fund plan for 2027 to 2029 for submission,\n"
                  "subject to any final changes being agreed by the Chair and the ICB Place Director; and\n"
                  "(b) receive a report at its next meeting on options for reducing delayed discharges.\n")
    assert [k for k, _ in _structure(resolution)] == ["body"]
    # short items, and an item whose own first line fills the width, are still a list
    assert [k for k, _ in _structure("We ask the ICB to:\n(a) recruit more carers\n(b) pay them more")] == [
        "body", "list_item", "list_item"]
    wide = ("We ask the ICB to:\n(a) publish the number of people delayed in hospital each week, by place, online\n"
            "(b) report to the board.")
    assert [k for k, _ in _structure(wide)] == ["body", "list_item", "list_item"]


def _texts(text):
    return [s.text for s in segment(text)]


def test_lines_broken_by_hand_are_paragraphs_of_their_own_but_wrapped_lines_join():
    # A browser copies a list without its bullets: each line could have taken the next line's first word, so
    # the breaks were made by hand.
    pasted = ("The eight-point plan is:\n"
              "Re-designing jobs and qualifications to bridge organisational differences\n"
              "Light-touch guidance on essential requirements for integration\n"
              "A single outcomes framework for health and care")
    assert _texts(pasted) == ["The eight-point plan is:",
                              "Re-designing jobs and qualifications to bridge organisational differences",
                              "Light-touch guidance on essential requirements for integration",
                              "A single outcomes framework for health and care"]
    # Wrapped prose fills each line: the next line's first word never fits, so it stays one paragraph, even
    # when a wrapped line starts with a capital.
    wrapped = ("The council and the ICB agreed on Monday that the pooled budget for\n"
               "NHS continuing care and home care will grow by a fifth next year, and\n"
               "that the joint team will report to the health and wellbeing board.")
    assert _texts(wrapped) == [" ".join(wrapped.split())]
    # In a block of lines broken by hand, a full line followed by one in lower case is still a wrapped line...
    mixed = ("Our priorities\nSupporting carers\nJoining up discharge so that people get home from hospital\n"
             "sooner\nHousing")
    assert _texts(mixed) == ["Our priorities", "Supporting carers",
                             "Joining up discharge so that people get home from hospital sooner", "Housing"]
    # ...except after a lead-in, where lines in lower case are items unless one stops on "the", "and" or a comma
    items = ("The council will:\ninvest \u00a32m in reablement over three years\nrecruit 40 more home care workers\n"
             "publish a joint discharge dashboard every month and the\nfigures behind it")
    assert _texts(items) == ["The council will:", "invest \u00a32m in reablement over three years",
                             "recruit 40 more home care workers",
                             "publish a joint discharge dashboard every month and the figures behind it"]


def test_items_ending_in_semicolons_are_split_even_when_each_fills_the_line():
    items = ("joint appointments of neighbourhood leads, employed by the council and the NHS together and accountable;\n"
             "pooled neighbourhood budgets under section 75, so that money can follow the person rather than the body; and\n"
             "a shared set of neighbourhood outcomes, owned by the health and wellbeing board and published every year.")
    assert _texts(items) == items.split("\n")
    # one wrap that happens to fall after a semicolon is still a wrap
    wrapped = ("The council will pool its budget for home care with the ICB's;\n"
               "the two will report to the health and wellbeing board each year.")
    assert _texts(wrapped) == [" ".join(wrapped.split())]


def test_a_long_headline_among_unwrapped_lines_is_not_glued_to_its_byline():
    page = ("Budget survey 2026: three in four councils overspent on adult social care last year\n"
            "Posted on 18 June 2026 by Communications team\n"
            "Three quarters of councils overspent their adult social care budgets in 2025/26, with a combined overspend "
            "of \u00a3760m, according to the annual spring budget survey published today by the directors.")
    assert _texts(page) == page.split("\n")


def test_a_section_heading_after_a_full_line_that_ends_a_sentence_is_a_heading_of_its_own():
    pdf = ("4. We estimate that county authorities will face a combined shortfall of \u00a31.9bn in adult\n"
           "social care by 2028/29, and that the shortfall will be met by cutting preventative care.\n"
           "Devolution and the county geography\n"
           "5. The English Devolution White Paper proposes a strategic authority for every area.")
    assert [(s.kind, s.text[:30]) for s in segment(pdf)] == [
        (PARAGRAPH, "4. We estimate that county aut"), (HEADING, "Devolution and the county geog"),
        (PARAGRAPH, "5. The English Devolution Whit")]
    # a sentence cut by a page break ("... the" / running header) is not a heading
    cut = ("4. We estimate that county authorities will face a combined shortfall of \u00a31.9bn in adult\n"
           "social care by 2028/29, and that the shortfall will be met by cutting preventative care.\n"
           "Without further funding, the\n"
           "Counting the Cost: care and the county geography\n"
           "3\n"
           "shortfall will be met by reducing preventative services.")
    assert segment(cut)[0].text.endswith("Without further funding, the")
    # "Who we are" stops on a verb, not on a word that runs on: it is a heading
    assert [(s.kind, s.text) for s in segment("Who we are\n\nWe plan care together.")][0] == (HEADING, "Who we are")


def test_header_lines_broken_by_hand_do_not_make_the_wrapped_paragraphs_after_them_lines_too():
    # a board paper pasted from a PDF without blank lines: short header lines, then wrapped prose in one block
    paper = ("Date of meeting: 28 January 2027\nAgenda item: 11\nReport author: Programme Manager\n"
             "Executive summary\n"
             "Two of the three places are on track to meet their Better Care Fund metrics for\n"
             "2026/27. Lynford continues to have the highest number of patients waiting to leave\n"
             "hospital, averaging 58 a day in December against a plan of 40, largely because of a\n"
             "shortage of home care in the rural north of the place.")
    texts = _texts(paper)
    assert texts[-1].startswith("Two of the three places") and texts[-1].endswith("rural north of the place.")


def test_a_short_question_answered_by_the_paragraph_after_it_is_a_heading():
    text = ("The pooled fund explained\n\nWho decides how it is spent?\n\n"
            "The health and wellbeing board signs off a plan that the council and the NHS agree together.\n\n"
            "Question 3: Do you agree with delegating budgets to places?\n\n"
            "We agree, provided that councils have an equal say in how the money is used.\n\n"
            "Q16 Chair: What is the single thing that would help most?\n\n"
            "A workforce plan with money attached, and soon.\n\n"
            "Why has this taken so long? Partly because each side waited for the other.\n\n"
            "Is it new money?\n\nWhat is it spent on?\n\nMostly community services.")
    kinds = {b.text: b.kind for b in structure(text)}
    assert kinds["Who decides how it is spent?"] == "heading"
    assert kinds["Question 3: Do you agree with delegating budgets to places?"] == "heading"
    # a question put by a named speaker, a question answered in its own paragraph, a question followed by
    # another question: each stays what it was
    assert kinds["Q16 Chair: What is the single thing that would help most?"] == "body"
    assert kinds["Why has this taken so long? Partly because each side waited for the other."] == "body"
    assert kinds["Is it new money?"] == "body"
    assert kinds["What is it spent on?"] == "heading"


def test_unmarked_items_after_a_heading_in_a_block_that_was_never_wrapped_are_items_of_their_own():
    # (items of more words than a headline has, each shorter than a line too long to be wrapped)
    asks = ["A settlement for adult social care that pays what care costs, agreed for five years or more at a time "
            "so we can plan",
            "A fair pay deal for care workers, so that a care worker is paid at least what a healthcare assistant in "
            "the NHS is",
            "An equal voice for councils and the voluntary sector alongside the NHS on every integrated care board in "
            "the land",
            "A duty on every area to publish how it will narrow the gap in healthy life expectancy between its "
            "richest and poorest neighbourhoods, with progress reported each year"]
    text = "Our ten asks\n" + "\n".join(asks) + "\n\nWhy these asks?"
    texts = [b.text for b in structure(text)]
    assert texts == ["Our ten asks", *asks, "Why these asks?"]
    # the rest of a sentence wrapped by hand is still the same paragraph: it is short, or starts in lower case
    wrapped = ("Our helpline hears every week from families whose mother or father was sent home from hospital "
               "without the care they had been promised, which made it\nvery hard.\n"
               "The next paragraph is long enough to make this a block that was never wrapped by anyone at all.")
    assert len(structure(wrapped)) == 2


def test_each_turn_of_a_transcript_pasted_without_blank_lines_is_a_paragraph_of_its_own():
    # (each turn's last line is as full as the wrapped ones: only the speaker's label says a new turn starts)
    text = ("Q119 Chair: Councillor Marsh, your written evidence says councils have become junior partners in\n"
            "integrated care, and that the board does not listen to them. What do you mean by that exactly?\n"
            "Councillor Marsh: That the decisions about money are taken by the board, where councils have one\n"
            "seat in fourteen. We are consulted on most things, but on the things that matter we do not decide.\n"
            "Q120 Dev Arkwright-Lyle: Dr Penrose, do you recognise that description of your board and its work?\n"
            "Dr Penrose: Partly. The board answers to NHS England for NHS money, and it cannot delegate\n"
            "that accountability away.\n")
    texts = [b.text for b in structure(text)]
    assert [t.split(":")[0] for t in texts] == ["Q119 Chair", "Councillor Marsh", "Q120 Dev Arkwright-Lyle",
                                                "Dr Penrose"]
    assert texts[1].endswith("we do not decide.")


def test_a_numbered_heading_in_a_block_that_was_never_wrapped_is_not_joined_to_the_item_after_it():
    text = ("Our ambitions\n"
            "1. Fewer people waiting in hospital\n"
            "One team to arrange every discharge\n"
            "A transfer of care hub run with the acute trust, the community trust and the city council, open "
            "from eight in the morning to eight at night, seven days a week\n"
            "2. Preventing ill health\n"
            "Falls classes in every neighbourhood\n")
    texts = [b.text for b in structure(text)]
    assert "1. Fewer people waiting in hospital" in texts and "2. Preventing ill health" in texts
    assert "One team to arrange every discharge" in texts and "Falls classes in every neighbourhood" in texts
    # in a wrapped block, a numbered item's first line still runs on into its wrapped rest
    wrapped = ("1. Fewer people waiting in\nhospital for care at home.\n2. Preventing ill health in\n"
               "every neighbourhood.\n")
    assert [b.text for b in structure(wrapped)] == ["Fewer people waiting in hospital for care at home.",
                                                    "Preventing ill health in every neighbourhood."]


def test_a_running_header_with_its_page_number_on_the_same_line_is_a_page_break():
    # a PDF pasted without blank lines: the header and its number set apart by a wide gap, or by "|"
    text = ("Our care homes are full and our discharge teams are stretched, and the cost of keeping beds open\n"
            "over the winter fell mostly on the council, which had to draw on its reserves to meet the\n"
            "Example Borough Council | Annual Review 2026/27                                   7\n"
            "extra cost of agency staff. We have agreed a recovery plan with the integrated care board.\n"
            "8 | Annual Review 2026/27\n"
            "4          Example Borough Council | Annual Review 2026/27\n"
            "Housing and health\n")
    blocks = structure(text)
    kinds = {b.text: b.kind for b in blocks}
    assert kinds["Example Borough Council | Annual Review 2026/27 7"] == "boilerplate"
    assert kinds["8 | Annual Review 2026/27"] == "boilerplate"
    # the number first counts only because the header comes back beside another page number
    assert kinds["4 Example Borough Council | Annual Review 2026/27"] == "boilerplate"
    # the sentence the page break cut is read whole, and nothing of the header is in it
    halves = [b for b in blocks if b.whole]
    assert len(halves) == 2 and "Annual Review" not in halves[0].whole
    assert halves[0].whole.endswith("to meet the extra cost of agency staff. We have agreed a recovery plan with the "
                                    "integrated care board.")
    # the number first with a wide gap counts only when its header comes back
    assert structure("4          Annual Review 2026/27\nHousing and health\n")[0].kind != "boilerplate"
    # an agenda's numbered item with a wide gap is not a page header
    agenda = "10     Date of next meeting\nThe next meeting will be held on 4 March at 2pm.\n"
    assert [b.kind for b in structure(agenda)] != ["boilerplate", "body"]


def test_a_tables_rows_are_one_paragraph_apart_from_the_prose_around_them():
    text = ("The figures below show how far delays have fallen since the discharge hub opened in the spring,\n"
            "and where the pressure is now.\n"
            "Measure                              2025/26      2026/27\n"
            "Delayed discharges (daily average)    96           71\n"
            "People home within 7 days            58%          66%\n"
            "Most of the improvement came from the new reablement service, which now takes referrals seven days\n"
            "a week.\n")
    texts = [b.text for b in structure(text)]
    assert texts == ["The figures below show how far delays have fallen since the discharge hub opened in the spring, "
                     "and where the pressure is now.",
                     "Measure 2025/26 2026/27 Delayed discharges (daily average) 96 71 People home within 7 days 58% 66%",
                     "Most of the improvement came from the new reablement service, which now takes referrals seven days "
                     "a week."]
    # a menu set apart by wide gaps has no figures: it is not a table, and stays with its footer
    footer = "Example Council, Town Hall, Example EX1 1AA\nContact us    Accessibility    Privacy    Cookies\n"
    assert [b.kind for b in structure(footer)] == ["boilerplate"]


def test_captions_source_lines_and_superscript_notes_are_lines_of_their_own():
    text = ("Figure 2.1 shows the gap in healthy life expectancy between the most and least deprived wards of the\n"
            "borough, which has widened since 2019.\n"
            "Figure 2.1: Healthy life expectancy by ward, Example Borough, 2022-24\n"
            "Source: Example Council public health team analysis of ONS data\n"
            "Most of the gap comes from heart disease and lung disease, and from the higher rate of smoking in the\n"
            "wards with the poorest housing.\u00b9\n"
            "\u00b9 Example Borough Joint Strategic Needs Assessment 2026.\n"
            "\u00b2 Example adult lifestyle survey 2025.\n")
    blocks = structure(text)
    assert [(b.kind, b.text.split(" ")[0]) for b in blocks] == [
        ("body", "Figure"), ("heading", "Figure"), ("boilerplate", "Source:"), ("body", "Most"),
        ("boilerplate", "\u00b9"), ("boilerplate", "\u00b2")]
    assert blocks[0].text.endswith("widened since 2019.")


def test_a_reports_quotes_and_numbered_recommendations_pasted_without_blank_lines_start_anew():
    # every line as full as the wrapped ones: only how the next line opens says a new paragraph starts
    text = ("Most people waited at least a day longer than they needed to, and the most common reason for the wait\n"
            "was a package of care at home, which took more than a week to arrange for one person in every five.\n"
            "\u201cThey said on the Tuesday that Dad could go, and on the Friday he was still there, getting weaker\n"
            "every day because nobody could start his visits, and nobody would tell us why.\u201d (Son, aged 58)\n"
            "\u201cNobody told me anything about my medicines until the taxi was outside.\u201d (Patient, aged 69)\n"
            "Several carers said they had not been asked whether they could cope before the discharge was agreed.\n"
            "Recommendation 2.1: The council and the ICB should agree one discharge plan for every patient within\n"
            "a day of their admission, shared with their family and with the team that will support them at home.\n"
            "Recommendation 2.2: The hospital should tell carers the expected date of discharge as soon as it is\n"
            "known.\n")
    texts = [b.text for b in structure(text)]
    assert [t[:12] for t in texts] == ["Most people ", "\u201cThey said o", "\u201cNobody told", "Several care",
                                       "Recommendati", "Recommendati"]
    assert texts[1].endswith("(Son, aged 58)") and texts[5].endswith("as soon as it is known.")
    # a quotation inside a wrapped sentence runs on
    wrapped = ("The chair said the plan was the best the board had seen in years, and she added that in her view\n"
               "\u201cit will need money behind it\u201d before it could work for the people it was written for.\n")
    assert len(structure(wrapped)) == 1


def test_a_report_pdf_with_contents_page_headers_and_quotes_keeps_its_sections_apart():
    # A report pasted from a PDF without blank lines: a table of contents with dot leaders, a running header with
    # "Page N" after a wide gap, numbered section headings over wrapped prose, and quotes with their speakers on
    # the line after them. The quotes and a contact line are wider than the prose, which must not make the
    # prose's full lines look short.
    text = ("Example Voice\n"
            "Care at home: what people told us\n"
            "Contents\n"
            "1. Summary ..................................................... 3\n"
            "2. What people told us ......................................... 4\n"
            "About Example Voice ............................................ 12\n"
            "Example Voice | Care at home report 2025                            Page 3\n"
            "1. Summary\n"
            "Between October 2024 and February 2025 we heard from 212 people about their\n"
            "experience of care at home, through a survey, visits and calls to our helpline.\n"
            "Example Voice | Care at home report 2025                            Page 4\n"
            "2. What people told us\n"
            "2.1 Time and continuity\n"
            "The most common complaint was about time. Visits are booked in blocks of 30 or 45\n"
            "minutes, and people said their care workers were often rushed and always late.\n"
            "\"I had seventeen different carers in one month. I counted. You can't build trust.\"\n"
            "\u2013 Man, 71, living with Parkinson's\n"
            "People who had the same small team of care workers over several months were much\n"
            "more positive about their care and about the agencies that employed them.\n"
            "Tel: 01632 960 884 | info@examplevoice.org.uk | www.examplevoice.org.uk | Registered charity 1234567\n")
    blocks = structure(text)
    kinds = [(b.kind, b.text) for b in blocks]
    assert [(k, t[:14]) for k, t in kinds[2:6]] == [("boilerplate", "Contents"), ("boilerplate", "1. Summary ..."),
                                                   ("boilerplate", "2. What people"), ("boilerplate", "About Example ")]
    assert [b.kind for b in blocks if "Page" in b.text] == ["boilerplate", "boilerplate"]
    assert ("heading", "1. Summary") in kinds and ("heading", "2. What people told us") in kinds
    assert ("heading", "2.1 Time and continuity") in kinds
    body = [b.text for b in blocks if b.kind == "body"]
    assert body[0].startswith("Between October") and body[0].endswith("calls to our helpline.")
    # the speaker ends the quote's paragraph; the prose after it is a paragraph of its own
    quote = next(b for b in blocks if b.kind == "quote")
    assert quote.text.endswith("\u2013 Man, 71, living with Parkinson's")
    assert body[-1].startswith("People who had the same") and body[-1].endswith("employed them.")
    # a dash that is a list's marker, after a line that is not a quotation, still starts an item
    items = structure("We will:\n\u2013 Recruit forty more care workers\n\u2013 Open two new hubs\n")
    assert [b.kind for b in items] == ["body", "list_item", "list_item"]


def test_numbered_headings_over_numbered_paragraphs_and_after_another_lists_items_are_headings():
    # A briefing pasted from a PDF without blank lines, with one line too long to be wrapped (its footer): the
    # block reads as unwrapped lines, where "1. Background" before "1.1 The shift ..." had run on into it. After
    # a list lettered "(a)" to "(f)", "2. What this means for members" is the next section's heading, not an
    # item of that list, and not one of the unmarked items of the lead-in before the list.
    text = ("1. Background\n"
            "1.1 The shift from hospital to community is one of the three shifts set out in the\n"
            "government's plan. Neighbourhood health is the main vehicle for delivering it.\n"
            "1.2 The core components are:\n"
            "(a) population health management;\n"
            "(b) urgent neighbourhood services.\n"
            "2. What this means for members\n"
            "2.1 For acute trusts\n"
            "Acute providers will be expected to move resources and clinicians into neighbourhood\n"
            "teams, for example through outreach frailty clinics and advice for GPs.\n"
            "\u00a9 Example Leaders' Network 2025. This briefing is for members only and should not be circulated "
            "outside member organisations. Registered in England no. 01234567.\n")
    kinds = [(b.kind, b.text) for b in structure(text)]
    assert kinds[0] == ("heading", "1. Background")
    assert kinds[1][0] == "body" and kinds[1][1].startswith("1.1 The shift")
    assert [k for k, t in kinds if t.startswith(("2. What", "2.1 For"))] == ["heading", "heading"]
    assert [k for k, t in kinds if t.startswith("Acute providers")] == ["body"]
    assert [t for k, t in kinds if k == "list_item"] == ["population health management;",
                                                         "urgent neighbourhood services."]


def test_a_dash_after_a_list_item_that_ends_in_a_quotation_is_the_next_item():
    text = ("What people told us:\n"
            "- Councils said the settlement was \"too little, too late\"\n"
            "- Providers said \"fees do not cover the wage rise\"\n"
            "- Carers asked for breaks\n")
    assert [b.kind for b in structure(text)] == ["body", "list_item", "list_item", "list_item"]


def test_a_date_stamp_or_byline_under_a_headline_is_a_line_of_its_own():
    page = ("Mayor launches \u00a318m programme to help 6,000 people with health conditions into work\n"
            "Published: 9 March 2026\n"
            "Topics: Health, Skills and work\n\n"
            "Care homes warn of closures as fee talks stall across the county this winter\n"
            "By Jo Example, news editor  |  21 October 2025  |  4 comments\n\n"
            "The Board noted the plan, which comes into force on\n"
            "1 April 2026\n"
            "and runs for three years.\n")
    texts = [b.text for b in structure(page)]
    assert texts[0] == "Mayor launches \u00a318m programme to help 6,000 people with health conditions into work"
    assert "Published: 9 March 2026" in texts
    assert texts[3] == "Care homes warn of closures as fee talks stall across the county this winter"


def test_a_cover_sheets_fields_set_apart_by_wide_gaps_are_lines_of_their_own():
    sheet = ("Report title:       Virtual wards: evaluation of the first year\n"
             "Executive lead:     Dr Simon Achterberg, Chief Medical Officer\n"
             "Author:             Hannah Greenhalgh, Head of Evaluation and Improvement\n"
             "Purpose:            For decision  \u2612     For assurance  \u2610     For information  \u2610\n"
             "Previously considered by:   Quality and Safety Committee, 20 November 2025\n"
             "Link to strategic objectives:   SO2 Care closer to home; SO4 Sustainable services\n"
             "Equality impact:    The evaluation found lower referral rates for patients from ethnic minority\n"
             "                    communities and for people living in the most deprived areas.\n")
    texts = [b.text for b in structure(sheet)]
    assert texts[2:] == ["Author: Hannah Greenhalgh, Head of Evaluation and Improvement",
                         "Purpose: For decision \u2612 For assurance \u2610 For information \u2610",
                         "Previously considered by: Quality and Safety Committee, 20 November 2025",
                         "Link to strategic objectives: SO2 Care closer to home; SO4 Sustainable services",
                         "Equality impact: The evaluation found lower referral rates for patients from ethnic "
                         "minority communities and for people living in the most deprived areas."]
    # a colon in prose, with a single space after it, is not a field
    prose = structure("The council has three aims: to keep people well, to get them home\nsooner, and to pay fairly.\n")
    assert len(prose) == 1
