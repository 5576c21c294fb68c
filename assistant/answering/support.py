"""Does a further sentence add to the answer? A small learned head, fitted on the fit documents.

An answer quotes its best sentence, then further candidate sentences only when they support
the answer too (issue "Answers a careful colleague would give": a further sentence is quoted
only when it adds to the answer of this question, decided by a per-sentence probability, not
by position). Quoting the solid-amber line beside the blinking-amber one, or a neighbouring
sentence that merely shares the question's words, shows a reader support that is not there.

The head reads :data:`FEATURE_DOCS` of each further candidate *relative to the best sentence*
(how close its scores come, whether it holds question terms the best one lacks, where it
sits) and gives the probability that the candidate overlaps the gold evidence. It is a
logistic regression (:class:`assistant.answering.answerability.Head`) fitted by
``benchmarks/fit_support.py`` on the answerable questions of the **fit** documents of the
committed split (``benchmarks/data/split.json``: SQuAD 2.0, SQuAD 1.1, PolicyQA), each
question's five best further candidates labelled 1 when they overlap a gold answer
(:func:`assistant.evaluation.metrics.overlaps`). It is stored in ``assistant/models/support/config.json`` with
its provenance, SHA-256 and measured results.

The head gives every candidate, the best sentence included, the probability that it supports
the answer. The candidate it finds most likely is quoted first (the best by fused score in 99
questions of 100; on the fit documents the others hold the answer more often), and a further
candidate is quoted when its probability is at least ``share`` times the first one's
(:meth:`SupportModel.further`): it is nearly as likely to hold the answer. ``share`` is fitted with the head, on the fit documents only: the value of a grid that
maximises the F1 of *quote precision* (the share of quoted sentences that overlap the gold
answer, :mod:`assistant.evaluation.metrics`) and *answer recall* (the share of answers whose quotes hold
the gold answer), averaged over the three sets. Quoting fewer sentences raises the first and
lowers the second; the F1 weighs them equally. Fitted value and the curve: ``assistant/models/support/config.json``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from assistant.answering.abstention import expected_answer_type, type_mismatch
from assistant.answering.answerability import Candidate, Evidence, Head, _missing
from assistant.answering.model_home import CONFIG, check_sha256, home, loading, read_config
from assistant.retrieval.lexical import idf

MODEL_PATH = home("support") / CONFIG
"""The fitted head, written by ``benchmarks/fit_support.py``."""

FEATURE_DOCS = {
    "fused_ratio": "the candidate's fused retrieval score as a share of the best sentence's (ratio)",
    "similarity_gap": "the best sentence's cosine to the question minus the candidate's",
    "coverage_gap": "the best sentence's lexical coverage of the question minus the candidate's",
    "similarity": "the candidate's cosine to the question",
    "coverage": "the candidate's lexical coverage of the question",
    "adds_terms": "IDF share of the question's content terms that the candidate holds (with the sentence "
    "before it) and the best sentence does not",
    "missing": "IDF share of the question's content terms in neither the candidate nor the sentence before it",
    "same_passage": "1 when the candidate is in the best sentence's passage (the best one itself too), else 0",
    "adjacent": "1 when the candidate is the sentence right before or after the best one, else 0",
    "rank": "the candidate's place by fused score among the candidates (1 = the best sentence)",
    "is_best": "1 for the best sentence by fused score, else 0",
    "holds_type": "1 when the question asks for a kind of answer (a number, date, name, … of "
    "assistant.answering.abstention.expected_answer_type) and the candidate holds one, 0 when it holds none, 0.5 when "
    "the question asks for no particular kind",
}
"""Every feature :func:`support_features` computes, with what it measures."""


@dataclass(frozen=True)
class Placed:
    """Where a candidate sentence sits: its passage id and its index among the passage's sentences."""

    passage_id: str
    index: int


def support_features(evidence: Evidence, places: Sequence[Placed]) -> list[dict[str, float]]:
    """:data:`FEATURE_DOCS` of every candidate of ``evidence``, the best sentence (the first) included, in order.

    Args:
        evidence: The question's :class:`~assistant.answering.answerability.Evidence` (candidates best first).
        places: Where each of ``evidence.candidates`` sits, same order and length.

    Returns:
        One dict per candidate (``len(evidence.candidates)`` of them).
    """
    top: Candidate = evidence.candidates[0]
    asked = expected_answer_type(evidence.question)
    weights = {t: idf(evidence.df.get(t, 0), evidence.n) for t in evidence.terms}
    total = sum(weights.values())
    out = []
    for rank, (c, where) in enumerate(zip(evidence.candidates, places), start=1):
        adds = sum(w for t, w in weights.items() if t in c.terms and t not in top.terms)
        same = where.passage_id == places[0].passage_id
        out.append({
            "fused_ratio": c.fused / top.fused if top.fused > 0 else 0.0,
            "similarity_gap": top.similarity - c.similarity,
            "coverage_gap": top.coverage - c.coverage,
            "similarity": c.similarity,
            "coverage": c.coverage,
            "adds_terms": adds / total if total > 0 else 0.0,
            "missing": _missing(weights, c.terms)[0],
            "same_passage": float(same),
            "adjacent": float(same and abs(where.index - places[0].index) == 1),
            "rank": float(rank),
            "is_best": float(rank == 1),
            "holds_type": 0.5 if asked is None else float(type_mismatch(evidence.question, [c.text]) is None),
        })
    return out


@dataclass(frozen=True)
class SupportModel:
    """The fitted head and share.

    Attributes:
        head: The logistic regression (:class:`assistant.answering.answerability.Head`) over some of :data:`FEATURE_DOCS`.
        share: Quote a further sentence when its probability is at least this times the best
            sentence's (ratio in (0, 1]; fitted, see the module docstring).
    """

    head: Head
    share: float

    @classmethod
    def load(cls, path: Path = MODEL_PATH) -> SupportModel:
        """Read the fitted head and check it.

        Raises:
            ModelError: one line naming the file: it is missing, not JSON, names a feature this
                code does not compute, or its content does not match the SHA-256 it records
                (restore the file or refit with ``python benchmarks/fit_support.py``).
        """
        with loading("support model", path, "benchmarks/fit_support.py"):
            raw = read_config(path)
            head = Head.from_json(raw["head"], FEATURE_DOCS)
            model = cls(head, float(raw["share"]))
            if not 0 < model.share <= 1:
                raise ValueError(f"share must be in (0, 1], got {model.share}")
            check_sha256(raw.get("sha256"), model.sha256())
            return model

    def sha256(self) -> str:
        """SHA-256 of the head's content and the share as compact JSON (recorded in the file, checked at load)."""
        return hashlib.sha256(json.dumps([self.head.content(), self.share], separators=(",", ":")).encode()).hexdigest()

    def probabilities(self, evidence: Evidence, places: Sequence[Placed]) -> list[float]:
        """The probability, in [0, 1], that each candidate of ``evidence`` (the best sentence
        first) supports the answer (see :func:`support_features`)."""
        return [self.head.probability(f) for f in support_features(evidence, places)]

    def further(self, probabilities: Sequence[float]) -> list[bool]:
        """Whether to quote each candidate after the best one, given every candidate's
        probability (the best sentence's first): yes when it is at least :attr:`share` times the
        best sentence's. One bool per candidate after the first."""
        return [p >= self.share * probabilities[0] for p in probabilities[1:]]
