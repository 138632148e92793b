"""Analyses over the stored statements: counts over time by theme, organisation and query (``trends``)."""
