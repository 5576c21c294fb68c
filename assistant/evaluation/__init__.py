"""Scripted evaluation: question sets with expected evidence, deterministic metrics.

Two formats of question set are read (see :mod:`assistant.evaluation.question_sets` for the second):

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

The metrics are defined in :mod:`assistant.evaluation.metrics`.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from assistant.errors import EvalError
from assistant.evaluation.metrics import COVER_MIN_CHARS, HIGHER_IS_BETTER, covers, normalize_answer, percentile, question_metrics, summarise  # noqa: F401 (re-exported)
from assistant.types import Answer
from index.types import Document


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
    because its gold answer does not match its context (see :mod:`assistant.evaluation.question_sets`).
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
    answerable_below: float | None = None
    """The answerability threshold the answers were given with (``Settings.answer.answerable_below``
    as resolved), for the abstention trade-off (:func:`assistant.evaluation.metrics.abstention_tradeoff`)."""

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
                    "abstain_reason": a.abstain_reason if a else None,
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
def run_eval(assistant, questions: Sequence[EvalQuestion], name: str = "questions", skipped: Sequence[str] = ()) -> EvalReport:
    """Ask every question through ``assistant`` (an :class:`assistant.Assistant`) and score it.

    Each question is limited to its ``documents`` when it has them. A question that raises an
    :class:`~assistant.errors.AssistantError` is recorded with its error and scores 0 (it does
    not stop the run). ``name`` and ``skipped`` are carried into the report.
    """
    from assistant.errors import AssistantError

    k = assistant.settings.retrieval.top_k
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
    threshold = getattr(getattr(assistant, "quotes", None), "answerable_below", None)
    return EvalReport(summarise(results), by_tag, results, k, name, list(skipped), documents, answerable_below=threshold)


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
