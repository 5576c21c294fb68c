"""Fusion of the two sentence rankers' scores into one ranking score, chosen by name.

A fusion is a function ``(dense, lexical, weight) -> fused``: lists of ``[n]`` arrays, one per
candidate passage (``n`` its sentences); ``weight`` is the lexical score's weight
(``Settings.retrieval.bm25_weight``). Adding one is a function and one line in :data:`FUSIONS`
(or :func:`register_fusion`); reciprocal rank fusion, kept only to measure against, is
registered by ``benchmarks/rrf.py``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

Fusion = Callable[[list[np.ndarray], list[np.ndarray], float], list[np.ndarray]]


def convex(dense: list[np.ndarray], lexical: list[np.ndarray], weight: float) -> list[np.ndarray]:
    """``dense + weight * lexical``, sentence by sentence (the default)."""
    return [d + weight * x for d, x in zip(dense, lexical)]


FUSIONS: dict[str, Fusion] = {
    "convex": convex,
}
"""Name -> fusion function (see the module docstring)."""


def register_fusion(name: str, fusion: Fusion) -> None:
    """Make ``fusion`` available as ``PassageRetriever(fusion=name)``."""
    FUSIONS[name] = fusion
