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
