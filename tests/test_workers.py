"""``ASSISTANT_WORKERS`` > 1 (issue 30): ``POST /api/ask`` is answered in worker processes over the
same index, with the same answers and the same errors as the server's own process."""

from __future__ import annotations

import httpx
import pytest
from conftest import ThreadedUvicorn, free_port

QUESTIONS = ["Who is Japan's chief negotiator?", "Who is Yuki Tatsumi?", "Who is Fumio Kishida?"]


@pytest.fixture(scope="module")
def pooled(assistant, settings):
    from ui.server import create_app

    app = create_app(assistant, settings.replace(workers=2))
    with ThreadedUvicorn(app, free_port()) as running, httpx.Client(base_url=running.url, timeout=180) as client:
        for future in app.state.answer_pool.warm:
            assert future.result(timeout=180) is True  # both workers loaded the index
        yield client
    app.state.answer_pool.close()


def test_workers_answer_as_the_server_process_does(pooled, assistant):
    for question in QUESTIONS:
        got = pooled.post("/api/ask", json={"question": question}).json()
        want = assistant.ask(question).to_dict()
        got.pop("timings_ms"), want.pop("timings_ms")
        assert got == want, question


def test_workers_refuse_as_the_server_process_does(pooled):
    r = pooled.post("/api/ask", json={"question": "x" * 3000})
    assert r.status_code == 422 and "under 2,000" in r.json()["error"] and r.json()["detail"][0]["loc"] == ["body", "question"]
    r = pooled.post("/api/ask", json={"question": QUESTIONS[0], "documents": ["nowhere.txt"]})
    assert r.status_code == 422 and "nowhere.txt" in r.json()["error"] and r.json()["detail"][0]["loc"] == ["body", "documents"]


def test_with_workers_the_chat_health_and_feedback_still_work_in_the_server_process(pooled, settings):
    """Only /api/ask goes to the workers: the chat page (Gradio's queue and per-session state
    live in one process), /healthz and feedback on an answer a worker gave stay in the server."""
    from assistant import open_feedback_store

    assert pooled.get("/healthz").json()["index_loaded"] is True
    page = pooled.get("/")
    assert page.status_code == 200 and "gradio" in page.text.lower()
    answer = pooled.post("/api/ask", json={"question": QUESTIONS[0]}).json()
    r = pooled.post("/api/feedback", json={"verdict": "up", "answer": answer})
    assert r.status_code == 201, r.text
    stored = {rec.feedback_id: rec for rec in open_feedback_store(settings.replace(workers=2)).records()}
    assert stored[r.json()["id"]].citations == answer["citations"]
