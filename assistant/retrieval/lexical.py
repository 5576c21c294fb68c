"""Lexical evidence for sentences: the share of a question's terms a sentence contains.

The retriever's lexical score (:mod:`assistant.retrieval.retriever`); see :class:`SentenceLexicon`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


TOKEN_PATTERN = r"(?u)\b\d+(?:\.\d+)+\b|\b\w\w+\b|\b\d\b"
"""Index terms: a dotted number whole ("2.1", "4.2.3", "1.5": a version, a section, a
decimal; bm25s's default would split it into "2" and "1", so version 2.1 matched version
1.2 as well as itself), then bm25s's default pattern (words of two or more characters) plus
single digits, which it drops: "floor 3", "step 4", "level 2" tell rows and sections apart
that share every other word."""


def idf(df: int, n: int) -> float:
    """Lucene's BM25 IDF, ``log(1 + (n - df + 0.5) / (df + 0.5))`` (the one ``bm25s`` uses);
    ``df`` of ``n`` sentences hold the term."""
    return float(np.log(1.0 + (n - df + 0.5) / (df + 0.5)))


class SentenceLexicon:
    """Lexical evidence for sentences: BM25 with ``k1 = 0`` (``bm25s``), as a share of the question.

    With ``k1 = 0`` BM25's term-frequency factor is 1 for every matching term, so a sentence
    scores the sum of the IDFs (Lucene's ``log(1 + (N - df + .5) / (df + .5))``) of the
    question terms it contains. Dividing by the sum over *all* question terms (a term absent
    from the corpus counts with ``df = 0``) gives the **coverage**: the IDF-weighted share of
    the question's terms found in the sentence, in [0, 1]. Unlike a max-normalised BM25 it is
    comparable across questions, so it can feed abstention. Measured on seeds/questions.jsonl
    (passage hit@1): k1=0 coverage 0.81 vs max-normalised BM25 (k1=1.5, b=0.75) 0.75 in the
    same fusion. Terms (:data:`TOKEN_PATTERN`): English stop words removed, Snowball stemming.

    Two indexes are kept: one over sentences and one over *windows* (a sentence with its
    neighbours in the same document), so a pronoun's antecedent still counts.

    With ``documents`` (the document id of each sentence), :meth:`in_document` tells which
    terms a document holds anywhere, from a posting list per term (one int32 per sentence a
    term occurs in).
    """

    def __init__(self, sentences: Sequence[str], windows: Sequence[str], documents: Sequence[str] | None = None) -> None:
        import bm25s
        import Stemmer

        self._bm25s = bm25s
        self._stemmer = Stemmer.Stemmer("english")
        self._function_stems: frozenset[str] | None = None
        self.size = len(sentences)
        self.sentences, self._df_s, postings = self._index(sentences, postings=documents is not None)
        self.windows, self._df_w, _ = self._index(windows)
        self._postings = postings
        ids = {d: i for i, d in enumerate(dict.fromkeys(documents or ()))}
        self._doc_ids = ids
        self._doc_of = np.array([ids[d] for d in documents], dtype=np.int32) if documents is not None else np.zeros(0, np.int32)

    def _index(self, texts: Sequence[str], postings: bool = False):
        """``(BM25 index, df per term, postings)``: postings (term -> int32 rows holding it) only
        when asked for, else empty (the window index never needs them)."""
        bm25s = self._bm25s
        tokens = bm25s.tokenize(list(texts), token_pattern=TOKEN_PATTERN, stopwords="en", stemmer=self._stemmer, show_progress=False)
        index = bm25s.BM25(k1=0.0, b=0.0)
        index.index(tokens, show_progress=False)
        inverse = {i: t for t, i in tokens.vocab.items()}
        rows: dict[str, list[int]] = {}
        for row, ids in enumerate(tokens.ids):
            for i in set(ids):
                rows.setdefault(inverse[i], []).append(row)
        df = {t: len(r) for t, r in rows.items()}
        return index, df, ({t: np.asarray(r, dtype=np.int32) for t, r in rows.items()} if postings else {})

    def in_document(self, terms: Sequence[str], doc_id: str) -> frozenset[str]:
        """The ``terms`` that some sentence of document ``doc_id`` holds (empty without
        ``documents`` at construction, or for an unknown document)."""
        d = self._doc_ids.get(doc_id)
        if d is None:
            return frozenset()
        return frozenset(t for t in terms if (rows := self._postings.get(t)) is not None and bool(np.any(self._doc_of[rows] == d)))

    def terms(self, query: str) -> list[str]:
        """The query's distinct index terms (stemmed, stop words removed)."""
        words = self._bm25s.tokenize(
            [query], token_pattern=TOKEN_PATTERN, stopwords="en", stemmer=self._stemmer, return_ids=False, show_progress=False
        )[0]
        return list(dict.fromkeys(words))

    def content_terms(self, text: str) -> list[str]:
        """:meth:`terms` without the words of NLTK's English stop-word list (``bm25s``'s
        ``STOPWORDS_EN_PLUS``, 179 words: question words, auxiliaries, pronouns), stemmed the
        same way: what a question asks *about*, for the answerability features."""
        if self._function_stems is None:
            from bm25s.stopwords import STOPWORDS_EN_PLUS

            self._function_stems = frozenset(self._stemmer.stemWords(list(STOPWORDS_EN_PLUS)))
        return [t for t in self.terms(text) if t not in self._function_stems]

    @property
    def document_frequencies(self) -> dict[str, int]:
        """Term -> number of sentences holding it (over the sentence index of :attr:`size` sentences)."""
        return self._df_s

    def coverage(self, terms: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """``(sentence coverage, window coverage)``, each ``[n_sentences]`` in [0, 1]."""
        return self._coverage(self.sentences, self._df_s, terms), self._coverage(self.windows, self._df_w, terms)

    def _coverage(self, index, df: dict[str, int], terms: Sequence[str]) -> np.ndarray:
        n = self.size
        total = sum(idf(df.get(t, 0), n) for t in terms)
        known = [t for t in terms if t in index.vocab_dict]
        if not known or total <= 0:
            return np.zeros(n, dtype=np.float32)
        return np.asarray(index.get_scores(known), dtype=np.float32) / float(total)
