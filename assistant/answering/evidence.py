"""What the fitted heads read of a question and its candidate sentences: the answerability
:class:`~assistant.answering.answerability.Evidence` and where each candidate sits (for the
support head)."""

from __future__ import annotations

from collections.abc import Sequence
from assistant.answering.answerability import TOP_SENTENCES, Candidate, Evidence, evidence, features
from assistant.answering.support import Placed
from assistant.retrieval.lexical import SentenceLexicon
from assistant.retrieval.results import RetrievedPassage, ScoredSentence
from assistant.answering.sentences import _previous, _raw


def answerability_evidence(
    question: str, ranked: Sequence[tuple[ScoredSentence, RetrievedPassage]], lexicon: SentenceLexicon | None
) -> Evidence:
    """The :class:`~assistant.answering.answerability.Evidence` of ``question`` and its ``ranked`` candidate
    sentences (best fused score first, at least one): question terms are its content terms
    (:meth:`~assistant.retrieval.lexical.SentenceLexicon.content_terms`), a candidate's terms those of the
    sentence and the sentence before it, and of its whole passage. Without ``lexicon``, words
    split on whitespace and every term weighs the same."""
    if lexicon is not None:
        terms, asked, df, n = lexicon.terms, lexicon.content_terms, lexicon.document_frequencies, lexicon.size
    else:
        terms = asked = lambda text: list(dict.fromkeys(text.lower().split()))  # noqa: E731
        df, n = {}, 0
    passage_terms: dict[str, frozenset[str]] = {}
    candidates = []
    for s, r in ranked[:TOP_SENTENCES]:
        pid = r.passage.passage_id
        if pid not in passage_terms:
            passage_terms[pid] = frozenset(terms(r.before + " " + r.passage.text))
        sentence = _raw(s, r)
        candidates.append(Candidate(frozenset(terms(sentence)) | frozenset(terms(_previous(s, r))), passage_terms[pid],
                                    s.fused, s.similarity, s.coverage, sentence))
    asked_terms = asked(question)
    held = lexicon.in_document(asked_terms, ranked[0][1].passage.doc_id) if lexicon is not None else None
    return evidence(question, asked_terms, df, n, candidates, held)


def candidate_places(ranked: Sequence[tuple[ScoredSentence, RetrievedPassage]]) -> list[Placed]:
    """Where each of ``ranked``'s sentences sits: its passage and its index among the passage's
    sentences (for :mod:`assistant.answering.support`'s features)."""
    return [Placed(r.passage.passage_id, r.passage.sentences.index(s.span)) for s, r in ranked]


def answerability_features(
    question: str, ranked: Sequence[tuple[ScoredSentence, RetrievedPassage]], lexicon: SentenceLexicon | None
) -> dict[str, float]:
    """:func:`assistant.answering.answerability.features` of :func:`answerability_evidence`."""
    return features(answerability_evidence(question, ranked, lexicon))
