"""Exports: what an analyst takes away. One module per format family: ``tabular`` (CSV and JSON lines with
citation columns), ``refiqda`` (REFI-QDA projects and codebooks)."""
