"""How long structure() takes on huge pastes: run by hand, never a test.

Prints the best of three runs for the probes' pages (bench/probes/*/pages) repeated to 2.8 MB, a flood of 300,000
one-letter lines, and 100,000 lines of wide-gapped cells (the shapes whose rules scan for gaps).

    python bench/segmentation.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from classifier.text.structure import structure  # noqa: E402


def best_of_three(text: str) -> float:
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        structure(text)
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    pages = "\n\n".join(p.read_text(encoding="utf-8") for p in sorted(ROOT.glob("bench/probes/*/pages/*.txt")))
    pasted = (pages + "\n\n") * max(1, round(2_800_000 / (len(pages) + 2)))
    cases = {f"pasted pages, {len(pasted) / 1e6:.1f} MB": pasted, "300,000 one-letter lines": "a\n" * 300_000,
             "100,000 lines of wide-gapped cells": "Example   12   7\n" * 100_000}
    for name, text in cases.items():
        print(f"{name}: {best_of_three(text) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
