"""The source view in a real browser (Debian's chromium, Playwright), every non-local request
blocked: a citation's [n] jumps to its source card, the card opens the document at the
highlighted span (a text document, and a PDF page with the span's boxes), also in the widget
and under a root path. Screenshots go to artifacts/source-text.png and artifacts/source-pdf.png."""

from __future__ import annotations

import pytest
from conftest import ThreadedUvicorn, free_port
from test_browser import ANSWER_WAIT_MS, ARTIFACTS, CHROMIUM, ask_in, browser, context, expect  # noqa: F401  (browser, context: fixtures)
from test_sources import REPORT, folder, mixed  # noqa: F401  (module fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.skipif(not CHROMIUM.exists(), reason="no /usr/bin/chromium: apt-get install -y chromium (as .ci/run does)")]


@pytest.fixture(scope="module")
def served(mixed, settings):  # noqa: F811
    """The mixed folder's assistant served under /assistant (as behind a proxy that keeps the prefix)."""
    from ui.server import create_app

    with ThreadedUvicorn(create_app(mixed, settings.replace(root_path="/assistant")), free_port()) as running:
        yield running.url + "/assistant"


def _open_source(context, page, frame, cards: str = "#sources"):
    """Click the first source card's link in ``cards``; return the source view's page (a new tab)."""
    with context.expect_page() as opened:
        frame.locator(f"{cards} a.open").first.click()
    view = opened.value
    view.wait_for_load_state("load")
    return view


def _in_viewport(view, selector: str) -> bool:
    return view.evaluate(
        f"""() => {{ const r = document.querySelector({selector!r}).getBoundingClientRect();
        return r.top >= 0 && r.bottom <= window.innerHeight && r.height > 0; }}"""
    )


def test_text_source_view_opens_at_the_highlighted_span(context, served):
    page = context.new_page()
    page.goto(served + "/", wait_until="load")
    ask_in(page, "Who services the boiler every May?")
    answer = page.locator("#chat .message-row").nth(1)
    expect(answer).to_contain_text("Calloway Heating")
    marker = answer.locator("a.cite").first
    expect(marker).to_have_text("[1]")
    card_id = marker.get_attribute("href").lstrip("#")
    marker.click()  # opens this answer's own sources, folded under it, at card [1]
    expect(answer.locator(f"#{card_id}")).to_be_visible()
    expect(answer.locator(f"#{card_id}")).to_contain_text("notes.txt")
    view = _open_source(context, page, page)
    assert view.url.startswith(served + "/sources/notes.txt?start=")
    expect(view.locator("mark#cited")).to_contain_text("The boiler is serviced every May by Calloway Heating.")
    assert _in_viewport(view, "mark#cited")
    ARTIFACTS.mkdir(exist_ok=True)
    view.screenshot(path=str(ARTIFACTS / "source-text.png"))
    assert context.offline.blocked == []


def test_pdf_source_view_shows_the_page_with_the_span_boxed_from_the_widget(context, served):
    page = context.new_page()
    page.goto(served + "/widget/", wait_until="load")
    ask_in(page, "What is the Linear Reference System considered?")
    sources = page.locator("#chat .answer-sources").last
    expect(sources.locator("summary")).to_contain_text("p. 6")
    sources.locator("summary").click()
    view = _open_source(context, page, page, "#chat .answer-sources")
    assert view.url.startswith(f"{served}/sources/{REPORT}?start=")
    image = view.locator('.page[data-page="6"] img')
    expect(image).to_be_visible()
    assert view.evaluate("() => document.querySelector('.page img').naturalWidth") > 1000  # rendered, loaded under the prefix
    box = view.locator(".page .box#cited")
    expect(box).to_be_visible()
    assert _in_viewport(view, ".page .box#cited")
    assert "&q=" in view.url
    header = view.locator("header .meta").inner_text()
    assert header.startswith("page 6") and "characters" not in header
    quoted = view.locator(".page .box").count()
    whole = context.new_page()  # the same span without its quotes: the whole passage is boxed
    whole.goto(view.url.split("&q=")[0], wait_until="load")
    assert 1 <= quoted < whole.locator(".page .box").count()  # only the quoted sentences are boxed
    whole.close()
    ARTIFACTS.mkdir(exist_ok=True)
    view.screenshot(path=str(ARTIFACTS / "source-pdf.png"))
    assert context.offline.blocked == []
