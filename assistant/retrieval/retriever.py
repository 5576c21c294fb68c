"""Question -> ranked passages with per-sentence evidence scores.

Retrieval scores **sentences**, where the evidence is, and returns passages ranked by their
best sentence. Candidates are the passages of the top sentences and passages of each ranker;
every sentence of a candidate is then scored:

* dense: the sentence's cosine to the question plus ``PASSAGE_WEIGHT`` times its passage's
  cosine (stored embeddings; the passage carries who is speaking into a short quote);
* bm25: BM25 with ``k1 = 0`` (Robertson & Zaragoza 2009; ``bm25s``, Snowball stemming,
  English stop words), divided by the question's total IDF: the IDF-weighted share of the
  question's terms the sentence contains, plus ``WINDOW_SHARE`` times that share for the
  sentence with its neighbours (:class:`SentenceLexicon`);
* hybrid: ``dense + bm25_weight * bm25`` (``fusion="convex"``, the default; fusions are
  chosen by name from :data:`assistant.retrieval.fusion.FUSIONS`).

Then each passage signal (:mod:`assistant.retrieval.signals`, e.g. a follow-up's bonus where
the previous answer was, :class:`~assistant.retrieval.followup.FocusSignal`) adds its score to
the sentences of each candidate passage. The answerer picks the sentences to quote, and
decides on abstention, from these scores.

:meth:`PassageRetriever.as_langchain` wraps it as a LangChain ``BaseRetriever``: its
``invoke(question)`` returns LangChain ``Document`` objects whose metadata carries the exact span,
so it plugs into chains. LangChain is imported only then: ``assistant ask`` does not load it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal, NamedTuple

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from assistant.answering.abstention import vocabulary_of
from assistant.retrieval.followup import Focus
from assistant.retrieval.fusion import FUSIONS, convex
from assistant.retrieval.lexical import SentenceLexicon
from assistant.retrieval.results import RetrievedPassage, ScoredSentence  # noqa: F401 (imported from here too)
from assistant.retrieval.scoped import ScopedLexicon, ScopedView
from assistant.retrieval.signals import PassageSignal, make_signals
from assistant.retrieval.vectors import document_rows, one_blas_thread, top_indexes
from index.embedder import Embedder
from index.store import StoreReader
from index.types import Passage
from assistant.tuning import PASSAGE_WEIGHT, WINDOW_SHARE



EXACT_SEARCH_MAX_SENTENCES = 10_000
"""Builds with at most this many sentences are searched exactly in memory, larger ones by
the store's HNSW index (count): where the exact scan, which grows with the sentences, costs
about one HNSW query (timings in benchmarks/RESULTS.md). Below it a warm question makes no
store round trip."""


MAX_VIEWS = 256
"""Scopes and group sets whose derived data (visible documents, scoped vocabulary, row masks)
a retriever keeps per build (count); past it the cache starts again."""


class _Row(NamedTuple):
    """One candidate passage being scored: its index, and per sentence (``[n]`` arrays, ``n``
    its sentences) the cosine to the question, the dense score and the lexical score."""

    passage: int
    cosine: np.ndarray
    dense: np.ndarray
    lexical: np.ndarray


class PassageRetriever(BaseModel):
    """Sentence-level dense/BM25/hybrid retrieval returning passages (see module docstring).

    Args:
        store: The reading side of the store (:class:`~index.store.StoreReader`, e.g. a ``ChromaStore``).
        embedder: The same model the index was built with.
        mode: ``"dense"``, ``"bm25"`` or ``"hybrid"``.
        k: Passages returned. candidates: Sentences (and passages) taken from each ranker
            before scoring.
        fusion: A name of :data:`assistant.retrieval.fusion.FUSIONS` (``"convex"``). bm25_weight:
            weight of the lexical score relative to the dense one.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    store: StoreReader
    embedder: Embedder
    mode: Literal["dense", "bm25", "hybrid"] = "hybrid"
    k: int = 5
    candidates: int = 30
    bm25_weight: float = 1.5
    fusion: str = "convex"

    _passages: list[Passage] = PrivateAttr(default_factory=list)
    _by_id: dict[str, int] = PrivateAttr(default_factory=dict)
    _owner: np.ndarray = PrivateAttr(default=None)
    _first: np.ndarray = PrivateAttr(default=None)
    _doc_rows: dict[str, tuple[int, int, int, int]] = PrivateAttr(default_factory=dict)
    _lexicon: SentenceLexicon | None = PrivateAttr(default=None)
    _signals: list[PassageSignal] = PrivateAttr(default_factory=make_signals)
    _build_id: str | None = PrivateAttr(default=None)
    _sentence_vectors: np.ndarray = PrivateAttr(default=None)
    _passage_vectors: np.ndarray = PrivateAttr(default=None)
    _doc_groups: dict[str, frozenset[str]] = PrivateAttr(default_factory=dict)
    _views: dict[frozenset[str], object] = PrivateAttr(default_factory=dict)
    vocabulary: set[str] = Field(default_factory=set, exclude=True, description="Words of all passages, lower-cased without accents (assistant.answering.abstention.fold).")
    doc_ids: frozenset[str] = Field(default_factory=frozenset, exclude=True, description="Ids of the documents with passages.")

    @property
    def lexicon(self) -> SentenceLexicon | None:
        """The BM25 term statistics of the open build's sentences (None before :meth:`refresh`
        or for an empty collection); the answerer's answerability features read them."""
        return self._lexicon

    def refresh(self) -> None:
        """(Re)load passages, the lexical indexes and the vectors from the store's open build
        (:meth:`search` then needs no store call, or one, the HNSW search of an unscoped
        question, above :data:`EXACT_SEARCH_MAX_SENTENCES`)."""
        store = self.store
        build = store.open()
        passages = list(store.passages())
        self._passages = passages
        self._by_id = {p.passage_id: i for i, p in enumerate(passages)}
        owner = [i for i, p in enumerate(passages) for _ in p.sentences]
        self._owner = np.asarray(owner, dtype=np.int64)
        self._first = np.cumsum([0] + [len(p.sentences) for p in passages])[:-1]
        texts = [" ".join(t.split()) for p in passages for t in p.unit_texts()]  # a table row with its headers
        docs = [p.doc_id for p in passages for _ in p.sentences]
        self._doc_rows = document_rows(passages, self._first)
        self.doc_ids = frozenset(self._doc_rows)
        windows = [
            " ".join(texts[j] for j in range(max(0, i - 1), min(len(texts), i + 2)) if docs[j] == docs[i])
            for i in range(len(texts))
        ]
        self._lexicon = SentenceLexicon(texts, windows, docs) if texts else None
        for signal in self._signals:
            signal.prepare(passages)
        self.vocabulary = vocabulary_of(p.text for p in passages)
        self._sentence_vectors, self._passage_vectors = self._load_vectors(store, build.dimension)
        self._doc_groups = {r.doc_id: frozenset(r.groups) for r in store.catalog(build)}
        self._views = {}
        self._build_id = build.build_id

    def _cached(self, key: frozenset, make):
        views = self._views
        if (got := views.get(key)) is None:
            if len(views) >= MAX_VIEWS:
                views.clear()
            got = views[key] = make()
        return got

    def visible(self, groups: frozenset[str]) -> tuple[str, ...]:
        """Ids of the documents a reader in ``groups`` may read (a document's stored groups, see
        :mod:`index.access`, share one with them), sorted; computed once per group set and build."""
        key = frozenset({("groups",), *((("g", g)) for g in groups)})
        return self._cached(key, lambda: tuple(sorted(d for d, gs in self._doc_groups.items() if gs & groups and d in self._doc_rows)))

    def document_passages(self, doc_id: str) -> int:
        """Passages of ``doc_id`` in the open build (count; 0 if it has none)."""
        rows = self._doc_rows.get(doc_id)
        return rows[3] - rows[2] if rows else 0

    def scoped(self, documents: Sequence[str] | None):
        """What the answerer reads besides the passages, seen from ``documents`` alone (None: this
        retriever): :attr:`vocabulary` holds only those documents' words, so the unknown-name
        check answers as if the other documents did not exist; everything else is this retriever's."""
        if documents is None:
            return self
        key = frozenset(documents)

        def view() -> ScopedView:
            vocabulary = vocabulary_of(p.text for p in self._passages if p.doc_id in key)
            lexicon = ScopedLexicon(self._lexicon, self._in_scope(sorted(key))[0]) if self._lexicon is not None else None
            return ScopedView(self, vocabulary, lexicon)

        return self._cached(key, view)

    def _load_vectors(self, store: StoreReader, dim: int) -> tuple[np.ndarray, np.ndarray]:
        """The build's sentence vectors ``[n_sentences, dim]`` (rows in the order of
        ``self._owner``) and passage vectors ``[n_passages, dim]`` (rows in passage order),
        read once, page by page into place; a vector the store lacks stays zero (cosine 0)."""
        sentences = np.zeros((len(self._owner), dim), dtype=np.float32)
        for ids, vectors in store.vectors("sentences"):
            for sid, v in zip(ids, vectors):
                pid, _, j = sid.rpartition(":")
                if (pi := self._by_id.get(pid)) is not None and int(j) < len(self._passages[pi].sentences):
                    sentences[self._first[pi] + int(j)] = v
        whole = np.zeros((len(self._passages), dim), dtype=np.float32)
        for ids, vectors in store.vectors("passages"):
            for pid, v in zip(ids, vectors):
                if (pi := self._by_id.get(pid)) is not None:
                    whole[pi] = v
        return sentences, whole

    def search(
        self, query: str, query_embedding: np.ndarray | None = None, focus: Focus | None = None, documents: Sequence[str] | None = None,
    ) -> list[RetrievedPassage]:
        """Rank passages for ``query``; ``query_embedding`` (``[dim]``, unit norm) is computed if not given.

        ``focus``: for a follow-up, where the previous answer was (see :class:`Focus`).
        ``documents``: search only these document ids (``None``: all). The filter is applied
        inside each ranker (BM25 coverage is zeroed outside them, the dense search runs over
        their sentences and passages alone), so up to ``k`` of their passages come back; ids must exist
        (the caller checks them, see :meth:`assistant.Assistant.ask`).

        Returns:
            At most ``k`` passages, best first, each with all its sentences scored.
        """
        if self._build_id is None:
            self.refresh()
        if not self._passages:
            return []
        with one_blas_thread():
            return self._search(query, query_embedding, focus, documents)

    def _search(self, query: str, query_embedding: np.ndarray | None, focus: Focus | None, documents: Sequence[str] | None) -> list[RetrievedPassage]:
        embedder = self.embedder
        q = query_embedding if query_embedding is not None else embedder.embed_query([query])[0]
        use_dense = self.mode in ("dense", "hybrid")
        use_lexical = self.mode in ("bm25", "hybrid") and self._lexicon is not None
        lexical = np.zeros(len(self._owner), dtype=np.float32)
        if use_lexical:
            cov_s, cov_w = self._lexicon.coverage(self._lexicon.terms(query))
            lexical = cov_s + WINDOW_SHARE * cov_w
        scope, masks = None, None
        if documents is not None:
            scope = sorted(set(documents))
            masks = self._cached(frozenset({("masks",), *scope}), lambda: self._in_scope(scope))
            lexical = np.where(masks[0], lexical, 0.0).astype(np.float32)
        contributions = [c for s in self._signals if (c := s.contribute(query, focus, self._passages, self._by_id, scope)) is not None]
        passage_cos = self._passage_vectors @ q if use_dense else None
        pinned = [pi for c in contributions for pi in c.pinned]
        candidates = self._candidates(q, passage_cos, lexical, use_dense, use_lexical, pinned, masks)
        rows = self._score(candidates, q, passage_cos, lexical)
        fused = self._fuse(rows, use_dense, use_lexical)
        for n, row in enumerate(rows):
            for c in contributions:
                fused[n] = fused[n] + c.score(row.passage)
        return self._ranked(rows, fused)

    def _candidates(
        self,
        q: np.ndarray,
        passage_cos: np.ndarray | None,
        lexical: np.ndarray,
        use_dense: bool,
        use_lexical: bool,
        pinned: Sequence[int],
        masks: tuple[np.ndarray, np.ndarray] | None,
    ) -> list[int]:
        """Indexes of the candidate passages, in first-found order: those of the ``candidates``
        best sentences by lexical coverage (ties in corpus order), of the ``candidates`` nearest
        sentences (:meth:`_nearest_sentences`) and the ``candidates // 3`` nearest passages by
        cosine (exact, over the passage vectors held in memory); all within ``masks``
        (sentence and passage rows of the scope documents, :meth:`_in_scope`) if given; and the
        passages the signals pin (a follow-up's focus passages)."""
        chosen: dict[int, None] = {}
        if use_lexical:
            hits = np.flatnonzero(lexical > 0)
            for i in hits[np.argsort(-lexical[hits], kind="stable")[: self.candidates]]:
                chosen.setdefault(int(self._owner[i]), None)
        if use_dense:
            for i in self._nearest_sentences(q, None if masks is None else masks[0]):
                chosen.setdefault(int(self._owner[i]), None)
            passage_mask = None if masks is None else masks[1]
            for pi in top_indexes(passage_cos, max(self.k, self.candidates // 3), passage_mask):
                chosen.setdefault(int(pi), None)
        for pi in pinned:
            chosen.setdefault(pi, None)
        return list(chosen)

    def _nearest_sentences(self, q: np.ndarray, in_scope: np.ndarray | None) -> list[int]:
        """Rows (of ``self._owner``) of the ``candidates`` sentences nearest to ``q``, best first.

        Exact search over the vectors held in memory when the build has at most
        :data:`EXACT_SEARCH_MAX_SENTENCES` sentences, or the question is scoped (over its
        documents' rows: Chroma's filtered HNSW search returned no hits for an 80-sentence
        document of a 75k-sentence collection, chromadb 1.5.9); else the store's HNSW search,
        one round trip. ``in_scope``: the scope's sentence rows (a ``[n_sentences]`` mask) or
        None. Ids of another build are skipped.
        """
        if in_scope is not None or len(self._owner) <= EXACT_SEARCH_MAX_SENTENCES:
            if in_scope is None:
                return [int(i) for i in top_indexes(self._sentence_vectors @ q, self.candidates)]
            rows = np.flatnonzero(in_scope)
            if 4 * len(rows) >= len(in_scope):  # a wide scope (a reader's documents): one product, masked
                return [int(i) for i in top_indexes(self._sentence_vectors @ q, self.candidates, in_scope)]
            return [int(rows[i]) for i in top_indexes(self._sentence_vectors[rows] @ q, self.candidates)]
        out = []
        for sid in self.store.nearest_sentences(q, self.candidates):
            pid, _, j = sid.rpartition(":")
            if (pi := self._by_id.get(pid)) is not None and int(j) < len(self._passages[pi].sentences):
                out.append(int(self._first[pi]) + int(j))
        return out

    def _in_scope(self, scope: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Boolean masks ``([n_sentences], [n_passages])`` of the rows of the ``scope`` documents
        (each document's rows are contiguous: passages are in document order)."""
        sentences = np.zeros(len(self._owner), dtype=bool)
        passages = np.zeros(len(self._passages), dtype=bool)
        for doc in scope:
            if doc in self._doc_rows:
                s_lo, s_hi, p_lo, p_hi = self._doc_rows[doc]
                sentences[s_lo:s_hi] = True
                passages[p_lo:p_hi] = True
        return sentences, passages

    def _score(self, candidates: list[int], q: np.ndarray, passage_cos: np.ndarray | None, lexical: np.ndarray) -> list[_Row]:
        """One :class:`_Row` per candidate passage; dense = sentence cosine (from the vectors held
        in memory) + PASSAGE_WEIGHT * passage cosine (``passage_cos[pi]``, or computed for the
        candidates alone when the dense ranker did not run)."""
        rows = []
        for pi in candidates:
            lo, n = self._first[pi], len(self._passages[pi].sentences)
            cos = self._sentence_vectors[lo : lo + n] @ q
            whole = float(passage_cos[pi] if passage_cos is not None else self._passage_vectors[pi] @ q)
            rows.append(_Row(pi, cos, cos + PASSAGE_WEIGHT * whole, lexical[lo : lo + n]))
        return rows

    def _ranked(self, rows: list[_Row], fused: list[np.ndarray]) -> list[RetrievedPassage]:
        """The ``k`` best rows by their best sentence's fused score, as :class:`RetrievedPassage`."""
        best = sorted(((max(f) if len(f) else float("-inf"), n) for n, f in enumerate(fused)), key=lambda t: -t[0])
        out = []
        for rank, (score, n) in enumerate(best[: self.k], start=1):
            pi, cos, _, lex = rows[n]  # a _Row
            p = self._passages[pi]
            sentences = tuple(
                ScoredSentence(span=tuple(span), similarity=float(c), fused=float(f), coverage=float(v))
                for span, c, f, v in zip(p.sentences, cos, fused[n], lex)
            )
            out.append(RetrievedPassage(passage=p, rank=rank, score=float(score), sentences=sentences, before=self._before(pi)))
        return out

    def _before(self, pi: int) -> str:
        """The last sentence of the passage before passage ``pi`` in the same document, or ""."""
        if pi <= 0:
            return ""
        prev = self._passages[pi - 1]
        if prev.doc_id != self._passages[pi].doc_id or not prev.sentences:
            return ""
        start, end = prev.sentences[-1]
        return prev.text[start - prev.start : end - prev.start]

    def stored_embeddings(self, passages: Sequence[Passage]) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """Sentence (``[n, dim]``) and passage (``[dim]``) embeddings by passage id, from the
        vectors held in memory (passages of another build are left out)."""
        sentences, whole = self._sentence_vectors, self._passage_vectors  # read once: refresh() swaps them
        found = [(p.passage_id, pi) for p in passages if (pi := self._by_id.get(p.passage_id)) is not None]
        return (
            {pid: sentences[self._first[pi] : self._first[pi] + len(self._passages[pi].sentences)] for pid, pi in found},
            {pid: whole[pi] for pid, pi in found},
        )

    def _fuse(self, rows: list[_Row], use_dense: bool, use_lexical: bool) -> list[np.ndarray]:
        """One fused score per sentence of each candidate row (higher is better).

        The retriever's :attr:`fusion` (:mod:`assistant.retrieval.fusion`; ``convex``: ``dense +
        bm25_weight * lexical``, dense = sentence cosine + PASSAGE_WEIGHT * passage cosine, lexical
        = coverage + WINDOW_SHARE * window coverage); ``convex`` when only one ranker runs.
        """
        dense = [r.dense if use_dense else np.zeros(len(r.cosine)) for r in rows]
        lexical = [r.lexical if use_lexical else np.zeros(len(r.cosine)) for r in rows]
        fuse = FUSIONS[self.fusion] if use_dense and use_lexical else convex
        return fuse(dense, lexical, self.bm25_weight)

    def as_langchain(self):
        """This retriever as a LangChain ``BaseRetriever`` (imported here, not at start-up): its
        ``invoke(query)`` returns the :meth:`search` results as LangChain ``Document`` objects, the
        passage text with ``doc_id``, ``title``, ``start``/``end`` (characters), ``line_start``/
        ``line_end``, ``score`` and ``best_sentence`` (a ``[start, end]`` span) in the metadata."""
        from assistant.retrieval.langchain import LangChainRetriever

        return LangChainRetriever(retriever=self)

    def invoke(self, input: str, config=None, **kwargs) -> list:
        """LangChain's ``Runnable.invoke``, kept from when this class was a ``BaseRetriever``:
        ``as_langchain().invoke(input, config, **kwargs)`` (LangChain ``Document`` objects)."""
        return self.as_langchain().invoke(input, config, **kwargs)

