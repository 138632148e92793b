"""The search engine that goes with the configured store: the embedded ``SearchIndex`` (FAISS + keyword index
beside the SQLite file) or, with a PostgreSQL database, ``PostgresSearch``, which ranks in SQL. Both answer
``search(query, k, filters, mode, weights) -> SearchResponse`` and have ``sync``, ``count``, ``rebuild`` and
``save``."""

from __future__ import annotations

from classifier.model.embeddings import Embedder
from classifier.storage import is_postgres, postgres_backend


def open_search(settings, store, embedder: Embedder):
    """A search engine over ``store`` for ``embedder``'s vectors, of the kind ``settings`` configure."""
    if is_postgres(settings):
        return postgres_backend().PostgresSearch(store, embedder)
    from classifier.search.engine import SearchIndex

    return SearchIndex(store, embedder, settings.data_dir / "index")
