"""Scripted evaluation: question sets with expected evidence, deterministic metrics.

Two formats of question set are read (see :mod:`assistant.question_sets` for the second):

* the project's JSONL, one object per line (unknown fields are ignored), asked of the index
  being served::

    {"id": "q01", "question": "...", "history": ["earlier user turn"], "evidence": ["exact quote"],
     "answer": "short expected phrase", "tags": ["fact"]}

  ``evidence`` quotes are located in the indexed documents after folding runs of whitespace;
  every quote is needed (recall counts each); an empty list marks a question the documents
  do not answer.
* SQuAD JSON (SQuAD 1.1/2.0, PolicyQA): each article or policy is indexed as one document in a
  throwaway store; a question's gold answers are *alternative* evidence spans (one is enough),
  ``is_impossible`` questions are unanswerable, and a set may scope each question to its own
  document.

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

import json
import math
import re
import string
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from assistant.errors import EvalError
from assistant.types import Answer
from index.types import Document

COVER_MIN_CHARS = 25
"""A citation covers a quote when their spans overlap by at least min(len(quote), this) characters."""

HIGHER_IS_BETTER = {
    "hit@1": True,
    "quote@1": True,
    "hit@3": True,
    "hit@k": True,
    "mrr": True,
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


@dataclass(frozen=True)
class EvidenceSpan:
    """Where one evidence quote was found: document id and character span."""

    quote: str
    doc_id: str
    start: int
    end: int


@dataclass(frozen=True)
class EvalQuestion:
    """One question of a set, with its evidence located in the documents.

    Attributes:
        evidence: Located evidence spans; empty for a question the documents do not answer.
        answer: The expected answer phrase ("" if none); ``answers`` more accepted phrases.
        line: 1-based line of a JSONL file (0 for SQuAD JSON).
        alternatives: True when the evidence spans are alternatives (SQuAD's several gold
            answers: one covered is enough); False when each is needed (JSONL quotes).
        documents: Document ids the question is limited to (``Assistant.ask(documents=...)``),
            or None for the whole index.
    """

    id: str
    question: str
    history: tuple[str, ...]
    evidence: tuple[EvidenceSpan, ...]
    answer: str
    tags: tuple[str, ...]
    line: int
    alternatives: bool = False
    answers: tuple[str, ...] = ()
    documents: tuple[str, ...] | None = None

    @property
    def answerable(self) -> bool:
        return bool(self.evidence)

    @property
    def pieces(self) -> list[tuple[EvidenceSpan, ...]]:
        """The evidence as pieces, each covered when any of its spans is (see module docstring)."""
        return [self.evidence] if self.alternatives else [(e,) for e in self.evidence]

    @property
    def expected(self) -> list[str]:
        """Every accepted answer phrase."""
        return [a for a in (self.answer, *self.answers) if a]


@dataclass
class QuestionResult:
    """A question, the assistant's answer, and the question's metrics."""

    question: EvalQuestion
    answer: Answer | None
    metrics: dict[str, float | None]
    error: str | None = None
    latency_ms: float = 0.0

    @property
    def passed(self) -> bool:
        m = self.metrics
        if not self.question.answerable:
            return bool(m.get("abstained"))
        return bool(m.get("hit@3")) and m.get("answer_match") in (None, 1.0)


@dataclass
class EvalReport:
    """Overall and per-tag metrics plus every question's result, for one question set.

    ``name``: the set's name (its file stem); ``skipped``: one line per question left out
    because its gold answer does not match its context (see :mod:`assistant.question_sets`).
    """

    summary: dict[str, float]
    by_tag: dict[str, dict[str, float]]
    results: list[QuestionResult] = field(default_factory=list)
    k: int = 5
    name: str = "questions"
    skipped: list[str] = field(default_factory=list)
    documents: dict[str, Document] = field(default_factory=dict, repr=False)
    """The documents the questions were asked of, by id (for the HTML report; not in the JSON)."""
    limits: dict[str, float] = field(default_factory=dict)
    """The gate's limit per metric (a floor, or a ceiling for lower-is-better metrics), if any."""

    def to_dict(self) -> dict:
        """The JSON report: ``{"summary", "by_tag", "questions": [...]}``, citations in rank order."""
        questions = []
        for r in self.results:
            a = r.answer
            questions.append(
                {
                    "id": r.question.id,
                    "question": r.question.question,
                    "history": list(r.question.history),
                    "tags": list(r.question.tags),
                    "answer": a.text if a else None,
                    "abstained": a.abstained if a else None,
                    "error": r.error,
                    "citations": [
                        {"doc_id": c.passage.doc_id, "start": c.passage.start, "end": c.passage.end, "text": c.passage.text, "score": round(c.score, 4)}
                        for c in (a.citations if a else ())
                    ],
                    "evidence": [{"doc_id": e.doc_id, "start": e.start, "end": e.end, "quote": e.quote} for e in r.question.evidence],
                    "metrics": r.metrics,
                }
            )
        return {"name": self.name, "summary": self.summary, "by_tag": self.by_tag, "skipped": self.skipped, "questions": questions}


# -- loading ------------------------------------------------------------------------------
def _fold(text: str) -> tuple[str, list[int]]:
    """Fold whitespace runs to one space; return the folded text and, per folded char, its original offset."""
    out, where = [], []
    prev_space = False
    for i, ch in enumerate(text):
        if ch.isspace():
            if prev_space:
                continue
            out.append(" ")
            prev_space = True
        else:
            out.append(ch)
            prev_space = False
        where.append(i)
    return "".join(out), where


def locate(quote: str, documents: Sequence[Document]) -> EvidenceSpan | None:
    """Find ``quote`` in the documents (whitespace-folded); its exact span in the first one containing it."""
    needle = " ".join(quote.split())
    if not needle:
        return None
    for doc in documents:
        folded, where = _fold(doc.text)
        i = folded.find(needle)
        if i >= 0:
            return EvidenceSpan(quote, doc.doc_id, where[i], where[i + len(needle) - 1] + 1)
    return None


def load_questions(path: Path, documents: Sequence[Document]) -> list[EvalQuestion]:
    """Read and check a JSONL question file.

    Raises:
        EvalError: unreadable file, a malformed line, a duplicate id, or an evidence quote not
            found in the documents; the message names the file and line number.
    """
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise EvalError(f"Cannot read question file {path}: {err}") from None
    questions: list[EvalQuestion] = []
    seen: set[str] = set()
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{path}:{n}"
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as err:
            raise EvalError(f"{where}: not valid JSON ({err.msg}).") from None
        if not isinstance(obj, dict) or not isinstance(obj.get("question"), str) or not obj["question"].strip():
            raise EvalError(f'{where}: each line needs a non-empty "question" string.')
        qid = str(obj.get("id") or f"line{n}")
        if qid in seen:
            raise EvalError(f"{where}: duplicate id {qid!r}.")
        seen.add(qid)
        evidence, history, tags = obj.get("evidence") or [], obj.get("history") or [], obj.get("tags") or []
        for name, value in (("evidence", evidence), ("history", history), ("tags", tags)):
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise EvalError(f'{where}: "{name}" must be a list of strings.')
        spans = []
        for quote in evidence:
            span = locate(quote, documents)
            if span is None:
                raise EvalError(
                    f"{where}: evidence quote not found in the indexed documents: {quote[:80]!r}. The shipped questions "
                    "are about seeds/; evaluate on an index of them (ASSISTANT_DATA_DIR=$(mktemp -d) assistant eval)."
                )
            spans.append(span)
        questions.append(
            EvalQuestion(qid, obj["question"], tuple(history), tuple(spans), str(obj.get("answer") or ""), tuple(tags), n)
        )
    if not questions:
        raise EvalError(f"{path} has no questions.")
    return questions


# -- metrics ------------------------------------------------------------------------------
def covers(doc_id: str, start: int, end: int, e: EvidenceSpan) -> bool:
    """Whether a cited span covers evidence ``e`` (same document, overlap ≥ min(len(quote), 25) chars)."""
    if doc_id != e.doc_id:
        return False
    overlap = min(end, e.end) - max(start, e.start)
    return overlap >= min(e.end - e.start, COVER_MIN_CHARS)


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
        for name in ("hit@1", "hit@3", "hit@k", "mrr", "quote@1", "evidence_recall", "citation_precision", "answer_match", "cited_chars@3")
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


def run_eval(assistant, questions: Sequence[EvalQuestion], name: str = "questions", skipped: Sequence[str] = ()) -> EvalReport:
    """Ask every question through ``assistant`` (an :class:`assistant.Assistant`) and score it.

    Each question is limited to its ``documents`` when it has them. A question that raises an
    :class:`~assistant.errors.AssistantError` is recorded with its error and scores 0 (it does
    not stop the run). ``name`` and ``skipped`` are carried into the report.
    """
    from assistant.errors import AssistantError

    k = assistant.settings.top_k
    results = []
    for q in questions:
        t0 = time.perf_counter()
        try:
            answer = assistant.ask(q.question, q.history, q.documents)
        except AssistantError as err:
            answer = Answer(q.question, "", (), abstained=True)
            results.append(QuestionResult(q, None, question_metrics(q, answer, k), str(err)))
            continue
        latency = (time.perf_counter() - t0) * 1000.0
        results.append(QuestionResult(q, answer, question_metrics(q, answer, k), latency_ms=latency))
    tags = sorted({t for q in questions for t in q.tags})
    by_tag = {t: summarise([r for r in results if t in r.question.tags]) for t in tags}
    documents = {d.doc_id: d for d in assistant.documents()}
    return EvalReport(summarise(results), by_tag, results, k, name, list(skipped), documents)


def check_thresholds(summary: dict[str, float], fail_under: dict[str, float], fail_over: dict[str, float]) -> list[str]:
    """Failures of the gate: one line per metric below its floor or above its ceiling. A metric
    that does not apply to the question set (``None`` in ``summary``) is not gated.

    Raises:
        EvalError: a threshold names an unknown metric.
    """
    failures = []
    for name, floor in fail_under.items():
        if name not in HIGHER_IS_BETTER:
            raise EvalError(f"Unknown metric {name!r} in thresholds; known: {', '.join(HIGHER_IS_BETTER)}.")
        value = summary.get(name)
        if value is not None and not (value >= floor):
            failures.append(f"{name} = {value} is below the floor {floor}")
    for name, ceiling in fail_over.items():
        if name not in HIGHER_IS_BETTER:
            raise EvalError(f"Unknown metric {name!r} in thresholds; known: {', '.join(HIGHER_IS_BETTER)}.")
        value = summary.get(name)
        if value is not None and not (value <= ceiling):
            failures.append(f"{name} = {value} is above the ceiling {ceiling}")
    return failures


def parse_threshold(text: str) -> tuple[str, float]:
    """Parse ``METRIC=VALUE`` (e.g. ``hit@1=0.9``).

    Raises:
        EvalError: malformed text or unknown metric.
    """
    m = re.fullmatch(r"\s*([\w@]+)\s*=\s*([-+0-9.eE]+)\s*", text)
    if not m or m.group(1) not in HIGHER_IS_BETTER:
        raise EvalError(f"--fail-under takes METRIC=VALUE with METRIC one of {', '.join(HIGHER_IS_BETTER)}; got {text!r}.")
    return m.group(1), float(m.group(2))


def compare(summary: dict[str, float], baseline: dict[str, float]) -> list[tuple[str, float, float, float, bool]]:
    """``[(metric, baseline, now, change, improved)]`` for metrics present in both summaries."""
    rows = []
    for name, better_up in HIGHER_IS_BETTER.items():
        if summary.get(name) is not None and baseline.get(name) is not None:
            old, new = float(baseline[name]), float(summary[name])
            delta = new - old
            rows.append((name, old, new, delta, (delta > 0) == better_up and delta != 0))
    return rows
