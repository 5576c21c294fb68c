"""Scoped questions: an answer limited to some documents, from the Python API, the CLI, HTTP,
the Gradio endpoint and the embedded widget (``data-documents``), on a real index of three
documents that answer the same generic question differently."""

from __future__ import annotations

import json
import httpx
import pytest
from conftest import ThreadedUvicorn, assistant_over, free_port

QUESTION = "How do you inform users of changes to this policy?"

# Three privacy policies (written for this test) that answer QUESTION, each in its own way;
# the bakery's is the closest match to the question's words, so an unscoped question cites it.
POLICIES = {
    "bakery.txt": "Bakery privacy policy\n\n"
    "We inform users of changes to this policy by email to every registered user.\n\n"
    "We keep your order history for two years.\n",
    "garden.txt": "Garden club privacy notice\n\n"
    "Membership records are kept by the club secretary.\n\n"
    "Members are informed of changes to this notice at the next general meeting, and on the club noticeboard.\n\n"
    "Members may ask for a copy of their record at any time.\n\n"
    "Photographs taken at events are only published with consent.\n\n"
    "The club never sells member data to third parties.\n\n"
    "Payment details are handled by the bank, not stored by the club.\n\n"
    "Records of former members are deleted after one year.\n\n"
    + "".join(
        f"The {topic} committee meets on the {day} of each month in the {room} to plan the season's work.\n\n"
        for topic in ("roses", "orchard", "vegetable", "pond", "compost", "seed exchange", "hedges", "greenhouse")
        for day, room in (("first Monday", "library"), ("last Friday", "pavilion"))
    ),
    "museum.txt": "Museum website privacy\n\n"
    "Users are informed of changes to this policy by a notice on this page, with the date at the top.\n",
}


@pytest.fixture(scope="module")
def scoped(tmp_path_factory, embedder):
    return assistant_over(tmp_path_factory.mktemp("scope"), embedder, POLICIES)


def test_unscoped_and_scoped_answers_come_from_the_right_documents(scoped):
    assert scoped.ask(QUESTION).citations[0].passage.doc_id == "bakery.txt"
    for doc in ("garden.txt", "museum.txt"):
        answer = scoped.ask(QUESTION, documents=[doc])
        assert not answer.abstained, answer.to_dict()
        assert {c.passage.doc_id for c in answer.citations} == {doc}
    answer = scoped.ask(QUESTION, documents=["garden.txt", "museum.txt"])
    assert {c.passage.doc_id for c in answer.citations} <= {"garden.txt", "museum.txt"}


def test_scoping_filters_inside_retrieval_so_k_passages_still_come_back(scoped):
    retriever = scoped._current()
    garden = [p for p in retriever._passages if p.doc_id == "garden.txt"]
    assert len(garden) >= retriever.k, "the test needs a scoped document with at least k passages"
    hits = retriever.search(QUESTION, documents=["garden.txt"])
    assert len(hits) == retriever.k and {h.passage.doc_id for h in hits} == {"garden.txt"}
    assert "general meeting" in hits[0].passage.text


def test_an_unknown_document_id_is_a_clear_error_naming_it(scoped):
    from assistant.errors import QuestionError, UnknownDocumentError

    with pytest.raises(UnknownDocumentError, match="'nope.txt'") as err:
        scoped.ask(QUESTION, documents=["museum.txt", "nope.txt"])
    assert isinstance(err.value, QuestionError) and "museum.txt" not in str(err.value).split("(")[0]
    assert "assistant docs" in str(err.value)


def test_cli_ask_doc_is_repeatable(scoped, monkeypatch):
    from typer.testing import CliRunner

    from ui.cli import app

    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(scoped.settings.index.data_dir))
    result = CliRunner().invoke(app, ["ask", QUESTION, "--doc", "museum.txt", "--json"])
    assert result.exit_code == 0, result.output
    d = json.loads(result.stdout)
    assert {c["doc_id"] for c in d["citations"]} == {"museum.txt"}
    result = CliRunner().invoke(app, ["ask", QUESTION, "--doc", "garden.txt", "--doc", "gone.md"])
    assert result.exit_code == 1 and "'gone.md'" in result.output and "Traceback" not in result.output


PORTAL_PORT = free_port()
"""Port of the pretend policy page's site, an origin allowed to frame the widget."""


@pytest.fixture(scope="module")
def scoped_server(scoped):
    from ui.server import create_app

    settings = scoped.settings.replace(**{"allowed_origins": [f"http://127.0.0.1:{PORTAL_PORT}"]})
    with ThreadedUvicorn(create_app(scoped, settings), free_port()) as running:
        yield running.url


def test_http_and_gradio_endpoints_take_documents(scoped_server):
    from gradio_client import Client

    r = httpx.post(scoped_server + "/api/ask", json={"question": QUESTION, "documents": ["garden.txt"]}, timeout=60)
    assert r.status_code == 200 and {c["doc_id"] for c in r.json()["citations"]} == {"garden.txt"}
    r = httpx.post(scoped_server + "/api/ask", json={"question": QUESTION, "documents": ["../etc/passwd"]}, timeout=60)
    assert r.status_code == 422 and "'../etc/passwd'" in r.json()["error"]
    r = httpx.post(scoped_server + "/api/ask?stream=true", json={"question": QUESTION, "documents": ["museum.txt"]}, timeout=60)
    last = json.loads(r.text.strip().splitlines()[-1])
    assert last["type"] == "answer" and {c["doc_id"] for c in last["citations"]} == {"museum.txt"}
    client = Client(scoped_server, verbose=False)
    d = client.predict(QUESTION, [], ["museum.txt"], api_name="/ask")
    assert {c["doc_id"] for c in d["citations"]} == {"museum.txt"}
    assert client.predict(QUESTION, [], api_name="/ask")["citations"][0]["doc_id"] == "bakery.txt"
    assert "'nope'" in client.predict(QUESTION, [], ["nope"], api_name="/ask")["error"]


@pytest.mark.browser
def test_widget_with_data_documents_answers_from_that_document(scoped_server, tmp_path):
    """A portal page embeds the widget with ``data-documents``; its answers cite only that policy."""
    from test_browser import CHROMIUM, StaticSite, ask_in, expect, is_local  # noqa: F401  (skips like the browser tests)

    if not CHROMIUM.exists():
        pytest.skip("no /usr/bin/chromium: install Debian's chromium (apt-get install -y chromium, as .ci/run does)")
    from playwright.sync_api import sync_playwright

    page_html = (
        f'<!doctype html><meta charset="utf-8"><title>Garden club</title><h1>Privacy</h1>'
        f'<script src="{scoped_server}/embed.js" data-documents="garden.txt" async></script>'
    )
    (tmp_path / "policy.html").write_text(page_html, encoding="utf-8")
    blocked: list[str] = []
    site = StaticSite(tmp_path, PORTAL_PORT)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"])
        try:
            ctx = browser.new_context(viewport={"width": 900, "height": 900})
            ctx.route("**/*", lambda route: route.continue_() if is_local(route.request.url) else (blocked.append(route.request.url), route.abort()))
            page = ctx.new_page()
            page.goto(site.url + "/policy.html", wait_until="load")
            widget = page.frame_locator("iframe.cited-assistant-widget")
            ask_in(widget, QUESTION)
            answer = widget.locator("#chat .message-row").nth(1)
            expect(answer).to_contain_text("general meeting")
            sources = widget.locator("#chat .message-row.bot-row").first.locator(".answer-sources")  # folded under the answer
            sources.locator("summary").click()
            expect(sources).to_contain_text("garden.txt")
            expect(sources).not_to_contain_text("bakery.txt")
        finally:
            browser.close()
            site.close()
    assert blocked == []


def test_an_unknown_document_422_points_at_the_documents_field(scoped_server):
    r = httpx.post(scoped_server + "/api/ask", json={"question": QUESTION, "documents": ["nope.txt"]}, timeout=60)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "documents"]


def test_a_warm_question_costs_at_most_one_store_round_trip(scoped, monkeypatch):
    """The retriever holds passages, BM25 indexes and vectors in memory. A small build is
    searched exactly there: no store call. Above EXACT_SEARCH_MAX_SENTENCES an unscoped
    question makes one (the HNSW search of its sentences), with the same answer here; a scoped
    one stays exact. The build check every index.check_seconds is kept out of the count."""
    import assistant.retrieval.retriever as retriever
    from index.store import ChromaStore

    calls: list[str] = []
    original = ChromaStore.call

    def counting(self, what, fn, *args, **kwargs):
        calls.append(what)
        return original(self, what, fn, *args, **kwargs)

    exact = scoped.ask(QUESTION)  # warm: the build is loaded
    scoped._checked_at = float("inf")  # no build check during the measured questions
    monkeypatch.setattr(ChromaStore, "call", counting)
    again = scoped.ask(QUESTION)
    assert (again.text, again.citations) == (exact.text, exact.citations) and calls == []
    monkeypatch.setattr(retriever, "EXACT_SEARCH_MAX_SENTENCES", 0)
    answer = scoped.ask(QUESTION)
    assert calls == ["search sentences"] and answer.citations[0].passage.doc_id == "bakery.txt"
    assert [c.passage.passage_id for c in answer.citations] == [c.passage.passage_id for c in exact.citations]
    calls.clear()
    answer = scoped.ask(QUESTION, documents=["garden.txt"])
    assert calls == [] and {c.passage.doc_id for c in answer.citations} == {"garden.txt"}
