"""What a reader sees of pasted text: the characters a paste carries that are never seen, and the ligatures of
a PDF's typesetting, made plain before the text is cut into paragraphs and read.

A web page's soft hyphens and zero-width spaces, and a PDF's "ﬁ" and "ﬂ", come along with a copy. Left in,
they split words for the tokenizer and the n-gram blocks ("ﬁnancial" shares nothing with "financial"), make a
line longer than it looks to the rules that judge wrapping, and hide a sentence's end (a full stop followed by
a zero-width space).

The document text itself is stored as it came; ``visible`` also returns, for every character of the plain
text, where it came from, so paragraph offsets still cut the original. Anyone can send text to ``POST /tag``,
so this is C-level string and array work, never a Python loop over characters.
"""

from __future__ import annotations

import re

import numpy as np

# Soft hyphen, zero-width space / non-joiner / joiner, word joiner, byte-order mark used as a zero-width
# no-break space, Mongolian vowel separator (shown as nothing by most fonts).
_HIDDEN = "\u00ad\u200b\u200c\u200d\u2060\ufeff\u180e"
_LIGATURES = {"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi", "\ufb04": "ffl", "\ufb05": "st",
              "\ufb06": "st"}
_TABLE = str.maketrans({**{c: None for c in _HIDDEN}, **_LIGATURES})
_CHANGED = re.compile(f"[{_HIDDEN}{''.join(_LIGATURES)}]")
# The changed characters in code point order, and how many characters of the plain text each becomes.
_CODES, _LENGTHS = map(np.array, zip(*sorted([(ord(c), 0) for c in _HIDDEN]
                                             + [(ord(c), len(v)) for c, v in _LIGATURES.items()])))


def visible(text: str) -> tuple[str, np.ndarray | None]:
    """``text`` without hidden characters and with ligatures spelt out, and the offset in ``text`` of each of
    its characters (None when nothing changed, which is the common case and costs one scan)."""
    if _CHANGED.search(text) is None:
        return text, None
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    # How many characters of the plain text each character of ``text`` becomes: 1, or 0 (hidden), or 2-3.
    lengths = np.ones(len(codes), dtype=np.int64)
    where = np.isin(codes, _CODES)
    lengths[where] = _LENGTHS[np.searchsorted(_CODES, codes[where])]
    return text.translate(_TABLE), np.repeat(np.arange(len(codes), dtype=np.int64), lengths)


def plain(text: str) -> str:
    """``text`` as ``visible`` reads it, without the offsets (for a paragraph tagged on its own)."""
    return text.translate(_TABLE) if _CHANGED.search(text) else text
