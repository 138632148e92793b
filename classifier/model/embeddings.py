"""Embedders: turn texts into L2-normalised float32 vectors.

The rest of the package sees only the small ``Embedder`` interface, so tests can use a fake
(tests/fakes.py: deterministic, no model, milliseconds) while the product uses ``OnnxEmbedder`` (or ``SentenceTransformerEmbedder`` on PyTorch).
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import os
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Protocol, Sequence

import numpy as np

from classifier.errors import ConfigError
from classifier.wal import connect_wal


class Embedder(Protocol):
    """What the tagger, index and search need from an embedding model."""

    name: str        # identifies the vector space: recorded in manifests and cache keys
    dimension: int

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Return a ``(len(texts), dimension)`` float32 array of unit vectors."""
        ...


def _normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return vectors / norms




def resolve_model_path(spec: str) -> Path:
    """Turn an embedding-model setting into a local directory. ``package:NAME`` asks that package for its path."""
    if spec.startswith("package:"):
        module_name = spec.split(":", 1)[1]
        try:
            module = __import__(module_name)
        except ImportError as exc:
            raise ConfigError(f"embedding model package {module_name!r} is not installed") from exc
        return Path(module.get_model_path())
    path = Path(spec).expanduser()
    if not (path / "modules.json").exists() and not (path / "config.json").exists():
        raise ConfigError(f"embedding model directory not found or not a sentence-transformers model: {path}")
    return path


BACKENDS = ("torch", "onnx", "onnx-int8")
FP32_FILE = "onnx/model.onnx"
# Dynamic int8 quantisation, tuned per instruction set: on this project's machines the VNNI build runs about
# twice as fast as the AVX2 one, which is no faster than PyTorch there.
# Build -> (file inside the exported folder, suffix of the vector-space name).
INT8_BUILDS = {"avx512_vnni": ("onnx/model_qint8_avx512_vnni.onnx", "-vnni"),
               "avx2": ("onnx/model_quint8_avx2.onnx", "")}


@functools.lru_cache(maxsize=1)
def int8_variant() -> str:
    """The int8 quantisation this CPU runs best: ``avx512_vnni`` where the CPU has it, else ``avx2``."""
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
    except OSError:
        cpuinfo = ""
    return "avx512_vnni" if "avx512_vnni" in cpuinfo else "avx2"


def onnx_file(backend: str) -> str:
    """The file, inside the exported folder, that runs ``backend`` on this machine."""
    return FP32_FILE if backend == "onnx" else INT8_BUILDS[int8_variant()][0]


def space_name(spec: str, path: Path, backend: str) -> str:
    """The name of the vector space an embedder produces: model, backend and, for int8, the quantisation.

    The two int8 builds give slightly different vectors, so a tagger trained with one is not served with the other.
    "-single" marks int8 vectors computed one text at a time (see ``OnnxEmbedder.embed``), which differ from the
    batched vectors of earlier releases.
    """
    suffix = INT8_BUILDS[int8_variant()][1] + "-single" if backend == "onnx-int8" else ""
    return f"{_base_name(spec, path)}/{backend}{suffix}"


def _base_name(spec: str, path: Path) -> str:
    # The folder name of the packaged model is just "model"; name the space by its origin instead.
    return spec.split(":", 1)[1] if spec.startswith("package:") else path.name


def prepare_onnx(spec: str, export_root: Path, backend: str = "onnx-int8") -> Path:
    """The folder holding the local model exported to ONNX for ``backend``, made once and kept.

    The export runs on this machine from the local weights (nothing is downloaded), under a file lock so that
    concurrent processes export once, into temporary paths that are renamed into place, so that a reader never
    sees half a file.
    """
    import fcntl
    import shutil

    source = resolve_model_path(spec)
    folder = Path(export_root) / f"{_base_name(spec, source)}-onnx"
    target = onnx_file(backend)
    if (folder / FP32_FILE).exists() and (folder / target).exists():
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    with open(folder.parent / ".export.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        from sentence_transformers import SentenceTransformer, export_dynamic_quantized_onnx_model

        if not (folder / FP32_FILE).exists():
            tmp = folder.with_name(f"{folder.name}.tmp{os.getpid()}")
            shutil.rmtree(tmp, ignore_errors=True)
            shutil.copytree(source, tmp)
            model = SentenceTransformer(str(tmp), device="cpu", backend="onnx", local_files_only=True)
            model.save_pretrained(str(tmp))
            shutil.rmtree(folder, ignore_errors=True)
            os.rename(tmp, folder)
        if not (folder / target).exists():
            tmp = folder.with_name(f"{folder.name}.q{os.getpid()}")
            shutil.rmtree(tmp, ignore_errors=True)
            shutil.copytree(folder, tmp)
            model = SentenceTransformer(str(tmp), device="cpu", backend="onnx", local_files_only=True,
                                        model_kwargs={"file_name": FP32_FILE})
            export_dynamic_quantized_onnx_model(model, int8_variant(), str(tmp))
            os.replace(tmp / target, folder / target)
            shutil.rmtree(tmp, ignore_errors=True)
    return folder


class SentenceTransformerEmbedder:
    """A sentence-transformers model on PyTorch, loaded from a local directory, never from a hub."""

    def __init__(self, spec: str, batch_size: int = 32, threads: int = 0):
        _offline_env()
        import torch  # imported here so the unit tests and the ONNX path never pay for it
        from sentence_transformers import SentenceTransformer

        if threads:
            torch.set_num_threads(threads)
        path = resolve_model_path(spec)
        self._model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
        self.batch_size = batch_size
        self.dimension = int(self._model.get_embedding_dimension()
                             if hasattr(self._model, "get_embedding_dimension")
                             else self._model.get_sentence_embedding_dimension())
        self.name = space_name(spec, path, "torch")

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self._model.encode(list(texts), batch_size=self.batch_size, normalize_embeddings=True,
                                     convert_to_numpy=True, show_progress_bar=False)
        return np.ascontiguousarray(vectors, dtype=np.float32)


def _cores() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def _offline_env() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def _max_seq_length(folder: Path) -> int:
    """The truncation length sentence-transformers would use for this model folder."""
    import json

    for name, key in (("sentence_bert_config.json", "max_seq_length"), ("tokenizer_config.json", "model_max_length")):
        try:
            value = json.loads((folder / name).read_text()).get(key)
        except (OSError, ValueError):
            continue
        if isinstance(value, int) and 0 < value <= 100_000:
            return value
    return 256


class OnnxEmbedder:
    """The exported model run by ONNX Runtime and the Rust ``tokenizers`` directly: mean pooling over the
    attention mask, then L2 normalisation, which is what the sentence-transformers pipeline of this model does.

    It never imports PyTorch or sentence-transformers once the export exists, so loading takes a fraction of a
    second instead of several; a command-line run over a file is dominated by the embedding itself.
    ``backend`` is ``onnx`` or ``onnx-int8``; it is part of ``name``, so a tagger trained on one backend is never
    served with another.
    """

    def __init__(self, spec: str, batch_size: int = 32, threads: int = 0, backend: str = "onnx-int8",
                 export_root: Path | None = None):
        _offline_env()
        import onnxruntime
        from tokenizers import Tokenizer

        path = resolve_model_path(spec)
        folder = prepare_onnx(spec, export_root or Path("models") / "embeddings", backend)
        options = onnxruntime.SessionOptions()
        # Idle ONNX Runtime threads spin-wait by default, stealing the CPU that scikit-learn, FAISS and
        # other workers need between batches on a 2-core machine.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.add_session_config_entry("session.inter_op.allow_spinning", "0")
        # One text per run (int8, below) gains nothing from intra-op threads (measured: 176 texts/s on two
        # threads, 177 on one); runs side by side on one thread each use the cores instead (391/s, same vectors).
        self._parallel = (threads or _cores()) if backend == "onnx-int8" else 1
        if backend == "onnx-int8":
            options.intra_op_num_threads = 1
            options.inter_op_num_threads = 1
        elif threads:
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
        self._session = onnxruntime.InferenceSession(str(folder / onnx_file(backend)), options,
                                                     providers=["CPUExecutionProvider"])
        self._inputs = {i.name for i in self._session.get_inputs()}
        self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._tokenizer.enable_truncation(max_length=_max_seq_length(folder))
        self._tokenizer.enable_padding(pad_id=self._tokenizer.token_to_id("[PAD]") or 0)
        self.batch_size = batch_size
        self.backend = backend
        self.dimension = int(self._session.get_outputs()[0].shape[-1])
        self.name = space_name(spec, path, backend)

    def _feeds(self, texts: list[str]) -> dict:
        encodings = self._tokenizer.encode_batch(texts)
        feeds = {"input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
                 "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64)}
        if "token_type_ids" in self._inputs:
            feeds["token_type_ids"] = np.array([e.type_ids for e in encodings], dtype=np.int64)
        return feeds

    def _run(self, feeds: dict) -> np.ndarray:
        """Mean-pooled, normalised vectors for tokenised texts (ONNX Runtime releases the GIL while it runs)."""
        hidden = self._session.run(None, feeds)[0]
        weights = feeds["attention_mask"][:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        return _normalise(pooled)

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        return self._run(self._feeds(texts))

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        # Batches of similar length waste little work on padding.
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        # Dynamic int8 quantisation scales each batch's activations by the batch's own range, so a text's vector
        # depended on its batch-mates (by up to 0.03 per dimension, measured): the same paragraph got different
        # themes alone and inside its document. One text per run makes a vector depend on its text only, and
        # measured no slower on this machine's CPUs (no padding to compute).
        batch = 1 if self.backend == "onnx-int8" else self.batch_size
        if batch == 1 and self._parallel > 1 and len(order) > 1:
            feeds = [self._feeds([texts[i]]) for i in order]   # tokenised here, run side by side
            with ThreadPoolExecutor(min(self._parallel, len(order))) as pool:
                out[order] = np.vstack(list(pool.map(self._run, feeds)))
            return out
        for start in range(0, len(order), batch):
            rows = order[start:start + batch]
            out[rows] = self._encode_batch([texts[i] for i in rows])
        return out


def load_embedder(spec: str, batch_size: int = 32, threads: int = 0, backend: str = "torch",
                  export_root: Path | None = None) -> Embedder:
    """Load the embedder a setting names: a model directory, ``package:NAME`` (a package that ships a model), or
    ``object:MODULE:FACTORY``, a callable returning an ``Embedder`` (how the tests plug in their fake, even in the
    server and job processes they start)."""
    if spec.startswith("object:"):
        module, _, factory = spec[len("object:"):].partition(":")
        try:
            return getattr(importlib.import_module(module), factory)()
        except (ImportError, AttributeError) as exc:
            raise ConfigError(f"embedder {spec!r} cannot be loaded ({exc})") from exc
    if backend not in BACKENDS:
        raise ConfigError(f"unknown embedding backend {backend!r}; use one of {', '.join(BACKENDS)}")
    if backend == "torch":
        return SentenceTransformerEmbedder(spec, batch_size=batch_size, threads=threads)
    return OnnxEmbedder(spec, batch_size=batch_size, threads=threads, backend=backend, export_root=export_root)


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


class CachedEmbedder:
    """Wraps an embedder with a SQLite cache keyed by (embedder name, sha256 of text).

    Retraining and re-ingest see the same texts again and again; embedding dominates their cost.
    """

    def __init__(self, inner: Embedder, path: Path):
        self.inner = inner
        self.name = inner.name
        self.dimension = inner.dimension
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute("CREATE TABLE IF NOT EXISTS embeddings (model TEXT, key TEXT, vector BLOB,"
                       " PRIMARY KEY (model, key))")

    def _connect(self) -> sqlite3.Connection:
        return connect_wal(self.path, timeout=30)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        keys = [text_key(t) for t in texts]
        found: dict[str, np.ndarray] = {}
        with self._connect() as db:
            unique = list(dict.fromkeys(keys))
            for i in range(0, len(unique), 500):
                chunk = unique[i:i + 500]
                rows = db.execute(f"SELECT key, vector FROM embeddings WHERE model=? AND key IN ({','.join('?' * len(chunk))})",
                                  [self.name, *chunk]).fetchall()
                for key, blob in rows:
                    vec = np.frombuffer(blob, dtype=np.float32)
                    if vec.shape[0] == self.dimension:
                        found[key] = vec
            missing = [i for i, k in enumerate(keys) if k not in found]
            if missing:
                todo = list(dict.fromkeys(keys[i] for i in missing))
                first_text = {keys[i]: texts[i] for i in missing}
                vectors = self.inner.embed([first_text[k] for k in todo])
                db.executemany("INSERT OR REPLACE INTO embeddings VALUES (?, ?, ?)",
                               [(self.name, k, v.astype(np.float32).tobytes()) for k, v in zip(todo, vectors)])
                found.update(zip(todo, vectors))
        if not keys:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.stack([found[k] for k in keys]).astype(np.float32)
