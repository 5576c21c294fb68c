"""Question -> ranked passages with per-sentence evidence scores.

Retrieval works at the **sentence** level, where the evidence is, and returns passages:

* dense: cosine similarity between the question embedding and every sentence embedding
  (Chroma query on the build's sentence collection);
* bm25: BM25 (Robertson & Zaragoza 2009; ``bm25s`` with Snowball stemming and English
  stop words) over the same sentences, held in memory;
* hybrid: both lists fused, either by reciprocal rank fusion, ``sum w / (60 + rank)``
  (Cormack, Clarke & Büttcher, SIGIR 2009; 60 is their constant), or by a weighted sum
  ``cosine + w * bm25 / max(bm25)`` (``fusion="convex"``), where ``w`` is ``bm25_weight``.

A passage ranks by its best sentence. Every sentence of a returned passage also gets its
cosine similarity to the question (from stored sentence embeddings), which the answerer uses
to pick and to abstain.

:class:`PassageRetriever` is a LangChain ``BaseRetriever``: ``invoke(question)`` returns
LangChain ``Document`` objects whose metadata carries the exact span, so it plugs into chains.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document as LCDocument
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, PrivateAttr

from index.embedder import Embedder
from index.store import ChromaStore
from index.types import Passage, Span

RRF_K = 60
"""Reciprocal-rank-fusion constant from Cormack, Clarke & Büttcher (SIGIR 2009)."""

_ANAPHORA = re.compile(
    r"\b(he|she|him|her|his|hers|they|them|their|it|its|that|this|those|these|there|then|the same)\b", re.IGNORECASE
)


@dataclass(frozen=True)
class ScoredSentence:
    """A sentence of a retrieved passage. ``similarity``: cosine to the query, in [-1, 1]."""

    span: Span
    similarity: float
    fused: float


@dataclass(frozen=True)
class RetrievedPassage:
    """A retrieved passage with its score and its sentences' scores.

    Attributes:
        passage: The passage. rank: 1-based rank.
        score: Fused score of its best sentence (see ``PassageRetriever._fuse``: a sum of
            weighted cosine and max-normalised BM25, or of weighted ``1 / (60 + rank)`` terms
            with ``fusion="rrf"``). Higher is better; only the order matters.
        sentences: Every sentence of the passage with its scores, in document order.
    """

    passage: Passage
    rank: int
    score: float
    sentences: tuple[ScoredSentence, ...]

    @property
    def best(self) -> ScoredSentence:
        return max(self.sentences, key=lambda s: (s.fused, s.similarity))


def retrieval_query(question: str, history: Sequence[str] = ()) -> str:
    """The text to retrieve with: the question, prefixed by the previous user turn when the
    question refers back to it (a pronoun such as "she" or "that", or fewer than four words).

    This resolves follow-ups like "What did she say about Abe?" after "Who is Yuki Tatsumi?"
    without a language model.
    """
    history = [h for h in history if h and h.strip()]
    if not history:
        return question
    if _ANAPHORA.search(question) or len(question.split()) < 4:
        return f"{history[-1].strip()} {question}"
    return question


class SentenceBM25:
    """BM25 over sentence texts, in memory (``bm25s``)."""

    def __init__(self, texts: Sequence[str]) -> None:
        import bm25s
        import Stemmer

        self._bm25s = bm25s
        self._stemmer = Stemmer.Stemmer("english")
        self.retriever = bm25s.BM25()
        tokens = bm25s.tokenize(list(texts), stopwords="en", stemmer=self._stemmer, show_progress=False)
        self.retriever.index(tokens, show_progress=False)
        self.size = len(texts)

    def search(self, query: str, k: int) -> list[tuple[int, float]]:
        """Top-``k`` ``(sentence index, BM25 score)`` with a positive score, best first."""
        words = self._bm25s.tokenize([query], stopwords="en", stemmer=self._stemmer, return_ids=False, show_progress=False)[0]
        words = [w for w in words if w in self.retriever.vocab_dict]
        if not words:
            return []
        docs, scores = self.retriever.retrieve([words], k=min(k, self.size), show_progress=False, n_threads=0)
        return [(int(d), float(s)) for d, s in zip(docs[0], scores[0]) if s > 0]


class PassageRetriever(BaseRetriever):
    """Sentence-level dense/BM25/hybrid retrieval returning passages (see module docstring).

    Args:
        store: An opened :class:`~index.store.ChromaStore`.
        embedder: The same model the index was built with.
        mode: ``"dense"``, ``"bm25"`` or ``"hybrid"``.
        k: Passages returned. candidates: Sentences taken from each ranker before fusion.
        fusion: ``"rrf"`` or ``"convex"`` (see module docstring). bm25_weight: BM25's weight in fusion.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    store: Any
    embedder: Any
    mode: Literal["dense", "bm25", "hybrid"] = "hybrid"
    k: int = 5
    candidates: int = 30
    bm25_weight: float = 1.0
    fusion: Literal["rrf", "convex"] = "rrf"

    _passages: dict[str, Passage] = PrivateAttr(default_factory=dict)
    _sentence_ids: list[str] = PrivateAttr(default_factory=list)
    _bm25: SentenceBM25 | None = PrivateAttr(default=None)
    _build_id: str | None = PrivateAttr(default=None)

    def refresh(self) -> None:
        """(Re)load passages and the BM25 index from the store's open build."""
        store: ChromaStore = self.store
        build = store.open()
        passages = store.passages()
        self._passages = {p.passage_id: p for p in passages}
        self._sentence_ids = [f"{p.passage_id}:{j}" for p in passages for j in range(len(p.sentences))]
        texts = [t for p in passages for t in p.sentence_texts()]
        self._bm25 = SentenceBM25(texts) if self.mode != "dense" and texts else None
        self._build_id = build.build_id

    def search(self, query: str, query_embedding: np.ndarray | None = None) -> list[RetrievedPassage]:
        """Rank passages for ``query``; ``query_embedding`` (``[dim]``, unit norm) is computed if not given.

        Returns:
            At most ``k`` passages, best first, each with all its sentences scored.
        """
        if self._build_id is None:
            self.refresh()
        embedder: Embedder = self.embedder
        q = query_embedding if query_embedding is not None else embedder.embed([query])[0]
        dense: list[tuple[str, float]] = []
        lexical: list[tuple[str, float]] = []
        if self.mode in ("dense", "hybrid"):
            dense = self.store.query_sentences(q, self.candidates)
        if self.mode in ("bm25", "hybrid") and self._bm25 is not None:
            hits = self._bm25.search(query, self.candidates)
            top = hits[0][1] if hits else 1.0
            lexical = [(self._sentence_ids[i], score / top) for i, score in hits]
        fused = self._fuse(dense, lexical)
        best: dict[str, float] = {}
        for sid, score in fused.items():
            pid = sid.rsplit(":", 1)[0]
            best[pid] = max(best.get(pid, float("-inf")), score)
        ranked = sorted(best.items(), key=lambda kv: -kv[1])[: self.k]
        chosen = [self._passages[pid] for pid, _ in ranked if pid in self._passages]
        sims = self.store.sentence_embeddings(chosen)
        out = []
        for rank, p in enumerate(chosen, start=1):
            cos = sims[p.passage_id] @ q if p.passage_id in sims else np.zeros(len(p.sentences))
            sentences = tuple(
                ScoredSentence(span=tuple(span), similarity=float(c), fused=fused.get(f"{p.passage_id}:{j}", 0.0))
                for j, (span, c) in enumerate(zip(p.sentences, cos))
            )
            out.append(RetrievedPassage(passage=p, rank=rank, score=best[p.passage_id], sentences=sentences))
        return out

    def _fuse(self, dense: list[tuple[str, float]], lexical: list[tuple[str, float]]) -> dict[str, float]:
        """Fuse the dense and BM25 sentence rankings into one score per sentence id (higher is better)."""
        fused: dict[str, float] = {}
        weights = {"dense": 1.0, "bm25": self.bm25_weight}
        for name, hits in (("dense", dense), ("bm25", lexical)):
            for rank, (sid, score) in enumerate(hits, start=1):
                part = 1.0 / (RRF_K + rank) if self.fusion == "rrf" else score
                fused[sid] = fused.get(sid, 0.0) + weights[name] * part
        return fused

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[LCDocument]:
        return [
            LCDocument(
                page_content=r.passage.text,
                id=r.passage.passage_id,
                metadata={
                    "doc_id": r.passage.doc_id,
                    "title": r.passage.title,
                    "start": r.passage.start,
                    "end": r.passage.end,
                    "line_start": r.passage.line_start,
                    "line_end": r.passage.line_end,
                    "score": r.score,
                    "best_sentence": list(r.best.span),
                },
            )
            for r in self.search(query)
        ]
