"""What text the product accepts.

- NUL and other C0/C1 control characters (except tab, newline, carriage return and form feed): rejected.
- Lone UTF-16 surrogates (possible in JSON escapes): rejected; they cannot be stored or encoded.
- Bidirectional embedding, override and isolate controls (U+202A-U+202E, U+2066-U+2069): rejected, since
  they can make stored text display differently from what it says. Plain direction marks (U+200E, U+200F,
  U+061C) are allowed.
- Invalid UTF-8 never reaches this module: the HTTP layer answers 400 and the CLI a one-line error.

Rejection is an InvalidInput naming the field, the character and its position, so the caller can fix it.
"""

from __future__ import annotations

import re

from classifier.errors import InvalidInput

_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def check_text(text, field: str = "text", max_chars: int | None = None) -> str:
    """Return ``text`` if it is an acceptable non-empty string; raise InvalidInput saying why not."""
    if not isinstance(text, str):
        raise InvalidInput(f"'{field}' must be a string")
    if not text.strip():
        raise InvalidInput(f"'{field}' is empty")
    m = _FORBIDDEN.search(text)
    if m:
        raise InvalidInput(f"'{field}' contains a disallowed character U+{ord(m.group(0)):04X} at position {m.start()}",
                           {"field": field, "position": m.start(), "codepoint": f"U+{ord(m.group(0)):04X}"})
    if max_chars is not None and len(text) > max_chars:
        raise InvalidInput(f"'{field}' is {len(text)} characters; the limit is {max_chars}",
                           {"field": field, "limit": max_chars})
    return text
