"""Reciprocal rank fusion (Cormack, Clarke & Büttcher, SIGIR 2009), kept only to compare with
the shipped convex fusion (``benchmarks/quality.py``; it measured lower: benchmarks/RESULTS.md): importing this module registers it as
``PassageRetriever(fusion="rrf")`` (:func:`assistant.retrieval.fusion.register_fusion`)."""

from __future__ import annotations

import numpy as np

from assistant.retrieval.fusion import register_fusion

RRF_K = 60
"""Reciprocal-rank-fusion constant from Cormack, Clarke & Büttcher (SIGIR 2009)."""


def rrf(dense: list[np.ndarray], lexical: list[np.ndarray], weight: float) -> list[np.ndarray]:
    """The two rankings of all candidate sentences fused as ``sum w / (60 + rank)`` (weight 1
    for the dense ranking, ``weight`` for the lexical one); same layout as the input."""
    flat_d = np.concatenate(dense) if dense else np.zeros(0)
    flat_x = np.concatenate(lexical) if lexical else np.zeros(0)
    fused = np.zeros(len(flat_d))
    for w, flat in ((1.0, flat_d), (weight, flat_x)):
        ranks = np.empty(len(flat))
        ranks[np.argsort(-flat, kind="stable")] = np.arange(1, len(flat) + 1)
        fused += w / (RRF_K + ranks)
    return np.split(fused, np.cumsum([len(d) for d in dense])[:-1])


register_fusion("rrf", rrf)
