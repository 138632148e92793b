"""Test doubles. The hashing embedder stands in for the real model in fast tests; the product never ships it.

Settings name it as ``FAKE_EMBEDDER`` (an ``object:`` spec, see ``classifier.model.embeddings.load_embedder``), so
server and job processes started by the tests load it too (conftest puts the project on PYTHONPATH).
"""

from __future__ import annotations

import hashlib
import re
from typing import Sequence

import numpy as np

from classifier.model.embeddings import _normalise

FAKE_EMBEDDER = "object:tests.fakes:hashing64"

class HashingEmbedder:
    """A deterministic bag-of-words embedder: each lower-cased word is hashed to a few signed dimensions.

    Similar texts get similar vectors, which is all the unit tests need; it is not a semantic model.
    """

    def __init__(self, dimension: int = 64):
        self.dimension = dimension
        self.name = f"hashing-{dimension}"

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"[a-z0-9]+", text.lower()):
                digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
                for k in range(2):
                    out[row, digest[k] % self.dimension] += 1.0 if digest[k + 2] % 2 else -1.0
        return _normalise(out)


def hashing64() -> HashingEmbedder:
    return HashingEmbedder(64)
