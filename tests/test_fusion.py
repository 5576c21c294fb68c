"""Fusion of the dense and the lexical evidence, per candidate sentence, on hand-made scores
(no model, no store): convex fusion (the default) and reciprocal rank fusion (kept to compare,
registered by ``benchmarks/rrf.py``)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from assistant.retrieval.retriever import PassageRetriever, _Row

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from rrf import RRF_K  # noqa: E402  (registers fusion="rrf")

pytestmark = pytest.mark.unit


def _retriever(fusion: str, bm25_weight: float) -> PassageRetriever:
    """A retriever with no store or model: fusion reads only these two settings."""
    return PassageRetriever.model_construct(fusion=fusion, bm25_weight=bm25_weight)


def _flat(fused: list[np.ndarray]) -> list[float]:
    """The fused scores of all candidate sentences, row after row."""
    return np.concatenate(fused).tolist() if fused else []


def _row(passage: int, dense: list[float], lexical: list[float]) -> _Row:
    d = np.asarray(dense, dtype=np.float64)
    return _Row(passage=passage, cosine=d, dense=d, lexical=np.asarray(lexical, dtype=np.float64))


ROWS = [_row(0, [0.9, 0.1], [0.0, 0.8]), _row(1, [0.5], [0.3])]


def test_convex_fusion_adds_the_weighted_lexical_share_to_the_dense_score():
    fused = _retriever("convex", 1.5)._fuse(ROWS, use_dense=True, use_lexical=True)
    assert [len(f) for f in fused] == [2, 1]
    assert _flat(fused) == pytest.approx([0.9, 0.1 + 1.5 * 0.8, 0.5 + 1.5 * 0.3])
    assert int(np.argmax(fused[0])) == 1  # the sentence holding the question's terms overtakes the closer one


def test_one_ranker_alone_is_that_rankers_score():
    retriever = _retriever("convex", 1.5)
    dense_only = retriever._fuse(ROWS, use_dense=True, use_lexical=False)
    lexical_only = retriever._fuse(ROWS, use_dense=False, use_lexical=True)
    assert _flat(dense_only) == [0.9, 0.1, 0.5]
    assert _flat(lexical_only) == pytest.approx([0.0, 1.2, 0.45])
    # RRF needs both rankings: with one, it falls back to that ranker's score
    assert _flat(_retriever("rrf", 1.5)._fuse(ROWS, use_dense=True, use_lexical=False)) == [0.9, 0.1, 0.5]


def test_reciprocal_rank_fusion_ranks_all_candidate_sentences_together():
    fused = _retriever("rrf", 1.5)._fuse(ROWS, use_dense=True, use_lexical=True)
    # dense ranks over the three sentences: 0.9 -> 1, 0.5 -> 2, 0.1 -> 3; lexical: 0.8 -> 1, 0.3 -> 2, 0.0 -> 3
    expected = [1 / (RRF_K + 1) + 1.5 / (RRF_K + 3), 1 / (RRF_K + 3) + 1.5 / (RRF_K + 1), 1 / (RRF_K + 2) + 1.5 / (RRF_K + 2)]
    assert [len(f) for f in fused] == [2, 1]
    assert _flat(fused) == pytest.approx(expected)
    assert RRF_K == 60  # Cormack, Clarke & Büttcher (SIGIR 2009)


def test_no_candidates_fuse_to_nothing():
    for fusion in ("convex", "rrf"):
        assert _flat(_retriever(fusion, 1.5)._fuse([], use_dense=True, use_lexical=True)) == []
