import numpy as np

from classifier.search.faiss_index import VectorIndex


def _vecs(n, d=16, seed=0):
    x = np.random.default_rng(seed).normal(size=(n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_every_vector_is_its_own_top_hit():
    x = _vecs(200)
    idx = VectorIndex(16)
    idx.add(np.arange(1000, 1200), x)
    for i in (0, 57, 199):
        ids, scores = idx.search(x[i], 3)
        assert ids[0] == 1000 + i and abs(scores[0] - 1.0) < 1e-5


def test_filtered_search_returns_k_when_k_candidates_exist():
    x = _vecs(500)
    for kind in ("flat", "hnsw"):
        idx = VectorIndex(16, kind)
        idx.add(np.arange(500), x)
        candidates = np.arange(0, 500, 37)  # 14 candidates far from the query
        ids, _ = idx.search(x[1], 10, candidates)
        assert len(ids) == 10 and set(ids.tolist()) <= set(candidates.tolist())
        ids, _ = idx.search(x[1], 50, candidates)
        assert len(ids) == len(candidates)


def test_remove_and_checksum(tmp_path):
    x = _vecs(10)
    idx = VectorIndex(16)
    idx.add(np.arange(10), x)
    before = idx.checksum()
    idx.remove([3])
    assert idx.count == 9 and 3 not in idx.ids() and idx.checksum() != before


def test_save_load_round_trip_and_corrupt_file_is_rejected(tmp_path):
    from classifier.search.faiss_index import IndexMeta

    x = _vecs(10)
    idx = VectorIndex(16)
    idx.add(np.arange(10), x)
    path = tmp_path / "v.faiss"
    idx.save(path, IndexMeta("flat", 16, idx.count, idx.checksum(), 5, "fake"))
    loaded, meta = VectorIndex.load(path)
    assert loaded.count == 10 and meta.seq == 5
    path.write_bytes(b"garbage")
    assert VectorIndex.load(path) is None


def test_hnsw_recall_against_exact_is_high():
    x = _vecs(3000, d=32, seed=1)
    q = _vecs(50, d=32, seed=2)
    flat, hnsw = VectorIndex(32, "flat"), VectorIndex(32, "hnsw")
    flat.add(np.arange(3000), x)
    hnsw.add(np.arange(3000), x)
    recall = np.mean([len(set(flat.search(v, 10)[0]) & set(hnsw.search(v, 10)[0])) / 10 for v in q])
    assert recall > 0.9
