"""The one place that composes the pieces: settings -> codebook, embedder, registry, scorer (and the store).

Heavy objects are built on first use and kept for the life of the process. The active model is re-read
whenever the registry's ACTIVE pointer changes, so every worker process serves the version that was
activated last, without a restart.
"""

from __future__ import annotations

import threading
from functools import cached_property

from .codebook import Codebook, load_codebook
from .config import Settings
from .embeddings import CachedEmbedder, Embedder, load_embedder
from .registry import Registry
from .tagging import ThemeScorer


class Pipeline:
    def __init__(self, settings: Settings, embedder: Embedder | None = None):
        self.settings = settings
        self._embedder = embedder
        self._scorer: ThemeScorer | None = None
        self._lock = threading.Lock()

    @cached_property
    def codebook(self) -> Codebook:
        return load_codebook(self.settings.codebook_path)

    @cached_property
    def registry(self) -> Registry:
        return Registry(self.settings.models_dir)

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            with self._lock:
                if self._embedder is None:
                    self._embedder = load_embedder(self.settings.embedding_model, self.settings.embedding_batch_size,
                                                   self.settings.threads)
        return self._embedder

    @cached_property
    def cached_embedder(self) -> CachedEmbedder:
        return CachedEmbedder(self.embedder, self.settings.cache_path)

    def scorer(self, version: str | None = None) -> ThemeScorer:
        """The scorer for ``version``, or for the active model (reloaded when the pointer has moved)."""
        if version is not None:
            return self._load(version)
        active = self.registry.active_version()
        current = self._scorer
        if current is not None and active == current.version:
            return current
        with self._lock:
            if self._scorer is None or self._scorer.version != active:
                # Load the new model fully before swapping, so requests in flight keep the old one.
                self._scorer = self._load(active)
            return self._scorer

    def _load(self, version: str | None) -> ThemeScorer:
        emb = self.embedder
        model = self.registry.load(version, embedder_name=emb.name, dimension=emb.dimension)
        return ThemeScorer(model, emb, self.codebook)
