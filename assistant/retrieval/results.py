"""What retrieval returns: :class:`RetrievedPassage` (a passage, its rank and score) with a
:class:`ScoredSentence` per sentence (cosine, fused score, lexical coverage)."""

from __future__ import annotations

from dataclasses import dataclass

from index.types import Passage, Span


@dataclass(frozen=True)
class ScoredSentence:
    """A sentence of a retrieved passage.

    ``similarity``: cosine to the query, in [-1, 1]; ``fused``: its ranking score (see
    ``PassageRetriever._fuse``); ``coverage``: lexical coverage of the query, in [0, ~1.33]
    (sentence coverage + WINDOW_SHARE * window coverage; see :class:`SentenceLexicon`).
    """

    span: Span
    similarity: float
    fused: float
    coverage: float = 0.0
    probability: float | None = None
    """The reader's calibrated probability that the sentence answers the question (set by the
    answerer for the sentences it read, see :mod:`assistant.answering.reader`), or None."""


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
    before: str = ""
    """The document's sentence just before the passage ("" at the start of a document): context for the reader."""

    @property
    def best(self) -> ScoredSentence:
        return max(self.sentences, key=lambda s: (s.fused, s.similarity))
