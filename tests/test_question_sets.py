"""Question sets in SQuAD layout: exact offsets, scoping, skipped answers, bad files, and the
metrics defined once for both formats (quote@1, SQuAD answer normalisation, alternatives)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from ui.cli import app
from assistant.errors import EvalError
from assistant.evaluation import EvalQuestion, EvidenceSpan, normalize_answer, question_metrics
from assistant.evaluation.question_sets import is_squad_file, load_squad
from assistant.types import Answer, Citation
from index.types import Passage

runner = CliRunner()

CONTEXT_1 = "Sick leave must be reported to your manager before 10:00 on the first day."
CONTEXT_2 = "A doctor's certificate is needed from the fourth calendar day of absence."
POLICY = "We inform you of changes to this policy by email, thirty days before they apply."


def squad(scope: str | None = None) -> dict:
    data = {
        "version": "test",
        "data": [
            {
                "title": "Staff_handbook",
                "paragraphs": [
                    {"context": CONTEXT_1, "qas": [
                        {"id": "a1", "question": "When must sick leave be reported?", "answers": [
                            {"text": "before 10:00", "answer_start": CONTEXT_1.index("before 10:00")},
                            {"text": "before 10:00 on the first day", "answer_start": CONTEXT_1.index("before 10:00")}]},
                        {"id": "u1", "question": "When must holiday be reported?", "answers": [], "is_impossible": True,
                         "plausible_answers": [{"text": "before 10:00", "answer_start": 47}]},
                    ]},
                    {"context": CONTEXT_2, "qas": [
                        {"id": "a2", "question": "When is a doctor's certificate needed?", "answers": [
                            {"text": "from the fourth calendar day", "answer_start": CONTEXT_2.index("from the fourth")}]},
                        {"id": "bad", "question": "Broken?", "answers": [{"text": "fourth", "answer_start": 0}]},
                    ]},
                ],
            },
            {"title": "Privacy", "paragraphs": [{"context": POLICY, "qas": [
                {"id": "p1", "question": "How do you inform users of policy changes?", "answers": [
                    {"text": "by email", "answer_start": POLICY.index("by email")}]}]}]},
        ],
    }
    if scope:
        data["scope"] = scope
    return data


@pytest.mark.unit
def test_articles_become_documents_with_exact_answer_offsets(tmp_path):
    f = tmp_path / "set.json"
    f.write_text(json.dumps(squad()), encoding="utf-8")
    s = load_squad(f)
    assert is_squad_file(f) and s.name == "set" and s.scope == "all"
    docs = {d.doc_id: d for d in s.documents}
    assert docs["Staff_handbook.txt"].text == "Staff handbook\n\n" + CONTEXT_1 + "\n\n" + CONTEXT_2
    for q in s.questions:
        for e in q.evidence:
            assert docs[e.doc_id].text[e.start : e.end] == e.quote
    by_id = {q.id: q for q in s.questions}
    assert set(by_id) == {"a1", "u1", "a2", "p1"} and by_id["a1"].alternatives and len(by_id["a1"].evidence) == 2
    assert not by_id["u1"].answerable and by_id["u1"].tags == ("unanswerable",)
    assert all(q.documents is None for q in s.questions)
    assert len(s.skipped) == 1 and s.skipped[0].startswith("bad: answer 'fourth' is not at offset 0")
    scoped = load_squad(f, scope="document")
    assert {q.documents for q in scoped.questions} == {("Staff_handbook.txt",), ("Privacy.txt",)}
    f.write_text(json.dumps(squad("document")), encoding="utf-8")
    assert load_squad(f).scope == "document"


@pytest.mark.parametrize(
    ("mutate", "says"),
    [
        (lambda d: d.pop("data"), 'missing "data"'),
        (lambda d: d["data"][0].pop("title"), 'data[0]: missing "title"'),
        (lambda d: d["data"][0]["paragraphs"][1].update(context=5), 'data[0].paragraphs[1]: "context" must be str'),
        (lambda d: d["data"][1]["paragraphs"][0]["qas"][0].pop("question"), 'data[1].paragraphs[0].qas[0]: missing "question"'),
        (lambda d: d.update(scope="everything"), '"scope" must be "document" or "all"'),
    ],
)
@pytest.mark.unit
def test_a_malformed_set_names_the_place(tmp_path, mutate, says):
    data = squad()
    mutate(data)
    f = tmp_path / "bad.json"
    f.write_text(json.dumps(data, indent=1), encoding="utf-8")
    with pytest.raises(EvalError, match="bad.json") as err:
        load_squad(f)
    assert says in str(err.value) and "\n" not in str(err.value)


def test_cli_exits_2_with_one_line_on_a_file_that_is_neither_format(assistant, tmp_path):
    for name, text in (("truncated.json", json.dumps(squad(), indent=1)[:500]), ("junk.jsonl", "{not json\n")):
        f = tmp_path / name
        f.write_text(text, encoding="utf-8")
        result = runner.invoke(app, ["eval", "--questions", str(f)])
        assert result.exit_code == 2, result.output
        assert name in result.stderr and "Traceback" not in result.output and len(result.stderr.strip().splitlines()) == 1


def test_cli_evaluates_a_squad_set_on_a_throwaway_index_scoped_per_document(assistant, tmp_path):
    f = tmp_path / "handbook.json"
    f.write_text(json.dumps(squad("document")), encoding="utf-8")
    report = tmp_path / "r.json"
    before = [d.doc_id for d in assistant.documents()]
    page = tmp_path / "r.html"
    result = runner.invoke(app, ["eval", "--questions", str(f), "--report", str(report), "--html", str(page), "-q"])
    assert result.exit_code == 0, result.output
    assert "Abstention trade-off" in page.read_text(encoding="utf-8") and "in use (" in page.read_text(encoding="utf-8")
    data = json.loads(report.read_text(encoding="utf-8"))["sets"]["handbook"]
    assert data["summary"]["n_questions"] == 4 and data["skipped"] and "1 question(s) skipped" in result.output
    assert "handbook: no limits are set for this set, so it gates nothing" in result.output
    assert "eval checked no thresholds" in result.output and "passed all thresholds" not in result.output
    by_id = {q["id"]: q for q in data["questions"]}
    assert {c["doc_id"] for c in by_id["p1"]["citations"]} == {"Privacy.txt"}
    assert by_id["p1"]["metrics"]["hit@1"] == 1.0 and by_id["p1"]["metrics"]["quote@1"] == 1.0, by_id["p1"]
    assert [d.doc_id for d in assistant.documents()] == before  # the served index is untouched


def _cite(n, start, end, highlight, doc="d"):
    return Citation(n, Passage(f"p{n}", doc, "x" * (end - start), start, end, 1, 1), (highlight,), 0.5)


@pytest.mark.unit
def test_quote_at_1_and_alternatives_and_squad_normalisation():
    gold = (EvidenceSpan("Denver Broncos", "d", 120, 134), EvidenceSpan("the Broncos", "d", 300, 311))
    q = EvalQuestion("q", "?", (), gold, "Denver Broncos", (), 0, alternatives=True, answers=("the Broncos",))
    answer = Answer("?", "The game was won by the Broncos. [1]", (_cite(1, 100, 400, (290, 320)), _cite(2, 0, 99, (0, 50))), False)
    m = question_metrics(q, answer, k=5)
    assert m["hit@1"] == 1.0 and m["quote@1"] == 1.0 and m["evidence_recall"] == 1.0 and m["answer_match"] == 1.0
    assert m["citation_precision"] == 0.5
    answer = Answer("?", "Elsewhere. [1]", (_cite(1, 100, 400, (140, 200)),), False)
    m = question_metrics(q, answer, k=5)
    assert m["hit@1"] == 1.0 and m["quote@1"] == 0.0 and m["answer_match"] == 0.0
    assert normalize_answer("The “Broncos”, [2] won!") == "broncos won"
    assert question_metrics(q, Answer("?", "Denver Broncos", (), True), 5)["answer_match"] == 0.0  # an abstention says nothing


@pytest.mark.unit
def test_abstention_tradeoff_reprices_the_threshold():
    from assistant.evaluation.metrics import abstention_tradeoff

    def answer(abstained, p):
        return Answer("?", "", (), abstained, answerable_probability=p)

    answers = [
        (False, answer(True, 0.2)),    # unanswerable, refused by the model at 0.5
        (False, answer(False, 0.7)),   # unanswerable, answered
        (False, answer(True, None)),   # unanswerable, refused before the model (a name check)
        (True, answer(False, 0.9)),    # answerable, answered
        (True, answer(True, 0.8)),     # answerable, refused after the model (answer type)
    ]
    rows = {t: (un, fa) for t, un, fa in abstention_tradeoff(answers, 0.5, [0.0, 0.5, 0.75, 0.95])}
    assert rows[0.0] == (pytest.approx(1 / 3), 0.5)
    assert rows[0.5] == (pytest.approx(2 / 3), 0.5)
    assert rows[0.75] == (1.0, 0.5)
    assert rows[0.95] == (1.0, 1.0)
