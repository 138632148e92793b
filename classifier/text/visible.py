"""What a reader sees of pasted text: the characters a paste carries that are never seen, and the ligatures of
a PDF's typesetting, made plain before the text is cut into paragraphs and read.

A web page's soft hyphens and zero-width spaces, and a PDF's "ﬁ" and "ﬂ", come along with a copy. Left in,
they split words for the tokenizer and the n-gram blocks ("ﬁnancial" shares nothing with "financial"), make a
line longer than it looks to the rules that judge wrapping, and hide a sentence's end ("services.\u200b Next").

The document text itself is stored as it came; ``visible`` also returns, for every character of the plain
text, where it came from, so paragraph offsets still cut the original.
"""

from __future__ import annotations

import re

import numpy as np

# Soft hyphen, zero-width space / non-joiner / joiner, word joiner, byte-order mark used as a zero-width
# no-break space, Mongolian vowel separator (shown as nothing by most fonts).
_HIDDEN = "\u00ad\u200b\u200c\u200d\u2060\ufeff\u180e"
_LIGATURES = {"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi", "\ufb04": "ffl", "\ufb05": "st",
              "\ufb06": "st"}
_CHANGED = re.compile(f"[{_HIDDEN}{''.join(_LIGATURES)}]")


def visible(text: str) -> tuple[str, np.ndarray | None]:
    """``text`` without hidden characters and with ligatures spelt out, and the offset in ``text`` of each of
    its characters (None when nothing changed, which is the common case and costs one scan)."""
    if _CHANGED.search(text) is None:
        return text, None
    pieces, origin, last = [], [], 0
    for m in _CHANGED.finditer(text):
        s = m.start()
        pieces.append(text[last:s])
        origin.append(np.arange(last, s))
        spelt = _LIGATURES.get(m.group(0), "")
        pieces.append(spelt)
        origin.append(np.full(len(spelt), s))
        last = s + 1
    pieces.append(text[last:])
    origin.append(np.arange(last, len(text)))
    return "".join(pieces), np.concatenate(origin).astype(np.int64)


def plain(text: str) -> str:
    """``text`` as ``visible`` reads it, without the offsets (for a paragraph tagged on its own)."""
    return visible(text)[0]
