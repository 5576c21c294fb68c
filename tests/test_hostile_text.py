"""Hostile text is shown as text (issue 30): a document, a question and a URL parameter carrying
Markdown images and links, raw HTML, ``javascript:`` links and formulas, in the chat, the
widget, the source view and the eval report, in a real browser (Debian's chromium, Playwright)
whose every request to another host is blocked and recorded. None may be made, no dialog may
open, and the quoted text must read exactly as the document has it."""

from __future__ import annotations

import json

import pytest
from conftest import ThreadedUvicorn, free_port
from test_browser import ANSWER_WAIT_MS, CHROMIUM, ask_in, browser, context, expect, page  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.skipif(not CHROMIUM.exists(), reason="no /usr/bin/chromium: apt-get install -y chromium (as .ci/run does)")]

PIXEL = "![c](http://203.0.113.7/pixel.png)"
JS_LINK = "[the terms](javascript:alert(1))"
LINKS = "[the portal](http://203.0.113.8/portal) or www.example.com/parts"
RAW_HTML = "<img src=http://203.0.113.11/i.png onerror=alert(2)>"
FORMULA = "$$\\href{javascript:alert(3)}{2 bar}$$"
TITLE = "Zorblax pump manual ![t](http://203.0.113.9/title.png)"
HOSTILE = f"""{TITLE}

The Zorblax pump delivers 40 litres per minute {PIXEL} at full speed.
The Zorblax warranty lasts five years under {JS_LINK} printed on the box.
Spare Zorblax impellers are ordered at {LINKS}.
The Zorblax filter {RAW_HTML} is replaced every 300 hours.
The Zorblax housing pressure is {FORMULA} at most.
"""
"""A manual whose sentences and title carry the trial's payloads (203.0.113.0/24 is TEST-NET-3)."""

QUESTIONS = {
    "How many litres per minute does the Zorblax pump deliver?": PIXEL,
    "How long does the Zorblax warranty last?": JS_LINK,
    "Where are spare Zorblax impellers ordered?": LINKS,
    "How often is the Zorblax filter replaced?": RAW_HTML,
    "What is the Zorblax housing pressure?": FORMULA,
}
"""Each question and the payload its quoted sentence carries."""

SCOPE_PAYLOAD = "![t](http://203.0.113.12/p.png)"


@pytest.fixture(scope="module")
def hostile(tmp_path_factory, embedder):
    from assistant.core import Assistant
    from assistant.settings import Settings

    root = tmp_path_factory.mktemp("hostile")
    (root / "docs").mkdir()
    (root / "docs" / "hostile.txt").write_text(HOSTILE, encoding="utf-8")
    settings = Settings(data_dir=root / "data")
    a = Assistant(settings, settings.open_store(), embedder)
    a.index([root / "docs"], progress=False)
    return a


@pytest.fixture(scope="module")
def hostile_server(hostile):
    from ui.server import create_app

    with ThreadedUvicorn(create_app(hostile, hostile.settings), free_port()) as running:
        yield running.url


def _nothing_live(frame) -> None:
    """No image but the app's own, no document link, nothing run, in ``frame``'s chat and sources."""
    images = frame.locator("#chat img, #sources img").evaluate_all("els => els.map(e => e.src)")
    assert all(src.startswith(("data:", "blob:")) or "127.0.0.1" in src for src in images), images
    hrefs = frame.locator("#chat a, #sources a").evaluate_all("els => els.map(e => e.getAttribute('href') || '')")
    assert all(h.startswith(("#", "sources/", "../sources/")) for h in hrefs), hrefs


def _clean(context, page) -> None:
    assert context.offline.blocked == [], context.offline.blocked
    assert page.dialogs == []


def test_the_csp_allows_images_and_scripts_from_the_server_only(hostile_server):
    import httpx

    policy = httpx.get(hostile_server + "/").headers["content-security-policy"]
    directives = {d.split()[0]: d.split()[1:] for d in policy.split("; ")}
    assert directives["img-src"] == ["'self'", "data:", "blob:"] and directives["default-src"] == ["'self'"]
    assert [s for s in directives["script-src"] if not s.startswith("'unsafe-")] == ["'self'"]
    assert directives["frame-ancestors"] == ["'self'"]


def test_hostile_document_text_in_the_chat_is_text(context, page, hostile_server):
    page.goto(hostile_server + "/", wait_until="load")
    expect(page.locator("#chat")).to_contain_text(TITLE)  # the empty chat names the document by its title
    for turn, (question, payload) in enumerate(QUESTIONS.items(), start=1):
        ask_in(page, question, turn)
        answer = page.locator("#chat .message-row.bot-row").nth(turn - 1)
        expect(answer).to_contain_text(payload)  # the quote reads as the document does
        expect(page.locator("#sources")).to_contain_text(payload)
        _nothing_live(page)
    question = f"{PIXEL} {JS_LINK} {RAW_HTML}"
    ask_in(page, question, len(QUESTIONS) + 1)
    expect(page.locator("#chat .message-row.user-row").last).to_contain_text(question)
    _nothing_live(page)
    _clean(context, page)


def test_hostile_widget_parameter_and_document_text_are_text(context, page, hostile_server):
    from urllib.parse import quote

    page.goto(f"{hostile_server}/widget/?documents={quote(SCOPE_PAYLOAD)}", wait_until="load")
    page.locator("#question textarea").fill("How long does the Zorblax warranty last?")
    page.locator("#ask").click()  # refused (the id is not indexed), so the question stays in the box
    expect(page.locator("#chat .message-row.bot-row").first).to_contain_text(SCOPE_PAYLOAD, timeout=ANSWER_WAIT_MS)
    page.goto(hostile_server + "/widget/", wait_until="load")
    ask_in(page, "Where are spare Zorblax impellers ordered?")
    expect(page.locator("#chat .message-row.bot-row").first).to_contain_text(LINKS)
    _nothing_live(page)
    _clean(context, page)


def test_hostile_text_in_the_source_view_is_text(context, page, hostile_server):
    page.goto(f"{hostile_server}/sources/hostile.txt?start=0", wait_until="load")
    text = page.locator("pre.text").inner_text()
    assert all(p in text for p in QUESTIONS.values()) and page.locator("h1").inner_text() == TITLE
    assert page.locator("main img, main a").count() == 0
    page.goto(f"{hostile_server}/sources/{SCOPE_PAYLOAD}?start=0", wait_until="load")  # an unknown id: named nowhere
    assert "203.0.113" not in page.content()
    _clean(context, page)


def test_hostile_text_in_the_eval_report_is_text(context, page, hostile, tmp_path):
    from assistant.evaluation.report import write_html
    from assistant.evaluation import load_questions, run_eval

    lines = [
        {"id": f"q{i}", "question": q, "evidence": [s.strip() for s in HOSTILE.splitlines() if p in s], "tags": [PIXEL]}
        for i, (q, p) in enumerate(QUESTIONS.items())
    ]
    path = tmp_path / "hostile.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines), encoding="utf-8")
    report = run_eval(hostile, load_questions(path, hostile.documents()), name=RAW_HTML)
    page.set_content(write_html([report]), wait_until="load")
    page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    text = page.locator("body").inner_text()
    assert [p for p in QUESTIONS.values() if p not in text] == [] and RAW_HTML in text
    assert page.locator("body img, body a[href^='javascript'], body a[href^='http']").count() == 0
    _clean(context, page)
