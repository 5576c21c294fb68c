"""Evaluation: metric definitions on hand-made cases, and the CLI gate's exit codes on the real index."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from ui.cli import app
from conftest import ROOT
from assistant.evaluation import EvalQuestion, EvidenceSpan, covers, load_questions, percentile, question_metrics
from assistant.errors import EvalError
from assistant.types import Answer, Citation
from index.types import Passage

runner = CliRunner()


def _cite(n, start, end, doc="d"):
    return Citation(n, Passage(f"p{n}", doc, "x" * (end - start), start, end, 1, 1), ((start, end),), 0.5)


@pytest.mark.unit
def test_covers_needs_min_overlap():
    e = EvidenceSpan("q" * 100, "d", 100, 200)
    assert covers("d", 175, 300, e)  # 25 characters of overlap
    assert not covers("d", 176, 300, e)  # 24
    assert not covers("other", 100, 200, e)
    short = EvidenceSpan("q" * 10, "d", 100, 110)
    assert covers("d", 0, 110, short) and not covers("d", 0, 109, short)


@pytest.mark.unit
def test_question_metrics_ranks_and_precision():
    q = EvalQuestion("q", "?", (), (EvidenceSpan("a" * 50, "d", 100, 150), EvidenceSpan("b" * 50, "d", 500, 550)), "foo", (), 1)
    answer = Answer("?", "It says Foo. [1] [2]", (_cite(1, 0, 90), _cite(2, 90, 160), _cite(3, 480, 560)), False)
    m = question_metrics(q, answer, k=5)
    assert m["hit@1"] == 0.0 and m["hit@3"] == 1.0 and m["mrr"] == 0.5
    assert m["evidence_recall"] == 1.0 and m["citation_precision"] == pytest.approx(2 / 3)
    assert m["answer_match"] == 1.0 and m["cited_chars@3"] == 90 + 70 + 80


@pytest.mark.unit
def test_quote_precision_counts_quoted_sentences_that_overlap_the_evidence():
    q = EvalQuestion("q", "?", (), (EvidenceSpan("a" * 50, "d", 100, 150),), "", (), 1)
    two = Citation(1, Passage("p1", "d", "x" * 200, 0, 200, 1, 1), ((0, 90), (95, 160)), 0.5)
    other = Citation(2, Passage("p2", "d", "x" * 100, 300, 400, 1, 1), ((300, 340),), 0.4)
    m = question_metrics(q, Answer("?", "a [1] b [1] c [2]", (two, other), False), k=5)
    assert m["quote_precision"] == pytest.approx(1 / 3) and m["quoted_sentences"] == 3.0
    inside = Citation(1, Passage("p1", "d", "x" * 200, 0, 200, 1, 1), ((110, 120),), 0.5)  # a short sentence inside long evidence
    assert question_metrics(q, Answer("?", "a [1]", (inside,), False), k=5)["quote_precision"] == 1.0
    abstained = question_metrics(q, Answer("?", "no", (), True), k=5)
    assert abstained["quote_precision"] is None and abstained["quoted_sentences"] is None  # averaged over answered questions


@pytest.mark.unit
def test_unanswerable_metrics():
    q = EvalQuestion("q", "?", (), (), "", (), 1)
    assert question_metrics(q, Answer("?", "no", (), True), 5) == {"abstained": 1.0, "n_citations": 0.0}


@pytest.mark.unit
def test_percentile_nearest_rank():
    assert percentile([5, 1, 3, 2, 4], 50) == 3 and percentile([5, 1, 3, 2, 4], 95) == 5 and percentile([], 50) == 0.0


def test_loading_checks_quotes_with_line_numbers(tmp_path, article):
    f = tmp_path / "q.jsonl"
    good = {"id": "a", "question": "?", "evidence": ["chief negotiator,   Ryosei\nAkazawa"], "extra": 1}
    bad = {"id": "b", "question": "?", "evidence": ["This sentence is not in the article."]}
    f.write_text(json.dumps(good) + "\n" + json.dumps(bad) + "\n", encoding="utf-8")
    with pytest.raises(EvalError, match=r"q.jsonl:2: evidence quote not found"):
        load_questions(f, [article])
    f.write_text(json.dumps(good) + "\n", encoding="utf-8")
    (q,) = load_questions(f, [article])
    start = article.text.index("chief negotiator, Ryosei Akazawa")
    assert (q.evidence[0].start, q.evidence[0].end) == (start, start + len("chief negotiator, Ryosei Akazawa"))


def test_shipped_question_set_loads(article):
    from assistant.settings import Settings

    qs = load_questions(Settings().eval.questions, [article])
    assert len(qs) >= 60
    assert sum(not q.answerable for q in qs) >= 10 and sum(bool(q.history) for q in qs) >= 6


SEED_SET = ["--questions", str(ROOT / "seeds" / "questions.jsonl")]


def test_eval_runs_every_set_passes_its_gate_and_writes_reports(assistant, tmp_path):
    report, page = tmp_path / "r.json", tmp_path / "r.html"
    result = runner.invoke(app, ["eval", "--report", str(report), "--html", str(page), "--quiet"])
    assert result.exit_code == 0, result.output

    def no_nan(name):
        raise AssertionError(f"the report holds {name}, which is not JSON")

    data = json.loads(report.read_text(encoding="utf-8"), parse_constant=no_nan)
    assert list(data["sets"]) == ["questions", "gate-squad2", "gate-squad11", "gate-policyqa", "gate-gap", "structured"]
    seed = data["sets"]["questions"]
    assert seed["summary"]["n_questions"] >= 60 and seed["questions"][0]["metrics"]
    squad2 = data["sets"]["gate-squad2"]["summary"]
    assert squad2["n_questions"] > squad2["n_answerable"] > 0 and 0 <= squad2["abstention_accuracy"] <= 1
    policy = data["sets"]["gate-policyqa"]["questions"]
    assert all({c["doc_id"] for c in q["citations"]} <= {e["doc_id"] for e in q["evidence"]} for q in policy)  # scoped
    for name in data["sets"]:
        assert f"{name}: summary" in result.output
    assert "All question sets" in result.output and f"wrote the HTML report to {page}" in result.output
    assert not re.search(r"\bnan\b", result.output, re.I)  # a metric that does not apply is "–"
    by_tag = data["sets"]["questions"]["by_tag"]
    assert by_tag["unanswerable"]["hit@1"] is None and by_tag["unanswerable"]["abstention_accuracy"] == 1.0
    html = page.read_text(encoding="utf-8")
    assert html.count("<svg") == 6 + 4 and 'id="set-gate-policyqa"' in html and ">0.50</text>" in html
    assert html.count("Abstention trade-off</h3>") == 4, "the sets with unanswerable questions: seed, gate-squad2, gate-gap, structured"
    assert not re.search(r"""(src|href|action)\s*=\s*["']?(https?:)?//|url\(|@import""", html)  # loads nothing (texts may name URLs)
    again = runner.invoke(app, ["eval", *SEED_SET, "--baseline", str(report), "--quiet"])
    assert again.exit_code == 0 and "questions: against baseline" in again.output


def test_eval_exits_1_with_a_broken_retriever(assistant, monkeypatch):
    from assistant.retrieval.retriever import PassageRetriever

    original = PassageRetriever.search

    def broken(self, query, query_embedding=None, focus=None, documents=None):
        return list(reversed(original(self, query, query_embedding, focus, documents)))[:1]  # the worst of the top k only

    monkeypatch.setattr(PassageRetriever, "search", broken)
    result = runner.invoke(app, ["eval", *SEED_SET, "--quiet"])
    assert result.exit_code == 1
    assert "FAIL questions: hit@1" in result.stderr


def test_eval_exits_2_on_a_missing_quote(assistant, tmp_path):
    f = tmp_path / "q.jsonl"
    f.write_text(json.dumps({"id": "x", "question": "?", "evidence": ["Not in the article at all."]}) + "\n", encoding="utf-8")
    result = runner.invoke(app, ["eval", "--questions", str(f)])
    assert result.exit_code == 2 and "q.jsonl:1" in result.stderr


def test_fail_under_override(assistant):
    result = runner.invoke(app, ["eval", *SEED_SET, "--quiet", "--fail-under", "hit@1=0.999"])
    assert result.exit_code == 1
    result = runner.invoke(app, ["eval", *SEED_SET, "--quiet", "--fail-under", "nonsense=1"])
    assert result.exit_code == 2


def test_a_jsonl_set_beside_a_documents_folder_is_asked_of_those_documents(assistant, tmp_path):
    from assistant.evaluation.question_sets import evaluate_file

    (tmp_path / "documents").mkdir()
    (tmp_path / "documents" / "leave.md").write_text(
        "# Leave policy\n\nEvery employee receives 27 days of paid annual leave.\n\nSick leave is unlimited.\n", encoding="utf-8")
    (tmp_path / "documents" / "notes.xyz").write_text("not a document", encoding="utf-8")
    questions = tmp_path / "questions.jsonl"
    questions.write_text(json.dumps({"id": "a", "question": "How many days of annual leave?", "evidence": ["27 days of paid annual leave"]}) + "\n",
                         encoding="utf-8")
    report = evaluate_file(questions, assistant)
    assert report.name == tmp_path.name  # named after its folder, not "questions" (the seed set's name)
    assert report.summary["hit@1"] == 1.0 and report.results[0].answer.citations[0].passage.doc_id == "leave.md"
    assert any("notes.xyz" in line for line in report.skipped)

