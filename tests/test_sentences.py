import pytest
from hypothesis import given, settings, strategies as st

from classifier.search.engine import best_sentence
from classifier.text.sentences import split_sentences


@pytest.mark.parametrize("first,second", [
    ("The pooled fund reached £3.8 billion last year.", "Councils want it to grow."),
    ("Councils were promised a total of £6.2 billion over three years.", "The gap remains."),
    ("Dr. Smith told the board the ICB had agreed.", "The council did not."),
    ("The review by J. R. Hartley was published in May.", "It called for more step-down beds."),
    ("Some councils (e.g. Wexcombe) pooled more of their budget.", "Others did not."),
    ("The letter went to No. 10 on Monday.", "No reply came."),
    ("About 1.5m people need care at home.", "That figure is rising."),
    ("Mr. Jones and Mrs. Patel spoke at 3 p.m. on Friday.", "The board agreed."),
    ("Spending rose by 2.5% in 2023/24, i.e. less than inflation.", "Is it enough?"),
    ("Prof. A. B. Jones of St. Mary's Hospital said so.", "Then he left."),
    ("See section 4.2 of the plan.", "It sets out the targets."),
])
def test_numbers_abbreviations_and_initials_do_not_end_a_sentence(first, second):
    text = f"{first} {second}"
    assert [s.text for s in split_sentences(text)] == [first, second]


def test_offsets_are_exact_and_whitespace_is_trimmed():
    text = "  First one.   Second   one!\n\nThird one?  "
    sentences = split_sentences(text)
    assert [s.text for s in sentences] == ["First one.", "Second   one!", "Third one?"]
    assert all(text[s.start:s.end] == s.text for s in sentences)


def test_offsets_count_characters_not_bytes():
    text = "Care costs rose 😀 fast in Wexcombe. Ça coûte £3.8 billion."
    assert [text[s.start:s.end] for s in split_sentences(text)] == ["Care costs rose 😀 fast in Wexcombe.",
                                                                     "Ça coûte £3.8 billion."]


def test_blank_text_and_text_without_a_full_stop():
    assert split_sentences("") == [] and split_sentences("   \n ") == []
    assert [s.text for s in split_sentences("no full stop here")] == ["no full stop here"]


def test_a_lone_surrogate_does_not_break_the_offsets():
    text = "Bad \ud800 byte here. Next sentence."
    assert [s.text for s in split_sentences(text)] == ["Bad \ud800 byte here.", "Next sentence."]


@pytest.mark.parametrize("query,expected", [
    ("pooled billion", "The pooled fund reached £3.8 billion last year."),
    ("promised total", "Councils were promised a total of £6.2 billion over three years."),
])
def test_highlights_quote_whole_sentences_with_money_in_them(query, expected):
    text = ("The pooled fund reached £3.8 billion last year. Councils were promised a total of £6.2 billion "
            "over three years. The gap remains.")
    h = best_sentence(text, query)
    assert h.text == expected and text[h.start:h.end] == h.text


_words = st.sampled_from(["The", "fund", "£3.8", "billion.", "Dr.", "Smith", "J.", "R.", "e.g.", "No.", "10",
                          "1.5m", "care!", "beds?", "\u00e9t\u00e9", "😀", "\n\n", "  ", "x"])


@settings(max_examples=300, deadline=None)
@given(st.lists(_words, max_size=40).map(" ".join))
def test_sentences_are_ordered_exact_and_lose_no_text(text):
    pos = 0
    for s in split_sentences(text):
        assert pos <= s.start < s.end <= len(text) and text[s.start:s.end] == s.text == s.text.strip()
        assert not text[pos:s.start].strip()
        pos = s.end
    assert not text[pos:].strip()
