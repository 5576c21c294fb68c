"""Ratings of answers: the two stores (SQLite beside the embedded index, a collection on a real
`chroma run` server), POST /api/feedback on the real server, and `assistant feedback export`
fed back to `assistant eval --questions`."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
from contextlib import contextmanager

import httpx
import pytest
from typer.testing import CliRunner

from ui.cli import app
from assistant.errors import FeedbackError
from assistant.feedback import ChromaFeedbackStore, FeedbackRecord, SqliteFeedbackStore, cited_quotes, open_feedback_store, to_question

runner = CliRunner()
QUESTION = "Who is Japan's chief negotiator?"


@contextmanager
def read_only_dir(path):
    """``path`` as a folder nobody may write to: a read-only tmpfs mount for root (who ignores
    file modes), mode 0555 for anyone else. Skips, saying why, when neither can be had."""
    path.mkdir()
    if os.geteuid() != 0:
        path.chmod(0o555)
        try:
            yield path
        finally:
            path.chmod(0o755)
        return
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(path)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a read-only folder for the test: {done.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", str(path)], check=False)


def test_a_rating_is_stored_and_a_later_comment_updates_it(tmp_path, assistant):
    store = SqliteFeedbackStore(tmp_path / "data" / "feedback.sqlite3")
    assert store.records() == []  # no file yet: nothing rated
    answer = assistant.ask(QUESTION)
    record = FeedbackRecord.of_answer(answer, "up", client="chat", build_id=assistant.build.build_id)
    store.save(record)
    store.save(FeedbackRecord.from_dict({**record.to_dict(), "comment": "Right person, right quote."}))
    (got,) = store.records()
    assert got.feedback_id == record.feedback_id and got.comment == "Right person, right quote."
    assert got.question == QUESTION and got.citations[0]["doc_id"] == "japan-us-reset.txt" and got.build_id


@pytest.mark.unit
def test_bad_ratings_are_refused_in_one_line():
    with pytest.raises(FeedbackError, match="'up' or 'down'"):
        FeedbackRecord(verdict="meh", question="q")
    with pytest.raises(FeedbackError, match="under 2,000"):
        FeedbackRecord(verdict="up", question="q", comment="x" * 2001)


@pytest.mark.unit
def test_a_locked_feedback_database_fails_in_one_line_after_the_timeout(tmp_path):
    path = tmp_path / "feedback.sqlite3"
    store = SqliteFeedbackStore(path, timeout=0.2)
    store.save(FeedbackRecord(verdict="up", question="q"))
    other = sqlite3.connect(path)
    other.execute("BEGIN EXCLUSIVE")  # another process writing
    try:
        with pytest.raises(FeedbackError, match="locked by another process") as err:
            store.save(FeedbackRecord(verdict="down", question="q2"))
        assert "\n" not in str(err.value)
    finally:
        other.rollback()
        other.close()
    assert [r.question for r in store.records()] == ["q"]


@pytest.mark.unit
def test_a_read_only_data_dir_fails_in_one_line(tmp_path):
    with read_only_dir(tmp_path / "ro") as folder:
        store = SqliteFeedbackStore(folder / "feedback.sqlite3")
        with pytest.raises(FeedbackError, match="ASSISTANT_DATA_DIR") as err:
            store.save(FeedbackRecord(verdict="up", question="q"))
        assert "\n" not in str(err.value) and store.records() == []
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder", encoding="utf-8")
    with pytest.raises(FeedbackError, match="ASSISTANT_DATA_DIR"):
        SqliteFeedbackStore(blocked / "data" / "feedback.sqlite3").save(FeedbackRecord(verdict="up", question="q"))


def test_every_replica_writes_to_one_collection_on_the_chroma_server(chroma_server, settings):
    from index.store import ChromaStore

    server_settings = settings.replace(chroma_url=chroma_server)
    replica_a, replica_b = open_feedback_store(server_settings), ChromaFeedbackStore(chroma_server)
    assert isinstance(replica_a, ChromaFeedbackStore)
    replica_a.save(FeedbackRecord(verdict="up", question="from a", created_at=1.0))
    replica_b.save(FeedbackRecord(verdict="down", question="from b", comment="wrong", created_at=2.0))
    for replica in (replica_a, ChromaFeedbackStore(chroma_server)):
        assert [(r.question, r.verdict, r.comment) for r in replica.records()] == [("from a", "up", ""), ("from b", "down", "wrong")]
    builds = ChromaStore(url=chroma_server).builds()  # the feedback collection is not mistaken for a build
    assert all("feedback" not in info.build_id for info, _ in builds)


@pytest.mark.unit
def test_an_unreachable_chroma_server_fails_in_one_line():
    from conftest import free_port

    with pytest.raises(FeedbackError, match="is the Chroma server running"):
        ChromaFeedbackStore(f"http://127.0.0.1:{free_port()}").save(FeedbackRecord(verdict="up", question="q"))


# -- POST /api/feedback on the real server -------------------------------------------------


@pytest.fixture(scope="module")
def http(server):
    with httpx.Client(base_url=server, timeout=60) as client:
        yield client


def test_api_feedback_stores_a_rating_of_an_api_answer(http, server_settings):
    answer = http.post("/api/ask", json={"question": "What did she say about Abe?", "history": ["Who is Yuki Tatsumi?"]}).json()
    r = http.post("/api/feedback", json={"verdict": "down", "comment": " Not her words. ", "history": ["Who is Yuki Tatsumi?"], "answer": answer})
    assert r.status_code == 201, r.text
    saved = {rec.feedback_id: rec for rec in open_feedback_store(server_settings).records()}[r.json()["id"]]
    assert saved.verdict == "down" and saved.comment == "Not her words." and saved.client == "api"
    assert saved.history == ["Who is Yuki Tatsumi?"] and json.loads(json.dumps(saved.citations)) == answer["citations"]


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"verdict": "meh", "answer": {"question": "q"}}, "verdict: Input should be 'up' or 'down'"),
        ({"verdict": "up"}, "answer: Field required"),
        ({"verdict": "up", "answer": {"question": "  "}}, "Please type a question"),
        ({"verdict": "up", "answer": {"question": "q"}, "comment": "x" * 2001}, "comment: String should have at most 2000 characters"),
        ({"verdict": "up", "answer": {"question": "q"}, "verdit": "up"}, "verdit: Extra inputs are not permitted"),
        (
            {"verdict": "up", "answer": {"question": "q", "citations": [{"doc_id": "d", "start": 5, "end": 2}]}},
            "end must be greater than start",
        ),
    ],
)
def test_api_feedback_refuses_bad_bodies_with_a_readable_422(http, body, says):
    r = http.post("/api/feedback", json=body)
    assert r.status_code == 422 and says in r.json()["error"] and "\n" not in r.json()["error"], r.text


@pytest.mark.parametrize(
    ("citation", "says"),
    [
        ({"doc_id": "../../etc/passwd", "start": 0, "end": 10}, "doc_id '../../etc/passwd' is not an indexed document"),
        ({"doc_id": "nowhere.txt", "start": 0, "end": 10}, "doc_id 'nowhere.txt' is not an indexed document"),
        ({"doc_id": "japan-us-reset.txt", "start": 0, "end": 10**30}, "is outside japan-us-reset.txt"),
        ({"doc_id": "japan-us-reset.txt", "start": 0, "end": 5, "text": "root:x:0"}, "text is not the text of japan-us-reset.txt at 0-5"),
    ],
)
def test_api_feedback_refuses_a_citation_that_is_not_in_the_index(http, citation, says):
    r = http.post("/api/feedback", json={"verdict": "up", "answer": {"question": QUESTION, "citations": [citation]}})
    error = r.json()["error"]
    assert r.status_code == 422 and error.startswith("answer.citations.0: ") and says in error and "POST /api/ask" not in error, r.text


def test_api_feedback_stores_the_documents_text_not_the_clients(http, server_settings, article):
    citation = {"doc_id": "japan-us-reset.txt", "start": 100, "end": 160}
    r = http.post("/api/feedback", json={"verdict": "up", "answer": {"question": QUESTION, "citations": [citation]}})
    assert r.status_code == 201, r.text
    saved = {rec.feedback_id: rec for rec in open_feedback_store(server_settings).records()}[r.json()["id"]]
    assert saved.citations[0]["text"] == article.text[100:160]


def test_api_feedback_on_a_read_only_store_is_a_503_in_one_line(assistant, server_settings, tmp_path):
    from conftest import ThreadedUvicorn, free_port
    from ui.server import create_app

    with read_only_dir(tmp_path / "ro") as folder:
        store = SqliteFeedbackStore(folder / "feedback.sqlite3")
        with ThreadedUvicorn(create_app(assistant, server_settings, feedback=store), free_port()) as running:
            r = httpx.post(running.url + "/api/feedback", json={"verdict": "up", "answer": {"question": QUESTION}}, timeout=60)
    assert r.status_code == 503 and "ASSISTANT_DATA_DIR" in r.json()["error"], r.text


# -- export, then eval -----------------------------------------------------------------------


@pytest.mark.unit
def test_export_writes_the_question_set_format_with_the_cited_spans():
    citation = {"n": 1, "doc_id": "d.txt", "start": 10, "end": 40, "text": "First sentence. Second  one here.", "highlights": [[26, 43]]}
    record = FeedbackRecord(verdict="down", question="q?", history=["h"], comment="wrong", citations=[citation])
    assert cited_quotes(record) == ["Second one here."]
    line = to_question(record)
    assert line["evidence"] == ["Second one here."] and line["history"] == ["h"] and line["answer"] == ""
    assert line["tags"] == ["feedback", "feedback-down", "needs-review"] and (line["verdict"], line["comment"]) == ("down", "wrong")


def test_an_export_runs_as_an_eval_question_set(assistant, tmp_path, monkeypatch):
    import assistant.feedback as feedback

    monkeypatch.setattr(feedback, "FEEDBACK_FILE", "feedback-export-test.sqlite3")  # this test's ratings only
    store = open_feedback_store(assistant.settings)
    history = ["Who is Yuki Tatsumi?"]
    store.save(FeedbackRecord.of_answer(assistant.ask(QUESTION), "up", comment="exactly"))
    store.save(FeedbackRecord.of_answer(assistant.ask("What did she say about Abe?", history), "up", history))
    store.save(FeedbackRecord.of_answer(assistant.ask("Who is Fumio Kishida?"), "up"))
    out = tmp_path / "reviewed" / "feedback.jsonl"
    result = runner.invoke(app, ["feedback", "export", "--out", str(out)])
    assert result.exit_code == 0 and "exported 3 rated questions (3 up, 0 down)" in result.stderr, result.output
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [q["tags"] for q in lines] == [["feedback", "feedback-up"]] * 3 and lines[0]["comment"] == "exactly"
    assert lines[1]["history"] == history and lines[2]["evidence"] == []  # an abstention: expected to abstain

    report = tmp_path / "r.json"
    result = runner.invoke(app, ["eval", "--questions", str(out), "--report", str(report)])
    assert result.exit_code in (0, 1), result.output  # it runs (1 = a gate missed on 3 questions), the file is valid
    (rated,) = json.loads(report.read_text(encoding="utf-8"))["sets"].values()
    by_id = {q["id"]: q for q in rated["questions"]}
    assert [by_id[q["id"]]["metrics"]["hit@1"] for q in lines[:2]] == [1.0, 1.0]  # the rated answers are reproduced
    assert by_id[lines[2]["id"]]["metrics"]["abstained"] == 1.0
    stdout = runner.invoke(app, ["feedback", "export", "--verdict", "down"])
    assert stdout.exit_code == 0 and stdout.stdout == "" and "exported 0 rated questions" in stdout.stderr
    assert runner.invoke(app, ["feedback", "export", "--verdict", "meh"]).exit_code == 1


def test_export_leaves_out_a_rating_whose_cited_text_is_not_in_the_index(assistant, tmp_path, monkeypatch):
    import assistant.feedback as feedback
    from assistant.evaluation import load_questions

    monkeypatch.setattr(feedback, "FEEDBACK_FILE", "feedback-export-stale.sqlite3")  # this test's ratings only
    store = open_feedback_store(assistant.settings)
    store.save(FeedbackRecord.of_answer(assistant.ask(QUESTION), "up"))
    forged = {"n": 1, "doc_id": "japan-us-reset.txt", "start": 0, "end": 12, "text": "root:x:0:0:root"}
    store.save(FeedbackRecord(verdict="down", question="Who is root?", citations=[forged]))  # stored before it was checked
    out = tmp_path / "rated.jsonl"
    result = runner.invoke(app, ["feedback", "export", "--out", str(out)])
    assert result.exit_code == 0 and "exported 1 rated question (1 up, 0 down)" in result.stderr, result.output
    assert "left out 1 rating whose cited text is no longer in the index" in result.stderr
    assert [q.question for q in load_questions(out, assistant.documents())] == [QUESTION]  # eval takes every line
