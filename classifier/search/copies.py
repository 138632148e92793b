"""Near-identical statements ("copies"): a press release reposted, one line repeated by several councils.

Method: MinHash (``datasketch``, 128 permutations) over word 3-gram shingles of the normalised text, with the
statement's own organisation name taken out first (a council repeating a line usually puts its own name in
it). Signatures are computed once per statement and stored with 32 LSH band hashes of 4 values each
(``copy_signatures``, ``copy_bands``: migration 5), so finding the candidate copies of a hit is one indexed
join. A candidate is a copy when the signatures agree on at least ``THRESHOLD`` of their values (the
estimated Jaccard similarity of the shingle sets) and both texts state the same figures: "£3m" and "£30m"
are different statements however alike the words around them. The threshold and the figures it gives on
constructed copies and near-misses are in README ("Copies") and ``classifier/search/copies_eval.py``.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from datasketch import MinHash

NUM_PERM = 128
# LSH: a pair shares at least one of 32 bands of 4 values with probability 1 - (1 - J^4)^32: 0.87 at Jaccard
# 0.5, 0.985 at 0.6, 0.9996 at 0.7; unrelated paragraphs on the same topic (J ~ 0.05) almost never do.
BANDS, ROWS = 32, 4
SHINGLE = 3
SEED = 14
# Estimated Jaccard similarity from which two statements (with the same figures) are copies: chosen on the
# constructed set in copies_eval.py (README, "Copies").
THRESHOLD = 0.5
# Stamped into the store with the signatures: a change to any of the above re-signs every statement once.
METHOD = f"minhash-affine32-{NUM_PERM}-b{BANDS}x{ROWS}-w{SHINGLE}-s{SEED}-v1"

_TOKEN = re.compile(r"\d+(?:[.,]\d+)*|[^\W\d_]+")


def _norm(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "").casefold()


def tokens(text: str, organisation: str | None = None) -> list[str]:
    """Lower-cased words and figures ("3.8", "1,200" -> "1200") of ``text``, with each mention of the
    statement's own organisation name (as a whole phrase) taken out."""
    words = [t.replace(",", "") if t[0].isdigit() else t for t in _TOKEN.findall(_norm(text))]
    own = _TOKEN.findall(_norm(organisation or ""))
    if not own:
        return words
    out, i, n = [], 0, len(own)
    while i < len(words):
        if words[i:i + n] == own:
            i += n
        else:
            out.append(words[i])
            i += 1
    return out


@lru_cache(maxsize=1)
def _permutations():
    return MinHash(num_perm=NUM_PERM, seed=SEED, scheme="affine32").permutations


@dataclass(frozen=True)
class Signature:
    minhash: np.ndarray     # NUM_PERM uint32 values
    numbers: str            # the text's figures, sorted, space-separated

    def bands(self) -> list[int]:
        """One signed 64-bit hash per LSH band (the band's number is part of what is hashed)."""
        out = []
        for b in range(BANDS):
            digest = hashlib.blake2b(bytes([b]) + self.minhash[b * ROWS:(b + 1) * ROWS].tobytes(), digest_size=8)
            out.append(int.from_bytes(digest.digest(), "little", signed=True))
        return out

    def to_bytes(self) -> bytes:
        return self.minhash.astype("<u4").tobytes()

    @classmethod
    def from_stored(cls, minhash: bytes, numbers: str) -> "Signature":
        return cls(np.frombuffer(minhash, dtype="<u4"), numbers)


def signature(text: str, organisation: str | None = None) -> Signature:
    words = tokens(text, organisation)
    shingles = {" ".join(words[i:i + SHINGLE]) for i in range(max(1, len(words) - SHINGLE + 1))}
    m = MinHash(num_perm=NUM_PERM, seed=SEED, scheme="affine32", permutations=_permutations())
    m.update_batch([s.encode("utf-8", "surrogatepass") for s in shingles])
    numbers = " ".join(sorted(w for w in words if w[0].isdigit()))
    return Signature(m.hashvalues.astype(np.uint32), numbers)


def similarity(a: Signature, b: Signature) -> float:
    """The estimated Jaccard similarity of the two shingle sets."""
    return float(np.mean(a.minhash == b.minhash))


def is_copy(a: Signature, b: Signature, threshold: float = THRESHOLD) -> bool:
    return a.numbers == b.numbers and similarity(a, b) >= threshold


def share_a_band(a: Signature, b: Signature) -> bool:
    """Whether the pair would be found as candidates in the store (what ``copy_candidates`` looks up)."""
    return bool(set(a.bands()) & set(b.bands()))


def sync_signatures(store, batch: int = 2000) -> int:
    """Sign every statement added since the store's signatures were last brought up to date; returns how many.

    Called before grouping, in any process: it reads the change log, as the search index does, so a statement
    stored by one worker is grouped by the next search in any other. A change of ``METHOD`` re-signs all.
    """
    if store.get_meta("copy_signatures") != METHOD:
        store.reset_copy_signatures(METHOD)
    done_seq = int(store.get_meta("copy_signatures_seq") or 0)
    if store.last_seq() == done_seq:
        return 0
    latest, added, _ = store.changes_since(done_seq)
    done = 0
    for i in range(0, len(added), batch):
        chunk = added[i:i + batch]
        found = store.get(chunk)
        rows = []
        for sid in chunk:
            if sid in found:
                sig = signature(found[sid].text, found[sid].organisation)
                rows.append((sid, sig.to_bytes(), sig.numbers, sig.bands()))
        store.put_copy_signatures(rows, latest if i + batch >= len(added) else done_seq)
        done += len(rows)
    if not added:
        store.put_copy_signatures([], latest)
    return done


def copies_of(store, ids: list[int], allowed=None) -> dict[int, set[int]]:
    """For each of ``ids``, the stored statements that are copies of it (among ``allowed`` ids when given)."""
    candidates = store.copy_candidates(ids)
    wanted = set(ids) | {c for cs in candidates.values() for c in cs}
    signatures = {i: Signature.from_stored(*v) for i, v in store.copy_signatures(sorted(wanted)).items()}
    out: dict[int, set[int]] = {}
    for i in ids:
        mine = signatures.get(i)
        out[i] = {c for c in candidates.get(i, ()) if mine is not None and c in signatures
                  and (allowed is None or c in allowed) and is_copy(mine, signatures[c])}
    return out
