"""Question sets in SQuAD layout (SQuAD 1.1/2.0, PolicyQA), evaluated on a throwaway index.

A SQuAD-layout file is one JSON object::

    {"data": [{"title": str, "paragraphs": [{"context": str,
               "qas": [{"id": str, "question": str, "answers": [{"text": str, "answer_start": int}],
                        "is_impossible": bool?, "plausible_answers": [...]?}]}]}],
     "scope": "document" | "all"?}

Each article (or policy) becomes **one document**: its title with underscores as spaces, a
blank line, then its paragraphs in order separated by blank lines; so a gold answer at
``answer_start`` of paragraph *p* is at ``offset(p) + answer_start`` of the document, exactly.
The documents are indexed into a temporary store with the same model and settings as the
assistant being evaluated, then every question is asked of it:

* ``scope: "document"`` (PolicyQA, whose questions are generic: "How do you inform users of
  changes?") limits each question to its own document (``Assistant.ask(documents=[...])``);
  ``"all"`` (the default; SQuAD) asks the whole index of the set.
* A question whose gold answer does not match its context (``context[answer_start:...] !=
  text``) is skipped and named, never scored: see :attr:`SquadSet.skipped`.
* ``is_impossible`` questions are unanswerable (they should be abstained on); their
  ``plausible_answers`` are kept as the tempting span (tag ``unanswerable``).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from assistant.errors import EvalError
from assistant.evaluation import EvalQuestion, EvalReport, EvidenceSpan, load_questions, run_eval

Scope = Literal["document", "all"]


@dataclass(frozen=True)
class SetDocument:
    """One article or policy of a set, as indexed: ``doc_id`` (``title.txt``), title, text."""

    doc_id: str
    title: str
    text: str


@dataclass
class SquadSet:
    """A SQuAD-layout file, read and checked.

    Attributes:
        name: The file's stem. scope: How its questions are asked (see module docstring).
        documents: One per article, in file order. questions: With exact evidence spans.
        skipped: One line per question left out, naming its id and why.
    """

    name: str
    scope: Scope
    documents: list[SetDocument]
    questions: list[EvalQuestion]
    skipped: list[str] = field(default_factory=list)


def is_squad_file(path: Path) -> bool:
    """Whether ``path`` is SQuAD layout rather than JSONL: its first line is not a complete JSON
    object of its own (a pretty-printed file), or the whole file is one object with ``data``."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False  # load_questions reports the file as unreadable
    first = next((line for line in text.splitlines() if line.strip()), "")
    try:
        obj = json.loads(first)
    except json.JSONDecodeError:
        return first.lstrip().startswith("{") and not first.strip().endswith("}")
    return isinstance(obj, dict) and isinstance(obj.get("data"), list)


def _need(obj, key: str, kind: type | tuple, where: str):
    if not isinstance(obj, dict) or key not in obj:
        raise EvalError(f'{where}: missing "{key}" (SQuAD layout: data[].paragraphs[].qas[]).')
    value = obj[key]
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise EvalError(f'{where}: "{key}" must be {names}, got {type(value).__name__}.')
    return value


def document_id(title: str) -> str:
    """The document id of an article titled ``title`` (also its file name in the temporary folder)."""
    safe = "".join(ch if ch.isalnum() or ch in "-_.,()" else "_" for ch in title).strip(".") or "untitled"
    return safe[:120] + ".txt"


def load_squad(path: Path, scope: Scope | None = None) -> SquadSet:
    """Read a SQuAD-layout file into documents and questions with exact evidence spans.

    Args:
        path: The JSON file. scope: Overrides the file's ``"scope"`` key (default ``"all"``).

    Raises:
        EvalError: not JSON, or a key is missing or of the wrong type; the message names the
            file and the place (``data[3].paragraphs[2].qas[0]``).
    """
    path = Path(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as err:
        raise EvalError(f"Cannot read question file {path}: {err}") from None
    except json.JSONDecodeError as err:
        raise EvalError(f"{path}:{err.lineno}: not valid JSON ({err.msg}); expected SQuAD JSON or JSONL.") from None
    articles = _need(raw, "data", list, str(path))
    scope = scope or raw.get("scope") or "all"
    if scope not in ("document", "all"):
        raise EvalError(f'{path}: "scope" must be "document" or "all", got {scope!r}.')
    out = SquadSet(path.stem, scope, [], [])
    seen_docs: set[str] = set()
    seen_ids: set[str] = set()
    for a, article in enumerate(articles):
        where = f"{path}: data[{a}]"
        title = _need(article, "title", str, where)
        doc_id = document_id(title)
        if doc_id in seen_docs:
            raise EvalError(f"{where}: a second article titled {title!r}; titles must be unique.")
        seen_docs.add(doc_id)
        heading = title.replace("_", " ")
        parts, offset = [heading], len(heading) + 2
        for p, paragraph in enumerate(_need(article, "paragraphs", list, where)):
            pwhere = f"{where}.paragraphs[{p}]"
            context = _need(paragraph, "context", str, pwhere)
            for i, qa in enumerate(_need(paragraph, "qas", list, pwhere)):
                q = _question(qa, f"{pwhere}.qas[{i}]", context, offset, doc_id, heading, scope, out.skipped)
                if q is not None:
                    if q.id in seen_ids:
                        raise EvalError(f"{pwhere}.qas[{i}]: duplicate question id {q.id!r}.")
                    seen_ids.add(q.id)
                    out.questions.append(q)
            parts.append(context)
            offset += len(context) + 2
        out.documents.append(SetDocument(doc_id, heading, "\n\n".join(parts)))
    if not out.questions:
        raise EvalError(f"{path} has no usable questions ({len(out.skipped)} skipped).")
    return out


def _question(qa, where, context, offset, doc_id, title, scope, skipped) -> EvalQuestion | None:
    qid = str(_need(qa, "id", (str, int), where))
    question = _need(qa, "question", str, where)
    impossible = bool(qa.get("is_impossible", False))
    answers = qa.get("answers") or []
    if not isinstance(answers, list):
        raise EvalError(f'{where}: "answers" must be a list.')
    spans, texts = [], []
    for j, ans in enumerate(answers):
        text = _need(ans, "text", str, f"{where}.answers[{j}]")
        start = _need(ans, "answer_start", int, f"{where}.answers[{j}]")
        if context[start : start + len(text)] != text:
            skipped.append(f"{qid}: answer {text[:40]!r} is not at offset {start} of its paragraph")
            return None
        if (offset + start, offset + start + len(text)) not in {(e.start, e.end) for e in spans}:
            spans.append(EvidenceSpan(text, doc_id, offset + start, offset + start + len(text)))
        texts.append(text)
    if not impossible and not spans:
        skipped.append(f"{qid}: an answerable question without answers")
        return None
    if impossible:
        spans, texts = [], []
    texts = list(dict.fromkeys(texts))
    return EvalQuestion(
        id=qid,
        question=question,
        history=(),
        evidence=tuple(spans),
        answer=texts[0] if texts else "",
        tags=("unanswerable",) if impossible else ("answerable",),
        line=0,
        alternatives=True,
        answers=tuple(texts[1:]),
        documents=(doc_id,) if scope == "document" else None,
    )


def evaluate_file(path: Path, assistant, scope: Scope | None = None) -> EvalReport:
    """Evaluate ``assistant`` on the question set at ``path`` (JSONL or SQuAD layout).

    JSONL questions are asked of ``assistant``'s own index, unless the file brings its own
    documents (:func:`own_documents`): then that folder is indexed into a temporary store (same
    settings and embedder) and the set is named after the file's folder. A SQuAD-layout set is indexed into
    a temporary store (same settings and embedder; removed afterwards) and asked of that.

    Raises:
        EvalError: a malformed file (see :func:`load_squad` and
            :func:`assistant.evaluation.load_questions`).
        DocumentsError, ModelError, StoreError: indexing the set failed.
    """
    path = Path(path)
    if not is_squad_file(path):
        folder = own_documents(path)
        if folder is None:
            return run_eval(assistant, load_questions(path, assistant.documents()), name=path.stem)
        with tempfile.TemporaryDirectory(prefix=f"eval-{path.parent.name}-") as tmp:
            scratch = index_folder(folder, Path(tmp), assistant)
            return run_eval(scratch, load_questions(path, scratch.documents()), name=path.parent.name, skipped=scratch_skipped(scratch))
    squad = load_squad(path, scope)
    with tempfile.TemporaryDirectory(prefix=f"eval-{squad.name}-") as tmp:
        scratch = index_documents(squad.documents, Path(tmp), assistant)
        return run_eval(scratch, squad.questions, name=squad.name, skipped=squad.skipped)


DOCUMENTS_FOLDER = "documents"
"""A JSONL set brings its own documents when a folder of this name sits beside it
(``benchmarks/data/structured/questions.jsonl`` with ``benchmarks/data/structured/documents/``)."""


def own_documents(path: Path) -> Path | None:
    """The documents folder beside JSONL set ``path`` (:data:`DOCUMENTS_FOLDER`), or None: the
    set is asked of the assistant's own index."""
    folder = Path(path).parent / DOCUMENTS_FOLDER
    return folder if folder.is_dir() else None


def index_folder(folder: Path, tmp: Path, assistant):
    """A new assistant like ``assistant`` (its settings and embedder) over the files of
    ``folder`` only, indexed into a store in ``tmp/data``.

    Raises:
        DocumentsError, ModelError, StoreError: indexing failed.
    """
    from assistant.core import Assistant

    settings = assistant.settings.replace(data_dir=tmp / "data", chroma_url=None, documents=[folder])
    scratch = Assistant(settings, settings.open_store(), assistant.embedder)
    scratch.last_index_report = scratch.index([folder], progress=False)
    return scratch


def scratch_skipped(scratch) -> list[str]:
    """One line per file the indexing of ``scratch`` (:func:`index_folder`) skipped, for the report."""
    report = scratch.last_index_report
    return [s.message for s in report.skipped] if report else []


def index_documents(documents: Sequence[SetDocument], folder: Path, assistant):
    """A new assistant like ``assistant`` (its settings and embedder) over ``documents`` only,
    written as files into ``folder/docs`` and indexed into a store in ``folder/data``."""
    from assistant.core import Assistant

    docs = folder / "docs"
    docs.mkdir(parents=True, exist_ok=True)
    for d in documents:
        (docs / d.doc_id).write_text(d.text, encoding="utf-8")
    settings = assistant.settings.replace(data_dir=folder / "data", chroma_url=None, documents=[docs])
    scratch = Assistant(settings, settings.open_store(), assistant.embedder)
    scratch.index([docs], progress=False)
    stored = {d.doc_id: d.text for d in scratch.documents()}
    for d in documents:
        if stored.get(d.doc_id) != d.text:
            raise EvalError(f"{d.doc_id}: the indexed text differs from the set's; its answer offsets would not hold.")
    return scratch
