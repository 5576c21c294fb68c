"""Evaluation metrics: deterministic, no model judges anything.

Metric definitions (all deterministic; no model judges anything), the same for both formats:

* A span **covers** an evidence span when both are in the same document and their character
  spans overlap by at least ``min(len(evidence), 25)`` characters (so a citation must contain
  a gold answer of up to 25 characters whole). A question's evidence is a list of *pieces*:
  each JSONL quote is a piece; a SQuAD question's gold answers are one piece, covered when
  any of them is.
* **hit@n** (n = 1, 3, k): 1 if a covering citation is among the first n citations, else 0;
  **MRR**: ``1 / rank`` of the first covering citation, 0 if none (BEIR, Thakur et al. 2021;
  MTEB, Muennighoff et al. 2023). Citations are ranked as listed, ``k`` = the retriever's k.
* **quote@1**: 1 if the first sentence the answer quotes (the first highlight of citation 1)
  covers the evidence, else 0: the span a reader sees first.
* **quote_precision**: share of the sentences the answer quotes (every highlight of every
  citation) that overlap the evidence, by at least ``min(len(evidence), len(sentence), 25)``
  characters, averaged over answered questions (abstentions are skipped): how much of what a
  reader is shown as support does support the answer (issue "Answers a careful colleague
  would give"). A SQuAD answer sits in one sentence, so quoting more sentences lowers it.
* **quoted_sentences**: sentences quoted per answered question (informative).
* **evidence_recall**: share of a question's evidence pieces covered by some citation.
* **citation_precision**: share of a question's citations that cover some piece (questions
  with no citation count 0).
* **answer_match**: 1 if an expected answer occurs in the answer text after SQuAD's answer
  normalisation (lower case, punctuation and the articles a/an/the removed, whitespace
  folded: ``normalize_answer`` of the official SQuAD v2.0 evaluation script); questions
  without an expected answer are skipped.
* **abstention_accuracy**: on unanswerable questions, the share where the assistant abstained;
  **false_abstention**: on answerable ones, the share where it did (SQuAD 2.0's no-answer
  handling, Rajpurkar, Jia & Liang 2018).
* **cited_chars@3**: characters spanned by the first three citations, summed per question.
* **latency_p50_ms / latency_p95_ms**: per-question wall time of ``Assistant.ask``, in ms
  (nearest-rank percentiles).

All but the abstention and latency metrics are averaged over answerable questions only.
"""

from __future__ import annotations

import math
import re
import string
from collections.abc import Sequence
from typing import TYPE_CHECKING

from assistant.types import Answer

if TYPE_CHECKING:
    from assistant.evaluation import EvalQuestion, EvidenceSpan, QuestionResult

COVER_MIN_CHARS = 25
"""A citation covers a quote when their spans overlap by at least min(len(quote), this) characters."""

HIGHER_IS_BETTER = {
    "hit@1": True,
    "quote@1": True,
    "hit@3": True,
    "hit@k": True,
    "mrr": True,
    "quote_precision": True,
    "quoted_sentences": False,
    "evidence_recall": True,
    "citation_precision": True,
    "answer_match": True,
    "abstention_accuracy": True,
    "false_abstention": False,
    "cited_chars@3": False,
    "latency_p50_ms": False,
    "latency_p95_ms": False,
}
"""Every overall metric, and whether a larger value is better."""


def covers(doc_id: str, start: int, end: int, e: EvidenceSpan) -> bool:
    """Whether a cited span covers evidence ``e`` (same document, overlap ≥ min(len(quote), 25) chars)."""
    if doc_id != e.doc_id:
        return False
    overlap = min(end, e.end) - max(start, e.start)
    return overlap >= min(e.end - e.start, COVER_MIN_CHARS)


def overlaps(doc_id: str, start: int, end: int, e: EvidenceSpan) -> bool:
    """Whether a quoted sentence ``[start, end)`` overlaps evidence ``e`` (same document) by at
    least ``min(len(evidence), len(sentence), 25)`` characters: a short sentence inside a long
    evidence quote counts, as does a sentence holding a short answer whole."""
    if doc_id != e.doc_id:
        return False
    overlap = min(end, e.end) - max(start, e.start)
    return overlap > 0 and overlap >= min(e.end - e.start, end - start, COVER_MIN_CHARS)


_PUNCTUATION = frozenset(string.punctuation) | frozenset("‘’“”–—…«»")
_ARTICLES = re.compile(r"\b(a|an|the)\b")
_MARKER = re.compile(r"\[\d+\]")


def normalize_answer(text: str) -> str:
    """SQuAD's answer normalisation (official v2.0 evaluation script, ``normalize_answer``):
    lower case, punctuation removed (ASCII plus typographic quotes and dashes), the articles
    a/an/the removed, whitespace folded. ``[n]`` citation markers are removed first."""
    text = "".join(ch for ch in _MARKER.sub(" ", text).lower() if ch not in _PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", text).split())


def question_metrics(q: EvalQuestion, answer: Answer, k: int) -> dict[str, float | None]:
    """Per-question metrics (see module docstring); ``None`` where a metric does not apply."""
    cites = [(c.passage.doc_id, c.passage.start, c.passage.end) for c in answer.citations]
    m: dict[str, float | None] = {"abstained": float(answer.abstained), "n_citations": float(len(cites))}
    if not q.answerable:
        return m
    pieces = q.pieces

    def covered(doc_id: str, start: int, end: int, piece: tuple[EvidenceSpan, ...]) -> bool:
        return any(covers(doc_id, start, end, e) for e in piece)

    covering = [any(covered(*c, p) for p in pieces) for c in cites]
    first = next((i + 1 for i, hit in enumerate(covering) if hit), None)
    m["hit@1"] = float(first is not None and first <= 1)
    m["hit@3"] = float(first is not None and first <= 3)
    m["hit@k"] = float(first is not None and first <= k)
    m["mrr"] = 1.0 / first if first else 0.0
    quoted = answer.citations[0].highlights[:1] if answer.citations else ()
    doc = answer.citations[0].passage.doc_id if answer.citations else ""
    m["quote@1"] = float(any(covered(doc, s, e, p) for s, e in quoted for p in pieces))
    quoted_all = [(c.passage.doc_id, a, b) for c in answer.citations for a, b in c.highlights] if not answer.abstained else []
    if quoted_all:
        m["quote_precision"] = sum(any(overlaps(*h, e) for p in pieces for e in p) for h in quoted_all) / len(quoted_all)
        m["quoted_sentences"] = float(len(quoted_all))
    else:
        m["quote_precision"] = m["quoted_sentences"] = None
    m["evidence_recall"] = sum(any(covered(*c, p) for c in cites) for p in pieces) / len(pieces)
    m["citation_precision"] = sum(covering) / len(cites) if cites else 0.0
    said = normalize_answer(answer.text) if not answer.abstained else ""
    expected = [normalize_answer(a) for a in q.expected]
    m["answer_match"] = float(any(e and e in said for e in expected)) if expected else None
    m["cited_chars@3"] = float(sum(end - start for _, start, end in cites[:3]))
    return m


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (``pct`` in 0..100) of ``values``; 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100.0 * len(ordered)))
    return ordered[rank - 1]


def summarise(results: Sequence[QuestionResult]) -> dict[str, float | None]:
    """Overall metrics over ``results`` (see module docstring for which questions count).

    A metric no question of ``results`` applies to is ``None`` (``abstention_accuracy`` without
    unanswerable questions; ``hit@1`` and the other answer metrics without answerable ones,
    e.g. for a tag of unanswerable questions only): not applicable, rather than NaN."""

    def mean(name: str, rs) -> float | None:
        vals = [r.metrics.get(name) for r in rs]
        vals = [v for v in vals if v is not None]
        return round(sum(vals) / len(vals), 4) if vals else None

    answerable = [r for r in results if r.question.answerable]
    unanswerable = [r for r in results if not r.question.answerable]
    s = {
        name: mean(name, answerable)
        for name in ("hit@1", "hit@3", "hit@k", "mrr", "quote@1", "quote_precision", "quoted_sentences", "evidence_recall", "citation_precision", "answer_match", "cited_chars@3")
    }
    s["abstention_accuracy"] = mean("abstained", unanswerable)
    s["false_abstention"] = mean("abstained", answerable)
    lat = [r.latency_ms for r in results]
    s["latency_p50_ms"] = round(percentile(lat, 50), 2)
    s["latency_p95_ms"] = round(percentile(lat, 95), 2)
    s["n_questions"] = len(results)
    s["n_answerable"] = len(answerable)
    s["n_errors"] = sum(1 for r in results if r.error)
    return s


def abstention_tradeoff(
    answers: Sequence[tuple[bool, Answer]], used: float, thresholds: Sequence[float]
) -> list[tuple[float, float, float]]:
    """Abstention on unanswerable and false abstention on answerable questions had the
    answerability threshold been each of ``thresholds`` instead of ``used``.

    Args:
        answers: ``(answerable, answer)`` per question, the answers given at threshold ``used``.
        used: The threshold the answers were given with (probability in [0, 1]).
        thresholds: The thresholds to price.

    Returns:
        ``[(threshold, abstention_accuracy, false_abstention)]``, NaN where a kind has no question.

    A question abstains at threshold ``t`` when a check other than the model refused it (its
    ``answerable_probability`` is None, or at least ``used`` while it abstained) or its
    probability is under ``t``. Approximate below ``used``: the answer-type check, which runs
    after the model, was never run on questions the model refused, so they count as answered.
    """
    rows = []
    for answerable, a in answers:
        p = a.answerable_probability
        other = a.abstained and (p is None or p >= used)
        rows.append((answerable, other, p))
    out = []
    for t in thresholds:
        un = [other or (p is not None and p < t) for ok, other, p in rows if not ok]
        fa = [other or (p is not None and p < t) for ok, other, p in rows if ok]
        out.append((t, sum(un) / len(un) if un else math.nan, sum(fa) / len(fa) if fa else math.nan))
    return out
