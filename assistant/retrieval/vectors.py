"""Exact search over vectors held in memory, as the retriever does it (see
:class:`assistant.retrieval.retriever.PassageRetriever`)."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager

import numpy as np
from threadpoolctl import ThreadpoolController

from index.types import Passage


def top_indexes(scores: np.ndarray, k: int, mask: np.ndarray | None = None) -> np.ndarray:
    """Indexes of the ``k`` highest ``scores`` (where ``mask`` is True, if given), best first."""
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    k = min(k, int(np.isfinite(scores).sum()))
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    part = np.argpartition(-scores, k - 1)[:k]
    return part[np.argsort(-scores[part], kind="stable")]


_BLAS: list[ThreadpoolController] = []


def one_blas_thread() -> AbstractContextManager:
    """A context in which NumPy's BLAS uses one thread (``threadpoolctl``).

    The retriever's products are matrix-vector (memory-bound): a second BLAS thread buys
    little, and OpenBLAS threads left spinning after it slowed the next question embedding
    by ONNX Runtime (``benchmarks/query_scale.py``; numbers in ``benchmarks/RESULTS.md``). The
    controller is made on first use, after NumPy has loaded its BLAS."""
    if not _BLAS:
        _BLAS.append(ThreadpoolController())
    return _BLAS[0].limit(limits=1, user_api="blas")


def document_rows(passages: Sequence[Passage], first: np.ndarray) -> dict[str, tuple[int, int, int, int]]:
    """Document id -> ``(first sentence row, end, first passage index, end)`` of ``passages``
    in document order (each document's passages are contiguous)."""
    rows: dict[str, tuple[int, int, int, int]] = {}
    for pi, p in enumerate(passages):
        lo = int(first[pi])
        s_lo, _, p_lo, _ = rows.get(p.doc_id, (lo, 0, pi, 0))
        rows[p.doc_id] = (s_lo, lo + len(p.sentences), p_lo, pi + 1)
    return rows
