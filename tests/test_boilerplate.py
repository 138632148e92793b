"""Page furniture is recognised by its shape; a paragraph of content that mentions a contact is kept."""

import pytest

from classifier.text.boilerplate import is_boilerplate


@pytest.mark.parametrize("line", [
    "Did you enjoy this article?", "Top", "AddToAny", "Skip to main content", "• By Sam Example", "ENDS",
    "Notes to editors:", "22 Aug 16", "For more information email info@example.invalid",
    "Media enquiries: press office, 020 7946 0000. Out of hours call 07700 900123.",
    "We use cookies to improve your experience. Accept all cookies.", "© 2024 Example Council. All rights reserved.",
])
def test_furniture_is_boilerplate(line):
    assert is_boilerplate(line)


@pytest.mark.parametrize("text", [
    "The shared care record is run by the council and the local NHS trust, funded from a national digital "
    "fund. Media enquiries: press@example.invalid.",
    "Councils and the NHS must pool budgets for intermediate care; contact between the two is not enough.",
    "Re-designing jobs and qualifications to bridge organisational differences",
])
def test_content_that_mentions_a_contact_is_kept(text):
    assert not is_boilerplate(text)


def test_very_long_text_is_never_scanned():
    assert not is_boilerplate("cookies accept " * 100_000)


def _kinds(text):
    from classifier.text.structure import structure

    return [(b.kind, b.text) for b in structure(text)]


def test_a_run_of_short_headings_is_a_menu_not_section_headings():
    menu = "Adult social care\n\nHealth and wellbeing boards\n\nWorkforce\n\nPublic health\n\nThe council will spend more."
    assert _kinds(menu) == [("boilerplate", "Adult social care"), ("boilerplate", "Health and wellbeing boards"),
                            ("boilerplate", "Workforce"), ("boilerplate", "Public health"),
                            ("body", "The council will spend more.")]
    # a line of furniture inside the menu does not break it
    assert [k for k, _ in _kinds("Home\nAbout us\nOur work\nAdult social care\n\nWe plan care.")] == [
        "boilerplate"] * 4 + ["body"]


def test_a_documents_own_headings_and_a_long_title_stay_headings():
    doc = ("A plan for joined-up care in Wexcombe over the next five years\n\nSummary\n\nThe council will spend more.\n\n"
           "Workforce\n\nWe will recruit.")
    assert [k for k, _ in _kinds(doc)] == ["heading", "heading", "body", "heading", "body"]
    # two short headings in a row are a title and a section, not a menu
    assert [k for k, _ in _kinds("Our plan\n\nSummary\n\nWe will recruit more carers.")] == ["heading", "heading", "body"]


def test_a_table_of_contents_is_furniture_up_to_the_first_paragraph():
    doc = ("Contents\n1. Introduction\n2. Background\n3. Findings\n4. Recommendations\n\n"
           "The council will spend more on home care.\n\n- Recruit more carers")
    assert _kinds(doc) == [("boilerplate", "Contents"), ("boilerplate", "Introduction"),
                           ("boilerplate", "Background"), ("boilerplate", "Findings"),
                           ("boilerplate", "Recommendations"), ("body", "The council will spend more on home care."),
                           ("list_item", "Recruit more carers")]


def test_a_menu_pasted_without_blank_lines_is_split_into_its_items_and_is_furniture():
    menu = "Home\nAbout us\nOur work\nAdult social care\nHealth and wellbeing\nNews\n\nCouncils and the NHS plan care together."
    assert _kinds(menu) == [("boilerplate", t) for t in
                            ("Home", "About us", "Our work", "Adult social care", "Health and wellbeing", "News")] + [
        ("body", "Councils and the NHS plan care together.")]
    # prose wrapped in a narrow column still joins up
    narrow = "Councils and the NHS have\nagreed to pool budgets for\nNHS continuing care, said\nthe leader."
    assert _kinds(narrow) == [("body", "Councils and the NHS have agreed to pool budgets for NHS continuing care, "
                                       "said the leader.")]
