"""Answers over structured documents, in a real browser (Debian's chromium via Playwright, every
non-local request blocked): a table row quoted with its column headers and shown as a small
table, and a procedure quoted whole, its steps numbered on lines of their own with its warning.
The documents are three of the structured-documents set (``benchmarks/data/structured``).
Screenshots: ``artifacts/answer-table.png``, ``artifacts/answer-procedure.png``."""

from __future__ import annotations

import pytest
from conftest import ROOT, ThreadedUvicorn, assistant_over, free_port
from test_browser import ANSWER_WAIT_MS, ARTIFACTS, CHROMIUM, Offline, ask_in, browser, expect  # noqa: F401  (browser: fixture)

pytestmark = [pytest.mark.browser, pytest.mark.skipif(not CHROMIUM.exists(), reason="no /usr/bin/chromium: apt-get install -y chromium (as .ci/run does)")]

DOCUMENTS = ROOT / "benchmarks" / "data" / "structured" / "documents"


@pytest.fixture(scope="module")
def site(tmp_path_factory, embedder):
    """The chat over the set's HR policy (Markdown table), router manual (.txt procedure) and IT
    wiki page (HTML table), served on a free port; yields its URL."""
    from ui.server import create_app

    files = {name: (DOCUMENTS / name).read_text(encoding="utf-8") for name in ("hr-policy.md", "router-manual.txt", "it-wiki.html")}
    a = assistant_over(tmp_path_factory.mktemp("structured"), embedder, files)
    with ThreadedUvicorn(create_app(a, a.settings), free_port()) as running:
        yield running.url


@pytest.fixture
def page(browser):  # noqa: F811
    context = browser.new_context(viewport={"width": 1100, "height": 800}, device_scale_factor=1)
    context.offline = Offline(context)
    yield context.new_page()
    assert context.offline.blocked == [], f"requests left the machine: {context.offline.blocked}"
    context.close()


def test_a_table_answer_shows_the_row_with_its_headers(page, site):
    page.goto(site + "/", wait_until="load")
    ask_in(page, "On which floor is printer LEEDS-PR-02?")
    answer = page.locator("#chat .message-row.bot-row").last
    expect(answer).to_contain_text("Floor: First floor")
    table = answer.locator("table.answer-table")
    expect(table).to_be_visible()
    expect(table.locator("th")).to_have_text(["Printer", "Floor", "Model", "Colour"])
    expect(table.locator("tbody tr")).to_have_count(1)
    expect(table.locator("tbody td").nth(1)).to_have_text("First floor")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "answer-table.png"))


def test_a_how_question_gets_the_whole_procedure_with_its_warning(page, site):
    page.goto(site + "/", wait_until="load")
    ask_in(page, "How do I reset the router to factory settings?")
    text = page.locator("#chat .message-row.bot-row").last.locator(".answer-text")
    expect(text).to_contain_text("Warning: a factory reset erases all your settings")
    lines = [line.strip() for line in text.inner_text().split("\n") if line.strip()]
    steps = [line for line in lines if line[:2] in ("1.", "2.", "3.", "4.")]
    assert len(steps) == 4 and steps[2].startswith("3. Release the button and wait about three minutes"), lines
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "answer-procedure.png"))
