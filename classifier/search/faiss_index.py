"""The vector index: FAISS inner product over unit vectors, statement ids as FAISS ids.

Derived data: it can always be rebuilt from the vectors stored in SQLite. Exact search below
``EXACT_LIMIT`` statements, HNSW above it (recall@10 against exact search is measured in ``bench/``).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np

EXACT_LIMIT = 50_000
HNSW_M = 32
HNSW_EF_SEARCH = 128
# (statements, efSearch): a bigger graph needs a wider search for the same recall (bench/hnsw.py measures it).
# Measured on the judged questions: 100k, efSearch 128 -> recall@10 0.978; 1M, 384 -> 0.948, 768 -> 0.978
# (p99 2.2 ms for the graph walk alone).
HNSW_EF_BY_SIZE = ((200_000, HNSW_EF_SEARCH), (500_000, 384), (float("inf"), 768))


def ef_search_for(count: int) -> int:
    """The HNSW search width for an index of ``count`` vectors."""
    return next(ef for limit, ef in HNSW_EF_BY_SIZE if count <= limit)
# Below this many filter candidates, score them exactly instead of walking the graph with a selector.
EXACT_CANDIDATES = 20_000


@dataclass(frozen=True)
class IndexMeta:
    kind: str
    dimension: int
    count: int
    checksum: str
    seq: int
    embedder: str


def ids_checksum(ids: np.ndarray) -> str:
    h = hashlib.sha256()
    for i in np.sort(np.asarray(ids, dtype=np.int64)):
        h.update(int(i).to_bytes(8, "little"))
    return h.hexdigest()


class VectorIndex:
    # A fixed search width instead of ``ef_search_for(count)`` (the benchmark sweeps it).
    ef_search: int | None = None

    def __init__(self, dimension: int, kind: str = "flat"):
        self.dimension = dimension
        self.kind = kind
        if kind == "flat":
            inner = faiss.IndexFlatIP(dimension)
        elif kind == "hnsw":
            inner = faiss.IndexHNSWFlat(dimension, HNSW_M, faiss.METRIC_INNER_PRODUCT)
            inner.hnsw.efConstruction = 80
            inner.hnsw.efSearch = HNSW_EF_SEARCH
        else:
            raise ValueError(f"unknown index kind {kind!r}")
        self._index = faiss.IndexIDMap2(inner)

    @staticmethod
    def kind_for(count: int) -> str:
        return "flat" if count < EXACT_LIMIT else "hnsw"

    @property
    def count(self) -> int:
        return int(self._index.ntotal)

    def ids(self) -> np.ndarray:
        return faiss.vector_to_array(self._index.id_map).astype(np.int64)

    def checksum(self) -> str:
        return ids_checksum(self.ids())

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        if len(ids):
            self._index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32),
                                     np.ascontiguousarray(ids, dtype=np.int64))

    @property
    def supports_remove(self) -> bool:
        return self.kind == "flat"

    def remove(self, ids) -> None:
        """Remove ids (flat only; an HNSW index is rebuilt by its owner instead)."""
        if len(ids):
            self._index.remove_ids(np.asarray(ids, dtype=np.int64))

    def search(self, query: np.ndarray, k: int, candidates: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Top ``k`` (ids, scores) for one query vector, restricted to ``candidates`` when given.

        A filtered search returns ``min(k, len(candidates))`` results: restriction happens before ranking.
        """
        q = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
        if candidates is not None:
            candidates = np.asarray(candidates, dtype=np.int64)
            if len(candidates) == 0:
                return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
            if self.kind == "flat" or len(candidates) <= EXACT_CANDIDATES:
                return self._exact(q, k, candidates)
            params = faiss.SearchParametersHNSW(sel=faiss.IDSelectorBatch(candidates), efSearch=self._ef(k))
            scores, ids = self._index.search(q, k, params=params)
            ids, scores = ids[0], scores[0]
            keep = ids >= 0
            if keep.sum() < min(k, len(candidates)):
                return self._exact(q, k, candidates)
            return ids[keep], scores[keep]
        if self.kind == "hnsw":
            faiss.downcast_index(self._index.index).hnsw.efSearch = self._ef(k)
        scores, ids = self._index.search(q, min(k, max(self.count, 1)))
        keep = ids[0] >= 0
        return ids[0][keep], scores[0][keep]

    def _ef(self, k: int) -> int:
        return max(self.ef_search or ef_search_for(self.count), 2 * k)

    def _exact(self, q: np.ndarray, k: int, candidates: np.ndarray):
        vectors = np.vstack([self._index.reconstruct_batch(candidates[i:i + 4096])
                             for i in range(0, len(candidates), 4096)])
        scores = vectors @ q[0]
        top = np.argsort(-scores, kind="stable")[:k]
        return candidates[top], scores[top].astype(np.float32)

    def save(self, path: Path, meta: IndexMeta) -> None:
        """Write the index and its metadata atomically: temporary files, fsync, ``os.replace``."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        faiss.write_index(self._index, str(tmp))
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        meta_path = path.with_suffix(".json")
        tmp_meta = meta_path.with_name(f".{meta_path.name}.{os.getpid()}.tmp")
        with open(tmp_meta, "w") as fh:
            json.dump(meta.__dict__, fh)
            fh.flush()
            os.fsync(fh.fileno())
        # Metadata goes first so a crash between the two replaces leaves a mismatch, which forces a rebuild.
        os.replace(tmp_meta, meta_path)
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path) -> tuple["VectorIndex", IndexMeta] | None:
        """The saved index and its metadata, or None when missing, unreadable or inconsistent."""
        meta_path = path.with_suffix(".json")
        try:
            meta = IndexMeta(**json.loads(meta_path.read_text()))
            raw = faiss.read_index(str(path))
        except (OSError, ValueError, TypeError, RuntimeError):
            return None
        idx = cls.__new__(cls)
        idx.dimension, idx.kind, idx._index = meta.dimension, meta.kind, raw
        if idx.count != meta.count or raw.d != meta.dimension or idx.checksum() != meta.checksum:
            return None
        return idx, meta
