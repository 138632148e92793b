"""joinedup: tag and search statements on health and social care integration.

Data flows one way: text -> paragraphs -> embeddings -> tagger / index -> JSON. This package holds the
pieces; it never imports Flask (the HTTP layer lives in ``service``).
"""

__version__ = "0.1.0"
